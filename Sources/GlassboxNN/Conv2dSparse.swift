import GlassboxCore

/// The convolution's backward pass for a sample whose output gradient is sparse (behind ReLU and max pooling at
/// most a quarter of it is non-zero): only the non-zeros are visited, and a patch is read as whole 8-float vectors
/// in one of the two layouts of `Ops` (PatchLayouts.swift).
extension Conv2d {
    /// How the sparse backward lays out images and kernels so that a patch is whole vectors.
    enum PatchLayout {
        /// Channel-last images `[ph, pw, pitch]`: vectors `(ky, kx, v)`; no waste for channels in multiples of 8.
        case channelsLast
        /// Channel-first padded images: one vector per kernel row `(ci, ky)`, lanes past `kw` dropped; for kernels up
        /// to 8 wide with few channels (a first layer's one or three), where channel-last would waste more lanes.
        case kernelRows

        static func choose(inChannels: Int, kernel: Int) -> PatchLayout {
            // Useful lanes: kw of 8 for kernel rows, in of pitch for channel-last.
            kernel <= 8 && 8 * inChannels < Ops.channelPitch(inChannels) * kernel ? .kernelRows : .channelsLast
        }
    }

    /// Where one sample's non-zero output gradients come from.
    enum SparseSource {
        /// The dense gradient `[out, oh, ow]`, scanned for its non-zeros.
        case dense(UnsafePointer<Float>)
        /// Lists handed over by the max pooling after this layer (`PooledGradient`): per channel, `slots` places of
        /// positions and values, `counts[c]` of them used.
        case listed(positions: UnsafePointer<Int32>, values: UnsafePointer<Float>, counts: UnsafePointer<Int32>, slots: Int)
    }

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

    /// A dense gradient takes the sparse backward only with patches of at least this many taps (`in·kh·kw`): for
    /// short rows (the first layer's 1·5·5 = 25) scanning the 16·784 gradients of a sample for their non-zeros costs
    /// more than the small GEMM (measured on the issue-17 CNN). Listed gradients skip that scan and always take it.
    static let sparseMinimumTaps = 64

    /// One worker's lists of a sample's non-zero output gradients, by channel and by position, and the tables that
    /// place a position's patch in the prepared image. Allocated once per worker and backward call.
    final class SparseLists {
        let plane: Int, cout: Int, patchFloats: Int
        /// Where position q's patch starts in the prepared image.
        let corner: UnsafeMutablePointer<Int>
        /// The offsets of one patch's 8-float vectors from its corner.
        let vectorOffsets: [Int]
        /// One channel's non-zeros: their patch corners, values and positions.
        let channelOffsets: UnsafeMutablePointer<Int>, channelValues: UnsafeMutablePointer<Float>
        let channelPositions: UnsafeMutablePointer<Int>
        /// Position q's non-zeros, `cout` slots from `q·cout`, channels ascending: the offsets of their kernels (in the
        /// patch layout), and their values; `positionCounts[q]` of them.
        let positionOffsets: UnsafeMutablePointer<Int>, positionValues: UnsafeMutablePointer<Float>
        let positionCounts: UnsafeMutablePointer<Int>

        init(_ p: Plan, cout: Int, inChannels: Int, kernel: Int) {
            plane = p.plane; self.cout = cout; patchFloats = p.patchFloats
            corner = .allocate(capacity: plane)
            let pixel = p.layout == .channelsLast ? p.pitch : 1
            for oy in 0..<p.oh { for ox in 0..<p.ow { corner[oy * p.ow + ox] = (oy * p.pw + ox) * pixel } }
            vectorOffsets = p.layout == .channelsLast
                ? Ops.patchVectorOffsets(kh: kernel, kw: kernel, pw: p.pw, pitch: p.pitch)
                : Ops.kernelRowOffsets(c: inChannels, kh: kernel, ph: p.ph, pw: p.pw)
            channelOffsets = .allocate(capacity: plane); channelValues = .allocate(capacity: plane)
            channelPositions = .allocate(capacity: plane)
            positionOffsets = .allocate(capacity: plane * cout); positionValues = .allocate(capacity: plane * cout)
            positionCounts = .allocate(capacity: plane)
        }

        deinit {
            corner.deallocate(); channelOffsets.deallocate(); channelValues.deallocate(); channelPositions.deallocate()
            positionOffsets.deallocate(); positionValues.deallocate(); positionCounts.deallocate()
        }

        /// Lists channel c's non-zeros from its dense gradient row `gc`, without branches (which the random pattern
        /// would mispredict); returns how many.
        @inline(__always)
        func gather(_ gc: UnsafePointer<Float>) -> Int {
            var count = 0
            for q in 0..<plane {
                let v = gc[q]
                channelOffsets[count] = corner[q]; channelValues[count] = v; channelPositions[count] = q
                count &+= Conv2d.isNonzero(v)
            }
            return count
        }

        /// Takes channel c's non-zeros from a pooling's list; returns how many.
        @inline(__always)
        func take(positions: UnsafePointer<Int32>, values: UnsafePointer<Float>, count: Int) -> Int {
            for i in 0..<count {
                let q = Int(positions[i])
                channelOffsets[i] = corner[q]; channelValues[i] = values[i]; channelPositions[i] = q
            }
            return count
        }

        /// Appends channel c's `count` listed non-zeros to their positions' lists.
        @inline(__always)
        func bucket(channel c: Int, count: Int) {
            let kernelOffset = c * patchFloats
            for i in 0..<count {
                let q = channelPositions[i], slot = q &* cout &+ positionCounts[q]
                positionOffsets[slot] = kernelOffset; positionValues[slot] = channelValues[i]
                positionCounts[q] &+= 1
            }
        }
    }

    /// Writes sample `x` into `image` in the patch layout (zero-padded).
    func preparePatches(_ x: UnsafePointer<Float>, _ p: Plan, image: UnsafeMutablePointer<Float>) {
        switch p.layout {
        case .channelsLast: Ops.padChannelsLast(x, c: inChannels, h: p.h, w: p.w, padding: padding, pitch: p.pitch, dst: image)
        case .kernelRows: Ops.pad(x, c: inChannels, h: p.h, w: p.w, padding: padding, dst: image)
        }
    }

    /// The kernels in the patch layout, `[out, patchFloats]`, for the sparse input gradient.
    func prepareKernels(_ p: Plan, dst: UnsafeMutablePointer<Float>) {
        weight.value.withUnsafeBufferPointer { w in
            switch p.layout {
            case .channelsLast:
                Ops.kernelsChannelsLast(w.baseAddress!, out: outChannels, in: inChannels, kh: kernel, kw: kernel, pitch: p.pitch, dst: dst)
            case .kernelRows: Ops.kernelsAsRows(w.baseAddress!, out: outChannels, in: inChannels, kh: kernel, kw: kernel, dst: dst)
            }
        }
    }

    /// Adds a weight gradient in the patch layout onto dW `[out, in, kh, kw]`.
    func foldPatchGradient(_ patch: UnsafePointer<Float>, _ p: Plan, into dw: UnsafeMutablePointer<Float>) {
        switch p.layout {
        case .channelsLast:
            Ops.addKernelsChannelsFirst(patch, out: outChannels, in: inChannels, kh: kernel, kw: kernel, pitch: p.pitch, into: dw)
        case .kernelRows: Ops.addKernelRows(patch, out: outChannels, in: inChannels, kh: kernel, kw: kernel, into: dw)
        }
    }

    /// One sample's backward pass from its non-zero output gradients (stride 1), on images in the patch layout. Each
    /// output row is summed in registers:
    /// - dW[c] += Σ_q g[c, q]·patch(q) over channel c's non-zeros, the patches read straight from `patches`, the
    ///   padded input in the patch layout (`Vector.gatherAxpySegments`, into `dwPatch`, `[out, patchFloats]`);
    /// - for each position q, Σ_c g[c, q]·W[c] over its non-zeros, added straight onto the padded image gradient
    ///   at q's patch (`Vector.gatherAxpyScattering`), which is then copied out channel-first.
    func sparseBackward(_ source: SparseSource, _ p: Plan, patches: UnsafePointer<Float>, kernels: UnsafePointer<Float>?,
                        lists: SparseLists, dwPatch: UnsafeMutablePointer<Float>, db: UnsafeMutablePointer<Float>,
                        dx: UnsafeMutablePointer<Float>?, padDx: UnsafeMutablePointer<Float>) {
        let plane = p.plane, vectors = p.patchFloats / 8
        let byPosition = dx != nil && kernels != nil
        if byPosition { lists.positionCounts.update(repeating: 0, count: plane) }
        lists.vectorOffsets.withUnsafeBufferPointer { vo in
            let vectorOffsets = vo.baseAddress!
            for c in 0..<outChannels {
                let count: Int
                switch source {
                case .dense(let d):
                    count = lists.gather(d + c * plane)
                    db[c] += Vector.sum(d + c * plane, plane)
                case .listed(let positions, let values, let counts, let slots):
                    count = lists.take(positions: positions + c * slots, values: values + c * slots, count: Int(counts[c]))
                    db[c] += Vector.sum(lists.channelValues, count)
                }
                if byPosition { lists.bucket(channel: c, count: count) }
                guard parameterGradients else { continue }
                Vector.gatherAxpySegments(count: count, coefficients: lists.channelValues, offsets: lists.channelOffsets,
                                          base: patches, segments: vectorOffsets, segmentCount: vectors, y: dwPatch + c * p.patchFloats)
            }
            guard let dx, let kernels else { return }
            padDx.update(repeating: 0, count: p.patchImage)
            for q in 0..<plane {
                let slot = q * outChannels
                Vector.gatherAxpyScattering(count: lists.positionCounts[q], coefficients: lists.positionValues + slot,
                                            offsets: lists.positionOffsets + slot, base: kernels, segments: vectorOffsets,
                                            segmentCount: vectors, y: padDx + lists.corner[q])
            }
            switch p.layout {
            case .channelsLast: Ops.unpadChannelsLast(padDx, c: inChannels, h: p.h, w: p.w, padding: padding, pitch: p.pitch, dst: dx)
            case .kernelRows: Ops.unpad(padDx, c: inChannels, h: p.h, w: p.w, padding: padding, dst: dx)
            }
        }
    }
}
