import Foundation
import GlassboxCore
import GlassboxNN

/// Normalised cut of the whole-network graph (Filan et al. 2021): nodes are all units of the Linear layers
/// (inputs included), edges `|W|` between consecutive layers; spectral clustering into k parts (k = 12 in the
/// paper) and `ncut = Σ_c cut(c)/vol(c)` (lower = more clusterable, range [0, k)), with a layer-shuffle null.
public struct NCutResult: Codable, Equatable, Sendable {
    public var k: Int
    public var ncut: Double
    /// Nodes in the graph and isolated (zero-degree) nodes left out.
    public var nodes: Int
    public var isolated: Int
    /// Cluster of each node (−1 for isolated ones), layer by layer starting with the inputs.
    public var labels: [Int]
    /// n-cut of each layer-shuffled network (each weight matrix's entries permuted independently).
    public var nullValues: [Double]
    /// Left-tailed `(#{null < ncut} + 1)/(n + 1)`; nil without a null.
    public var pValue: Double?
    public var zScore: Double?
}

public enum NCut {
    /// The Linear weights of a model in order (`[out, in]` each), checked to chain.
    static func weights(_ model: Sequential) throws -> [Tensor] {
        let lins = model.layers.compactMap { $0 as? Linear }
        guard !lins.isEmpty else { throw GlassboxError.invalidArgument(name: "model", expected: "Linear layers", found: "none") }
        for (a, b) in zip(lins, lins.dropFirst()) where a.outFeatures != b.inFeatures {
            throw GlassboxError.invalidArgument(name: "model", expected: "chained Linear layers for the n-cut graph",
                                                found: "\(a.outFeatures) outputs feeding \(b.inFeatures) inputs")
        }
        return lins.map(\.weight.value)
    }

    /// Symmetric adjacency (row-major N×N) of the layered graph of `weights`.
    public static func adjacency(_ weights: [Tensor]) -> (a: [Double], n: Int) {
        var offsets = [0, weights[0].shape[1]]
        for w in weights { offsets.append(offsets.last! + w.shape[0]) }
        let n = offsets.last!
        var a = [Double](repeating: 0, count: n * n)
        for (l, w) in weights.enumerated() {
            let o = w.shape[0], i = w.shape[1], inOff = offsets[l], outOff = offsets[l + 1]
            for r in 0..<o { for c in 0..<i {
                let v = Double(abs(w.scalars[r * i + c]))
                a[(outOff + r) * n + inOff + c] = v
                a[(inOff + c) * n + outOff + r] = v
            } }
        }
        return (a, n)
    }

    /// `Σ_c cut(c)/vol(c)` for `labels` (nodes with label < 0 are ignored).
    public static func value(adjacency a: [Double], n: Int, labels: [Int], k: Int) -> Double {
        var cut = [Double](repeating: 0, count: k), vol = [Double](repeating: 0, count: k)
        for i in 0..<n where labels[i] >= 0 {
            for j in 0..<n where a[i * n + j] != 0 {
                vol[labels[i]] += a[i * n + j]
                if labels[j] != labels[i] { cut[labels[i]] += a[i * n + j] }
            }
        }
        return (0..<k).reduce(0) { $0 + (vol[$1] > 0 ? cut[$1] / vol[$1] : 0) }
    }

    /// Spectral clustering of a graph: the k leading eigenvectors of `D^{-1/2} A D^{-1/2}` (LAPACK dsyevr), scaled
    /// by `D^{-1/2}`, then k-means (k-means++, `restarts`, seeded). Isolated nodes get −1.
    public static func cluster(adjacency a: [Double], n: Int, k: Int, seed: UInt64, restarts: Int = 10) throws -> [Int] {
        var deg = [Double](repeating: 0, count: n)
        for i in 0..<n { for j in 0..<n { deg[i] += a[i * n + j] } }
        let live = (0..<n).filter { deg[$0] > 0 }
        let m = live.count
        guard m >= k, k >= 2 else {
            throw GlassboxError.invalidArgument(name: "k", expected: "2 … \(m) (the graph's non-isolated nodes)", found: "\(k)")
        }
        var mat = [Double](repeating: 0, count: m * m)
        let dinv = live.map { 1 / deg[$0].squareRoot() }
        for (p, i) in live.enumerated() { for (q, j) in live.enumerated() { mat[p * m + q] = a[i * n + j] * dinv[p] * dinv[q] } }
        let z = try LinearAlgebra.topEigen(symmetric: mat, n: m, count: k).vectors
        var pts = [Double](repeating: 0, count: m * k)
        for p in 0..<m { for t in 0..<k { pts[p * k + t] = z[p * k + t] * dinv[p] } }
        let km = try KMeans.fit(points: pts, count: m, dim: k, k: k, restarts: restarts, seed: seed)
        var labels = [Int](repeating: -1, count: n)
        for (p, i) in live.enumerated() { labels[i] = km.labels[p] }
        return labels
    }

    /// n-cut of the model's Linear graph at k (default 12) and, with `nullDraws` > 0, the layer-shuffle null.
    public static func assess(_ model: Sequential, k: Int = 12, seed: UInt64 = 0, nullDraws: Int = 0) throws -> NCutResult {
        let ws = try weights(model)
        func measure(_ weights: [Tensor], _ s: UInt64) throws -> (Double, [Int], Int) {
            let (a, n) = adjacency(weights)
            let labels = try cluster(adjacency: a, n: n, k: k, seed: s)
            return (value(adjacency: a, n: n, labels: labels, k: k), labels, n)
        }
        let (nc, labels, n) = try measure(ws, seed)
        var g = SeededGenerator.derived(seed: seed, stream: 0x4C)
        var nulls: [Double] = []
        for d in 0..<max(0, nullDraws) {
            let shuffled = ws.map { w -> Tensor in var s = w.scalars; g.shuffle(&s); return Tensor(shape: w.shape, scalars: s) }
            nulls.append(try measure(shuffled, seed &+ UInt64(d) &+ 1).0)
        }
        var p: Double?, zs: Double?
        if !nulls.isEmpty {
            p = Double(nulls.filter { $0 < nc }.count + 1) / Double(nulls.count + 1)
            let mean = nulls.reduce(0, +) / Double(nulls.count)
            let sd = (nulls.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(nulls.count)).squareRoot()
            zs = sd > 0 ? (nc - mean) / sd : nil
        }
        return NCutResult(k: k, ncut: nc, nodes: n, isolated: labels.filter { $0 < 0 }.count, labels: labels, nullValues: nulls,
                          pValue: p, zScore: zs)
    }
}
