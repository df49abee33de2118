import GlassboxCore

/// Clusterability of a weight under a co-clustering, its random baseline and a shuffle null.
public struct ClusterabilityReport: Codable, Equatable, Sendable {
    /// `C = Σ_c Σ_{i∈U_c, j∈V_c} W² / Σ W²`.
    public var clusterability: Float
    /// `Σ_c |U_c|·|V_c| / (rows·columns)`.
    public var baseline: Float
    /// `1 − C`.
    public var enmeshment: Float
    /// C of each shuffled W, re-clustered (empty when no null was asked for).
    public var nullValues: [Float]
    /// `(#{null ≥ C} + 1)/(n + 1)`, nil without a null.
    public var pValue: Float?
    public var clusters: CoClustering
}

public enum Clusterability {
    /// C of `w` under `clusters` (squared weights). 0 for an all-zero W.
    public static func value(_ w: Tensor, _ clusters: CoClustering) throws -> Float {
        try clusters.check(against: w.shape, what: "clusterability")
        let m = clusters.rows, n = clusters.columns
        var inside = 0.0, total = 0.0
        w.withUnsafeBufferPointer { p in
            for i in 0..<m {
                let ri = clusters.rowLabels[i]
                for j in 0..<n {
                    let v = Double(p[i * n + j]); let s = v * v
                    total += s
                    if ri >= 0 && ri == clusters.columnLabels[j] { inside += s }
                }
            }
        }
        return total > 0 ? Float(inside / total) : 0
    }

    /// The expected C of a matrix with i.i.d. entries: `Σ_c |U_c|·|V_c| / (rows·columns)`.
    public static func baseline(_ clusters: CoClustering) -> Float {
        let s = clusters.sizes.reduce(0) { $0 + $1[0] * $1[1] }
        return Float(s) / Float(max(1, clusters.rows * clusters.columns))
    }

    /// BSGC on `|W|`, C, the baseline and (with `nullDraws` > 0) the shuffle null: W's entries permuted
    /// (seeded), re-clustered with the same k, and C measured on each shuffled matrix.
    public static func assess(weight w: Tensor, k: Int, seed: UInt64, nullDraws: Int = 50, restarts: Int = 10) throws -> ClusterabilityReport {
        let clusters = try BSGC.coCluster(weight: w, k: k, seed: seed, restarts: restarts)
        return try assess(weight: w, clusters: clusters, seed: seed, nullDraws: nullDraws, restarts: restarts)
    }

    /// As above with given clusters (e.g. from a gradient affinity); the null re-clusters each shuffle on `|W|`.
    public static func assess(weight w: Tensor, clusters: CoClustering, seed: UInt64, nullDraws: Int = 50,
                              restarts: Int = 10) throws -> ClusterabilityReport {
        let c = try value(w, clusters)
        var nulls: [Float] = []
        var g = SeededGenerator.derived(seed: seed, stream: 0xC1)
        for d in 0..<max(0, nullDraws) {
            var s = w.scalars
            g.shuffle(&s)
            let ws = Tensor(shape: w.shape, scalars: s)
            // A shuffle may be degenerate (e.g. mostly zeros leaving too few live units); it then counts as C = 0.
            if let cs = try? BSGC.coCluster(weight: ws, k: clusters.k, seed: seed &+ UInt64(d) &+ 1, restarts: restarts) {
                nulls.append(try value(ws, cs))
            } else {
                nulls.append(0)
            }
        }
        let p: Float? = nulls.isEmpty ? nil : Float(nulls.filter { $0 >= c }.count + 1) / Float(nulls.count + 1)
        return ClusterabilityReport(clusterability: c, baseline: baseline(clusters), enmeshment: 1 - c, nullValues: nulls,
                                    pValue: p, clusters: clusters)
    }
}
