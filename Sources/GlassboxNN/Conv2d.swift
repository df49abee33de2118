import GlassboxCore

/// 2-D convolution (cross-correlation, as PyTorch) with weight `[out, in, kh, kw]`, stride and zero padding.
///
/// Implemented per sample as im2col + one GEMM, with samples split across `Parallel.threads` workers that each
/// call single-threaded BLAS (calling threaded BLAS from several threads at once makes them fight over cores).
/// The columns are rebuilt in `backward` instead of stored: they are as large as the input times k², and
/// rebuilding them keeps each worker's data in cache.
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

    private func geometry(_ x: Tensor) -> (n: Int, h: Int, w: Int, oh: Int, ow: Int, k: Int) {
        precondition(x.rank == 4 && x.shape[1] == inChannels, "conv expects [N, \(inChannels), H, W], got \(x.shape)")
        let h = x.shape[2], w = x.shape[3]
        return (x.shape[0], h, w, Ops.outSize(h, kernel: kernel, stride: stride, padding: padding),
                Ops.outSize(w, kernel: kernel, stride: stride, padding: padding), inChannels * kernel * kernel)
    }

    /// Offsets inside one worker's scratch: columns, column gradient, dW and db accumulators, padded input,
    /// padded input gradient. `fast` selects the padded, vectorised unfolding (stride 1, rows of ≥ 8 outputs).
    private func layout(_ g: (n: Int, h: Int, w: Int, oh: Int, ow: Int, k: Int))
        -> (fast: Bool, dw: Int, db: Int, pad: Int, padDx: Int, total: Int) {
        let col = g.k * g.oh * g.ow
        let padSize = inChannels * (g.h + 2 * padding) * (g.w + 2 * padding)
        let dw = 2 * col, db = dw + weight.value.count, pad = db + outChannels, padDx = pad + padSize
        return (stride == 1 && g.ow >= 8, dw, db, pad, padDx, padDx + padSize)
    }

    /// im2col of one sample into `cols`, through the padded fast path when it applies.
    @inline(__always)
    private func unfold(_ x: UnsafePointer<Float>, _ g: (n: Int, h: Int, w: Int, oh: Int, ow: Int, k: Int),
                        cols: UnsafeMutablePointer<Float>, padBuf: UnsafeMutablePointer<Float>) {
        if stride == 1 && g.ow >= 8 {
            Ops.pad(x, c: inChannels, h: g.h, w: g.w, padding: padding, dst: padBuf)
            Ops.im2colPadded(padBuf, c: inChannels, ph: g.h + 2 * padding, pw: g.w + 2 * padding, kh: kernel, kw: kernel,
                             dst: cols, ld: g.oh * g.ow)
        } else {
            Ops.im2col(x, c: inChannels, h: g.h, w: g.w, kh: kernel, kw: kernel, stride: stride, padding: padding,
                       dst: cols, ld: g.oh * g.ow)
        }
    }

    /// Runs `body` on contiguous sample ranges, one per worker, with BLAS single-threaded inside.
    private func perWorker(_ n: Int, _ body: (Int, Range<Int>) -> Void) {
        let workers = min(Parallel.threads, n, maxWorkers)
        if workers <= 1 { body(0, 0..<n); return }
        let saved = BLAS.threads
        BLAS.threads = 1
        Parallel.forChunks(n, parts: workers, body)
        BLAS.threads = saved
    }

    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        let g = geometry(x)
        input = x
        let plane = g.oh * g.ow, inPlane = inChannels * g.h * g.w, outPer = outChannels * plane
        let workers = min(Parallel.threads, g.n, maxWorkers)
        let L = layout(g)
        let bufs = scratch.pointers(workers: workers, count: L.total)
        let cout = outChannels
        return Tensor(uninitializedShape: [g.n, outChannels, g.oh, g.ow]) { y, _ in
            x.withUnsafeBufferPointer { xs in
                weight.value.withUnsafeBufferPointer { w in
                    let wb = w.baseAddress!, xb = xs.baseAddress!
                    let bb = bias?.value.scalars
                    perWorker(g.n) { worker, range in
                        do {
                            let cols = bufs[worker], padBuf = cols + L.pad
                            for s in range {
                                self.unfold(xb + s * inPlane, g, cols: cols, padBuf: padBuf)
                                let out = y + s * outPer
                                if let bb {
                                    for c in 0..<cout { (out + c * plane).update(repeating: bb[c], count: plane) }
                                }
                                BLAS.gemm(m: cout, n: plane, k: g.k, a: wb, b: cols, beta: bb == nil ? 0 : 1, c: out)
                            }
                        }
                    }
                }
            }
        }
    }

    public func backward(_ dy: Tensor, needInputGradient: Bool) -> Tensor? {
        let g = geometry(input)
        precondition(dy.shape == [g.n, outChannels, g.oh, g.ow], "conv gradient shape \(dy.shape) does not match output")
        let plane = g.oh * g.ow, inPlane = inChannels * g.h * g.w, outPer = outChannels * plane
        let workers = min(Parallel.threads, g.n, maxWorkers)
        let wCount = weight.value.count
        // Per worker: columns, column gradient, then private dW and db accumulators.
        let colSize = g.k * plane
        let L = layout(g)
        let bufs = scratch.pointers(workers: workers, count: L.total)
        let fast = L.fast
        var dx = !needInputGradient ? Tensor(zeros: [0]) : fast ? Tensor(uninitializedShape: input.shape) { _, _ in } : Tensor(zeros: input.shape)
        let (cin, kk, st, pd, cout) = (inChannels, kernel, stride, padding, outChannels)
        let hasBias = bias != nil
        dy.withUnsafeBufferPointer { dys in
            input.withUnsafeBufferPointer { xs in
                weight.value.withUnsafeBufferPointer { w in
                    dx.withUnsafeMutableBufferPointer { dxs in
                        let dyb = dys.baseAddress!, xb = xs.baseAddress!, wb = w.baseAddress!
                        let dxb = needInputGradient ? dxs.baseAddress : nil
                        perWorker(g.n) { worker, range in
                            do {
                                let cols = bufs[worker], dcols = cols + colSize
                                let dw = dcols + colSize, db = dw + wCount, padBuf = cols + L.pad, padDx = cols + L.padDx
                                dw.update(repeating: 0, count: wCount + cout)
                                for s in range {
                                    let d = dyb + s * outPer
                                    self.unfold(xb + s * inPlane, g, cols: cols, padBuf: padBuf)
                                    // dW += dy_s · colsᵀ   ([out, P] · [P, K])
                                    BLAS.gemm(transB: true, m: cout, n: g.k, k: plane, a: d, b: cols, beta: 1, c: dw)
                                    if hasBias {
                                        for c in 0..<cout {
                                            let row = d + c * plane
                                            var acc: Float = 0
                                            for i in 0..<plane { acc += row[i] }
                                            db[c] += acc
                                        }
                                    }
                                    if let dxb {
                                        // dcols = Wᵀ · dy_s   ([K, out] · [out, P]), then fold back onto the image.
                                        BLAS.gemm(transA: true, m: g.k, n: plane, k: cout, a: wb, b: d, beta: 0, c: dcols)
                                        if fast {
                                            let ph = g.h + 2 * pd, pw = g.w + 2 * pd
                                            padDx.update(repeating: 0, count: cin * ph * pw)
                                            Ops.col2imPadded(dcols, ld: plane, c: cin, ph: ph, pw: pw, kh: kk, kw: kk, dst: padDx)
                                            Ops.unpad(padDx, c: cin, h: g.h, w: g.w, padding: pd, dst: dxb + s * inPlane)
                                        } else {
                                            Ops.col2im(dcols, ld: plane, c: cin, h: g.h, w: g.w, kh: kk, kw: kk, stride: st,
                                                       padding: pd, dst: dxb + s * inPlane)
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        // Reduce the workers' accumulators in a fixed order (deterministic).
        weight.grad.withUnsafeMutableBufferPointer { gw in
            gw.update(repeating: 0)
            for wk in 0..<workers {
                let dw = bufs[wk] + L.dw
                for i in 0..<wCount { gw[i] += dw[i] }
            }
        }
        if let bias {
            bias.grad.withUnsafeMutableBufferPointer { gb in
                gb.update(repeating: 0)
                for wk in 0..<workers {
                    let db = bufs[wk] + L.db
                    for i in 0..<outChannels { gb[i] += db[i] }
                }
            }
        }
        weight.maskGradient()
        bias?.maskGradient()
        return needInputGradient ? dx : nil
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
