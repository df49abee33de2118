import GlassboxCore

/// 2-D convolution (cross-correlation, as PyTorch) with weight `[out, in, kh, kw]`, stride and zero padding.
///
/// Stride 1 (the common case) works on the zero-padded image:
/// - forward: `y_s = W · cols_s` per sample (one GEMM on the image unfolded into columns `[K, P]`, K = in·kh·kw
///   taps, P = oh·ow positions);
/// - backward: when a sample's output gradient is sparse (behind ReLU and max pooling at most a quarter of it is
///   non-zero) and the patches have at least `sparseMinimumTaps` taps, only the non-zeros are visited, each output
///   row summed in registers, on channel-last images (`sparseBackward`): dW[c] += Σ g[c, p]·patch(p) over channel
///   c's non-zeros, and Σ g[c, p]·W[c] over position p's non-zeros added back onto the input gradient at p's patch.
///   Otherwise two GEMMs on the image unfolded into rows ("im2row", `[P, K]`) and a fold. Both give the same numbers
///   up to summation order, and the choice depends only on the data and shapes, so runs stay deterministic. Unfolded
///   data is rebuilt in backward rather than kept (it is k² times the input; rebuilding it in cache was faster).
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
    private let weightScratch = ScratchBuffers()
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
    struct Plan {
        let n: Int, h: Int, w: Int, oh: Int, ow: Int, k: Int, ph: Int, pw: Int
        let plane: Int, inPlane: Int, outPlane: Int, unfolded: Int, padded: Int
        let rows: Bool
        /// The sparse backward's patch layout, the channels per pixel of its channel-last images
        /// (`Ops.channelPitch(in)`), and the floats of one padded image and of one kernel in that layout.
        let layout: PatchLayout, pitch: Int, patchImage: Int, patchFloats: Int
        // scratch: unfolded | 8 | unfolded gradient | 8 | dW | db | padded | 8 | padded gradient | 8
        //          | patch-layout image | 8 | its gradient | 8 | patch-layout dW
        var dUnfolded: Int { unfolded + 8 }
        var dw: Int { 2 * unfolded + 16 }
        func db(_ wCount: Int) -> Int { dw + wCount }
        func pad(_ wCount: Int, _ cout: Int) -> Int { db(wCount) + cout }
        func padDx(_ wCount: Int, _ cout: Int) -> Int { pad(wCount, cout) + padded + 8 }
        func patches(_ wCount: Int, _ cout: Int) -> Int { padDx(wCount, cout) + padded + 8 }
        func patchesDx(_ wCount: Int, _ cout: Int) -> Int { patches(wCount, cout) + patchImage + 8 }
        func dwPatch(_ wCount: Int, _ cout: Int) -> Int { patchesDx(wCount, cout) + patchImage + 8 }
        func total(_ wCount: Int, _ cout: Int) -> Int { dwPatch(wCount, cout) + (rows ? cout * patchFloats : 0) }
    }

    private func plan(_ x: Tensor) -> Plan {
        precondition(x.rank == 4 && x.shape[1] == inChannels, "conv expects [N, \(inChannels), H, W], got \(x.shape)")
        let h = x.shape[2], w = x.shape[3]
        let oh = Ops.outSize(h, kernel: kernel, stride: stride, padding: padding)
        let ow = Ops.outSize(w, kernel: kernel, stride: stride, padding: padding)
        let k = inChannels * kernel * kernel
        let ph = h + 2 * padding, pw = w + 2 * padding
        let rows = stride == 1, pitch = Ops.channelPitch(inChannels)
        let layout = PatchLayout.choose(inChannels: inChannels, kernel: kernel)
        let patchImage = !rows ? 0 : layout == .channelsLast ? ph * pw * pitch : inChannels * ph * pw
        let patchFloats = layout == .channelsLast ? kernel * kernel * pitch : inChannels * kernel * 8
        return Plan(n: x.shape[0], h: h, w: w, oh: oh, ow: ow, k: k, ph: ph, pw: pw, plane: oh * ow, inPlane: inChannels * h * w,
                    outPlane: outChannels * oh * ow, unfolded: k * oh * ow, padded: inChannels * ph * pw, rows: rows,
                    layout: layout, pitch: pitch, patchImage: patchImage, patchFloats: patchFloats)
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
        return dy.withUnsafeBufferPointer { dys in
            let dyb = dys.baseAddress!, outPlane = p.outPlane
            let sparseShape = p.rows && p.k >= Conv2d.sparseMinimumTaps
            return backward(p, needInputGradient: needInputGradient, sparse: sparseShape) { s in
                let d = dyb + s * outPlane
                return sparseShape && Conv2d.isSparse(d, outPlane) ? .sparse(.dense(d)) : .dense(d)
            }
        }
    }

    /// True when `backward(listed:)` can take a max pooling's lists (stride 1, the row layout).
    public var acceptsListedGradient: Bool { stride == 1 }

    /// Backward from the output gradient as a max pooling's lists of non-zeros (`MaxPool2d.listedInputGradient`),
    /// always on the sparse path: no dense gradient is formed or scanned.
    public func backward(listed g: PooledGradient, needInputGradient: Bool) -> Tensor? {
        let p = plan(input)
        precondition(acceptsListedGradient && g.shape == [p.n, outChannels, p.oh, p.ow], "conv listed gradient \(g.shape) does not match output")
        return g.positions.withUnsafeBufferPointer { ps in g.values.withUnsafeBufferPointer { vs in g.counts.withUnsafeBufferPointer { cs in
            let per = outChannels * g.slots
            return backward(p, needInputGradient: needInputGradient, sparse: true) { s in
                .sparse(.listed(positions: ps.baseAddress! + s * per, values: vs.baseAddress! + s * per,
                                counts: cs.baseAddress! + s * self.outChannels, slots: g.slots))
            }
        } } }
    }

    /// How one sample's backward runs: the dense GEMMs on its gradient, or the sparse path from its non-zeros.
    enum SampleGradient {
        case dense(UnsafePointer<Float>)
        case sparse(SparseSource)
    }

    /// The backward pass over the batch, sample by sample as `sample(s)` says (`sparse`: some may take the sparse path).
    private func backward(_ p: Plan, needInputGradient: Bool, sparse: Bool, sample: (Int) -> SampleGradient) -> Tensor? {
        let wCount = weight.value.count, cout = outChannels
        let workers = gradientChunkCount(p.n)
        let bufs = scratch.pointers(workers: workers, count: p.total(wCount, cout))
        // The sparse input gradient reads the kernels in the patch layout.
        let kernels = sparse && needInputGradient ? weightScratch.pointers(workers: 1, count: cout * p.patchFloats)[0] : nil
        if let kernels { prepareKernels(p, dst: kernels) }
        var dx = !needInputGradient ? Tensor(zeros: [0])
            : p.rows ? Tensor(uninitializedShape: input.shape) { _, _ in } : Tensor(zeros: input.shape)
        input.withUnsafeBufferPointer { xs in
            weight.value.withUnsafeBufferPointer { w in
                dx.withUnsafeMutableBufferPointer { dxs in
                    let xb = xs.baseAddress!, wb = w.baseAddress!
                    let dxb = needInputGradient ? dxs.baseAddress : nil
                    _ = perWorker(p.n, parts: workers) { worker, range in
                        let buf = bufs[worker], dUnfolded = buf + p.dUnfolded
                        let dw = buf + p.dw, db = buf + p.db(wCount)
                        let padBuf = buf + p.pad(wCount, cout), padDx = buf + p.padDx(wCount, cout)
                        let dwPatch = buf + p.dwPatch(wCount, cout)
                        dw.update(repeating: 0, count: wCount + cout)
                        if sparse { dwPatch.update(repeating: 0, count: cout * p.patchFloats) }
                        var anySparse = false
                        let lists = sparse ? SparseLists(p, cout: cout, inChannels: self.inChannels, kernel: self.kernel) : nil
                        for s in range {
                            let x = xb + s * p.inPlane
                            let dxs = dxb.map { $0 + s * p.inPlane }
                            switch sample(s) {
                            case .sparse(let source):
                                anySparse = true
                                let patches = buf + p.patches(wCount, cout)
                                if self.parameterGradients { self.preparePatches(x, p, image: patches) }
                                self.sparseBackward(source, p, patches: patches, kernels: kernels, lists: lists!,
                                                    dwPatch: dwPatch, db: db, dx: dxs, padDx: buf + p.patchesDx(wCount, cout))
                            case .dense(let d):
                                let unfolded = buf
                                if self.parameterGradients { self.unfold(x, p, asRows: p.rows, dst: unfolded, padBuf: padBuf) }
                                if p.rows {
                                    self.rowsBackward(d, p, rows: unfolded, wb: wb, dRows: dUnfolded, dw: dw, db: db, dx: dxs, padDx: padDx)
                                } else {
                                    self.columnsBackward(d, p, cols: unfolded, wb: wb, dCols: dUnfolded, dw: dw, db: db, dx: dxs)
                                }
                            }
                        }
                        if anySparse && self.parameterGradients { self.foldPatchGradient(dwPatch, p, into: dw) }
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

    /// One sample's dense backward pass on the row layout (stride 1): two GEMMs on the unfolded rows.
    @inline(__always)
    private func rowsBackward(_ d: UnsafePointer<Float>, _ p: Plan, rows: UnsafePointer<Float>, wb: UnsafePointer<Float>,
                              dRows: UnsafeMutablePointer<Float>, dw: UnsafeMutablePointer<Float>, db: UnsafeMutablePointer<Float>,
                              dx: UnsafeMutablePointer<Float>?, padDx: UnsafeMutablePointer<Float>) {
        let k = p.k, plane = p.plane, cout = outChannels
        if parameterGradients {
            // dW += dy · rows   ([out, P] · [P, K])
            BLAS.gemm(m: cout, n: k, k: plane, a: d, b: rows, beta: 1, c: dw)
            for c in 0..<cout { db[c] += Vector.sum(d + c * plane, plane) }
        }
        guard let dx else { return }
        // dRows = dyᵀ · W   ([P, out] · [out, K]), folded back onto the image.
        BLAS.gemm(transA: true, m: plane, n: k, k: cout, a: d, b: wb, beta: 0, c: dRows)
        padDx.update(repeating: 0, count: p.padded)
        Ops.row2imPadded(dRows, c: inChannels, ph: p.ph, pw: p.pw, kh: kernel, kw: kernel, dst: padDx)
        Ops.unpad(padDx, c: inChannels, h: p.h, w: p.w, padding: padding, dst: dx)
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
    private(set) var inputShape: [Int] = []
    /// Per output value, the index of its window's maximum inside the input plane (the first one on ties).
    private(set) var argmax: [Int32] = []

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
