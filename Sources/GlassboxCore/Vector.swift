/// Explicitly vectorised loops for the element-wise hot paths. The compiler does not vectorise these by
/// itself: a conditional load cannot be if-converted, a float sum cannot be reordered, and row pointers
/// that may alias get a scalar loop.
public enum Vector {
    @inlinable @inline(__always) public static func load(_ p: UnsafePointer<Float>, _ i: Int) -> SIMD8<Float> {
        UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<Float>.self)
    }

    @inlinable @inline(__always) public static func store(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>, _ i: Int) {
        UnsafeMutableRawPointer(p + i).storeBytes(of: v, as: SIMD8<Float>.self)
    }

    /// y = max(x, 0)
    @inlinable
    public static func relu(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        var i = 0
        let zero = SIMD8<Float>(repeating: 0)
        while i + 8 <= n { let v = load(x, i); store(v.replacing(with: zero, where: v .< zero), y, i); i += 8 }
        while i < n { y[i] = x[i] > 0 ? x[i] : 0; i += 1 }
    }

    /// dx = dy where y > 0, else 0.
    @inlinable
    public static func reluBackward(y: UnsafePointer<Float>, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, _ n: Int) {
        var i = 0
        let zero = SIMD8<Float>(repeating: 0)
        while i + 8 <= n {
            let g = load(dy, i)
            store(g.replacing(with: zero, where: load(y, i) .<= zero), dx, i)
            i += 8
        }
        while i < n { let g = dy[i]; dx[i] = y[i] > 0 ? g : 0; i += 1 }
    }

    /// dst[i] += src[i]
    @inlinable @inline(__always)
    public static func add(_ src: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Float>, _ n: Int) {
        var i = 0
        while i + 8 <= n { store(load(dst, i) + load(src, i), dst, i); i += 8 }
        while i < n { dst[i] += src[i]; i += 1 }
    }

    /// Σ x[i], accumulated in eight lanes (a fixed order, so the result is deterministic).
    @inlinable @inline(__always)
    public static func sum(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc = SIMD8<Float>(repeating: 0)
        var i = 0
        while i + 8 <= n { acc += load(x, i); i += 8 }
        var s = acc.sum()
        while i < n { s += x[i]; i += 1 }
        return s
    }

    /// y[i] += a · x[i]
    @inlinable @inline(__always)
    public static func axpy(_ a: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        let av = SIMD8<Float>(repeating: a)
        var i = 0
        while i + 8 <= n { store(load(y, i).addingProduct(av, load(x, i)), y, i); i += 8 }
        while i < n { y[i] += a * x[i]; i += 1 }
    }

    /// y_t += Σ_i a[i] · x_i[t] for each of `segmentCount` 8-float vectors y_t = `y + segments[t]`, where x_i[t] = the
    /// 8 floats at `base + offsets[i] + 8t`: `gatherAxpySegments` with the roles swapped — contiguous rows in, vectors
    /// scattered over y out (a convolution's input gradient, one position's patch added back onto a channel-last
    /// image). Eight vectors at a time are summed in registers from zero, terms in index order, and then added to y,
    /// so y gets the same bits as adding a separately formed row Σ_i a[i]·x_i (deterministic).
    @inlinable
    public static func gatherAxpyScattering(count: Int, coefficients a: UnsafePointer<Float>, offsets: UnsafePointer<Int>,
                                            base: UnsafePointer<Float>, segments: UnsafePointer<Int>, segmentCount: Int,
                                            y: UnsafeMutablePointer<Float>) {
        let zero = SIMD8<Float>(repeating: 0)
        var t = 0
        while t + 8 <= segmentCount {
            var s0 = zero, s1 = zero, s2 = zero, s3 = zero, s4 = zero, s5 = zero, s6 = zero, s7 = zero
            let j = 8 * t
            for i in 0..<count {
                let v = SIMD8<Float>(repeating: a[i]), r = base + offsets[i] + j
                s0 = s0.addingProduct(v, load(r, 0)); s1 = s1.addingProduct(v, load(r, 8))
                s2 = s2.addingProduct(v, load(r, 16)); s3 = s3.addingProduct(v, load(r, 24))
                s4 = s4.addingProduct(v, load(r, 32)); s5 = s5.addingProduct(v, load(r, 40))
                s6 = s6.addingProduct(v, load(r, 48)); s7 = s7.addingProduct(v, load(r, 56))
            }
            let o0 = segments[t], o1 = segments[t + 1], o2 = segments[t + 2], o3 = segments[t + 3]
            let o4 = segments[t + 4], o5 = segments[t + 5], o6 = segments[t + 6], o7 = segments[t + 7]
            store(load(y, o0) + s0, y, o0); store(load(y, o1) + s1, y, o1)
            store(load(y, o2) + s2, y, o2); store(load(y, o3) + s3, y, o3)
            store(load(y, o4) + s4, y, o4); store(load(y, o5) + s5, y, o5)
            store(load(y, o6) + s6, y, o6); store(load(y, o7) + s7, y, o7)
            t += 8
        }
        // The rest two vectors at a time (two independent FMA chains), then one.
        while t + 2 <= segmentCount {
            var s0 = zero, s1 = zero
            for i in 0..<count {
                let v = SIMD8<Float>(repeating: a[i]), r = base + offsets[i] + 8 * t
                s0 = s0.addingProduct(v, load(r, 0)); s1 = s1.addingProduct(v, load(r, 8))
            }
            let o0 = segments[t], o1 = segments[t + 1]
            store(load(y, o0) + s0, y, o0); store(load(y, o1) + s1, y, o1)
            t += 2
        }
        if t < segmentCount {
            var s = zero
            for i in 0..<count { s = s.addingProduct(SIMD8<Float>(repeating: a[i]), load(base + offsets[i], 8 * t)) }
            let o = segments[t]
            store(load(y, o) + s, y, o)
        }
    }

    /// y[t] += Σ_i a[i] · x_i[t] for each of `segmentCount` 8-float segments y[t] = `y + 8t`, where
    /// x_i[t] = the 8 floats at `base + offsets[i] + segments[t]`: a sparse-times-dense product for one output row
    /// whose rows are not stored contiguously (a convolution patch read straight from a padded channel-last image,
    /// see `Ops.patchVectorOffsets`). Eight segments at a time are kept in registers, so each term costs one load and
    /// one FMA per 8 floats where an `axpy` per term would load and store y every time; terms are added in index
    /// order (deterministic).
    @inlinable
    public static func gatherAxpySegments(count: Int, coefficients a: UnsafePointer<Float>, offsets: UnsafePointer<Int>,
                                          base: UnsafePointer<Float>, segments: UnsafePointer<Int>, segmentCount: Int,
                                          y: UnsafeMutablePointer<Float>) {
        var t = 0
        while t + 8 <= segmentCount {
            let yt = y + 8 * t
            var s0 = load(yt, 0), s1 = load(yt, 8), s2 = load(yt, 16), s3 = load(yt, 24)
            var s4 = load(yt, 32), s5 = load(yt, 40), s6 = load(yt, 48), s7 = load(yt, 56)
            let o0 = segments[t], o1 = segments[t + 1], o2 = segments[t + 2], o3 = segments[t + 3]
            let o4 = segments[t + 4], o5 = segments[t + 5], o6 = segments[t + 6], o7 = segments[t + 7]
            for i in 0..<count {
                let v = SIMD8<Float>(repeating: a[i]), r = base + offsets[i]
                s0 = s0.addingProduct(v, load(r, o0)); s1 = s1.addingProduct(v, load(r, o1))
                s2 = s2.addingProduct(v, load(r, o2)); s3 = s3.addingProduct(v, load(r, o3))
                s4 = s4.addingProduct(v, load(r, o4)); s5 = s5.addingProduct(v, load(r, o5))
                s6 = s6.addingProduct(v, load(r, o6)); s7 = s7.addingProduct(v, load(r, o7))
            }
            store(s0, yt, 0); store(s1, yt, 8); store(s2, yt, 16); store(s3, yt, 24)
            store(s4, yt, 32); store(s5, yt, 40); store(s6, yt, 48); store(s7, yt, 56)
            t += 8
        }
        // The rest two segments at a time (two independent FMA chains), then one.
        while t + 2 <= segmentCount {
            var s0 = load(y, 8 * t), s1 = load(y, 8 * t + 8)
            let o0 = segments[t], o1 = segments[t + 1]
            for i in 0..<count {
                let v = SIMD8<Float>(repeating: a[i]), r = base + offsets[i]
                s0 = s0.addingProduct(v, load(r, o0)); s1 = s1.addingProduct(v, load(r, o1))
            }
            store(s0, y, 8 * t); store(s1, y, 8 * t + 8)
            t += 2
        }
        if t < segmentCount {
            var s = load(y, 8 * t)
            let o = segments[t]
            for i in 0..<count { s = s.addingProduct(SIMD8<Float>(repeating: a[i]), load(base + offsets[i], o)) }
            store(s, y, 8 * t)
        }
    }

    /// e^x for 8 lanes: range reduction x = n·ln2 + f with |f| ≤ ln2/2, a degree-6 polynomial for e^f and
    /// the exponent n put into the float's bits. Relative error below 3e-7 (2.5 ulp) on [−87, 88]; inputs outside are
    /// clamped to it (the sigmoid that uses it saturates there anyway).
    @inlinable @inline(__always)
    public static func exp(_ x: SIMD8<Float>) -> SIMD8<Float> {
        let lo = SIMD8<Float>(repeating: -87), hi = SIMD8<Float>(repeating: 88)
        var xc = x.replacing(with: lo, where: x .< lo)
        xc = xc.replacing(with: hi, where: xc .> hi)
        let magic = SIMD8<Float>(repeating: 12_582_912)  // 1.5·2²³: adding it rounds to an integer
        let r = xc * 1.442_695_04 + magic
        let n = r - magic
        var f = xc - n * 0.693_145_751_953_125
        f = f - n * 1.428_606_765_330_187e-6
        var p = SIMD8<Float>(repeating: 1.0 / 720)
        p = p * f + 1.0 / 120
        p = p * f + 1.0 / 24
        p = p * f + 1.0 / 6
        p = p * f + 0.5
        p = p * f + 1
        p = p * f + 1
        let ni = unsafeBitCast(r, to: SIMD8<Int32>.self) &- unsafeBitCast(magic, to: SIMD8<Int32>.self)
        return p * unsafeBitCast((ni &+ 127) &<< 23, to: SIMD8<Float>.self)
    }

    /// The logistic function 1/(1 + e^−x), stable for large |x| (only e^−|x| is computed).
    @inlinable
    public static func sigmoid(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        var i = 0
        let zero = SIMD8<Float>(repeating: 0), one = SIMD8<Float>(repeating: 1)
        while i + 8 <= n {
            let v = load(x, i)
            let e = exp(v.replacing(with: -v, where: v .> zero))
            let s = one / (one + e)
            store(s.replacing(with: e * s, where: v .< zero), y, i)
            i += 8
        }
        while i < n { y[i] = Ops.sigmoid(x[i]); i += 1 }
    }
}
