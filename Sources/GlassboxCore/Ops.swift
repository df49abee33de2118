import Foundation

/// Element-wise and structural operations used by the layers. The raw-pointer forms are the hot paths;
/// the `Tensor` forms are conveniences built on them.
public enum Ops {
    // MARK: activations

    @inline(__always) public static func sigmoid(_ x: Float) -> Float {
        // Stable for large |x|: never exponentiates a large positive number.
        if x >= 0 { return 1 / (1 + expf(-x)) }
        let e = expf(x)
        return e / (1 + e)
    }

    public static func relu(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        Vector.relu(x, y, n)
    }

    /// dx = dy where y > 0 (y is the ReLU output).
    public static func reluBackward(y: UnsafePointer<Float>, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, _ n: Int) {
        Vector.reluBackward(y: y, dy: dy, dx: dx, n)
    }

    public static func sigmoid(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        Vector.sigmoid(x, y, n)
    }

    /// dx = dy · y · (1 − y) (y is the sigmoid output).
    public static func sigmoidBackward(y: UnsafePointer<Float>, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, _ n: Int) {
        for i in 0..<n { dx[i] = dy[i] * y[i] * (1 - y[i]) }
    }

    public static func tanh(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        for i in 0..<n { y[i] = tanhf(x[i]) }
    }

    /// dx = dy · (1 − y²) (y is the tanh output).
    public static func tanhBackward(y: UnsafePointer<Float>, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, _ n: Int) {
        for i in 0..<n { dx[i] = dy[i] * (1 - y[i] * y[i]) }
    }

    // MARK: bias

    /// Adds `bias[j]` to every row of a `[rows, cols]` matrix.
    public static func addRowBias(_ m: UnsafeMutablePointer<Float>, rows: Int, cols: Int, bias: UnsafePointer<Float>) {
        for r in 0..<rows {
            let row = m + r * cols
            for j in 0..<cols { row[j] += bias[j] }
        }
    }

    /// Adds `bias[c]` to every element of channel c of a `[n, channels, plane]` tensor.
    public static func addChannelBias(_ m: UnsafeMutablePointer<Float>, n: Int, channels: Int, plane: Int, bias: UnsafePointer<Float>) {
        for s in 0..<n {
            for c in 0..<channels {
                let p = m + (s * channels + c) * plane
                let b = bias[c]
                for i in 0..<plane { p[i] += b }
            }
        }
    }

    /// Column sums of a `[rows, cols]` matrix, accumulated into `out` (`out[j] += Σ_r m[r, j]`).
    public static func accumulateColumnSums(_ m: UnsafePointer<Float>, rows: Int, cols: Int, into out: UnsafeMutablePointer<Float>) {
        for r in 0..<rows { Vector.add(m + r * cols, into: out, cols) }
    }

    // MARK: loss

    /// Mean softmax cross-entropy over a batch of logits `[n, k]`, computed stably (log-sum-exp with the
    /// row maximum subtracted). Writes `(softmax − onehot) · gradScale` into `grad` when given (default scale
    /// 1/n, the gradient of the mean; a shard of a larger batch passes 1/batch). Returns the mean loss.
    @discardableResult
    public static func softmaxCrossEntropy(logits: UnsafePointer<Float>, labels: UnsafePointer<Int32>, n: Int, k: Int,
                                           grad: UnsafeMutablePointer<Float>?, gradScale: Float? = nil) -> Float {
        var total: Double = 0
        let inv = gradScale ?? 1 / Float(n)
        for r in 0..<n {
            let row = logits + r * k
            var mx = row[0]
            for j in 1..<k where row[j] > mx { mx = row[j] }
            var sum: Float = 0
            for j in 0..<k { sum += expf(row[j] - mx) }
            let lse = mx + logf(sum)
            let y = Int(labels[r])
            precondition(y >= 0 && y < k, "label \(y) out of range 0..<\(k)")
            total += Double(lse - row[y])
            if let g = grad {
                let gr = g + r * k
                for j in 0..<k { gr[j] = expf(row[j] - lse) * inv }
                gr[y] -= inv
            }
        }
        return Float(total / Double(n))
    }

    // MARK: convolution helpers

    /// Output size of a convolution or pooling window along one axis.
    @inline(__always) public static func outSize(_ size: Int, kernel: Int, stride: Int, padding: Int) -> Int {
        (size + 2 * padding - kernel) / stride + 1
    }

    /// Unfolds one image `[c, h, w]` into columns: row `(ci, ki, kj)` of the destination holds, for each output
    /// position `(oy, ox)`, the input pixel under that kernel tap (0 in the padding). Rows are `ld` floats apart,
    /// so several images can be written side by side into one `[c·kh·kw, n·oh·ow]` matrix.
    public static func im2col(_ src: UnsafePointer<Float>, c: Int, h: Int, w: Int, kh: Int, kw: Int,
                              stride: Int, padding: Int, dst: UnsafeMutablePointer<Float>, ld: Int) {
        let oh = outSize(h, kernel: kh, stride: stride, padding: padding)
        let ow = outSize(w, kernel: kw, stride: stride, padding: padding)
        for ci in 0..<c {
            let plane = src + ci * h * w
            for ki in 0..<kh {
                for kj in 0..<kw {
                    let row = dst + ((ci * kh + ki) * kw + kj) * ld
                    for oy in 0..<oh {
                        let iy = oy * stride - padding + ki
                        let out = row + oy * ow
                        if iy < 0 || iy >= h {
                            for ox in 0..<ow { out[ox] = 0 }
                            continue
                        }
                        let line = plane + iy * w
                        for ox in 0..<ow {
                            let ix = ox * stride - padding + kj
                            out[ox] = (ix >= 0 && ix < w) ? line[ix] : 0
                        }
                    }
                }
            }
        }
    }

    /// Copies `n ≥ 8` floats with 8-wide loads and stores; the last vector overlaps the previous one instead of
    /// falling back to a scalar tail.
    @inline(__always)
    static func copyWide(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ n: Int) {
        let s = UnsafeRawPointer(src), d = UnsafeMutableRawPointer(dst)
        var i = 0
        while i + 8 <= n {
            d.storeBytes(of: s.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self), toByteOffset: 4 * i, as: SIMD8<Float>.self)
            i += 8
        }
        if i < n {
            let j = n - 8
            d.storeBytes(of: s.loadUnaligned(fromByteOffset: 4 * j, as: SIMD8<Float>.self), toByteOffset: 4 * j, as: SIMD8<Float>.self)
        }
    }

    /// `im2col` for stride 1 from an image that is already zero-padded (`[c, h + 2p, w + 2p]`): every row
    /// segment is then a plain copy, done 8 floats at a time. Needs `ow ≥ 8`.
    public static func im2colPadded(_ padded: UnsafePointer<Float>, c: Int, ph: Int, pw: Int, kh: Int, kw: Int,
                                    dst: UnsafeMutablePointer<Float>, ld: Int) {
        let oh = ph - kh + 1, ow = pw - kw + 1
        precondition(ow >= 8)
        for ci in 0..<c {
            let plane = padded + ci * ph * pw
            for ki in 0..<kh {
                for kj in 0..<kw {
                    let row = dst + ((ci * kh + ki) * kw + kj) * ld
                    for oy in 0..<oh { copyWide(plane + (oy + ki) * pw + kj, row + oy * ow, ow) }
                }
            }
        }
    }

    /// The transpose layout of `im2colPadded`: one row of `c·kh·kw` values per output position (`[oh·ow, K]`),
    /// so that a single position's patch is contiguous. Stride 1, from a zero-padded image.
    ///
    /// For kernels up to 8 wide each kernel row is moved as one 8-wide vector: the 8 − kw extra lanes land
    /// where the next write goes (or in the 8 floats of slack after the buffer, which the caller provides),
    /// and the reads may run up to 7 floats past the padded image (slack again).
    public static func im2rowPadded(_ padded: UnsafePointer<Float>, c: Int, ph: Int, pw: Int, kh: Int, kw: Int,
                                    dst: UnsafeMutablePointer<Float>) {
        let oh = ph - kh + 1, ow = pw - kw + 1, k = c * kh * kw
        let wide = kw <= 8
        for oy in 0..<oh {
            for ox in 0..<ow {
                var out = dst + (oy * ow + ox) * k
                for ci in 0..<c {
                    var src = padded + (ci * ph + oy) * pw + ox
                    for _ in 0..<kh {
                        if wide {
                            Vector.store(Vector.load(src, 0), out, 0)
                        } else {
                            for j in 0..<kw { out[j] = src[j] }
                        }
                        out += kw
                        src += pw
                    }
                }
            }
        }
    }

    /// Adjoint of `im2rowPadded`: adds each position's patch back into a padded `[c, ph, pw]` buffer.
    /// Narrow kernels add with 8-wide vectors whose extra lanes add zero (reads and rewrites of the same
    /// values, inside the caller's slack).
    public static func row2imPadded(_ rows: UnsafePointer<Float>, c: Int, ph: Int, pw: Int, kh: Int, kw: Int,
                                    dst: UnsafeMutablePointer<Float>) {
        let oh = ph - kh + 1, ow = pw - kw + 1, k = c * kh * kw
        let wide = kw <= 8
        var lanes = SIMDMask<SIMD8<Int32>>()
        for j in 0..<8 { lanes[j] = j < kw }
        let zero = SIMD8<Float>(repeating: 0)
        for oy in 0..<oh {
            for ox in 0..<ow {
                var src = rows + (oy * ow + ox) * k
                for ci in 0..<c {
                    var out = dst + (ci * ph + oy) * pw + ox
                    for _ in 0..<kh {
                        if wide {
                            let add = zero.replacing(with: Vector.load(src, 0), where: lanes)
                            Vector.store(Vector.load(UnsafePointer(out), 0) + add, out, 0)
                        } else {
                            for j in 0..<kw { out[j] += src[j] }
                        }
                        src += kw
                        out += pw
                    }
                }
            }
        }
    }

    /// Writes `[c, h, w]` into the interior of a zero-bordered `[c, h + 2p, w + 2p]` buffer (borders zeroed too).
    public static func pad(_ src: UnsafePointer<Float>, c: Int, h: Int, w: Int, padding p: Int, dst: UnsafeMutablePointer<Float>) {
        let ph = h + 2 * p, pw = w + 2 * p
        dst.update(repeating: 0, count: c * ph * pw)
        for ci in 0..<c {
            for y in 0..<h {
                let d = dst + (ci * ph + y + p) * pw + p, s = src + (ci * h + y) * w
                for x in 0..<w { d[x] = s[x] }
            }
        }
    }

    /// Copies the interior of a padded `[c, h + 2p, w + 2p]` buffer into `[c, h, w]`.
    public static func unpad(_ src: UnsafePointer<Float>, c: Int, h: Int, w: Int, padding p: Int, dst: UnsafeMutablePointer<Float>) {
        let ph = h + 2 * p, pw = w + 2 * p
        for ci in 0..<c {
            for y in 0..<h {
                let s = src + (ci * ph + y + p) * pw + p, d = dst + (ci * h + y) * w
                for x in 0..<w { d[x] = s[x] }
            }
        }
    }

    /// The adjoint of `im2col`: adds every column entry back onto the image pixel it came from.
    /// `dst` (`[c, h, w]`) is accumulated into, not overwritten.
    public static func col2im(_ cols: UnsafePointer<Float>, ld: Int, c: Int, h: Int, w: Int, kh: Int, kw: Int,
                              stride: Int, padding: Int, dst: UnsafeMutablePointer<Float>) {
        let oh = outSize(h, kernel: kh, stride: stride, padding: padding)
        let ow = outSize(w, kernel: kw, stride: stride, padding: padding)
        for ci in 0..<c {
            let plane = dst + ci * h * w
            for ki in 0..<kh {
                for kj in 0..<kw {
                    let row = cols + ((ci * kh + ki) * kw + kj) * ld
                    for oy in 0..<oh {
                        let iy = oy * stride - padding + ki
                        if iy < 0 || iy >= h { continue }
                        let line = plane + iy * w
                        let src = row + oy * ow
                        for ox in 0..<ow {
                            let ix = ox * stride - padding + kj
                            if ix >= 0 && ix < w { line[ix] += src[ox] }
                        }
                    }
                }
            }
        }
    }

    // MARK: pooling

    /// Max pooling over `planes` planes of `h × w`. Writes the output and, for each output, the flat index
    /// within its plane of the input that won (the first maximum in row-major window order, as PyTorch).
    public static func maxPool(_ src: UnsafePointer<Float>, planes: Int, h: Int, w: Int, kernel: Int, stride: Int,
                               padding: Int = 0, dst: UnsafeMutablePointer<Float>, argmax: UnsafeMutablePointer<Int32>) {
        let oh = outSize(h, kernel: kernel, stride: stride, padding: padding)
        let ow = outSize(w, kernel: kernel, stride: stride, padding: padding)
        if kernel == 2 && stride == 2 && padding == 0 {
            for p in 0..<planes {
                let s = src + p * h * w, d = dst + p * oh * ow, a = argmax + p * oh * ow
                for oy in 0..<oh {
                    maxPool2x2Row(s + 2 * oy * w, w: w, ow: ow, base: Int32(2 * oy * w), dst: d + oy * ow, argmax: a + oy * ow)
                }
            }
            return
        }
        for p in 0..<planes {
            let s = src + p * h * w
            let d = dst + p * oh * ow
            let a = argmax + p * oh * ow
            for oy in 0..<oh {
                let y0 = oy * stride - padding
                for ox in 0..<ow {
                    let x0 = ox * stride - padding
                    var best = -Float.infinity
                    var bi: Int32 = -1
                    for ky in max(0, y0)..<min(h, y0 + kernel) {
                        let line = s + ky * w
                        for kx in max(0, x0)..<min(w, x0 + kernel) where line[kx] > best || bi < 0 {
                            best = line[kx]; bi = Int32(ky * w + kx)
                        }
                    }
                    d[oy * ow + ox] = best
                    a[oy * ow + ox] = bi
                }
            }
        }
    }

    /// One output row of 2×2, stride-2 max pooling from the input rows `r0` and `r0 + w`; `base` is the flat
    /// index of `r0[0]` in its plane. The four taps are compared in row-major order with a strict `>`, so the
    /// first maximum wins (as PyTorch). Rows of at least 4 outputs go 8 (or 4) at a time with selects instead of
    /// branches — the data-dependent branches of a scalar loop are mispredicted about half the time on real
    /// activations; the last block overlaps the previous one rather than needing a scalar tail.
    /// The 8- and 4-wide blocks are written out for their concrete SIMD types on purpose: one generic body over `SIMD`
    /// (tried) compiles the compares and selects lane by lane, and training got 33 % slower.
    @inline(__always)
    static func maxPool2x2Row(_ r0: UnsafePointer<Float>, w: Int, ow: Int, base: Int32,
                              dst: UnsafeMutablePointer<Float>, argmax: UnsafeMutablePointer<Int32>) {
        let r1 = r0 + w
        if ow >= 8 {
            let lanes = SIMD8<Int32>(0, 2, 4, 6, 8, 10, 12, 14)
            var ox = 0
            while true {
                let o = Swift.min(ox, ow - 8)
                let top = UnsafeRawPointer(r0 + 2 * o).loadUnaligned(as: SIMD16<Float>.self)
                let bottom = UnsafeRawPointer(r1 + 2 * o).loadUnaligned(as: SIMD16<Float>.self)
                let i0 = lanes &+ (base + Int32(2 * o))
                var best = top.evenHalf, bi = i0
                var m = top.oddHalf .> best
                best.replace(with: top.oddHalf, where: m); bi.replace(with: i0 &+ 1, where: m)
                m = bottom.evenHalf .> best
                best.replace(with: bottom.evenHalf, where: m); bi.replace(with: i0 &+ Int32(w), where: m)
                m = bottom.oddHalf .> best
                best.replace(with: bottom.oddHalf, where: m); bi.replace(with: i0 &+ Int32(w + 1), where: m)
                UnsafeMutableRawPointer(dst + o).storeBytes(of: best, as: SIMD8<Float>.self)
                UnsafeMutableRawPointer(argmax + o).storeBytes(of: bi, as: SIMD8<Int32>.self)
                if o + 8 >= ow { return }
                ox += 8
            }
        } else if ow >= 4 {
            let lanes = SIMD4<Int32>(0, 2, 4, 6)
            var ox = 0
            while true {
                let o = Swift.min(ox, ow - 4)
                let top = UnsafeRawPointer(r0 + 2 * o).loadUnaligned(as: SIMD8<Float>.self)
                let bottom = UnsafeRawPointer(r1 + 2 * o).loadUnaligned(as: SIMD8<Float>.self)
                let i0 = lanes &+ (base + Int32(2 * o))
                var best = top.evenHalf, bi = i0
                var m = top.oddHalf .> best
                best.replace(with: top.oddHalf, where: m); bi.replace(with: i0 &+ 1, where: m)
                m = bottom.evenHalf .> best
                best.replace(with: bottom.evenHalf, where: m); bi.replace(with: i0 &+ Int32(w), where: m)
                m = bottom.oddHalf .> best
                best.replace(with: bottom.oddHalf, where: m); bi.replace(with: i0 &+ Int32(w + 1), where: m)
                UnsafeMutableRawPointer(dst + o).storeBytes(of: best, as: SIMD4<Float>.self)
                UnsafeMutableRawPointer(argmax + o).storeBytes(of: bi, as: SIMD4<Int32>.self)
                if o + 4 >= ow { return }
                ox += 4
            }
        } else {
            for ox in 0..<ow {
                let x = 2 * ox
                var best = r0[x], bi = base + Int32(x)
                if r0[x + 1] > best { best = r0[x + 1]; bi = base + Int32(x + 1) }
                if r1[x] > best { best = r1[x]; bi = base + Int32(w + x) }
                if r1[x + 1] > best { best = r1[x + 1]; bi = base + Int32(w + x + 1) }
                dst[ox] = best
                argmax[ox] = bi
            }
        }
    }

    /// Routes each output gradient to the input that won the max (accumulating; `dx` must start at zero).
    public static func maxPoolBackward(dy: UnsafePointer<Float>, argmax: UnsafePointer<Int32>, planes: Int,
                                       inPlane: Int, outPlane: Int, dx: UnsafeMutablePointer<Float>) {
        for p in 0..<planes {
            let g = dx + p * inPlane
            let d = dy + p * outPlane
            let a = argmax + p * outPlane
            for i in 0..<outPlane { g[Int(a[i])] += d[i] }
        }
    }

    /// Average pooling; padded positions count as zeros in the divisor (PyTorch's `count_include_pad=True`).
    public static func avgPool(_ src: UnsafePointer<Float>, planes: Int, h: Int, w: Int, kernel: Int, stride: Int,
                               padding: Int = 0, dst: UnsafeMutablePointer<Float>) {
        let oh = outSize(h, kernel: kernel, stride: stride, padding: padding)
        let ow = outSize(w, kernel: kernel, stride: stride, padding: padding)
        let inv = 1 / Float(kernel * kernel)
        for p in 0..<planes {
            let s = src + p * h * w
            let d = dst + p * oh * ow
            for oy in 0..<oh {
                for ox in 0..<ow {
                    var sum: Float = 0
                    for ky in max(0, oy * stride - padding)..<min(h, oy * stride - padding + kernel) {
                        for kx in max(0, ox * stride - padding)..<min(w, ox * stride - padding + kernel) { sum += s[ky * w + kx] }
                    }
                    d[oy * ow + ox] = sum * inv
                }
            }
        }
    }

    public static func avgPoolBackward(dy: UnsafePointer<Float>, planes: Int, h: Int, w: Int, kernel: Int, stride: Int,
                                       padding: Int = 0, dx: UnsafeMutablePointer<Float>) {
        let oh = outSize(h, kernel: kernel, stride: stride, padding: padding)
        let ow = outSize(w, kernel: kernel, stride: stride, padding: padding)
        let inv = 1 / Float(kernel * kernel)
        for p in 0..<planes {
            let g = dx + p * h * w
            let d = dy + p * oh * ow
            for oy in 0..<oh {
                for ox in 0..<ow {
                    let v = d[oy * ow + ox] * inv
                    for ky in max(0, oy * stride - padding)..<min(h, oy * stride - padding + kernel) {
                        for kx in max(0, ox * stride - padding)..<min(w, ox * stride - padding + kernel) { g[ky * w + kx] += v }
                    }
                }
            }
        }
    }
}

// MARK: - Tensor conveniences

public extension Tensor {
    func map(_ f: (Float) -> Float) -> Tensor {
        Tensor(shape: shape, scalars: scalars.map(f))
    }

    var sum: Float { scalars.withUnsafeBufferPointer { b in Float(b.reduce(0.0) { $0 + Double($1) }) } }
    var mean: Float { count == 0 ? 0 : sum / Float(count) }
    var min: Float { scalars.min() ?? .nan }
    var max: Float { scalars.max() ?? .nan }
    /// Population standard deviation.
    var standardDeviation: Float {
        let m = Double(mean)
        let v = scalars.reduce(0.0) { $0 + (Double($1) - m) * (Double($1) - m) } / Double(Swift.max(1, count))
        return Float(v.squareRoot())
    }

    /// Sum over dimension `axis`, removing it.
    func sum(axis: Int) -> Tensor {
        precondition(axis >= 0 && axis < rank)
        let outer = shape[..<axis].reduce(1, *), n = shape[axis], inner = shape[(axis + 1)...].reduce(1, *)
        var s = shape; s.remove(at: axis)
        var out = Tensor(zeros: s)
        withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for o in 0..<outer { for k in 0..<n { for i in 0..<inner { dst[o * inner + i] += src[(o * n + k) * inner + i] } } }
            }
        }
        return out
    }

    func mean(axis: Int) -> Tensor {
        let n = Float(shape[axis])
        return sum(axis: axis).map { $0 / n }
    }

    /// Index of the largest value in each row of a `[rows, cols]` view (first one on ties).
    func argmaxRows() -> [Int] {
        let r = rows, c = rowLength
        return withUnsafeBufferPointer { b in
            (0..<r).map { i in
                var best = 0
                for j in 1..<c where b[i * c + j] > b[i * c + best] { best = j }
                return best
            }
        }
    }

    static func + (a: Tensor, b: Tensor) -> Tensor {
        precondition(a.shape == b.shape)
        return Tensor(shape: a.shape, scalars: zip(a.scalars, b.scalars).map { $0 + $1 })
    }

    static func - (a: Tensor, b: Tensor) -> Tensor {
        precondition(a.shape == b.shape)
        return Tensor(shape: a.shape, scalars: zip(a.scalars, b.scalars).map { $0 - $1 })
    }

    static func * (a: Tensor, s: Float) -> Tensor { a.map { $0 * s } }

    /// Largest absolute difference to another tensor of the same shape.
    func maxAbsDifference(_ other: Tensor) -> Float {
        precondition(shape == other.shape, "shapes differ: \(shape) vs \(other.shape)")
        return zip(scalars, other.scalars).reduce(0) { Swift.max($0, abs($1.0 - $1.1)) }
    }
}
