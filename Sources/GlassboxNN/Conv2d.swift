import GlassboxCore

/// 2-D convolution (cross-correlation, as PyTorch) with weight `[out, in, kh, kw]`, stride and zero padding.
///
/// Stride 1 (the common case) works on the zero-padded image:
/// - forward: `y_s = W · cols_s` per sample (one GEMM on the image unfolded into columns `[K, P]`, K = in·kh·kw
///   taps, P = oh·ow positions);
/// - backward: when a sample's output gradient is sparse (behind ReLU and max pooling at most a quarter of it is
///   non-zero) and the patches have at least `sparseMinimumTaps` taps, only the non-zeros are visited, each output
///   row summed in registers: dW[c] += Σ g[c, p]·patch(p) over channel c's non-zeros, with the patches read straight
///   from the padded image for kernels up to 8 wide (`Vector.gatherAxpySegments`) or from rows unfolded again
///   ("im2row", `[P, K]`) otherwise, and the patch gradient dRows[p] = Σ g[c, p]·W[c] over position p's non-zeros,
///   folded back onto the image. Otherwise two GEMMs on the rows. Both give the same numbers up to summation order,
///   and the choice depends only on the data and shapes, so runs stay deterministic. Unfolded data is rebuilt in
///   backward rather than kept (it is k² times the input; rebuilding it in cache was faster).
/// Other strides use the classic im2col layout and dense GEMMs.
///
/// Samples are split across `Parallel.threads` workers that each call single-threaded BLAS (calling threaded
/// BLAS from several threads at once makes them fight over the cores); backward splits them into a fixed number of
/// chunks instead, so its sums do not depend on the thread count.
public final class Conv2d: Layer {
    public let kind = "conv"
    public let inChannels: Int, outChannels: Int, kernel: Int, stride: Int, padding: Int
    public let weight: Parameter
    public let bias: Parameter?
    private var input = Tensor(zeros: [0])
    private let scratch = ScratchBuffers()
    /// Upper bound on the workers this layer starts itself (1 inside a training shard, which is already one
    /// of several parallel workers).
    public var maxWorkers = Int.max
    /// When false, `backward` leaves the weight and bias gradients alone and computes only the input gradient
    /// (attribution and feature visualisation need nothing else; it also skips unfolding the input).
    public var parameterGradients = true

    public var specClause: String {
        var s = "conv \(outChannels) k\(kernel)"
        if stride != 1 { s += " s\(stride)" }
        if padding != 0 { s += " p\(padding)" }
        if bias == nil { s += " nobias" }
        return s
    }
    public var parameters: [Parameter] { bias.map { [weight, $0] } ?? [weight] }

    public init(_ inChannels: Int, _ outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0, bias: Bool = true,
                initializer: Initializer = .pytorchDefault, using g: inout SeededGenerator) {
        precondition(kernel > 0 && stride > 0 && padding >= 0)
        self.inChannels = inChannels; self.outChannels = outChannels
        self.kernel = kernel; self.stride = stride; self.padding = padding
        weight = Parameter(name: "weight", value: initializer.make([outChannels, inChannels, kernel, kernel], using: &g))
        if bias {
            let b = 1 / Float(inChannels * kernel * kernel).squareRoot()
            self.bias = Parameter(name: "bias", value: .uniform([outChannels], low: -b, high: b, using: &g))
        } else {
            self.bias = nil
        }
    }

    public func outputShape(for input: [Int]) throws -> [Int] {
        guard input.count == 3, input[0] == inChannels else {
            throw GlassboxError.invalidArgument(name: specClause, expected: "input [\(inChannels), H, W]", found: "\(input)")
        }
        let oh = Ops.outSize(input[1], kernel: kernel, stride: stride, padding: padding)
        let ow = Ops.outSize(input[2], kernel: kernel, stride: stride, padding: padding)
        guard oh > 0 && ow > 0 else {
            throw GlassboxError.invalidArgument(name: specClause, expected: "an input at least as large as the kernel", found: "\(input)")
        }
        return [outChannels, oh, ow]
    }

    /// Sizes of one batch and the offsets inside a worker's scratch memory.
    private struct Plan {
        let n: Int, h: Int, w: Int, oh: Int, ow: Int, k: Int, ph: Int, pw: Int
        let plane: Int, inPlane: Int, outPlane: Int, unfolded: Int, padded: Int
        let rows: Bool
        /// Floats of the patch-layout weight gradient `[out, in·kh, 8]` (stride 1 with kernels up to 8 wide), else 0.
        let patchDW: Int
        // scratch: unfolded | 8 | unfolded gradient | 8 | dW | db | padded | 8 | padded gradient | 8 | patch dW
        var dUnfolded: Int { unfolded + 8 }
        var dw: Int { 2 * unfolded + 16 }
        func db(_ wCount: Int) -> Int { dw + wCount }
        func pad(_ wCount: Int, _ cout: Int) -> Int { db(wCount) + cout }
        func padDx(_ wCount: Int, _ cout: Int) -> Int { pad(wCount, cout) + padded + 8 }
        func dwPatch(_ wCount: Int, _ cout: Int) -> Int { padDx(wCount, cout) + padded + 8 }
        func total(_ wCount: Int, _ cout: Int) -> Int { dwPatch(wCount, cout) + patchDW }
    }

    private func plan(_ x: Tensor) -> Plan {
        precondition(x.rank == 4 && x.shape[1] == inChannels, "conv expects [N, \(inChannels), H, W], got \(x.shape)")
        let h = x.shape[2], w = x.shape[3]
        let oh = Ops.outSize(h, kernel: kernel, stride: stride, padding: padding)
        let ow = Ops.outSize(w, kernel: kernel, stride: stride, padding: padding)
        let k = inChannels * kernel * kernel
        let ph = h + 2 * padding, pw = w + 2 * padding
        return Plan(n: x.shape[0], h: h, w: w, oh: oh, ow: ow, k: k, ph: ph, pw: pw, plane: oh * ow, inPlane: inChannels * h * w,
                    outPlane: outChannels * oh * ow, unfolded: k * oh * ow, padded: inChannels * ph * pw, rows: stride == 1,
                    patchDW: stride == 1 && kernel <= 8 ? outChannels * inChannels * kernel * 8 : 0)
    }

    /// Runs `body` on `parts` contiguous sample ranges (default: one per worker), with BLAS single-threaded inside.
    /// The ranges depend only on `n` and `parts`; at most `min(Parallel.threads, maxWorkers)` threads run them.
    private func perWorker(_ n: Int, parts: Int? = nil, _ body: (Int, Range<Int>) -> Void) -> Int {
        let workers = parts ?? min(Parallel.threads, n, maxWorkers)
        if workers <= 1 { body(0, 0..<n); return 1 }
        let saved = BLAS.threads
        BLAS.threads = 1
        let threads = max(1, min(Parallel.threads, workers, maxWorkers))
        let base = n / workers, extra = n % workers
        Parallel.forChunks(workers, parts: threads, concurrently: threads > 1) { _, chunks in
            for c in chunks {
                let lo = c * base + min(c, extra)
                body(c, lo..<(lo + base + (c < extra ? 1 : 0)))
            }
        }
        BLAS.threads = saved
        return workers
    }

    private var workerCount: (Int) -> Int { { n in min(Parallel.threads, n, self.maxWorkers) } }

    /// Backward sums the weight gradient over samples in this many fixed chunks (fewer for small batches or a
    /// `maxWorkers` bound), independent of the thread count, so the summation order — and the bits of the
    /// gradient — are the same for any GLASSBOX_THREADS. The forward pass has no sum across samples.
    static let gradientChunks = 8
    private func gradientChunkCount(_ n: Int) -> Int { max(1, min(n, maxWorkers, Conv2d.gradientChunks)) }

    /// Unfolds sample `x` into `dst`: rows `[P, K]` (`asRows`, stride 1 only) or columns `[K, P]`.
    @inline(__always)
    private func unfold(_ x: UnsafePointer<Float>, _ p: Plan, asRows: Bool, dst: UnsafeMutablePointer<Float>,
                        padBuf: UnsafeMutablePointer<Float>) {
        if asRows {
            Ops.pad(x, c: inChannels, h: p.h, w: p.w, padding: padding, dst: padBuf)
            Ops.im2rowPadded(padBuf, c: inChannels, ph: p.ph, pw: p.pw, kh: kernel, kw: kernel, dst: dst)
        } else if stride == 1 && p.ow >= 8 {
            Ops.pad(x, c: inChannels, h: p.h, w: p.w, padding: padding, dst: padBuf)
            Ops.im2colPadded(padBuf, c: inChannels, ph: p.ph, pw: p.pw, kh: kernel, kw: kernel, dst: dst, ld: p.plane)
        } else {
            Ops.im2col(x, c: inChannels, h: p.h, w: p.w, kh: kernel, kw: kernel, stride: stride, padding: padding, dst: dst, ld: p.plane)
        }
    }

    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        let p = plan(x)
        input = x
        let wCount = weight.value.count, cout = outChannels
        let bufs = scratch.pointers(workers: workerCount(p.n), count: p.total(wCount, cout))
        let biasValues = bias?.value.scalars
        return Tensor(uninitializedShape: [p.n, outChannels, p.oh, p.ow]) { y, _ in
            x.withUnsafeBufferPointer { xs in
                weight.value.withUnsafeBufferPointer { w in
                    let wb = w.baseAddress!, xb = xs.baseAddress!
                    _ = perWorker(p.n) { worker, range in
                        let buf = bufs[worker], padBuf = buf + p.pad(wCount, cout)
                        for s in range {
                            let unfolded = buf
                            self.unfold(xb + s * p.inPlane, p, asRows: false, dst: unfolded, padBuf: padBuf)
                            let out = y + s * p.outPlane
                            if let biasValues {
                                for c in 0..<cout { (out + c * p.plane).update(repeating: biasValues[c], count: p.plane) }
                            }
                            // y = W · cols   ([out, K] · [K, P])
                            BLAS.gemm(m: cout, n: p.plane, k: p.k, a: wb, b: unfolded, beta: biasValues == nil ? 0 : 1, c: out)
                        }
                    }
                }
            }
        }
    }

    public func backward(_ dy: Tensor, needInputGradient: Bool) -> Tensor? {
        let p = plan(input)
        precondition(dy.shape == [p.n, outChannels, p.oh, p.ow], "conv gradient shape \(dy.shape) does not match output")
        let wCount = weight.value.count, cout = outChannels
        let workers = gradientChunkCount(p.n)
        let bufs = scratch.pointers(workers: workers, count: p.total(wCount, cout))
        var dx = !needInputGradient ? Tensor(zeros: [0])
            : p.rows ? Tensor(uninitializedShape: input.shape) { _, _ in } : Tensor(zeros: input.shape)
        dy.withUnsafeBufferPointer { dys in
            input.withUnsafeBufferPointer { xs in
                weight.value.withUnsafeBufferPointer { w in
                    dx.withUnsafeMutableBufferPointer { dxs in
                        let dyb = dys.baseAddress!, xb = xs.baseAddress!, wb = w.baseAddress!
                        let dxb = needInputGradient ? dxs.baseAddress : nil
                        _ = perWorker(p.n, parts: workers) { worker, range in
                            let buf = bufs[worker], dUnfolded = buf + p.dUnfolded
                            let dw = buf + p.dw, db = buf + p.db(wCount)
                            let padBuf = buf + p.pad(wCount, cout), padDx = buf + p.padDx(wCount, cout)
                            let dwPatch = buf + p.dwPatch(wCount, cout)
                            dw.update(repeating: 0, count: wCount + cout)
                            dwPatch.update(repeating: 0, count: p.patchDW)
                            var usedPatches = false
                            for s in range {
                                let d = dyb + s * p.outPlane
                                let sparse = p.rows && p.k >= Conv2d.sparseMinimumTaps && Conv2d.isSparse(d, p.outPlane)
                                // The sparse weight gradient reads its patches straight from the padded image when the
                                // kernel rows fit 8 lanes; otherwise the rows are unfolded again (cheaper than keeping a
                                // batch's rows: they are k² times the input, and re-reading them cost more than
                                // rebuilding them in cache).
                                let fromPatches = sparse && p.patchDW > 0 && self.parameterGradients
                                let unfolded = buf
                                if fromPatches {
                                    Ops.pad(xb + s * p.inPlane, c: self.inChannels, h: p.h, w: p.w, padding: self.padding, dst: padBuf)
                                } else if self.parameterGradients {
                                    self.unfold(xb + s * p.inPlane, p, asRows: p.rows, dst: unfolded, padBuf: padBuf)
                                }
                                usedPatches = usedPatches || fromPatches
                                let dxs = dxb.map { $0 + s * p.inPlane }
                                if p.rows {
                                    self.rowsBackward(d, p, sparse: sparse, rows: unfolded, patches: fromPatches ? padBuf : nil, wb: wb,
                                                      dRows: dUnfolded, dw: dw, dwPatch: dwPatch, db: db, dx: dxs, padDx: padDx)
                                } else {
                                    self.columnsBackward(d, p, cols: unfolded, wb: wb, dCols: dUnfolded, dw: dw, db: db, dx: dxs)
                                }
                            }
                            if usedPatches { self.foldPatchGradient(dwPatch, p, into: dw) }
                        }
                    }
                }
            }
        }
        guard parameterGradients else { return needInputGradient ? dx : nil }
        // Reduce the workers' accumulators in a fixed order (deterministic).
        let b0 = p.dw
        weight.grad.withUnsafeMutableBufferPointer { gw in
            gw.update(repeating: 0)
            for wk in 0..<workers { Vector.add(bufs[wk] + b0, into: gw.baseAddress!, wCount) }
        }
        if let bias {
            bias.grad.withUnsafeMutableBufferPointer { gb in
                gb.update(repeating: 0)
                for wk in 0..<workers { Vector.add(bufs[wk] + p.db(wCount), into: gb.baseAddress!, cout) }
            }
        }
        weight.maskGradient()
        bias?.maskGradient()
        return needInputGradient ? dx : nil
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

    /// The sparse backward needs patches of at least this many taps (`in·kh·kw`). Each non-zero gradient costs one
    /// read-modify-write of a `K`-long row of dW: for short rows (the first layer's 1·5·5 = 25) that is 3 vectors and a
    /// scalar tail, chained through the same dW row, and the dense GEMM is faster even on a quarter of non-zeros
    /// (measured on the issue-17 CNN: the first conv's backward took 17 % of the epoch sparse, ~4 % dense). Reading its
    /// patches from the padded image instead was slower still: compacting its 16·784 gradients per sample costs more
    /// than the small GEMM.
    static let sparseMinimumTaps = 64

    /// Adds the patch-layout weight gradient `[out, in·kh, 8]` (lanes ≥ kw hold products with neighbouring pixels and
    /// are dropped) onto dW `[out, in·kh·kw]`.
    private func foldPatchGradient(_ patch: UnsafePointer<Float>, _ p: Plan, into dw: UnsafeMutablePointer<Float>) {
        let segments = outChannels * inChannels * kernel
        for t in 0..<segments {
            for j in 0..<kernel { dw[t * kernel + j] += patch[8 * t + j] }
        }
    }

    /// One sample's backward pass on the row layout (stride 1). `sparse`: the sample's output gradient is sparse and
    /// the patches are long enough for the sparse path. `patches`: the zero-padded input, from which the sparse
    /// weight gradient reads each position's patch (into `dwPatch`) instead of from `rows`.
    @inline(__always)
    private func rowsBackward(_ d: UnsafePointer<Float>, _ p: Plan, sparse: Bool, rows: UnsafePointer<Float>, patches: UnsafePointer<Float>?,
                              wb: UnsafePointer<Float>, dRows: UnsafeMutablePointer<Float>, dw: UnsafeMutablePointer<Float>,
                              dwPatch: UnsafeMutablePointer<Float>, db: UnsafeMutablePointer<Float>,
                              dx: UnsafeMutablePointer<Float>?, padDx: UnsafeMutablePointer<Float>) {
        let k = p.k, plane = p.plane, cout = outChannels
        let params = parameterGradients
        if sparse {
            // Non-zeros gathered without branches (which the random pattern would mispredict), then each output row
            // summed in registers (`Vector.gatherAxpy`): dW[c] += Σ_q g[c, q]·rows[q] over channel c's non-zeros, and
            // dRows[q] = Σ_c g[c, q]·W[c] over position q's (written whole, so dRows needs no zeroing).
            let slots = max(plane, cout), segmentCount = inChannels * kernel
            let offsets = UnsafeMutablePointer<Int>.allocate(capacity: slots)
            let values = UnsafeMutablePointer<Float>.allocate(capacity: slots)
            let segments = UnsafeMutablePointer<Int>.allocate(capacity: segmentCount)
            let start = UnsafeMutablePointer<Int>.allocate(capacity: slots)
            defer { offsets.deallocate(); values.deallocate(); segments.deallocate(); start.deallocate() }
            // Where position (oy, ox)'s patch starts: in `rows`, or in the padded image (whose kernel row ki of channel
            // ci is then segment ci·kh + ki). Tabulated once, so the compaction loops below only copy.
            let (rowStride, columnStride) = patches == nil ? (p.ow * k, k) : (p.pw, 1)
            for oy in 0..<p.oh { for ox in 0..<p.ow { start[oy * p.ow + ox] = oy * rowStride + ox * columnStride } }
            for t in 0..<segmentCount { segments[t] = (t / kernel) * p.ph * p.pw + (t % kernel) * p.pw }
            for c in 0..<cout {
                let gc = d + c * plane
                var count = 0
                for q in 0..<plane {
                    let v = gc[q]
                    offsets[count] = start[q]; values[count] = v
                    count &+= Conv2d.isNonzero(v)
                }
                db[c] += Vector.sum(gc, plane)
                guard params else { continue }
                if let patches {
                    Vector.gatherAxpySegments(count: count, coefficients: values, offsets: offsets, base: patches, segments: segments,
                                              segmentCount: segmentCount, y: dwPatch + c * segmentCount * 8)
                } else {
                    Vector.gatherAxpy(count: count, coefficients: values, offsets: offsets, base: rows, n: k, y: dw + c * k, accumulate: true)
                }
            }
            if dx != nil {
                for c in 0..<cout { start[c] = c * k }
                for q in 0..<plane {
                    var count = 0
                    for c in 0..<cout {
                        let v = d[c &* plane &+ q]
                        offsets[count] = start[c]; values[count] = v
                        count &+= Conv2d.isNonzero(v)
                    }
                    Vector.gatherAxpy(count: count, coefficients: values, offsets: offsets, base: wb, n: k, y: dRows + q * k, accumulate: false)
                }
            }
        } else {
            if params {
                // dW += dy · rows   ([out, P] · [P, K])
                BLAS.gemm(m: cout, n: k, k: plane, a: d, b: rows, beta: 1, c: dw)
                for c in 0..<cout { db[c] += Vector.sum(d + c * plane, plane) }
            }
            // dRows = dyᵀ · W   ([P, out] · [out, K])
            if dx != nil { BLAS.gemm(transA: true, m: plane, n: k, k: cout, a: d, b: wb, beta: 0, c: dRows) }
        }
        if let dx {
            padDx.update(repeating: 0, count: p.padded)
            Ops.row2imPadded(dRows, c: inChannels, ph: p.ph, pw: p.pw, kh: kernel, kw: kernel, dst: padDx)
            Ops.unpad(padDx, c: inChannels, h: p.h, w: p.w, padding: padding, dst: dx)
        }
    }

    /// One sample's backward pass on the column layout (strided convolutions).
    @inline(__always)
    private func columnsBackward(_ d: UnsafePointer<Float>, _ p: Plan, cols: UnsafePointer<Float>, wb: UnsafePointer<Float>,
                                 dCols: UnsafeMutablePointer<Float>, dw: UnsafeMutablePointer<Float>, db: UnsafeMutablePointer<Float>,
                                 dx: UnsafeMutablePointer<Float>?) {
        let cout = outChannels
        if parameterGradients {
            // dW += dy · colsᵀ   ([out, P] · [P, K])
            BLAS.gemm(transB: true, m: cout, n: p.k, k: p.plane, a: d, b: cols, beta: 1, c: dw)
            for c in 0..<cout { db[c] += Vector.sum(d + c * p.plane, p.plane) }
        }
        if let dx {
            // dCols = Wᵀ · dy   ([K, out] · [out, P]), folded back onto the (zeroed) image gradient.
            BLAS.gemm(transA: true, m: p.k, n: p.plane, k: cout, a: wb, b: d, beta: 0, c: dCols)
            Ops.col2im(dCols, ld: p.plane, c: inChannels, h: p.h, w: p.w, kh: kernel, kw: kernel, stride: stride,
                       padding: padding, dst: dx)
        }
    }
}

/// Max pooling over square windows (stride defaults to the kernel size). Ties go to the first maximum.
public final class MaxPool2d: Layer {
    public let kind = "maxpool"
    public let kernel: Int, stride: Int
    private var inputShape: [Int] = []
    private var argmax: [Int32] = []

    public var specClause: String { "maxpool \(kernel)" + (stride != kernel ? " s\(stride)" : "") }

    public init(_ kernel: Int, stride: Int? = nil) {
        precondition(kernel > 0)
        self.kernel = kernel
        self.stride = stride ?? kernel
    }

    public func outputShape(for input: [Int]) throws -> [Int] {
        guard input.count == 3, input[1] >= kernel, input[2] >= kernel else {
            throw GlassboxError.invalidArgument(name: specClause, expected: "input [C, H, W] with H, W ≥ \(kernel)", found: "\(input)")
        }
        return [input[0], Ops.outSize(input[1], kernel: kernel, stride: stride, padding: 0),
                Ops.outSize(input[2], kernel: kernel, stride: stride, padding: 0)]
    }

    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        precondition(x.rank == 4, "maxpool expects [N, C, H, W], got \(x.shape)")
        inputShape = x.shape
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let oh = Ops.outSize(h, kernel: kernel, stride: stride, padding: 0), ow = Ops.outSize(w, kernel: kernel, stride: stride, padding: 0)
        let count = n * c * oh * ow
        if argmax.count != count { argmax = [Int32](repeating: 0, count: count) }
        return Tensor(uninitializedShape: [n, c, oh, ow]) { y, _ in
            x.withUnsafeBufferPointer { xs in
                argmax.withUnsafeMutableBufferPointer { a in
                    Ops.maxPool(xs.baseAddress!, planes: n * c, h: h, w: w, kernel: kernel, stride: stride, dst: y, argmax: a.baseAddress!)
                }
            }
        }
    }

    public func backward(_ dy: Tensor, needInputGradient: Bool) -> Tensor? {
        guard needInputGradient else { return nil }
        var dx = Tensor(zeros: inputShape)
        let planes = inputShape[0] * inputShape[1]
        dx.withUnsafeMutableBufferPointer { g in
            dy.withUnsafeBufferPointer { d in
                argmax.withUnsafeBufferPointer { a in
                    Ops.maxPoolBackward(dy: d.baseAddress!, argmax: a.baseAddress!, planes: planes,
                                        inPlane: inputShape[2] * inputShape[3], outPlane: dy.shape[2] * dy.shape[3], dx: g.baseAddress!)
                }
            }
        }
        return dx
    }
}
