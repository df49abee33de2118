import Foundation
import GlassboxCore
import GlassboxData
import GlassboxNN

/// Which edge weights the co-clustering of a Linear layer uses.
public enum Affinity: String, Codable, CaseIterable, Sendable {
    /// `|W|`.
    case weight
    /// Mean over training batches of `|∂L/∂W|` (Glassbox's documented gradient-based choice).
    case gradient
    /// Mean over training batches of `|W ⊙ ∂L/∂W|`.
    case weightGradient = "weight-gradient"
}

/// A co-clustering of a Linear layer `W [out, in]`: cluster `c` is the pair (rows `U_c`, columns `V_c`).
/// Label −1 marks a row or column in no cluster: a dead unit (all-zero affinity), or a remainder unit of
/// contiguous blocks.
public struct CoClustering: Codable, Equatable, Sendable {
    public var k: Int
    public var rowLabels: [Int]
    public var columnLabels: [Int]
    /// Rows (output units) whose affinity row is all zero: they get no cluster signal and no cluster.
    public var deadRows: [Int]
    /// Columns (input units) whose affinity column is all zero.
    public var deadColumns: [Int]
    /// Leading singular values of the normalised affinity, descending (the first is the trivial 1).
    public var singularValues: [Float]

    public init(k: Int, rowLabels: [Int], columnLabels: [Int], deadRows: [Int] = [], deadColumns: [Int] = [],
                singularValues: [Float] = []) {
        self.k = k; self.rowLabels = rowLabels; self.columnLabels = columnLabels
        self.deadRows = deadRows; self.deadColumns = deadColumns; self.singularValues = singularValues
    }

    public var rows: Int { rowLabels.count }
    public var columns: Int { columnLabels.count }
    public func rows(of c: Int) -> [Int] { rowLabels.indices.filter { rowLabels[$0] == c } }
    public func columns(of c: Int) -> [Int] { columnLabels.indices.filter { columnLabels[$0] == c } }
    /// `[|U_c|, |V_c|]` per cluster.
    public var sizes: [[Int]] { (0..<k).map { c in [rowLabels.filter { $0 == c }.count, columnLabels.filter { $0 == c }.count] } }

    /// The authors' from-scratch assignment: k contiguous blocks of `rows/k × columns/k`; remainder units get −1.
    public static func contiguous(rows: Int, columns: Int, k: Int) throws -> CoClustering {
        guard k >= 1, k <= rows, k <= columns else {
            throw GlassboxError.invalidArgument(name: "k", expected: "1 … min(rows, columns) = \(min(rows, columns))", found: "\(k)")
        }
        let rb = rows / k, cb = columns / k
        return CoClustering(k: k, rowLabels: (0..<rows).map { $0 / rb < k ? $0 / rb : -1 },
                            columnLabels: (0..<columns).map { $0 / cb < k ? $0 / cb : -1 })
    }

    /// Checks that this clustering fits a weight of shape `[rows, columns]`.
    public func check(against shape: [Int], what: String) throws {
        guard shape.count == 2, shape[0] == rows, shape[1] == columns else {
            throw GlassboxError.shapeMismatch(what: "\(what): clusters", expected: [rows, columns], found: shape)
        }
    }

    /// A permutation of rows (and one of columns) that lists cluster 0 first, then 1, …, unclustered units last.
    public var rowOrder: [Int] { Self.order(rowLabels) }
    public var columnOrder: [Int] { Self.order(columnLabels) }
    static func order(_ labels: [Int]) -> [Int] {
        labels.indices.sorted { a, b in
            let la = labels[a] < 0 ? Int.max : labels[a], lb = labels[b] < 0 ? Int.max : labels[b]
            return la != lb ? la < lb : a < b
        }
    }
}

/// Bipartite spectral graph co-clustering (Dhillon 2001), `dhillon` variant as in METHODS.md §1.
public enum BSGC {
    /// Number of singular vectors kept after the trivial one: ⌈log₂ k⌉.
    public static func vectorCount(k: Int) -> Int {
        var l = 0
        while (1 << l) < k { l += 1 }
        return max(1, l)
    }

    /// Co-clusters a non-negative affinity `A [rows, columns]` into `k` co-clusters.
    public static func coCluster(affinity a: Tensor, k: Int, seed: UInt64, restarts: Int = 10) throws -> CoClustering {
        guard a.rank == 2 else { throw GlassboxError.shapeMismatch(what: "affinity", expected: [-1, -1], found: a.shape) }
        let m = a.shape[0], n = a.shape[1]
        guard k >= 2 else { throw GlassboxError.invalidArgument(name: "k", expected: "at least 2 co-clusters", found: "\(k)") }
        for v in a.scalars where !(v >= 0) || !v.isFinite {
            throw GlassboxError.invalidArgument(name: "affinity", expected: "finite non-negative entries (pass |W|, not W)", found: "\(v)")
        }
        var rowSum = [Double](repeating: 0, count: m), colSum = [Double](repeating: 0, count: n)
        var fullRow = false  // a row touching every column connects the whole graph
        a.withUnsafeBufferPointer { p in
            for i in 0..<m {
                var nonzero = 0
                for j in 0..<n { let v = Double(p[i * n + j]); rowSum[i] += v; colSum[j] += v; if v > 0 { nonzero += 1 } }
                if nonzero == n { fullRow = true }
            }
        }
        // r = 1/√(row sums), c = 1/√(column sums), 1/0 → 0.
        let r = rowSum.map { $0 > 0 ? Float(1 / $0.squareRoot()) : 0 }
        let c = colSum.map { $0 > 0 ? Float(1 / $0.squareRoot()) : 0 }
        let deadRows = (0..<m).filter { rowSum[$0] == 0 }, deadCols = (0..<n).filter { colSum[$0] == 0 }
        let liveRows = m - deadRows.count, liveCols = n - deadCols.count
        guard liveRows + liveCols >= k, liveRows >= 1, liveCols >= 1 else {
            throw GlassboxError.invalidArgument(name: "affinity", expected: "at least \(k) live rows and columns for k = \(k)",
                                                found: "\(liveRows) live rows, \(liveCols) live columns")
        }
        // A graph of exactly k connected parts has a normalised cut of 0 along them; its singular value 1 is then
        // k-fold, and ⌈log₂ k⌉ vectors picked from that space need not separate the parts, so take them directly.
        if !fullRow, let parts = components(a, m: m, n: n, rowSum: rowSum, colSum: colSum), parts.count == k {
            var rl = [Int](repeating: -1, count: m), cl = [Int](repeating: -1, count: n)
            for (c, members) in parts.enumerated() { for o in members { if o >= 0 { rl[o] = c } else { cl[-1 - o] = c } } }
            return CoClustering(k: k, rowLabels: rl, columnLabels: cl, deadRows: deadRows, deadColumns: deadCols,
                                singularValues: [Float](repeating: 1, count: 1 + vectorCount(k: k)))
        }
        let l = vectorCount(k: k)
        guard 1 + l <= min(m, n) else {
            throw GlassboxError.invalidArgument(name: "k", expected: "1 + ⌈log₂ k⌉ ≤ min(rows, columns) = \(min(m, n))", found: "\(k)")
        }
        var an = a.scalars
        for i in 0..<m { for j in 0..<n { an[i * n + j] *= r[i] * c[j] } }
        let (u, s, v) = try LinearAlgebra.svd(an, m: m, n: n)
        let p = min(m, n)
        // Z = [diag(r)·U ; diag(c)·V] over vectors 2 … 1+l, live units only.
        var z = [Double](repeating: 0, count: (liveRows + liveCols) * l)
        var owner: [Int] = []  // ≥ 0: row index; < 0: −1 − column index
        owner.reserveCapacity(liveRows + liveCols)
        var q = 0
        for i in 0..<m where rowSum[i] > 0 {
            for t in 0..<l { z[q * l + t] = Double(r[i] * u[i * p + 1 + t]) }
            owner.append(i); q += 1
        }
        for j in 0..<n where colSum[j] > 0 {
            for t in 0..<l { z[q * l + t] = Double(c[j] * v[j * p + 1 + t]) }
            owner.append(-1 - j); q += 1
        }
        let km = try KMeans.fit(points: z, count: q, dim: l, k: k, restarts: restarts, seed: seed)
        var rowLabels = [Int](repeating: -1, count: m), colLabels = [Int](repeating: -1, count: n)
        for (idx, o) in owner.enumerated() {
            if o >= 0 { rowLabels[o] = km.labels[idx] } else { colLabels[-1 - o] = km.labels[idx] }
        }
        return CoClustering(k: k, rowLabels: rowLabels, columnLabels: colLabels, deadRows: deadRows, deadColumns: deadCols,
                            singularValues: Array(s.prefix(1 + l)))
    }

    /// Connected parts of the bipartite graph of live rows and columns (members: row i ≥ 0, column j as −1 − j),
    /// ordered by their smallest row index (then column); nil when there are more than 64 parts.
    static func components(_ a: Tensor, m: Int, n: Int, rowSum: [Double], colSum: [Double]) -> [[Int]]? {
        var parent = Array(0..<(m + n))
        func find(_ x: Int) -> Int { var x = x; while parent[x] != x { parent[x] = parent[parent[x]]; x = parent[x] }; return x }
        a.withUnsafeBufferPointer { p in
            for i in 0..<m { for j in 0..<n where p[i * n + j] > 0 {
                let ra = find(i), rb = find(m + j)
                if ra != rb { parent[max(ra, rb)] = min(ra, rb) }
            } }
        }
        var index: [Int: Int] = [:], parts: [[Int]] = []
        for x in 0..<(m + n) {
            if x < m ? rowSum[x] == 0 : colSum[x - m] == 0 { continue }
            let r = find(x)
            if index[r] == nil { index[r] = parts.count; parts.append([]); if parts.count > 64 { return nil } }
            parts[index[r]!].append(x < m ? x : -1 - (x - m))
        }
        return parts
    }

    /// Co-clusters a weight matrix on `|W|` (never a shifted W).
    public static func coCluster(weight w: Tensor, k: Int, seed: UInt64, restarts: Int = 10) throws -> CoClustering {
        try coCluster(affinity: Tensor(shape: w.shape, scalars: w.scalars.map { abs($0) }), k: k, seed: seed, restarts: restarts)
    }

    /// The affinity of a model's Linear layer. `data` and `batches` are needed for the gradient-based kinds:
    /// the mean over up to `batches` training batches (of `batchSize`, in data order) of `|∂L/∂W|` or `|W ⊙ ∂L/∂W|`,
    /// with L the batch-mean cross-entropy.
    public static func affinity(_ kind: Affinity, model: Sequential, layer: String, data: Dataset? = nil,
                                batchSize: Int = 64, batches: Int? = nil) throws -> Tensor {
        let lin = try ModelAccess.linear(model, layer)
        let w = lin.weight.value
        if kind == .weight { return Tensor(shape: w.shape, scalars: w.scalars.map { abs($0) }) }
        guard let data else {
            throw GlassboxError.invalidArgument(name: "affinity", expected: "a data set for the '\(kind.rawValue)' affinity", found: "none")
        }
        try Trainer.checkCompatible(model, data)
        let saved = model.namedParameters.map { $0.parameter.grad }
        defer { for (p, g) in zip(model.namedParameters.map(\.parameter), saved) { p.grad = g } }
        let nb = min(batches ?? Int.max, (data.count + batchSize - 1) / batchSize)
        guard nb > 0 else { throw GlassboxError.invalidArgument(name: "data", expected: "at least one sample", found: "none") }
        var acc = [Double](repeating: 0, count: w.count)
        for b in 0..<nb {
            let range = (b * batchSize)..<min(data.count, (b + 1) * batchSize)
            try ModelAccess.lossGradient(model, images: data.images.rows(range), labels: Array(data.labels[range]))
            let g = lin.weight.grad.scalars
            if kind == .gradient {
                for i in 0..<g.count { acc[i] += Double(abs(g[i])) }
            } else {
                for i in 0..<g.count { acc[i] += Double(abs(g[i] * w.scalars[i])) }
            }
        }
        return Tensor(shape: w.shape, scalars: acc.map { Float($0 / Double(nb)) })
    }
}
