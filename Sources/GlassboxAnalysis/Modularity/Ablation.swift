import GlassboxCore
import GlassboxData
import GlassboxNN

/// What a cluster ablation removes.
public enum AblationMode: String, Codable, CaseIterable, Sendable {
    /// `W[U_c, V_c] ← 0`: the cluster's within-block weights.
    case block
    /// Zero the rows `U_c`: the cluster's output units lose all incoming weights.
    case unit
}

/// Per-class test accuracy with each co-cluster of one layer removed.
public struct AblationResult: Codable, Equatable, Sendable {
    public var layer: String
    public var mode: AblationMode
    public var classNames: [String]
    /// Accuracy and per-class accuracy of the intact model.
    public var accuracy: Float
    public var perClassAccuracy: [Float]
    /// `[cluster][class]` per-class accuracy with cluster c ablated.
    public var ablatedPerClass: [[Float]]
    public var ablatedAccuracy: [Float]
    /// `Δacc[c][y] = acc_y(intact) − acc_y(c ablated)` (positive = the class got worse).
    public var delta: [[Float]]
    /// Per cluster: the class with the largest drop, and that drop's share of the summed positive drops (0 without drop).
    public var topClass: [Int]
    public var specialisation: [Float]
}

public enum ClusterAblation {
    /// Ablates each cluster of `clusters` in `layer` in turn and measures per-class accuracy on `test`.
    /// The model is left exactly as it was.
    public static func run(_ model: Sequential, layer: String, clusters: CoClustering, test: Dataset,
                           mode: AblationMode = .block) throws -> AblationResult {
        let lin = try ModelAccess.linear(model, layer)
        try clusters.check(against: lin.weight.value.shape, what: "ablation of \(layer)")
        let base = try Trainer.evaluate(model, on: test)
        let original = lin.weight.value
        defer { lin.weight.value = original }
        let n = clusters.columns
        var perClass: [[Float]] = [], overall: [Float] = []
        for c in 0..<clusters.k {
            var w = original
            let rows = clusters.rows(of: c), cols = clusters.columns(of: c)
            w.withUnsafeMutableBufferPointer { p in
                for i in rows {
                    if mode == .unit { for j in 0..<n { p[i * n + j] = 0 } } else { for j in cols { p[i * n + j] = 0 } }
                }
            }
            lin.weight.value = w
            let ev = try Trainer.evaluate(model, on: test)
            perClass.append(ev.perClassAccuracy)
            overall.append(ev.accuracy)
        }
        lin.weight.value = original
        let delta = perClass.map { row in zip(base.perClassAccuracy, row).map { $0 - $1 } }
        var top: [Int] = [], spec: [Float] = []
        for d in delta {
            let clean = d.map { $0.isNaN ? 0 : $0 }
            let t = clean.indices.max { clean[$0] < clean[$1] } ?? 0
            let pos = clean.reduce(0) { $0 + max(0, $1) }
            top.append(t)
            spec.append(pos > 0 ? max(0, clean[t]) / pos : 0)
        }
        return AblationResult(layer: layer, mode: mode, classNames: test.classNames, accuracy: base.accuracy,
                              perClassAccuracy: base.perClassAccuracy, ablatedPerClass: perClass, ablatedAccuracy: overall,
                              delta: delta, topClass: top, specialisation: spec)
    }
}
