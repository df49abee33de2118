/// The channel-last ("HWC") layout of the convolution's sparse backward pass: pixel `(y, x)` of an image holds its
/// `c` channels side by side in `pitch` floats (`c` rounded up to a multiple of 8, the extra lanes zero). A kernel
/// row of a patch, `kw` pixels × `pitch` channels, is then one contiguous run of whole 8-float vectors, where the
/// channel-first layout gives `c` runs of `kw` floats each (5 of 8 lanes used for a 5-wide kernel).
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
}
