import Foundation
import GlassboxCore

/// The real 2-D Fourier basis of `h × w` images, scaled by 1/frequency, written out as a matrix (the sizes are tiny:
/// 28×28 or 32×32, so a GEMM with an explicit DFT basis beats writing an FFT).
///
/// Basis images, one pair per frequency (k_y, k_x) with k_y ∈ 0..<h and k_x ∈ 0…⌊w/2⌋ (the half plane of a real
/// FFT): cos(2π(k_y·y/h + k_x·x/w)) and sin(…), divided by √(hw), and multiplied by √2 for the columns whose
/// conjugate frequency is not in the half plane (0 < k_x < w/2). With that weighting the rows form a tight frame:
/// Σ_k b_k b_kᵀ = I, so every image is reachable and the synthesis map is norm-preserving on the coefficients it
/// uses. Each pair is scaled by s_k = 1 / max(f_k, 1/max(h, w)), f_k = √(f_y² + f_x²) in cycles per pixel
/// (f_y = min(k_y, h − k_y)/h, f_x = k_x/w), as lucid's `fft_image` does with decay power 1.
struct FourierBasis {
    let h: Int, w: Int
    /// Number of real coefficients per channel (2 per frequency).
    let count: Int
    /// `[count, h·w]`: row k is basis image k times its scale.
    let rows: [Float]
    let scales: [Float]

    init(height h: Int, width w: Int) {
        self.h = h; self.w = w
        let half = w / 2
        var rows: [Float] = [], scales: [Float] = []
        let norm = 1 / Double(h * w).squareRoot()
        for ky in 0..<h {
            for kx in 0...half {
                let fy = Double(min(ky, h - ky)) / Double(h), fx = Double(kx) / Double(w)
                let s = 1 / max((fy * fy + fx * fx).squareRoot(), 1 / Double(max(h, w)))
                let paired = kx > 0 && !(w % 2 == 0 && kx == half)
                let weight = norm * (paired ? 2.0.squareRoot() : 1)
                for trig in 0..<2 {
                    for y in 0..<h {
                        for x in 0..<w {
                            let phase = 2 * Double.pi * (Double(ky * y) / Double(h) + Double(kx * x) / Double(w))
                            rows.append(Float(s * weight * (trig == 0 ? cos(phase) : sin(phase))))
                        }
                    }
                    scales.append(Float(s))
                }
            }
        }
        self.rows = rows
        self.scales = scales
        count = scales.count
    }

    /// Images `[m, h·w]` = coefficients `[m, count]` · rows.
    func synthesise(_ c: UnsafePointer<Float>, m: Int, into u: UnsafeMutablePointer<Float>) {
        rows.withUnsafeBufferPointer { b in BLAS.gemm(m: m, n: h * w, k: count, a: c, b: b.baseAddress!, beta: 0, c: u) }
    }

    /// The adjoint: coefficient gradients `[m, count]` = image gradients `[m, h·w]` · rowsᵀ.
    func adjoint(_ g: UnsafePointer<Float>, m: Int, into dc: UnsafeMutablePointer<Float>) {
        rows.withUnsafeBufferPointer { b in BLAS.gemm(transB: true, m: m, n: count, k: h * w, a: g, b: b.baseAddress!, beta: 0, c: dc) }
    }
}

/// A random similarity transform (shift, scale about the centre, rotation) applied by bilinear resampling, and its
/// adjoint for the gradient. Output pixel p samples the source at R⁻¹(p − c − t)/s + c; taps outside the image read
/// `fill` (which carries no gradient).
struct ImageTransform {
    let dy: Float, dx: Float, scale: Float, angle: Float

    static let identity = ImageTransform(dy: 0, dx: 0, scale: 1, angle: 0)

    var isIdentity: Bool { dy == 0 && dx == 0 && scale == 1 && angle == 0 }

    static func random(jitter: Int, scale: Float, rotationDegrees: Float, using g: inout SeededGenerator) -> ImageTransform {
        let dy = jitter > 0 ? Float(g.int(below: 2 * jitter + 1) - jitter) : 0
        let dx = jitter > 0 ? Float(g.int(below: 2 * jitter + 1) - jitter) : 0
        let s = scale > 0 ? g.uniform(1 - scale, 1 + scale) : 1
        let a = rotationDegrees > 0 ? g.uniform(-rotationDegrees, rotationDegrees) * Float.pi / 180 : 0
        return ImageTransform(dy: dy, dx: dx, scale: s, angle: a)
    }

    /// For each output pixel, four source indices (−1 outside) and their bilinear weights.
    func taps(h: Int, w: Int) -> (index: [Int32], weight: [Float]) {
        var index = [Int32](repeating: -1, count: 4 * h * w), weight = [Float](repeating: 0, count: 4 * h * w)
        let cy = Float(h - 1) / 2, cx = Float(w - 1) / 2
        let c = cosf(angle), s = sinf(angle)
        for y in 0..<h {
            for x in 0..<w {
                let py = Float(y) - cy - dy, px = Float(x) - cx - dx
                // Inverse rotation, then inverse scale.
                let sy = (c * py - s * px) / scale + cy, sx = (s * py + c * px) / scale + cx
                let y0 = Int(floorf(sy)), x0 = Int(floorf(sx))
                let ly = sy - Float(y0), lx = sx - Float(x0)
                let o = 4 * (y * w + x)
                let corners = [(y0, x0, (1 - ly) * (1 - lx)), (y0, x0 + 1, (1 - ly) * lx), (y0 + 1, x0, ly * (1 - lx)), (y0 + 1, x0 + 1, ly * lx)]
                for (k, (yy, xx, wt)) in corners.enumerated() {
                    weight[o + k] = wt
                    if yy >= 0 && yy < h && xx >= 0 && xx < w { index[o + k] = Int32(yy * w + xx) }
                }
            }
        }
        return (index, weight)
    }
}

/// The squared-difference total variation Σ (x[i+1, j] − x[i, j])² + (x[i, j+1] − x[i, j])² of one plane, and its
/// gradient added (times `scale`) into `grad`.
enum TotalVariation {
    static func value(_ x: UnsafePointer<Float>, h: Int, w: Int) -> Float {
        var s: Float = 0
        for y in 0..<h {
            for xx in 0..<w {
                let v = x[y * w + xx]
                if y + 1 < h { let d = x[(y + 1) * w + xx] - v; s += d * d }
                if xx + 1 < w { let d = x[y * w + xx + 1] - v; s += d * d }
            }
        }
        return s
    }

    static func addGradient(_ x: UnsafePointer<Float>, h: Int, w: Int, scale: Float, into grad: UnsafeMutablePointer<Float>) {
        for y in 0..<h {
            for xx in 0..<w {
                let v = x[y * w + xx]
                if y + 1 < h {
                    let d = 2 * (x[(y + 1) * w + xx] - v) * scale
                    grad[(y + 1) * w + xx] += d; grad[y * w + xx] -= d
                }
                if xx + 1 < w {
                    let d = 2 * (x[y * w + xx + 1] - v) * scale
                    grad[y * w + xx + 1] += d; grad[y * w + xx] -= d
                }
            }
        }
    }
}
