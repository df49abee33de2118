import Foundation
import GlassboxCore
import GlassboxData
import GlassboxNN

/// Effective circuit size of one class.
public struct ECSClassResult: Codable, Equatable, Sendable {
    public var classIndex: Int
    public var className: String
    /// Test images of the class.
    public var samples: Int
    /// Linear weights left non-zero, and all Linear weights.
    public var kept: Int
    public var total: Int
    /// `kept / total` (the authors round it to 3 decimals; this is the exact fraction).
    public var ecs: Double
    /// Mean cross-entropy on the class's images: original model and pruned circuit (≤ the original).
    public var originalLoss: Double
    public var prunedLoss: Double
}

public struct ECSResult: Codable, Equatable, Sendable {
    /// Linear weights in walk order (last layer first).
    public var layers: [String]
    public var totalWeights: Int
    public var classes: [ECSClassResult]
    public var meanECS: Double { classes.isEmpty ? 0 : classes.reduce(0) { $0 + $1.ecs } / Double(classes.count) }
}

/// Effective circuit size (Golechha et al.): over a class's test images, walk every Linear weight (layers last
/// to first, row-major), zero it, and keep it zeroed if the class loss stays ≤ the original model's class loss.
///
/// The walk is incremental: while layer L is walked, the layers before it are untouched, so its input is fixed,
/// and zeroing `W[i][j]` changes only unit i's pre-activation, by `−W[i][j]·x_j`, and only on samples with
/// `x_j ≠ 0`. Each trial therefore re-evaluates only those samples from unit i onwards. Arithmetic is in Double,
/// and a brute-force version (full forward pass per trial) is kept for tests.
public enum EffectiveCircuitSize {
    enum Act { case relu, sigmoid, tanh }

    /// The Linear part of a model in Double: `w[l]` is `[out, in]`, `wt[l]` its transpose.
    struct Net {
        var names: [String]
        var outs: [Int], ins: [Int]
        var w: [[Double]], wt: [[Double]], b: [[Double]?]
        var acts: [[Act]]
        var prefix: [Layer]
        var total: Int { zip(outs, ins).reduce(0) { $0 + $1.0 * $1.1 } }
    }

    static func net(_ model: Sequential) throws -> Net {
        var n = Net(names: [], outs: [], ins: [], w: [], wt: [], b: [], acts: [], prefix: [])
        for (idx, layer) in model.layers.enumerated() {
            if let lin = layer as? Linear {
                let o = lin.outFeatures, i = lin.inFeatures
                let w = lin.weight.value.scalars.map(Double.init)
                var t = [Double](repeating: 0, count: o * i)
                for r in 0..<o { for c in 0..<i { t[c * o + r] = w[r * i + c] } }
                n.names.append("\(idx).weight"); n.outs.append(o); n.ins.append(i)
                n.w.append(w); n.wt.append(t); n.b.append(lin.bias.map { $0.value.scalars.map(Double.init) }); n.acts.append([])
            } else if n.w.isEmpty {
                n.prefix.append(layer)
            } else if layer is ReLU { n.acts[n.acts.count - 1].append(.relu)
            } else if layer is Sigmoid { n.acts[n.acts.count - 1].append(.sigmoid)
            } else if layer is Tanh { n.acts[n.acts.count - 1].append(.tanh)
            } else if layer is Flatten || layer is Dropout { continue
            } else {
                throw GlassboxError.invalidArgument(name: "model", expected: "only Linear layers and relu/sigmoid/tanh after the first Linear layer (for ECS)",
                                                    found: "'\(layer.specClause)' at layer \(idx)")
            }
        }
        guard !n.w.isEmpty else { throw GlassboxError.invalidArgument(name: "model", expected: "at least one Linear layer", found: "none") }
        return n
    }

    @inline(__always) static func act(_ v: Double, _ acts: [Act]) -> Double {
        var x = v
        for a in acts {
            switch a {
            case .relu: x = x > 0 ? x : 0
            case .sigmoid: x = 1 / (1 + Foundation.exp(-x))
            case .tanh: x = Foundation.tanh(x)
            }
        }
        return x
    }

    /// Cross-entropy of one logit row.
    @inline(__always) static func ce(_ z: UnsafePointer<Double>, _ k: Int, _ y: Int) -> Double {
        var mx = z[0]
        for t in 1..<k where z[t] > mx { mx = z[t] }
        var s = 0.0
        for t in 0..<k { s += Foundation.exp(z[t] - mx) }
        return mx + Foundation.log(s) - z[y]
    }

    /// The input of the first Linear layer for `images`, flattened, in Double.
    static func firstInput(_ net: Net, _ images: Tensor) -> [Double] {
        var h = images
        for l in net.prefix { h = l.forward(h, training: false) }
        return h.scalars.map(Double.init)
    }

    /// Per-layer masks (`[out, in]`, 1 = left non-zero) of the circuit of `images`/`labels`, incrementally.
    public static func prune(_ model: Sequential, images: Tensor, labels: [Int32]) throws -> (masks: [Tensor], originalLoss: Double, prunedLoss: Double) {
        let net = try net(model)
        let r = try pruneNet(net, x0: firstInput(net, images), labels: labels)
        return (zip(r.masks, net.outs.indices).map { Tensor(shape: [net.outs[$1], net.ins[$1]], scalars: $0) }, r.0, r.1)
    }

    static func pruneNet(_ net0: Net, x0: [Double], labels: [Int32]) throws -> (Double, Double, masks: [[Float]]) {
        var net = net0
        let L = net.w.count, n = labels.count, k = net.outs[L - 1]
        guard n > 0 else { throw GlassboxError.invalidArgument(name: "images", expected: "at least one sample", found: "none") }
        guard x0.count == n * net.ins[0] else { throw GlassboxError.shapeMismatch(what: "ECS input", expected: [n, net.ins[0]], found: [x0.count]) }
        for y in labels where y < 0 || Int(y) >= k {
            throw GlassboxError.invalidArgument(name: "labels", expected: "class indices 0..<\(k)", found: "\(y)")
        }
        // Forward state: x[l] input of layer l (x[l+1] = a[l]), z[l] pre-activations, a[l] outputs.
        var xs: [[Double]] = [x0], zs: [[Double]] = [], as_: [[Double]] = []
        for l in 0..<L {
            let o = net.outs[l], i = net.ins[l]
            var z = [Double](repeating: 0, count: n * o)
            for s in 0..<n {
                for r in 0..<o {
                    var v = net.b[l]?[r] ?? 0
                    for c in 0..<i { v += xs[l][s * i + c] * net.w[l][r * i + c] }
                    z[s * o + r] = v
                }
            }
            let a = z.map { act($0, net.acts[l]) }
            zs.append(z); as_.append(a)
            if l + 1 < L { xs.append(a) }
        }
        var loss = [Double](repeating: 0, count: n)
        as_[L - 1].withUnsafeBufferPointer { p in for s in 0..<n { loss[s] = ce(p.baseAddress! + s * k, k, Int(labels[s])) } }
        let original = loss.reduce(0, +)
        var total = original
        var masks = net.outs.indices.map { [Float](repeating: 1, count: net.outs[$0] * net.ins[$0]) }
        let maxW = net.outs.max()!
        // Scratch: per stage after the changed one, the new pre-activation/output of one sample.
        var bufZ = [[Double]](repeating: [Double](repeating: 0, count: maxW), count: L)
        var bufA = [[Double]](repeating: [Double](repeating: 0, count: maxW), count: L)
        var newLoss = [Double](repeating: 0, count: n)

        /// New loss of sample s when unit u of layer l has pre-activation `nz`; with `commit`, stores the new state.
        func evaluate(_ s: Int, _ l: Int, _ u: Int, _ nz: Double, commit: Bool) -> Double {
            let o = net.outs[l]
            let na = act(nz, net.acts[l])
            let da = na - as_[l][s * o + u]
            if commit { zs[l][s * o + u] = nz; as_[l][s * o + u] = na; if l + 1 < L { xs[l + 1][s * o + u] = na } }
            if l == L - 1 {
                return as_[l].withUnsafeBufferPointer { p -> Double in
                    let row = p.baseAddress! + s * k
                    if commit { return ce(row, k, Int(labels[s])) }
                    bufA[0].withUnsafeMutableBufferPointer { t in
                        for q in 0..<k { t[q] = row[q] }
                        t[u] = na
                    }
                    return bufA[0].withUnsafeBufferPointer { ce($0.baseAddress!, k, Int(labels[s])) }
                }
            }
            if da == 0 { return loss[s] }
            // Next layer: only input u changed.
            let o1 = net.outs[l + 1]
            for q in 0..<o1 { bufZ[l + 1][q] = zs[l + 1][s * o1 + q] + da * net.wt[l + 1][u * o1 + q] }
            for q in 0..<o1 { bufA[l + 1][q] = act(bufZ[l + 1][q], net.acts[l + 1]) }
            var m = l + 2
            while m < L {
                let om = net.outs[m], im = net.ins[m]
                for q in 0..<om { bufZ[m][q] = net.b[m]?[q] ?? 0 }
                for c in 0..<im {
                    let v = bufA[m - 1][c]
                    if v == 0 { continue }
                    for q in 0..<om { bufZ[m][q] += v * net.wt[m][c * om + q] }
                }
                for q in 0..<om { bufA[m][q] = act(bufZ[m][q], net.acts[m]) }
                m += 1
            }
            if commit {
                for m2 in (l + 1)..<L {
                    let om = net.outs[m2]
                    for q in 0..<om { zs[m2][s * om + q] = bufZ[m2][q]; as_[m2][s * om + q] = bufA[m2][q] }
                    if m2 + 1 < L { for q in 0..<om { xs[m2 + 1][s * om + q] = bufA[m2][q] } }
                }
            }
            return bufA[L - 1].withUnsafeBufferPointer { ce($0.baseAddress!, k, Int(labels[s])) }
        }

        var affected: [Int] = []
        affected.reserveCapacity(n)
        for l in stride(from: L - 1, through: 0, by: -1) {
            let o = net.outs[l], i = net.ins[l]
            // Samples with a non-zero input j, per column (the input of layer l is fixed while l is walked).
            var colStart = [Int](repeating: 0, count: i + 1)
            for s in 0..<n { for c in 0..<i where xs[l][s * i + c] != 0 { colStart[c + 1] += 1 } }
            for c in 0..<i { colStart[c + 1] += colStart[c] }
            var colSamples = [Int](repeating: 0, count: colStart[i])
            var fill = colStart
            for s in 0..<n { for c in 0..<i where xs[l][s * i + c] != 0 { colSamples[fill[c]] = s; fill[c] += 1 } }
            for r in 0..<o {
                for c in 0..<i {
                    let w = net.w[l][r * i + c]
                    if w == 0 { masks[l][r * i + c] = 0; continue }
                    var t = total
                    affected.removeAll(keepingCapacity: true)
                    for q in colStart[c]..<colStart[c + 1] {
                        let s = colSamples[q]
                        let nz = zs[l][s * o + r] - w * xs[l][s * i + c]
                        let ls = evaluate(s, l, r, nz, commit: false)
                        if ls != loss[s] || nz != zs[l][s * o + r] {
                            t += ls - loss[s]
                            newLoss[s] = ls
                            affected.append(s)
                        }
                    }
                    if t <= original {
                        masks[l][r * i + c] = 0
                        net.w[l][r * i + c] = 0
                        net.wt[l][c * o + r] = 0
                        for s in affected {
                            let nz = zs[l][s * o + r] - w * xs[l][s * i + c]
                            _ = evaluate(s, l, r, nz, commit: true)
                            loss[s] = newLoss[s]
                        }
                        total = t
                    }
                }
            }
        }
        return (original / Double(n), total / Double(n), masks)
    }

    /// The definition, literally: a full forward pass (in Double) per trial. For tests on small models.
    public static func pruneBruteForce(_ model: Sequential, images: Tensor, labels: [Int32]) throws -> [Tensor] {
        var net = try net(model)
        let x0 = firstInput(net, images)
        let L = net.w.count, n = labels.count, k = net.outs[L - 1]
        func totalLoss() -> Double {
            var h = x0, sum = 0.0
            for l in 0..<L {
                let o = net.outs[l], i = net.ins[l]
                var z = [Double](repeating: 0, count: n * o)
                for s in 0..<n { for r in 0..<o {
                    var v = net.b[l]?[r] ?? 0
                    for c in 0..<i { v += h[s * i + c] * net.w[l][r * i + c] }
                    z[s * o + r] = act(v, net.acts[l])
                } }
                h = z
            }
            h.withUnsafeBufferPointer { p in for s in 0..<n { sum += ce(p.baseAddress! + s * k, k, Int(labels[s])) } }
            return sum
        }
        let original = totalLoss()
        var masks: [Tensor] = []
        for l in stride(from: L - 1, through: 0, by: -1) {
            let o = net.outs[l], i = net.ins[l]
            var mask = [Float](repeating: 1, count: o * i)
            for r in 0..<o { for c in 0..<i {
                let w = net.w[l][r * i + c]
                net.w[l][r * i + c] = 0
                if totalLoss() <= original { mask[r * i + c] = 0 } else { net.w[l][r * i + c] = w }
            } }
            masks.insert(Tensor(shape: [o, i], scalars: mask), at: 0)
        }
        return masks
    }

    /// ECS per class over the test images of each class (all classes unless `classes` is given). Classes run in
    /// parallel; each is independent, so the result does not depend on the thread count.
    public static func run(_ model: Sequential, test: Dataset, classes: [Int]? = nil) throws -> ECSResult {
        try Trainer.checkCompatible(model, test)
        let net = try net(model)
        let wanted = classes ?? Array(0..<test.classCount)
        for c in wanted where c < 0 || c >= test.classCount {
            throw GlassboxError.invalidArgument(name: "classes", expected: "class indices 0..<\(test.classCount)", found: "\(c)")
        }
        var results = [ECSClassResult?](repeating: nil, count: wanted.count)
        var errors = [Error?](repeating: nil, count: wanted.count)
        let total = net.total
        results.withUnsafeMutableBufferPointer { out in
            errors.withUnsafeMutableBufferPointer { errOut in
                let outP = out.baseAddress!, errP = errOut.baseAddress!
                Parallel.forChunks(wanted.count, parts: wanted.count) { _, range in
                    for q in range {
                        let c = wanted[q]
                        let idx = test.labels.indices.filter { Int(test.labels[$0]) == c }
                        guard !idx.isEmpty else {
                            errP[q] = GlassboxError.invalidArgument(name: "test data", expected: "images of class \(c) (\(test.classNames[c]))", found: "none")
                            continue
                        }
                        do {
                            let sub = test.subset(idx)
                            let x0 = firstInput(net, sub.images)
                            let r = try pruneNet(net, x0: x0, labels: sub.labels)
                            let kept = r.masks.reduce(0) { $0 + $1.reduce(0) { $0 + ($1 != 0 ? 1 : 0) } }
                            outP[q] = ECSClassResult(classIndex: c, className: test.classNames[c], samples: idx.count, kept: kept,
                                                     total: total, ecs: Double(kept) / Double(total), originalLoss: r.0, prunedLoss: r.1)
                        } catch { errP[q] = error }
                    }
                }
            }
        }
        if let e = errors.compactMap({ $0 }).first { throw e }
        return ECSResult(layers: net.names.reversed(), totalWeights: total, classes: results.compactMap { $0 })
    }
}
