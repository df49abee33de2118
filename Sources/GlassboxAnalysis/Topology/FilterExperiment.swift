import GlassboxCore
import GlassboxData
import GlassboxNN

/// The filter experiment of METHODS.md §3.1: N small nets that differ only in their seed, each trained the same
/// way, with the k×k filters of chosen conv layers pooled at chosen optimiser steps (and at the end).
public struct FilterExperimentSettings: Codable, Equatable, Sendable {
    public static let defaultSpec = "input 1x28x28; conv 64 k3 p1; relu; maxpool 2; flatten; linear 10"
    public var spec = FilterExperimentSettings.defaultSpec
    public var nets = 16
    public var epochs = 1
    /// Train on the first N training samples only.
    public var trainLimit: Int?
    public var batchSize = 64
    /// Adam's rate.
    public var learningRate: Float = 0.002
    /// Conv weights whose filters are pooled, as parameter names.
    public var layers = ["0.weight"]
    /// Optimiser steps at which filters are pooled too (the final step always is).
    public var steps: [Int] = []
    /// Net i uses seed + i.
    public var seed: UInt64 = 0
    public init() {}
}

/// The filters of one layer of many nets pooled at one training step.
public struct FilterPool: Codable, Sendable {
    /// Optimiser step the filters were taken at.
    public var step: Int
    /// The layer's parameter name (nil in results written before layers were recorded: the result's `layer`).
    public var layer: String?
    /// Row-major `count × kernel²` values.
    public var values: [Float]
    public var count: Int
}

/// The pooled filters per layer and step, with the nets' test accuracies.
public struct FilterExperimentResult: Codable, Sendable {
    public var spec: String
    public var data: String
    /// The first of `layers`.
    public var layer: String
    /// Every layer pooled (nil in older results: just `layer`).
    public var layers: [String]?
    public var nets: Int
    public var kernel: Int
    public var testAccuracies: [Float]
    public var pools: [FilterPool]

    /// Where the pool of `layer` (default: the first) at `at` is: `final`, `first` or a step number.
    public func pool(layer: String? = nil, at: String = "final") throws -> FilterPool {
        let pooled = layers ?? [self.layer]
        let l = layer ?? pooled[0]
        guard pooled.contains(l) else { throw GlassboxError.invalidArgument(name: "layer", expected: "one of the pooled layers \(pooled)", found: "'\(l)'") }
        let pools = self.pools.filter { ($0.layer ?? self.layer) == l }
        let found: FilterPool?
        switch at {
        case "final": found = pools.last
        case "first": found = pools.first
        default: found = Int(at).flatMap { s in pools.first { $0.step == s } }
        }
        guard let p = found else {
            throw GlassboxError.invalidArgument(name: "at", expected: "final, first or one of the steps \(pools.map(\.step))", found: "'\(at)'")
        }
        return p
    }

    /// The pool's filters as points in R^(k·k).
    public func cloud(_ p: FilterPool) throws -> PointCloud {
        try PointCloud(values: p.values.map(Double.init), dimension: kernel * kernel)
    }
}

/// One net's contribution: its filters per (layer, step) and its test accuracy.
public struct FilterNet: Codable, Sendable {
    public var index: Int
    /// `[layer index in settings.layers][pooled step index]` → filter values.
    public var filters: [[[Float]]]
    public var steps: [Int]
    public var testAccuracy: Float
}

public enum FilterExperiment {
    /// Checks the settings against the model and the data: the conv layers, their common kernel size, the steps.
    /// Returns the kernel size and the number of optimiser steps of one net.
    public static func check(_ s: FilterExperimentSettings, trainCount: Int) throws -> (kernel: Int, totalSteps: Int) {
        guard s.nets >= 1 else { throw GlassboxError.invalidArgument(name: "nets", expected: "a whole number ≥ 1", found: "\(s.nets)") }
        guard s.epochs >= 1, s.batchSize >= 1 else {
            throw GlassboxError.invalidArgument(name: "epochs", expected: "epochs and batch ≥ 1", found: "\(s.epochs), \(s.batchSize)")
        }
        guard !s.layers.isEmpty, Set(s.layers).count == s.layers.count else {
            throw GlassboxError.invalidArgument(name: "layers", expected: "a list of distinct conv weights such as [0.weight, 3.weight]", found: "\(s.layers)")
        }
        let spec = try ModelSpec.parse(s.spec)
        let probe = try Sequential(spec: spec, seed: s.seed)
        var kernel = 0
        for layer in s.layers {
            guard let p = probe.parameter(named: layer) else {
                let weights = probe.namedParameters.map(\.name).filter { $0.hasSuffix("weight") }
                throw GlassboxError.invalidArgument(name: "layers", expected: "parameters of the model (\(weights.joined(separator: ", ")))", found: "'\(layer)'")
            }
            let shape = p.value.shape
            guard shape.count == 4, shape[2] == shape[3], kernel == 0 || shape[2] == kernel else {
                throw GlassboxError.invalidArgument(name: "layers", expected: "conv weights [out, in, k, k] with one kernel size",
                                                    found: "'\(layer)' of shape \(shape)")
            }
            kernel = shape[2]
        }
        let n = min(trainCount, s.trainLimit ?? trainCount)
        let total = (n + s.batchSize - 1) / s.batchSize * s.epochs
        if let bad = s.steps.first(where: { $0 < 1 || $0 > total }) {
            throw GlassboxError.invalidArgument(name: "steps", expected: "steps in 1…\(total) (\(s.epochs) epoch(s) × \((n + s.batchSize - 1) / s.batchSize) batches)",
                                                found: "\(bad)")
        }
        return (kernel, total)
    }

    /// The training data the nets see (the first `trainLimit` samples).
    static func trainingData(_ s: FilterExperimentSettings, _ train: Dataset) -> Dataset {
        if let limit = s.trainLimit, limit < train.count { return train.subset(Array(0..<limit)) }
        return train
    }

    /// Trains net `index` (seed + index) and collects its filters at the chosen steps and at the end. Nets are
    /// independent: they can run in any order, in any process.
    public static func trainNet(_ index: Int, settings s: FilterExperimentSettings, train: Dataset, test: Dataset,
                                label: String = "net") throws -> FilterNet {
        let (_, total) = try check(s, trainCount: train.count)
        let data = trainingData(s, train)
        let netSeed = s.seed &+ UInt64(index)
        let model = try Sequential(spec: try ModelSpec.parse(s.spec), seed: netSeed)
        var config = TrainingSettings()
        config.epochs = s.epochs; config.batchSize = s.batchSize; config.optimizer = .adam; config.learningRate = s.learningRate
        config.seed = netSeed; config.checkpointSteps = s.steps.filter { $0 < total }
        var filters = s.layers.map { _ in [[Float]]() }
        var steps: [Int] = []
        func collect(_ m: Sequential, step: Int) throws {
            steps.append(step)
            for (li, layer) in s.layers.enumerated() { filters[li].append(try ModelAccess.parameter(m, layer).value.scalars) }
        }
        let trainer = Trainer(model: model, config: try config.config())
        trainer.onCheckpoint = { step, m in try collect(m, step: step) }
        let history = try trainer.fit(train: data, test: test, label: label)
        try collect(model, step: history.steps)
        return FilterNet(index: index, filters: filters, steps: steps, testAccuracy: history.epochs.last?.testAccuracy ?? .nan)
    }

    /// Pools the nets' filters (in net order, whatever order they were trained in) per layer and step.
    public static func pool(_ nets: [FilterNet], settings s: FilterExperimentSettings, data: String, kernel: Int) -> FilterExperimentResult {
        let ordered = nets.sorted { $0.index < $1.index }
        var pools: [FilterPool] = []
        let d = kernel * kernel
        for (li, layer) in s.layers.enumerated() {
            let steps = Array(Set(ordered.flatMap(\.steps))).sorted()
            for step in steps {
                var values: [Float] = []
                for n in ordered { if let i = n.steps.firstIndex(of: step) { values += n.filters[li][i] } }
                pools.append(FilterPool(step: step, layer: layer, values: values, count: values.count / max(1, d)))
            }
        }
        return FilterExperimentResult(spec: (try? ModelSpec.parse(s.spec).description) ?? s.spec, data: data, layer: s.layers[0], layers: s.layers,
                                      nets: s.nets, kernel: kernel, testAccuracies: ordered.map(\.testAccuracy), pools: pools)
    }

    /// All nets in this process, one after the other.
    public static func run(_ s: FilterExperimentSettings, train: Dataset, test: Dataset, data: String, label: String = "filters") throws -> FilterExperimentResult {
        let (kernel, _) = try check(s, trainCount: train.count)
        let nets = try (0..<s.nets).map { try trainNet($0, settings: s, train: train, test: test, label: "\(label) net \($0 + 1)/\(s.nets)") }
        return pool(nets, settings: s, data: data, kernel: kernel)
    }
}

/// Points from a checkpoint's conv layer: every `(out, in)` k×k slice of the weight is one point in R^(k·k).
public enum FilterPoints {
    public static func fromLayer(_ model: Sequential, _ layer: String) throws -> PointCloud {
        let p = try ModelAccess.parameter(model, layer)
        let shape = p.value.shape
        guard shape.count == 4, shape[2] == shape[3] else {
            throw GlassboxError.invalidArgument(name: "layer", expected: "a conv weight [out, in, k, k]", found: "'\(layer)' of shape \(shape)")
        }
        return try PointCloud(values: p.value.scalars.map(Double.init), dimension: shape[2] * shape[3])
    }
}
