import Foundation
import GlassboxCore

/// Small image operations the explanation methods share (baselines, insertion curves, feature visualisation).
/// Images are planes of `h × w` floats, row-major; a batch `[N, C, H, W]` is N·C planes.
public enum ImageFilters {
    /// A normalised 1-D Gaussian kernel with radius ⌈3σ⌉.
    public static func gaussianKernel(sigma: Float) -> [Float] {
        let r = max(1, Int((3 * sigma).rounded(.up)))
        var k = (-r...r).map { expf(-Float($0 * $0) / (2 * sigma * sigma)) }
        let s = k.reduce(0, +)
        for i in k.indices { k[i] /= s }
        return k
    }

    /// Separable Gaussian blur of every plane, edges replicated (so a constant image stays constant).
    public static func blur(_ x: Tensor, sigma: Float) -> Tensor {
        precondition(x.rank == 4)
        let h = x.shape[2], w = x.shape[3], planes = x.shape[0] * x.shape[1]
        let k = gaussianKernel(sigma: sigma), r = k.count / 2
        var out = x
        var tmp = [Float](repeating: 0, count: h * w)
        out.withUnsafeMutableBufferPointer { o in
            x.withUnsafeBufferPointer { src in
                for p in 0..<planes {
                    let s = src.baseAddress! + p * h * w, d = o.baseAddress! + p * h * w
                    for y in 0..<h {
                        for xx in 0..<w {
                            var acc: Float = 0
                            for j in 0..<k.count { acc += k[j] * s[y * w + min(w - 1, max(0, xx + j - r))] }
                            tmp[y * w + xx] = acc
                        }
                    }
                    for y in 0..<h {
                        for xx in 0..<w {
                            var acc: Float = 0
                            for j in 0..<k.count { acc += k[j] * tmp[min(h - 1, max(0, y + j - r)) * w + xx] }
                            d[y * w + xx] = acc
                        }
                    }
                }
            }
        }
        return out
    }

    /// Bilinear resize of every plane to `oh × ow`, with PyTorch's `interpolate(mode="bilinear",
    /// align_corners=False)` sampling: source = (dst + ½)·(in/out) − ½, clamped at 0, the right/bottom neighbour
    /// clamped to the last row/column.
    public static func resizeBilinear(_ x: Tensor, height oh: Int, width ow: Int) -> Tensor {
        precondition(x.rank == 4)
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        func taps(_ out: Int, _ size: Int) -> [(Int, Int, Float)] {
            let scale = Float(size) / Float(out)
            return (0..<out).map { d in
                let src = max(0, (Float(d) + 0.5) * scale - 0.5)
                let i0 = min(Int(src), size - 1)
                let i1 = i0 < size - 1 ? i0 + 1 : i0
                return (i0, i1, src - Float(i0))
            }
        }
        let ty = taps(oh, h), tx = taps(ow, w)
        return Tensor(uninitializedShape: [n, c, oh, ow]) { dst, _ in
            x.withUnsafeBufferPointer { src in
                for p in 0..<(n * c) {
                    let s = src.baseAddress! + p * h * w, d = dst + p * oh * ow
                    for (y, (y0, y1, ly)) in ty.enumerated() {
                        for (xx, (x0, x1, lx)) in tx.enumerated() {
                            let top = (1 - lx) * s[y0 * w + x0] + lx * s[y0 * w + x1]
                            let bottom = (1 - lx) * s[y1 * w + x0] + lx * s[y1 * w + x1]
                            d[y * ow + xx] = (1 - ly) * top + ly * bottom
                        }
                    }
                }
            }
        }
    }
}
