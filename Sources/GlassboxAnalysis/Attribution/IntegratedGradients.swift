import GlassboxCore
import GlassboxNN

/// Integrated gradients (Sundararajan et al. 2017): attr = (x − x′) ⊙ Σ_k w_k ∂F/∂x(x′ + α_k (x − x′)).
///
/// When the first layer is Linear or Conv2d (a linear map plus a bias), its output along the straight path is affine
/// in α: z(α) = z(x′) + α (z(x) − z(x′)). So the path starts after that layer, at two evaluations of it per image
/// instead of one per step, and because ∂F/∂x(α) = L₁ᵀ ∂F/∂z(α) with the same transposed map L₁ᵀ at every step,
/// Σ_k w_k ∂F/∂x(α_k) = L₁ᵀ (Σ_k w_k ∂F/∂z(α_k)): one backward product per image. The quadrature is the same;
/// only the order of (exact) linear operations changes. The steps of a chunk of images run as one batch.
enum IntegratedGradients {
    static func run(_ workers: AttributionWorkers, _ inputs: Tensor, _ reference: Tensor, _ targets: [Int],
                    _ config: AttributionConfig) -> MethodOutput {
        let q = Quadrature.make(config.quadrature, config.steps)
        let len = inputs.rowLength, n = inputs.rows
        let maps = SharedFloats(count: n * len), fx = SharedFloats(count: n), fb = SharedFloats(count: n)
        workers.forEachChunk(n, chunk: config.chunkSize) { net, range in
            let (attr, f, f0) = chunk(net, inputs.rows(range), reference.rows(range), targets[range], config.target, q)
            maps.write(attr, at: range.lowerBound * len)
            fx.write(f, at: range.lowerBound)
            fb.write(f0, at: range.lowerBound)
        }
        return MethodOutput(maps: Tensor(shape: inputs.shape, scalars: maps.array), outputs: fx.array, baselineOutputs: fb.array)
    }

    /// One chunk of images: the attributions, F(x) and F(x′).
    static func chunk(_ net: Sequential, _ x: Tensor, _ xb: Tensor, _ targets: ArraySlice<Int>, _ kind: AttributionTarget,
                      _ q: Quadrature) -> (Tensor, [Float], [Float]) {
        let last = net.layers.count - 1
        let first = net.layers[0]
        let affineFirst = last >= 1 && (first is Linear || first is Conv2d)
        let t0 = targets.startIndex
        let n = x.rows, m = q.nodes.count
        let alphas = q.nodes.map { Float($0) }, weights = q.weights.map { Float($0) }

        // Path start: the model input, or the first layer's output when that layer is affine.
        let start = affineFirst ? 1 : 0
        let pathEnd: Tensor, pathBase: Tensor
        if affineFirst {
            pathBase = first.forward(xb, training: false)
            pathEnd = first.forward(x, training: false)  // the layer's cache now holds x, for the backward product below
        } else {
            pathEnd = x
            pathBase = xb
        }
        // F(x) and F(x′).
        let ends = stack(pathEnd, pathBase)
        let endLogits = net.forward(ends, layers: start...last)
        let values = TargetSeed.values(endLogits, kind: kind) { targets[t0 + $0 % n] }

        // Every step of every image in one batch; row i·m + k is image i at α_k.
        let len = pathEnd.rowLength
        let points = Tensor(uninitializedShape: [n * m] + Array(pathEnd.shape.dropFirst())) { dst, _ in
            pathEnd.withUnsafeBufferPointer { e in
                pathBase.withUnsafeBufferPointer { b in
                    for i in 0..<n {
                        let ei = e.baseAddress! + i * len, bi = b.baseAddress! + i * len
                        for k in 0..<m {
                            let a = alphas[k], row = dst + (i * m + k) * len
                            for j in 0..<len { row[j] = bi[j] + a * (ei[j] - bi[j]) }
                        }
                    }
                }
            }
        }
        let logits = net.forward(points, layers: start...last)
        let (seed, _) = TargetSeed.make(logits, kind: kind) { targets[t0 + $0 / m] }
        let g = net.backward(seed, from: last, downTo: start, needInputGradient: true)!
        // Σ_k w_k g(α_k) per image.
        var summed = Tensor(zeros: pathEnd.shape)
        g.withUnsafeBufferPointer { gs in
            summed.withUnsafeMutableBufferPointer { s in
                for i in 0..<n {
                    let out = s.baseAddress! + i * len
                    for k in 0..<m { Vector.axpy(weights[k], gs.baseAddress! + (i * m + k) * len, out, len) }
                }
            }
        }
        let gradient = affineFirst ? first.backward(summed, needInputGradient: true)! : summed
        let attr = Tensor(uninitializedShape: x.shape) { dst, count in
            x.withUnsafeBufferPointer { xs in
                xb.withUnsafeBufferPointer { bs in
                    gradient.withUnsafeBufferPointer { gs in
                        for j in 0..<count { dst[j] = (xs[j] - bs[j]) * gs[j] }
                    }
                }
            }
        }
        return (attr, Array(values[0..<n]), Array(values[n..<(2 * n)]))
    }

    /// Rows of `a` followed by rows of `b` (same per-row shape).
    static func stack(_ a: Tensor, _ b: Tensor) -> Tensor {
        Tensor(shape: [a.rows + b.rows] + Array(a.shape.dropFirst()), scalars: a.scalars + b.scalars)
    }
}
