import GlassboxCore
import GlassboxData
import GlassboxNN

public enum PruningMethod: String, Codable, Sendable, CaseIterable {
    /// Han et al. 2015: by |w| (threshold q × std, or a fraction of the remaining weights), retraining after each round.
    case magnitude
    /// Takehana & Ozaki: magnitude step on the first linear layer, then connected regions of each unit's weights.
    case regions
}

/// Everything a user sets for one pruning run (`step: prune`, `glassbox prune`), with its defaults in one place.
/// `Pruner.run` checks it and turns it into the method's configuration.
public struct PruneSettings: Codable, Equatable, Sendable {
    public var method = PruningMethod.magnitude
    /// magnitude: the fraction of the remaining weights pruned per round; regions: the fraction of the regions
    /// (nil: 0.4).
    public var amount: Double?
    /// magnitude: prune |w| < q × std of the layer's kept weights.
    public var q: Double?
    /// Pruning rounds (regions: repeats of the region step and retraining).
    public var rounds = 1
    public var retrainEpochs = 1
    /// Retraining rate (SGD); nil: a tenth of the model's training rate, or 0.01 when that is unknown.
    public var learningRate: Float?
    public var momentum: Float = 0
    public var batchSize = 100
    /// magnitude: each layer on its own, or one ranking over all layers (nil: layer).
    public var scope: PruningScope?
    /// magnitude: weights, whole units (rows) or whole inputs (columns); regions: the magnitude step's granularity.
    public var granularity = PruningGranularity.weights
    /// magnitude: the layers pruned, as parameter names (`0.weight`); nil: every linear and conv layer.
    public var layers: [String]?
    /// regions: the share of first-layer weights pruned by |w| first.
    public var magnitudeAmount = 0.5
    public var connectivity = Connectivity.four
    public var ranking = RegionRanking.global
    public var seed: UInt64 = 0

    public init() {}

    /// The retraining rate in force for a model trained at `modelRate`.
    public func retrainRate(modelRate: Float?) -> Float { learningRate ?? modelRate.map { $0 / 10 } ?? 0.01 }
}

public extension Pruner {
    /// Prunes `model` in place as `settings` say; `modelRate` is the rate the model was trained at (for the
    /// default retraining rate). The one entry point of the recipe step and the command.
    static func run(_ model: Sequential, train: Dataset, test: Dataset, settings s: PruneSettings, modelRate: Float?,
                    log: ((PruningRound) -> Void)? = nil) throws -> PruningResult {
        let lr = s.retrainRate(modelRate: modelRate)
        guard lr.isFinite, lr > 0 else { throw GlassboxError.invalidArgument(name: "lr", expected: "a finite rate > 0", found: "\(lr)") }
        guard s.retrainEpochs >= 0 else { throw GlassboxError.invalidArgument(name: "retrain-epochs", expected: "a whole number ≥ 0", found: "\(s.retrainEpochs)") }
        let retrain = RetrainConfig(epochs: s.retrainEpochs, batchSize: s.batchSize, optimizer: .sgd(lr: lr, momentum: s.momentum), seed: s.seed)
        switch s.method {
        case .magnitude:
            let criterion: PruningCriterion
            switch (s.amount, s.q) {
            case let (amount?, nil): criterion = .amount(amount)
            case let (nil, q?): criterion = .stdMultiple(q)
            case (nil, nil):
                throw GlassboxError.invalidArgument(name: "amount", expected: "'amount' (fraction of the remaining weights) or 'q' (threshold q × std)", found: "neither")
            default: throw GlassboxError.invalidArgument(name: "q", expected: "either 'amount' or 'q', not both", found: "both")
            }
            let layers = try s.layers.map { try $0.map { try ModelAccess.layerIndex(model, $0) } }
            let config = MagnitudePruningConfig(criterion: criterion, scope: s.scope ?? .layer, granularity: s.granularity, rounds: s.rounds,
                                                retrain: retrain, layers: layers)
            return try magnitude(model, train: train, test: test, config: config, log: log)
        case .regions:
            if let q = s.q { throw GlassboxError.invalidArgument(name: "q", expected: "no 'q' with method regions (it prunes the first linear layer)", found: "\(q)") }
            if let sc = s.scope { throw GlassboxError.invalidArgument(name: "scope", expected: "no 'scope' with method regions (it prunes the first linear layer)", found: "'\(sc.rawValue)'") }
            if let l = s.layers { throw GlassboxError.invalidArgument(name: "layers", expected: "no 'layers' with method regions (it prunes the first linear layer)", found: "\(l)") }
            let config = RegionPruningConfig(magnitudeAmount: s.magnitudeAmount, magnitudeGranularity: s.granularity,
                                             regionFraction: s.amount ?? 0.4, connectivity: s.connectivity, ranking: s.ranking,
                                             repeats: s.rounds, retrain: retrain)
            return try regions(model, train: train, test: test, config: config, log: log)
        }
    }
}
