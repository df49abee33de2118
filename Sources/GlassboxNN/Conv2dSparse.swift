import GlassboxCore

/// The convolution's backward pass for a sample whose output gradient is sparse (behind ReLU and max pooling at
/// most a quarter of it is non-zero): only the non-zeros are visited.
extension Conv2d {
    /// True when fewer than a third of a sample's output gradients are non-zero (counted 8 lanes at a time).
    @inline(__always)
    static func isSparse(_ d: UnsafePointer<Float>, _ n: Int) -> Bool {
        var lanes = SIMD8<Int32>(repeating: 0)
        let zero = SIMD8<Float>(repeating: 0)
        var i = 0
        while i + 8 <= n {
            lanes &+= SIMD8<Int32>(repeating: 0).replacing(with: 1, where: Vector.load(d, i) .!= zero)
            i += 8
        }
        var nonzero = Int(lanes.wrappedSum())
        while i < n { nonzero &+= isNonzero(d[i]); i += 1 }
        return nonzero * 3 < n
    }

    /// 1 when `v` is not ±0 (NaN counts as non-zero, as for `v != 0`), else 0, from integer arithmetic on the bits: a
    /// float compare compiles to branches here, which the random pattern of non-zeros mispredicts.
    @inline(__always)
    static func isNonzero(_ v: Float) -> Int {
        Int(((v.bitPattern & 0x7fff_ffff) &+ 0x7fff_ffff) >> 31)
    }

    /// The sparse backward needs patches of at least this many taps (`in·kh·kw`): for short rows (the first layer's
    /// 1·5·5 = 25) the dense GEMM is faster even on a quarter of non-zeros (measured on the issue-17 CNN: the first
    /// conv's backward took 17 % of the epoch sparse, ~4 % dense), because compacting its 16·784 gradients per sample
    /// costs more than the small GEMM.
    static let sparseMinimumTaps = 64

    /// One worker's lists of a sample's non-zero output gradients, by channel and by position, and the tables that
    /// place a position's patch in a padded channel-last image. Allocated once per worker and backward call.
    final class SparseLists {
        let plane: Int, cout: Int, tapsLast: Int
        /// Where position q's patch starts in a padded channel-last image.
        let corner: UnsafeMutablePointer<Int>
        /// The offsets of one patch's 8-float vectors from its corner (`Ops.patchVectorOffsets`).
        let vectorOffsets: [Int]
        /// One channel's non-zeros: their patch corners, values and positions.
        let channelOffsets: UnsafeMutablePointer<Int>, channelValues: UnsafeMutablePointer<Float>
        let channelPositions: UnsafeMutablePointer<Int>
        /// Position q's non-zeros, `cout` slots from `q·cout`, channels ascending: the offsets of their channel-last
        /// kernels, and their values; `positionCounts[q]` of them.
        let positionOffsets: UnsafeMutablePointer<Int>, positionValues: UnsafeMutablePointer<Float>
        let positionCounts: UnsafeMutablePointer<Int>

        init(_ p: Plan, cout: Int, kernel: Int) {
            plane = p.plane; self.cout = cout; tapsLast = p.tapsLast
            corner = .allocate(capacity: plane)
            for oy in 0..<p.oh { for ox in 0..<p.ow { corner[oy * p.ow + ox] = (oy * p.pw + ox) * p.pitch } }
            vectorOffsets = Ops.patchVectorOffsets(kh: kernel, kw: kernel, pw: p.pw, pitch: p.pitch)
            channelOffsets = .allocate(capacity: plane); channelValues = .allocate(capacity: plane)
            channelPositions = .allocate(capacity: plane)
            positionOffsets = .allocate(capacity: plane * cout); positionValues = .allocate(capacity: plane * cout)
            positionCounts = .allocate(capacity: plane)
        }

        deinit {
            corner.deallocate(); channelOffsets.deallocate(); channelValues.deallocate(); channelPositions.deallocate()
            positionOffsets.deallocate(); positionValues.deallocate(); positionCounts.deallocate()
        }

        /// Gathers channel c's non-zeros (`gc`, one value per position) without branches, which the random pattern
        /// would mispredict; returns how many. With `byPosition`, also appends each to its position's list.
        @inline(__always)
        func gather(channel c: Int, _ gc: UnsafePointer<Float>, byPosition: Bool) -> Int {
            var count = 0
            for q in 0..<plane {
                let v = gc[q]
                channelOffsets[count] = corner[q]; channelValues[count] = v; channelPositions[count] = q
                count &+= Conv2d.isNonzero(v)
            }
            if byPosition {
                let kernelOffset = c * tapsLast
                for i in 0..<count {
                    let q = channelPositions[i], slot = q &* cout &+ positionCounts[q]
                    positionOffsets[slot] = kernelOffset; positionValues[slot] = channelValues[i]
                    positionCounts[q] &+= 1
                }
            }
            return count
        }
    }

    /// One sample's backward pass when its output gradient is sparse (stride 1), on channel-last images so that a
    /// patch's kernel row is one contiguous run of whole vectors. The non-zeros are listed channel by channel (and
    /// bucketed by position for the input gradient); then each output row is summed in registers:
    /// - dW[c] += Σ_q g[c, q]·patch(q) over channel c's non-zeros, the patches read straight from the padded
    ///   channel-last input `patches` (`Vector.gatherAxpySegments`, into `dwLast`, `[out, kh, kw, pitch]`);
    /// - for each position q, Σ_c g[c, q]·W[c] over its non-zeros, added straight onto the padded channel-last image
    ///   gradient at q's patch (`Vector.gatherAxpyScattering`), which is then copied out channel-first.
    /// The sums and their order are those of the dense layout's patch gradients and fold, so the bits do not depend
    /// on the layout.
    func sparseBackward(_ d: UnsafePointer<Float>, _ p: Plan, patches: UnsafePointer<Float>, kernelsLast: UnsafePointer<Float>?,
                        lists: SparseLists, dwLast: UnsafeMutablePointer<Float>, db: UnsafeMutablePointer<Float>,
                        dx: UnsafeMutablePointer<Float>?, padDx: UnsafeMutablePointer<Float>) {
        let plane = p.plane, vectors = p.tapsLast / 8
        let byPosition = dx != nil && kernelsLast != nil
        if byPosition { lists.positionCounts.update(repeating: 0, count: plane) }
        lists.vectorOffsets.withUnsafeBufferPointer { vo in
            let vectorOffsets = vo.baseAddress!
            for c in 0..<outChannels {
                let gc = d + c * plane
                let count = lists.gather(channel: c, gc, byPosition: byPosition)
                db[c] += Vector.sum(gc, plane)
                guard parameterGradients else { continue }
                Vector.gatherAxpySegments(count: count, coefficients: lists.channelValues, offsets: lists.channelOffsets,
                                          base: patches, segments: vectorOffsets, segmentCount: vectors, y: dwLast + c * p.tapsLast)
            }
            guard let dx, let kernelsLast else { return }
            padDx.update(repeating: 0, count: p.paddedLast)
            for q in 0..<plane {
                let slot = q * outChannels
                Vector.gatherAxpyScattering(count: lists.positionCounts[q], coefficients: lists.positionValues + slot,
                                            offsets: lists.positionOffsets + slot, base: kernelsLast, segments: vectorOffsets,
                                            segmentCount: vectors, y: padDx + lists.corner[q])
            }
            Ops.unpadChannelsLast(padDx, c: inChannels, h: p.h, w: p.w, padding: padding, pitch: p.pitch, dst: dx)
        }
    }
}
