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

    static func pruneNet(_ net: Net, x0: [Double], labels: [Int32]) throws -> (Double, Double, masks: [[Float]]) {
        let L = net.w.count, n = labels.count, k = net.outs[L - 1]
        guard n > 0 else { throw GlassboxError.invalidArgument(name: "images", expected: "at least one sample", found: "none") }
        guard x0.count == n * net.ins[0] else { throw GlassboxError.shapeMismatch(what: "ECS input", expected: [n, net.ins[0]], found: [x0.count]) }
        for y in labels where y < 0 || Int(y) >= k {
            throw GlassboxError.invalidArgument(name: "labels", expected: "class indices 0..<\(k)", found: "\(y)")
        }
        let walk = Walk(net, x0: x0, labels: labels)
        return walk.run()
    }

    /// The state of one greedy walk in flat Double buffers (pointers, so the hot loops do no array bookkeeping).
    final class Walk {
        let L: Int, n: Int, k: Int
        let outs: [Int], ins: [Int]
        let w: [UnsafeMutablePointer<Double>], wt: [UnsafeMutablePointer<Double>], b: [UnsafeMutablePointer<Double>?]
        /// Activation codes per layer (0 relu, 1 sigmoid, 2 tanh), applied in order.
        let actCodes: [UnsafeMutablePointer<UInt8>], actCounts: [Int]
        let x0: UnsafeMutablePointer<Double>
        /// Pre-activations and outputs per layer, `n × out`; the input of layer l > 0 is `a[l − 1]`.
        let z: [UnsafeMutablePointer<Double>], a: [UnsafeMutablePointer<Double>]
        let newZ: [UnsafeMutablePointer<Double>], newA: [UnsafeMutablePointer<Double>], dA: [UnsafeMutablePointer<Double>]
        let loss: UnsafeMutablePointer<Double>, newLoss: UnsafeMutablePointer<Double>
        let labels: UnsafeMutablePointer<Int32>
        let owned: [UnsafeMutableRawPointer]

        init(_ net: Net, x0 xv: [Double], labels lv: [Int32]) {
            var own: [UnsafeMutableRawPointer] = []
            func alloc<T>(_ count: Int, _ type: T.Type) -> UnsafeMutablePointer<T> {
                let p = UnsafeMutablePointer<T>.allocate(capacity: max(1, count))
                own.append(UnsafeMutableRawPointer(p))
                return p
            }
            func copy(_ v: [Double]) -> UnsafeMutablePointer<Double> {
                let p = alloc(v.count, Double.self)
                v.withUnsafeBufferPointer { p.update(from: $0.baseAddress!, count: v.count) }
                return p
            }
            let L = net.w.count, n = lv.count
            self.L = L; self.n = n; k = net.outs[L - 1]; outs = net.outs; ins = net.ins
            var w: [UnsafeMutablePointer<Double>] = [], wt: [UnsafeMutablePointer<Double>] = [], b: [UnsafeMutablePointer<Double>?] = []
            var codes: [UnsafeMutablePointer<UInt8>] = [], counts: [Int] = []
            var z: [UnsafeMutablePointer<Double>] = [], a: [UnsafeMutablePointer<Double>] = []
            var nz: [UnsafeMutablePointer<Double>] = [], na: [UnsafeMutablePointer<Double>] = [], da: [UnsafeMutablePointer<Double>] = []
            x0 = copy(xv)
            loss = alloc(n, Double.self); newLoss = alloc(n, Double.self)
            let lab = alloc(n, Int32.self)
            lv.withUnsafeBufferPointer { lab.update(from: $0.baseAddress!, count: n) }
            labels = lab
            for l in 0..<L {
                let o = net.outs[l]
                w.append(copy(net.w[l])); wt.append(copy(net.wt[l])); b.append(net.b[l].map { copy($0) })
                let c = alloc(net.acts[l].count, UInt8.self)
                for (q, act) in net.acts[l].enumerated() { c[q] = act == .relu ? 0 : act == .sigmoid ? 1 : 2 }
                codes.append(c); counts.append(net.acts[l].count)
                z.append(alloc(n * o, Double.self)); a.append(alloc(n * o, Double.self))
                nz.append(alloc(o, Double.self)); na.append(alloc(o, Double.self)); da.append(alloc(o, Double.self))
            }
            self.w = w; self.wt = wt; self.b = b; actCodes = codes; actCounts = counts; self.z = z; self.a = a
            newZ = nz; newA = na; dA = da
            owned = own
        }

        deinit { for p in owned { p.deallocate() } }

        @inline(__always) func act(_ v: Double, _ l: Int) -> Double {
            var x = v
            let c = actCodes[l]
            for q in 0..<actCounts[l] {
                switch c[q] {
                case 0: x = x > 0 ? x : 0
                case 1: x = 1 / (1 + Foundation.exp(-x))
                default: x = Foundation.tanh(x)
                }
            }
            return x
        }

        @inline(__always) func input(_ l: Int) -> UnsafeMutablePointer<Double> { l == 0 ? x0 : a[l - 1] }

        func forwardAll() {
            for l in 0..<L {
                let o = outs[l], i = ins[l], x = input(l), wl = w[l], zl = z[l], al = a[l]
                for s in 0..<n {
                    for r in 0..<o {
                        var v = b[l]?[r] ?? 0
                        let xr = x + s * i, wr = wl + r * i
                        for c in 0..<i { v += xr[c] * wr[c] }
                        zl[s * o + r] = v
                        al[s * o + r] = act(v, l)
                    }
                }
            }
            for s in 0..<n { loss[s] = EffectiveCircuitSize.ce(a[L - 1] + s * k, k, Int(labels[s])) }
        }

        /// Loss of sample s when unit u of layer l gets pre-activation `nzv`; `commit` stores the new state.
        func evaluate(_ s: Int, _ l: Int, _ u: Int, _ nzv: Double, commit: Bool) -> Double {
            let o = outs[l]
            let nav = act(nzv, l)
            let idx = s * o + u
            let da = nav - a[l][idx]
            if l == L - 1 {
                let row = newA[l]
                row.update(from: a[l] + s * k, count: k)
                row[u] = nav
                if commit { z[l][idx] = nzv; a[l][idx] = nav }
                return EffectiveCircuitSize.ce(row, k, Int(labels[s]))
            }
            if da == 0 {
                if commit { z[l][idx] = nzv }
                return loss[s]
            }
            // Layer l + 1: only its input u changed.
            var m = l + 1
            do {
                let om = outs[m], zr = z[m] + s * om, ar = a[m] + s * om, col = wt[m] + u * om
                let nzm = newZ[m], nam = newA[m], dam = dA[m]
                for q in 0..<om { nzm[q] = zr[q] + da * col[q] }
                for q in 0..<om { let v = act(nzm[q], m); nam[q] = v; dam[q] = v - ar[q] }
            }
            m += 1
            while m < L {
                let om = outs[m], im = outs[m - 1], zr = z[m] + s * om, ar = a[m] + s * om
                let nzm = newZ[m], nam = newA[m], dam = dA[m], prev = dA[m - 1], wm = wt[m]
                nzm.update(from: zr, count: om)
                for c in 0..<im {
                    let d = prev[c]
                    if d == 0 { continue }
                    let col = wm + c * om
                    for q in 0..<om { nzm[q] += d * col[q] }
                }
                for q in 0..<om { let v = act(nzm[q], m); nam[q] = v; dam[q] = v - ar[q] }
                m += 1
            }
            if commit {
                z[l][idx] = nzv; a[l][idx] = nav
                for m2 in (l + 1)..<L {
                    let om = outs[m2]
                    (z[m2] + s * om).update(from: newZ[m2], count: om)
                    (a[m2] + s * om).update(from: newA[m2], count: om)
                }
            }
            return EffectiveCircuitSize.ce(newA[L - 1], k, Int(labels[s]))
        }

        func run() -> (Double, Double, masks: [[Float]]) {
            forwardAll()
            var original = 0.0
            for s in 0..<n { original += loss[s] }
            var total = original
            var masks = outs.indices.map { [Float](repeating: 1, count: outs[$0] * ins[$0]) }
            var affected = [Int](repeating: 0, count: n)
            for l in stride(from: L - 1, through: 0, by: -1) {
                let o = outs[l], i = ins[l], x = input(l), wl = w[l], wtl = wt[l], zl = z[l]
                // Samples with a non-zero input c, per column (the input of layer l is fixed while l is walked).
                var colStart = [Int](repeating: 0, count: i + 1)
                for s in 0..<n { for c in 0..<i where x[s * i + c] != 0 { colStart[c + 1] += 1 } }
                for c in 0..<i { colStart[c + 1] += colStart[c] }
                var colSamples = [Int](repeating: 0, count: max(1, colStart[i]))
                var fill = colStart
                for s in 0..<n { for c in 0..<i where x[s * i + c] != 0 { colSamples[fill[c]] = s; fill[c] += 1 } }
                masks[l].withUnsafeMutableBufferPointer { mask in
                    colSamples.withUnsafeBufferPointer { cs in
                        affected.withUnsafeMutableBufferPointer { aff in
                            for r in 0..<o {
                                for c in 0..<i {
                                    let wv = wl[r * i + c]
                                    if wv == 0 { mask[r * i + c] = 0; continue }
                                    var t = total, na = 0
                                    for q in colStart[c]..<colStart[c + 1] {
                                        let s = cs[q]
                                        let ls = evaluate(s, l, r, zl[s * o + r] - wv * x[s * i + c], commit: false)
                                        t += ls - loss[s]
                                        newLoss[s] = ls
                                        aff[na] = s; na += 1
                                    }
                                    if t <= original {
                                        mask[r * i + c] = 0
                                        wl[r * i + c] = 0
                                        wtl[c * o + r] = 0
                                        for q in 0..<na {
                                            let s = aff[q]
                                            _ = evaluate(s, l, r, zl[s * o + r] - wv * x[s * i + c], commit: true)
                                            loss[s] = newLoss[s]
                                        }
                                        total = t
                                    }
                                }
                            }
                        }
                    }
                }
            }
            return (original / Double(n), total / Double(n), masks)
        }
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
