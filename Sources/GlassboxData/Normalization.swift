import Foundation
import GlassboxCore

/// How stored pixels become a model's inputs, recorded with the data and with the models that run on it, because a
/// network trained on normalised inputs gives wrong answers on raw pixels.
///
/// The same two steps as torchvision's `ToTensor()` then `Normalize(mean, std)`:
/// 1. `scale`: integer pixels are divided by their largest value (255 for 8-bit, 65 535 for 16-bit), giving [0, 1];
///    with `scale: false` they stay 0…255 (or 0…65 535). Float arrays (`.npz` float32) are used as stored either way.
/// 2. `mean`/`std`: `x = (x − mean[c]) / std[c]` per channel c (one value applies to every channel); empty: no change.
public struct Normalization: Codable, Equatable, Sendable, CustomStringConvertible {
    public var scale: Bool
    public var mean: [Float]
    public var std: [Float]

    public init(scale: Bool = true, mean: [Float] = [], std: [Float] = []) {
        self.scale = scale; self.mean = mean; self.std = std
    }

    /// True when it changes nothing beyond the default scaling to [0, 1].
    public var isIdentity: Bool { scale && mean.isEmpty && std.isEmpty }

    /// `mean 0.5,0.5,0.5 / std 0.25,0.25,0.25` (and `unscaled` when `scale` is off); "none" when it is the identity.
    public var description: String {
        var parts: [String] = []
        if !scale { parts.append("pixels not scaled to [0, 1]") }
        if !mean.isEmpty { parts.append("mean \(mean.map { "\($0)" }.joined(separator: ",")) / std \(std.map { "\($0)" }.joined(separator: ","))") }
        return parts.isEmpty ? "none" : parts.joined(separator: ", ")
    }

    /// The text form `MEAN/STD`, e.g. `0.485,0.456,0.406/0.229,0.224,0.225` or `0.5/0.5` (one value for every channel).
    public static func parse(_ text: String, argument: String = "normalize") throws -> (mean: [Float], std: [Float]) {
        let halves = text.split(separator: "/", omittingEmptySubsequences: false)
        guard halves.count == 2 else {
            throw GlassboxError.invalidArgument(name: argument, expected: "MEAN/STD such as 0.5/0.5 or 0.485,0.456,0.406/0.229,0.224,0.225",
                                                found: "'\(text)'")
        }
        return (try numbers(String(halves[0]), argument: argument), try numbers(String(halves[1]), argument: argument))
    }

    /// Comma-separated finite numbers.
    public static func numbers(_ text: String, argument: String) throws -> [Float] {
        try text.split(separator: ",", omittingEmptySubsequences: false).map { part -> Float in
            guard let v = Float(part.trimmingCharacters(in: .whitespaces)), v.isFinite else {
                throw GlassboxError.invalidArgument(name: argument, expected: "numbers separated by commas", found: "'\(text)'")
            }
            return v
        }
    }

    /// Checks the lists against each other and, when known, the data's channel count.
    public func validate(channels: Int? = nil, argument: String = "normalize") throws {
        guard mean.count == std.count else {
            throw GlassboxError.invalidArgument(name: argument, expected: "as many std values as mean values", found: "\(mean.count) mean, \(std.count) std")
        }
        if let i = std.firstIndex(where: { !($0 > 0) || !$0.isFinite }) {
            throw GlassboxError.invalidArgument(name: argument, expected: "std values > 0", found: "\(std[i])")
        }
        if let i = mean.firstIndex(where: { !$0.isFinite }) {
            throw GlassboxError.invalidArgument(name: argument, expected: "finite mean values", found: "\(mean[i])")
        }
        if let c = channels, mean.count > 1, mean.count != c {
            throw GlassboxError.invalidArgument(name: argument, expected: c == 1 ? "1 value (the data have 1 channel)" : "1 or \(c) values (one per channel)",
                                                found: "\(mean.count)")
        }
    }

    /// `(x − mean[c]) / std[c]` in place on `[N, C, H, W]` images.
    public func standardise(_ images: inout Tensor) throws {
        guard !mean.isEmpty else { return }
        let c = images.shape[1]
        try validate(channels: c)
        let plane = images.shape[2] * images.shape[3]
        let (mean, std) = (expand(self.mean, c), expand(self.std, c))
        images.withUnsafeMutableBufferPointer { x in
            for start in stride(from: 0, to: x.count, by: plane) {
                let ch = (start / plane) % c
                // Subtract, then divide (not multiply by 1/std), as torchvision's Normalize does, for the same floats.
                let m = mean[ch], s = std[ch]
                for i in start..<(start + plane) { x[i] = (x[i] - m) / s }
            }
        }
    }

    /// Back to stored pixel values (the inverse of `standardise`): for showing images.
    public func unstandardise(_ images: Tensor) -> Tensor {
        guard !mean.isEmpty, images.rank == 4 else { return images }
        var out = images
        let c = images.shape[1], plane = images.shape[2] * images.shape[3]
        let (mean, std) = (expand(self.mean, c), expand(self.std, c))
        out.withUnsafeMutableBufferPointer { x in
            for start in stride(from: 0, to: x.count, by: plane) {
                let ch = (start / plane) % c
                for i in start..<(start + plane) { x[i] = x[i] * std[ch] + mean[ch] }
            }
        }
        return out
    }

    /// Images as a picture shows them, in [0, 1]: un-normalised, and unscaled pixels divided by 255 (or by 65 535 when
    /// a value exceeds 255, i.e. 16-bit data). Values outside [0, 1] are clipped.
    public func displayable(_ images: Tensor) -> Tensor {
        var out = unstandardise(images)
        if !scale {
            let divisor: Float = out.scalars.contains { $0 > 255.5 } ? 65535 : 255
            out.withUnsafeMutableBufferPointer { x in for i in 0..<x.count { x[i] /= divisor } }
        }
        out.withUnsafeMutableBufferPointer { x in for i in 0..<x.count { x[i] = Swift.min(1, Swift.max(0, x[i])) } }
        return out
    }

    func expand(_ v: [Float], _ c: Int) -> [Float] { v.count == 1 ? [Float](repeating: v[0], count: c) : v }
}
