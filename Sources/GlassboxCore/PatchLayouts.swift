/// The two image layouts of the convolution's sparse backward pass, in which a patch is read as whole 8-float vectors:
/// - channel-last ("HWC"): pixel `(y, x)` of an image holds its `c` channels side by side in `pitch` floats (`c`
///   rounded up to a multiple of 8, the extra lanes zero), so a kernel row of a patch, `kw` pixels × `pitch`
///   channels, is one contiguous run of vectors (no waste for 8, 16, … channels);
/// - kernel rows: the ordinary zero-padded channel-first image, one vector per kernel row `(ci, ky)` of a patch, its
///   lanes past `kw` reading neighbouring pixels that the caller drops (5 of 8 lanes used for a 5-wide kernel; the
///   layout for few channels, such as a first layer's one).
extension Ops {
    /// Channels rounded up to whole 8-float vectors.
    @inline(__always) public static func channelPitch(_ c: Int) -> Int { (c + 7) / 8 * 8 }

    /// Writes `[c, h, w]` into a zero-bordered channel-last image `[h + 2p, w + 2p, pitch]` (borders and the lanes
    /// past `c` zeroed too).
    public static func padChannelsLast(_ src: UnsafePointer<Float>, c: Int, h: Int, w: Int, padding p: Int, pitch: Int,
                                       dst: UnsafeMutablePointer<Float>) {
        let pw = w + 2 * p
        dst.update(repeating: 0, count: (h + 2 * p) * pw * pitch)
        for ci in 0..<c {
            for y in 0..<h {
                let s = src + (ci * h + y) * w, d = dst + ((y + p) * pw + p) * pitch + ci
                for x in 0..<w { d[x * pitch] = s[x] }
            }
        }
    }

    /// Copies the interior of a padded channel-last image `[h + 2p, w + 2p, pitch]` into `[c, h, w]`.
    public static func unpadChannelsLast(_ src: UnsafePointer<Float>, c: Int, h: Int, w: Int, padding p: Int, pitch: Int,
                                         dst: UnsafeMutablePointer<Float>) {
        let pw = w + 2 * p
        for ci in 0..<c {
            for y in 0..<h {
                let s = src + ((y + p) * pw + p) * pitch + ci, d = dst + (ci * h + y) * w
                for x in 0..<w { d[x] = s[x * pitch] }
            }
        }
    }

    /// Kernels `[out, in, kh, kw]` rearranged as `[out, kh, kw, pitch]` (lanes past `in` zero).
    public static func kernelsChannelsLast(_ w: UnsafePointer<Float>, out: Int, in cin: Int, kh: Int, kw: Int, pitch: Int,
                                           dst: UnsafeMutablePointer<Float>) {
        let taps = kh * kw
        dst.update(repeating: 0, count: out * taps * pitch)
        for o in 0..<out {
            for ci in 0..<cin {
                let s = w + (o * cin + ci) * taps, d = dst + o * taps * pitch + ci
                for t in 0..<taps { d[t * pitch] = s[t] }
            }
        }
    }

    /// Adds channel-last kernels `[out, kh, kw, pitch]` onto `[out, in, kh, kw]` (lanes past `in` dropped): the
    /// inverse rearrangement of `kernelsChannelsLast`, for gradients.
    public static func addKernelsChannelsFirst(_ src: UnsafePointer<Float>, out: Int, in cin: Int, kh: Int, kw: Int, pitch: Int,
                                               into dst: UnsafeMutablePointer<Float>) {
        let taps = kh * kw
        for o in 0..<out {
            for ci in 0..<cin {
                let s = src + o * taps * pitch + ci, d = dst + (o * cin + ci) * taps
                for t in 0..<taps { d[t] += s[t * pitch] }
            }
        }
    }

    /// Offsets, inside a padded channel-last image of width `pw`, of the 8-float vectors of one patch, in the
    /// order of `[kh, kw, pitch]`: vector `(ky, kx, v)` is at `(ky·pw + kx)·pitch + 8v` from the patch's corner.
    public static func patchVectorOffsets(kh: Int, kw: Int, pw: Int, pitch: Int) -> [Int] {
        var offsets: [Int] = []
        offsets.reserveCapacity(kh * kw * pitch / 8)
        for ky in 0..<kh { for kx in 0..<kw { for v in stride(from: 0, to: pitch, by: 8) { offsets.append((ky * pw + kx) * pitch + v) } } }
        return offsets
    }

    /// Kernels `[out, in, kh, kw]` (kw ≤ 8) as one 8-float vector per kernel row, `[out, in·kh, 8]`, lanes past `kw` zero.
    public static func kernelsAsRows(_ w: UnsafePointer<Float>, out: Int, in cin: Int, kh: Int, kw: Int, dst: UnsafeMutablePointer<Float>) {
        precondition(kw <= 8)
        let rows = out * cin * kh
        dst.update(repeating: 0, count: rows * 8)
        for r in 0..<rows { for j in 0..<kw { dst[8 * r + j] = w[r * kw + j] } }
    }

    /// Adds kernel rows `[out, in·kh, 8]` onto `[out, in, kh, kw]`, lanes past `kw` dropped: the inverse of
    /// `kernelsAsRows`, for gradients.
    public static func addKernelRows(_ src: UnsafePointer<Float>, out: Int, in cin: Int, kh: Int, kw: Int, into dst: UnsafeMutablePointer<Float>) {
        for r in 0..<(out * cin * kh) { for j in 0..<kw { dst[r * kw + j] += src[8 * r + j] } }
    }

    /// Offsets, inside a zero-padded channel-first image `[c, ph, pw]`, of the kernel-row vectors of one patch, in
    /// the order `(ci, ky)`: `ci·ph·pw + ky·pw` from the patch's corner.
    public static func kernelRowOffsets(c: Int, kh: Int, ph: Int, pw: Int) -> [Int] {
        (0..<c).flatMap { ci in (0..<kh).map { ky in ci * ph * pw + ky * pw } }
    }
}
