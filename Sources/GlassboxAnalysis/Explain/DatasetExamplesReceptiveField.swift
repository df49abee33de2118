import GlassboxCore
import GlassboxNN

/// The input window that one position of a convolutional layer's output sees, through the convolutions and poolings
/// before it: position (y, x) sees rows y·stride − padding … + size − 1 (and the same for columns).
///
/// Recurrence over layers with kernel k, stride s, padding p, starting from size 1, stride 1, padding 0:
/// size += (k − 1)·stride, padding += p·stride, stride *= s. Element-wise layers change nothing. Example: conv k5 p2 →
/// maxpool 2 → conv k5 p2 → maxpool 2 gives size 5, 6, 14, 16; stride 1, 2, 2, 4; padding 2, 2, 6, 6.
public struct ReceptiveWindow: Codable, Equatable, Sendable {
    public var size: Int
    public var stride: Int
    public var padding: Int

    public init(size: Int, stride: Int, padding: Int) {
        self.size = size; self.stride = stride; self.padding = padding
    }

    /// Top-left input coordinate of the window of output position (y, x) (may be negative: the window reaches into
    /// the padding).
    public func origin(y: Int, x: Int) -> (top: Int, left: Int) { (y * stride - padding, x * stride - padding) }

    /// The receptive field of layer `layer`'s output, or nil when that output is no longer spatial (after a flatten
    /// or linear layer every unit sees the whole input).
    public static func of(_ spec: ModelSpec, layer: Int) throws -> ReceptiveWindow? {
        guard layer >= 0 && layer < spec.clauses.count else {
            throw GlassboxError.invalidArgument(name: "layer", expected: "a layer index in 0..<\(spec.clauses.count)", found: "\(layer)")
        }
        guard spec.input.count == 3 else { return nil }
        var rf = ReceptiveWindow(size: 1, stride: 1, padding: 0)
        for clause in spec.clauses[0...layer] {
            switch clause {
            case let .conv(_, k, s, p, _): rf.grow(kernel: k, stride: s, padding: p)
            case let .maxpool(k, s): rf.grow(kernel: k, stride: s, padding: 0)
            case .relu, .sigmoid, .tanh, .dropout: continue
            case .flatten, .linear: return nil
            }
        }
        return rf
    }

    mutating func grow(kernel: Int, stride s: Int, padding p: Int) {
        size += (kernel - 1) * stride
        padding += p * stride
        stride *= s
    }
}

/// A receptive-field window cut from an input image: `[C, size, size]` values, zero where the window lies outside
/// the image (the convolutions' zero padding), with its position in the image.
public struct ReceptiveFieldCrop: Codable, Equatable, Sendable {
    public var top: Int
    public var left: Int
    public var size: Int
    public var channels: Int
    public var pixels: [Float]

    /// Cuts the window at (`top`, `left`) from image `index` of `images` (`[N, C, H, W]`).
    public static func cut(_ images: Tensor, index: Int, top: Int, left: Int, size: Int) -> ReceptiveFieldCrop {
        let (c, h, w) = (images.shape[1], images.shape[2], images.shape[3])
        var pixels = [Float](repeating: 0, count: c * size * size)
        images.withUnsafeBufferPointer { src in
            let base = index * c * h * w
            for ch in 0..<c {
                for dy in 0..<size {
                    let y = top + dy
                    guard y >= 0 && y < h else { continue }
                    for dx in 0..<size {
                        let x = left + dx
                        if x >= 0 && x < w { pixels[(ch * size + dy) * size + dx] = src[base + (ch * h + y) * w + x] }
                    }
                }
            }
        }
        return ReceptiveFieldCrop(top: top, left: left, size: size, channels: c, pixels: pixels)
    }
}
