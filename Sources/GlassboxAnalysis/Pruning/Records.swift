import GlassboxCore
import GlassboxData
import GlassboxNN

/// Kept weights of one weight tensor.
public struct LayerSparsity: Codable, Equatable, Sendable {
    /// Parameter name, e.g. `0.weight`.
    public var name: String
    public var total: Int
    public var kept: Int
    public var keptPercent: Double { total == 0 ? 100 : 100 * Double(kept) / Double(total) }

    public init(name: String, total: Int, kept: Int) { self.name = name; self.total = total; self.kept = kept }

    enum CodingKeys: String, CodingKey { case name, total, kept, keptPercent }
    public init(from d: Decoder) throws {
        let c = try d.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name); total = try c.decode(Int.self, forKey: .total)
        kept = try c.decode(Int.self, forKey: .kept)
    }
    public func encode(to e: Encoder) throws {
        var c = e.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name); try c.encode(total, forKey: .total); try c.encode(kept, forKey: .kept)
        try c.encode(keptPercent, forKey: .keptPercent)
    }
}

/// The state of the model after one round (round 0: the model as given).
public struct PruningRound: Codable, Equatable, Sendable {
    public var round: Int
    /// What the round did, e.g. "trained", "magnitude 50 %", "regions 40 % + retrain 15 epochs".
    public var label: String
    /// Test accuracy right after pruning, before retraining (nil for round 0).
    public var accuracyAfterPruning: Float?
    /// Test accuracy at the end of the round (after retraining when the round retrains).
    public var testAccuracy: Float
    public var testLoss: Float
    /// Every weight tensor of a linear or convolution layer (biases are never pruned and not counted here).
    public var layers: [LayerSparsity]
    public var totalWeights: Int
    public var keptWeights: Int
    public var biases: Int
    /// Bytes of the dense float32 model (weights + biases).
    public var denseBytes: Int
    /// Bytes when stored sparsely: kept weights as float32 plus one 32-bit index each, biases dense.
    public var sparseBytes: Int
    /// Training epochs of the retraining (empty when the round did not retrain).
    public var retraining: [EpochRecord]

    public var keptPercent: Double { totalWeights == 0 ? 100 : 100 * Double(keptWeights) / Double(totalWeights) }
    /// totalWeights / keptWeights (Han et al.'s "×" figure).
    public var compression: Double { keptWeights == 0 ? .infinity : Double(totalWeights) / Double(keptWeights) }
}

/// Per-unit pruned share of the first pruned layer, split the way Takehana & Ozaki report it.
public struct UnitSplit: Codable, Equatable, Sendable {
    public var units: Int
    /// Units with more than 90 % of their weights pruned.
    public var above90: Int
    /// Units with less than 40 % pruned.
    public var below40: Int
    public var between: Int
    public var above90Share: Double { units == 0 ? 0 : Double(above90) / Double(units) }
    public var below40Share: Double { units == 0 ? 0 : Double(below40) / Double(units) }

    public init(prunedFractions: [Double]) {
        units = prunedFractions.count
        above90 = prunedFractions.filter { $0 > 0.9 }.count
        below40 = prunedFractions.filter { $0 < 0.4 }.count
        between = units - above90 - below40
    }
}

/// One region-pruning pass (steps 3–5 of METHODS §2).
public struct RegionPass: Codable, Equatable, Sendable {
    public var pass: Int
    /// Connected regions found over all units before the pass.
    public var regions: Int
    public var regionsPruned: Int
    public var weightsPruned: Int
    /// Score (mean |w|) of the last region pruned: regions scoring at most this went.
    public var scoreThreshold: Double?
}

/// Everything one pruning run measured. `rounds[0]` is the model before pruning.
public struct PruningResult: Codable, Equatable, Sendable {
    /// "magnitude" or "regions".
    public var method: String
    /// The settings in words, for tables and logs.
    public var settings: [String: String]
    public var rounds: [PruningRound]
    /// Region passes (region pruning only).
    public var regionPasses: [RegionPass]
    /// The first pruned layer's name and, per unit (row), the fraction of its weights pruned.
    public var firstLayer: String
    public var unitPrunedFractions: [Double]
    public var unitSplit: UnitSplit
    /// Region pruning only: per unit, the fraction of the weights that survived the magnitude step (2) which the
    /// region passes then removed, and the same split over these fractions. With unstructured step 2 both splits
    /// say much the same; with structured step 2 every unit loses 50 % there and only this one shows what region
    /// pruning did. Units that the magnitude step emptied (structured by units) are left out.
    public var regionPrunedFractions: [Double]?
    public var regionSplit: UnitSplit?

    public var before: PruningRound { rounds[0] }
    public var after: PruningRound { rounds[rounds.count - 1] }
}

/// Measuring masks on a model.
public enum PruningMeasure {
    /// The weight tensors pruning applies to: `weight` of every Linear and Conv2d layer, or of the layers whose
    /// indices are given (as in checkpoint names: layer 0 → `0.weight`).
    public static func targets(_ model: Sequential, layers: [Int]? = nil) throws -> [(name: String, parameter: Parameter, rows: Int)] {
        let indices = layers ?? model.layers.indices.filter { model.layers[$0] is Linear || model.layers[$0] is Conv2d }
        guard !indices.isEmpty else {
            throw GlassboxError.invalidArgument(name: "model", expected: "a model with a linear or convolution layer", found: "'\(model.spec)'")
        }
        return try indices.map { i in
            guard model.layers.indices.contains(i), let w = model.layers[i].parameter(named: "weight"),
                  model.layers[i] is Linear || model.layers[i] is Conv2d else {
                throw GlassboxError.invalidArgument(name: "layers", expected: "indices of linear or convolution layers of '\(model.spec)'",
                                                    found: "\(i)")
            }
            return ("\(i).weight", w, w.value.shape[0])
        }
    }

    public static func sparsity(_ model: Sequential) -> [LayerSparsity] {
        ((try? targets(model)) ?? []).map { LayerSparsity(name: $0.name, total: $0.parameter.value.count, kept: $0.parameter.keptCount) }
    }

    /// Fraction of each row's weights that the mask removes (0 when unmasked).
    public static func rowPrunedFractions(_ p: Parameter) -> [Double] {
        let rows = p.value.shape[0], len = p.value.count / max(1, rows)
        guard let m = p.mask else { return [Double](repeating: 0, count: rows) }
        return (0..<rows).map { r in
            var pruned = 0
            for i in (r * len)..<((r + 1) * len) where m[flat: i] == 0 { pruned += 1 }
            return Double(pruned) / Double(len)
        }
    }

    /// Per input (column), the fraction of rows that keep their weight to it — Han et al.'s fc1 sparsity
    /// pattern folded over the units (an input pixel's share of surviving connections).
    public static func inputSurvival(_ p: Parameter) -> [Double] {
        let rows = p.value.shape[0], len = p.value.count / max(1, rows)
        guard let m = p.mask else { return [Double](repeating: 1, count: len) }
        var kept = [Int](repeating: 0, count: len)
        m.withUnsafeBufferPointer { mp in
            for r in 0..<rows { for c in 0..<len where mp[r * len + c] != 0 { kept[c] += 1 } }
        }
        return kept.map { Double($0) / Double(rows) }
    }

    /// A round record of the model's current state, evaluated on `test`.
    public static func round(_ model: Sequential, index: Int, label: String, test: Dataset, accuracyAfterPruning: Float?,
                             retraining: [EpochRecord]) throws -> PruningRound {
        let ev = try Trainer.evaluate(model, on: test)
        let layers = sparsity(model)
        let total = layers.reduce(0) { $0 + $1.total }, kept = layers.reduce(0) { $0 + $1.kept }
        let biases = model.parameterCount - total
        return PruningRound(round: index, label: label, accuracyAfterPruning: accuracyAfterPruning, testAccuracy: ev.accuracy,
                            testLoss: ev.loss, layers: layers, totalWeights: total, keptWeights: kept, biases: biases,
                            denseBytes: 4 * (total + biases), sparseBytes: 8 * kept + 4 * biases, retraining: retraining)
    }
}
