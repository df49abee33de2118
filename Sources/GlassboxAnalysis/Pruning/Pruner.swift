import Foundation
import GlassboxCore
import GlassboxData
import GlassboxNN

/// How pruned models are retrained (from their surviving weights, masks fixed).
public struct RetrainConfig: Codable, Equatable, Sendable {
    public var epochs: Int
    public var batchSize: Int
    /// Han et al. retrain LeNets at 1/10 of the original rate: `.sgd(lr: 0.01)` after training at 0.1.
    public var optimizer: OptimizerConfig
    public var seed: UInt64

    public init(epochs: Int, batchSize: Int = 100, optimizer: OptimizerConfig = .sgd(lr: 0.01), seed: UInt64 = 0) {
        self.epochs = epochs; self.batchSize = batchSize; self.optimizer = optimizer; self.seed = seed
    }

    func validate() throws {
        guard epochs >= 0 else { throw GlassboxError.invalidArgument(name: "retrain epochs", expected: "a whole number ≥ 0", found: "\(epochs)") }
        guard batchSize > 0 else { throw GlassboxError.invalidArgument(name: "batch", expected: "a whole number ≥ 1", found: "\(batchSize)") }
        let lr = optimizer.learningRate
        guard lr.isFinite, lr > 0 else { throw GlassboxError.invalidArgument(name: "lr", expected: "a learning rate > 0", found: "\(lr)") }
    }

    /// Retrains `model` in place; round `r` shuffles with its own seed so rounds differ but runs repeat.
    func run(_ model: Sequential, train: Dataset, test: Dataset, round: Int, label: String) throws -> [EpochRecord] {
        guard epochs > 0 else { return [] }
        let config = TrainConfig(epochs: epochs, batchSize: batchSize, optimizer: optimizer,
                                 seed: seed &+ UInt64(round) &* 0x9E37_79B9, evaluateEachEpoch: true)
        return try Trainer(model: model, config: config).fit(train: train, test: test, label: label).epochs
    }
}

/// Magnitude pruning with retraining: `rounds` times, prune by `criterion` then retrain.
public struct MagnitudePruningConfig: Codable, Equatable, Sendable {
    public var criterion: PruningCriterion
    public var scope: PruningScope
    public var granularity: PruningGranularity
    public var rounds: Int
    public var retrain: RetrainConfig
    /// Layer indices to prune (nil: every linear and convolution layer).
    public var layers: [Int]?

    public init(criterion: PruningCriterion, scope: PruningScope = .layer, granularity: PruningGranularity = .weights,
                rounds: Int = 1, retrain: RetrainConfig, layers: [Int]? = nil) {
        self.criterion = criterion; self.scope = scope; self.granularity = granularity; self.rounds = rounds
        self.retrain = retrain; self.layers = layers
    }
}

/// Region pruning of the first linear layer (METHODS §2, steps 2–5; step 1, training, happens before).
public struct RegionPruningConfig: Codable, Equatable, Sendable {
    /// Step 2: fraction of the first layer's weights pruned by |w| (0 skips it).
    public var magnitudeAmount: Double
    /// Step 2's reading: single weights by |w| (`weights`, the default), or, as "prune 50 % by L2 magnitude"
    /// can also be read, whole units (`units`, rows by L2 norm) or whole input pixels (`inputs`, columns).
    public var magnitudeGranularity: PruningGranularity
    /// Step 4: fraction of the regions pruned per pass.
    public var regionFraction: Double
    public var connectivity: Connectivity
    public var ranking: RegionRanking
    /// How many times steps 3–5 run.
    public var repeats: Int
    public var retrain: RetrainConfig
    /// Image shape of the layer's input; nil: a square (784 → 28×28).
    public var imageHeight: Int?
    public var imageWidth: Int?

    public init(magnitudeAmount: Double = 0.5, magnitudeGranularity: PruningGranularity = .weights, regionFraction: Double = 0.4,
                connectivity: Connectivity = .four, ranking: RegionRanking = .global, repeats: Int = 1, retrain: RetrainConfig,
                imageHeight: Int? = nil, imageWidth: Int? = nil) {
        self.magnitudeAmount = magnitudeAmount; self.magnitudeGranularity = magnitudeGranularity; self.regionFraction = regionFraction; self.connectivity = connectivity
        self.ranking = ranking; self.repeats = repeats; self.retrain = retrain
        self.imageHeight = imageHeight; self.imageWidth = imageWidth
    }
}

public enum Pruner {
    /// Prunes `model` in place (masks through `Parameter.setMask`) and retrains after every round.
    public static func magnitude(_ model: Sequential, train: Dataset, test: Dataset, config: MagnitudePruningConfig,
                                 log: ((PruningRound) -> Void)? = nil) throws -> PruningResult {
        try MagnitudePruning.validate(config.criterion)
        try config.retrain.validate()
        guard config.rounds >= 1 else { throw GlassboxError.invalidArgument(name: "rounds", expected: "a whole number ≥ 1", found: "\(config.rounds)") }
        let targets = try PruningMeasure.targets(model, layers: config.layers)
        if config.granularity == .inputs, let conv = targets.first(where: { $0.parameter.value.shape.count != 2 }) {
            throw GlassboxError.invalidArgument(name: "granularity", expected: "inputs only for linear layers (columns of a 2-D weight)",
                                                found: "'\(conv.name)' of shape \(conv.parameter.value.shape)")
        }
        var rounds = [try PruningMeasure.round(model, index: 0, label: "trained", test: test, accuracyAfterPruning: nil, retraining: [])]
        log?(rounds[0])
        let what: String
        switch config.criterion {
        case let .amount(a): what = "\(format(a * 100)) % of the remaining"
        case let .stdMultiple(q): what = "|w| < \(format(q)) × std"
        }
        for r in 1...config.rounds {
            let current = try targets.map { t in
                try PruningTarget(name: t.name, values: t.parameter.value.scalars, mask: t.parameter.mask?.scalars, rows: t.rows)
            }
            let masks = try MagnitudePruning.prune(current, criterion: config.criterion, scope: config.scope, granularity: config.granularity)
            for (t, m) in zip(targets, masks) { t.parameter.setMask(Tensor(shape: t.parameter.value.shape, scalars: m)) }
            let afterPrune = try Trainer.evaluate(model, on: test).accuracy
            let history = try config.retrain.run(model, train: train, test: test, round: r, label: "retrain \(r)/\(config.rounds)")
            let label = "prune \(what)" + (history.isEmpty ? "" : " + retrain \(history.count) ep")
            rounds.append(try PruningMeasure.round(model, index: r, label: label, test: test, accuracyAfterPruning: afterPrune, retraining: history))
            log?(rounds[r])
        }
        let first = targets[0]
        let fractions = PruningMeasure.rowPrunedFractions(first.parameter)
        var settings: [String: String] = [
            "criterion": what, "scope": config.scope.rawValue, "granularity": config.granularity.rawValue,
            "rounds": "\(config.rounds)", "retrain epochs": "\(config.retrain.epochs)",
            "retrain lr": format(Double(config.retrain.optimizer.learningRate)),
        ]
        if let l = config.layers { settings["layers"] = l.map(String.init).joined(separator: ",") }
        return PruningResult(method: "magnitude", settings: settings, rounds: rounds, regionPasses: [], firstLayer: first.name,
                             unitPrunedFractions: fractions, unitSplit: UnitSplit(prunedFractions: fractions))
    }

    /// Region pruning of the first linear layer, in place: magnitude step, then `repeats` × (regions, retrain).
    public static func regions(_ model: Sequential, train: Dataset, test: Dataset, config: RegionPruningConfig,
                               log: ((PruningRound) -> Void)? = nil) throws -> PruningResult {
        try config.retrain.validate()
        guard config.repeats >= 1 else { throw GlassboxError.invalidArgument(name: "rounds", expected: "a whole number ≥ 1", found: "\(config.repeats)") }
        guard let index = model.layers.firstIndex(where: { $0 is Linear }), let lin = model.layers[index] as? Linear else {
            throw GlassboxError.invalidArgument(name: "model", expected: "an MLP whose first weight layer is linear", found: "'\(model.spec)'")
        }
        let (h, w) = try imageShape(lin.inFeatures, config)
        let name = "\(index).weight"
        let p = lin.weight
        var rounds = [try PruningMeasure.round(model, index: 0, label: "trained", test: test, accuracyAfterPruning: nil, retraining: [])]
        log?(rounds[0])
        if config.magnitudeAmount > 0 {
            let target = try PruningTarget(name: name, values: p.value.scalars, mask: p.mask?.scalars, rows: lin.outFeatures)
            let m = try MagnitudePruning.prune([target], criterion: .amount(config.magnitudeAmount), scope: .layer,
                                               granularity: config.magnitudeGranularity)[0]
            p.setMask(Tensor(shape: p.value.shape, scalars: m))
            let what = config.magnitudeGranularity == .weights ? "" : " \(config.magnitudeGranularity.rawValue)"
            rounds.append(try PruningMeasure.round(model, index: 1, label: "magnitude \(format(config.magnitudeAmount * 100)) %\(what) of \(name)",
                                                   test: test, accuracyAfterPruning: nil, retraining: []))
            rounds[1].accuracyAfterPruning = rounds[1].testAccuracy
            log?(rounds[1])
        }
        var passes: [RegionPass] = []
        let afterMagnitude = p.mask?.scalars ?? [Float](repeating: 1, count: p.value.count)
        for pass in 1...config.repeats {
            let mask = p.mask?.scalars ?? [Float](repeating: 1, count: p.value.count)
            let (newMask, record) = try RegionPruning.prunePass(weight: p.value.scalars, mask: mask, units: lin.outFeatures, height: h, width: w,
                                                                connectivity: config.connectivity, fraction: config.regionFraction,
                                                                ranking: config.ranking, pass: pass)
            passes.append(record)
            p.setMask(Tensor(shape: p.value.shape, scalars: newMask))
            let afterPrune = try Trainer.evaluate(model, on: test).accuracy
            let history = try config.retrain.run(model, train: train, test: test, round: pass, label: "retrain \(pass)/\(config.repeats)")
            let label = "regions \(format(config.regionFraction * 100)) % (\(record.regionsPruned)/\(record.regions))"
                + (history.isEmpty ? "" : " + retrain \(history.count) ep")
            rounds.append(try PruningMeasure.round(model, index: rounds.count, label: label, test: test, accuracyAfterPruning: afterPrune,
                                                   retraining: history))
            log?(rounds[rounds.count - 1])
        }
        let fractions = PruningMeasure.rowPrunedFractions(p)
        let finalMask = p.mask?.scalars ?? [Float](repeating: 1, count: p.value.count)
        let len = lin.inFeatures
        let regionFractions = (0..<lin.outFeatures).compactMap { u -> Double? in
            var survivors = 0, removed = 0
            for i in (u * len)..<((u + 1) * len) where afterMagnitude[i] != 0 {
                survivors += 1
                if finalMask[i] == 0 { removed += 1 }
            }
            // A unit the magnitude step emptied has nothing region pruning could remove: left out.
            return survivors == 0 ? nil : Double(removed) / Double(survivors)
        }
        let settings: [String: String] = [
            "magnitude amount": format(config.magnitudeAmount), "magnitude granularity": config.magnitudeGranularity.rawValue,
            "region fraction": format(config.regionFraction),
            "connectivity": "\(config.connectivity.rawValue)", "ranking": config.ranking.rawValue, "repeats": "\(config.repeats)",
            "retrain epochs": "\(config.retrain.epochs)", "retrain lr": format(Double(config.retrain.optimizer.learningRate)),
            "image": "\(h)×\(w)",
        ]
        return PruningResult(method: "regions", settings: settings, rounds: rounds, regionPasses: passes, firstLayer: name,
                             unitPrunedFractions: fractions, unitSplit: UnitSplit(prunedFractions: fractions),
                             regionPrunedFractions: regionFractions, regionSplit: UnitSplit(prunedFractions: regionFractions))
    }

    static func imageShape(_ inFeatures: Int, _ c: RegionPruningConfig) throws -> (Int, Int) {
        if let h = c.imageHeight, let w = c.imageWidth {
            guard h > 0, w > 0, h * w == inFeatures else {
                throw GlassboxError.invalidArgument(name: "image shape", expected: "height × width = \(inFeatures) inputs of the first layer",
                                                    found: "\(h)×\(w)")
            }
            return (h, w)
        }
        let side = Int(Double(inFeatures).squareRoot().rounded())
        guard side * side == inFeatures else {
            throw GlassboxError.invalidArgument(name: "model", expected: "a first linear layer with a square number of inputs (784 = 28×28) or an explicit image shape",
                                                found: "\(inFeatures) inputs")
        }
        return (side, side)
    }

    static func format(_ v: Double) -> String {
        v == v.rounded() && abs(v) < 1e9 ? String(Int(v)) : String(format: "%g", v)
    }
}
