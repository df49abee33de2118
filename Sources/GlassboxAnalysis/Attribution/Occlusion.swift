import GlassboxCore
import GlassboxNN

/// Occlusion (Zeiler & Fergus 2014), as Captum's `Occlusion` computes it: a square window (all channels) slides over
/// the image with a stride; for each position the window is set to a value and the output change
/// F(x) − F(x with the window occluded) is added to every pixel in the window; each pixel's sum is then divided by the
/// number of windows that covered it. A positive value means hiding the pixel lowers F. Windows start at 0 and
/// stop where the next would leave the image, so with a window/stride that does not tile the image the last rows or
/// columns are covered by no window: their map value is 0 (Captum divides 0 by 0 there and returns NaN).
enum Occlusion {
    /// Window origins along one axis: 0, s, 2s, … while the window fits.
    static func origins(size: Int, window: Int, stride: Int) -> [Int] {
        guard window <= size else { return [] }
        return Array(Swift.stride(from: 0, through: size - window, by: stride))
    }

    static func check(_ config: AttributionConfig, setup: AttributionSetup) throws {
        let s = setup.sampleShape
        guard s.count == 3 else {
            throw GlassboxError.invalidArgument(name: "inputs", expected: "images [N, C, H, W] for occlusion", found: "samples \(s)")
        }
        guard config.occlusionWindow <= min(s[1], s[2]) else {
            throw GlassboxError.invalidArgument(name: "window", expected: "at most the image side \(min(s[1], s[2]))", found: "\(config.occlusionWindow)")
        }
    }

    static func run(_ workers: AttributionWorkers, _ inputs: Tensor, _ targets: [Int], _ config: AttributionConfig) -> MethodOutput {
        let (c, h, w) = (inputs.shape[1], inputs.shape[2], inputs.shape[3])
        let win = config.occlusionWindow, value = config.occlusionValue
        let ys = origins(size: h, window: win, stride: config.occlusionStride)
        let xs = origins(size: w, window: win, stride: config.occlusionStride)
        let windows = ys.flatMap { y in xs.map { (y, $0) } }
        // How many windows cover each pixel (the same for every image and channel).
        var cover = [Float](repeating: 0, count: h * w)
        for (y0, x0) in windows { for y in y0..<(y0 + win) { for x in x0..<(x0 + win) { cover[y * w + x] += 1 } } }
        let len = c * h * w, n = inputs.rows
        let maps = SharedFloats(count: n * len), outs = SharedFloats(count: n)
        // One image per work unit: its occluded copies (one per window) form the batch.
        workers.forEachChunk(n, chunk: 1) { net, range in
            let i = range.lowerBound
            let image = inputs.rows(i..<(i + 1))
            let f0 = TargetSeed.values(net.forward(image), kind: config.target) { _ in targets[i] }[0]
            var sums = [Float](repeating: 0, count: h * w)
            var start = 0
            let batch = max(1, config.chunkSize * 16)
            while start < windows.count {
                let part = Array(windows[start..<min(windows.count, start + batch)])
                let occluded = Tensor(uninitializedShape: [part.count, c, h, w]) { dst, _ in
                    image.withUnsafeBufferPointer { src in
                        for (r, (y0, x0)) in part.enumerated() {
                            let row = dst + r * len
                            row.update(from: src.baseAddress!, count: len)
                            for ch in 0..<c { for y in y0..<(y0 + win) { for x in x0..<(x0 + win) { row[(ch * h + y) * w + x] = value } } }
                        }
                    }
                }
                let f = TargetSeed.values(net.forward(occluded), kind: config.target) { _ in targets[i] }
                for (r, (y0, x0)) in part.enumerated() {
                    let d = f0 - f[r]
                    for y in y0..<(y0 + win) { for x in x0..<(x0 + win) { sums[y * w + x] += d } }
                }
                start += batch
            }
            let dst = maps.pointer + i * len
            for ch in 0..<c { for p in 0..<(h * w) { dst[ch * h * w + p] = cover[p] > 0 ? sums[p] / cover[p] : 0 } }
            outs.write([f0], at: i)
        }
        return MethodOutput(maps: Tensor(shape: inputs.shape, scalars: maps.array), outputs: outs.array, baselineOutputs: nil)
    }

    /// Number of window positions for an image of `h × w` (for callers that budget forward passes).
    static func windowCount(height h: Int, width w: Int, window: Int, stride: Int) -> Int {
        origins(size: h, window: window, stride: stride).count * origins(size: w, window: window, stride: stride).count
    }
}
