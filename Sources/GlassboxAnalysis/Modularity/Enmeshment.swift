import Foundation
import GlassboxCore
import GlassboxData
import GlassboxNN

/// The enmeshment loss `λ·mean_l (1 − C_l)` over chosen Linear layers with fixed co-clusters (one layer, the
/// default, gives `λ·(1 − C)`; several are averaged as in the authors' multi-layer code).
public struct EnmeshmentLoss: Sendable {
    public var lambda: Float
    /// Parameter name (`2.weight`) → its fixed co-clusters.
    public var layers: [(name: String, clusters: CoClustering)]

    public init(lambda: Float = 0.7, layers: [(name: String, clusters: CoClustering)]) {
        self.lambda = lambda; self.layers = layers
    }

    /// `∂(1−C)/∂W[i][j] = −(2·W[i][j]/S)·(1[(i,j) in a block] − C)`, `S = Σ W²`, scaled by `scale` and added to `grad`.
    /// Returns C. An all-zero W has no gradient.
    @discardableResult
    public static func addGradient(weight w: Tensor, clusters: CoClustering, scale: Float, into grad: inout Tensor) throws -> Float {
        try clusters.check(against: w.shape, what: "enmeshment loss")
        guard grad.shape == w.shape else { throw GlassboxError.shapeMismatch(what: "enmeshment gradient", expected: w.shape, found: grad.shape) }
        let m = clusters.rows, n = clusters.columns
        var inside = 0.0, total = 0.0
        w.withUnsafeBufferPointer { p in
            for i in 0..<m {
                let ri = clusters.rowLabels[i]
                for j in 0..<n {
                    let s = Double(p[i * n + j]) * Double(p[i * n + j])
                    total += s
                    if ri >= 0 && ri == clusters.columnLabels[j] { inside += s }
                }
            }
        }
        guard total > 0 else { return 0 }
        let c = inside / total
        let f = Float(-2 / total) * scale
        let cin = Float(1 - c), cout = Float(-c)
        w.withUnsafeBufferPointer { p in
            grad.withUnsafeMutableBufferPointer { g in
                for i in 0..<m {
                    let ri = clusters.rowLabels[i]
                    for j in 0..<n {
                        let inBlock = ri >= 0 && ri == clusters.columnLabels[j]
                        g[i * n + j] += f * p[i * n + j] * (inBlock ? cin : cout)
                    }
                }
            }
        }
        return Float(c)
    }

    /// The loss term's value for the model's current weights.
    public func value(_ model: Sequential) throws -> Float {
        guard !layers.isEmpty else { return 0 }
        var s: Float = 0
        for (name, cl) in layers { s += 1 - (try Clusterability.value(try ModelAccess.linear(model, name).weight.value, cl)) }
        return lambda * s / Float(layers.count)
    }

    /// Adds the term's gradient to the model's parameter gradients (as a `Trainer.gradientHook`).
    public func addGradient(_ model: Sequential) throws {
        let scale = lambda / Float(max(1, layers.count))
        for (name, cl) in layers {
            let p = try ModelAccess.linear(model, name).weight
            try Self.addGradient(weight: p.value, clusters: cl, scale: scale, into: &p.grad)
            if let m = p.mask { p.grad = Tensor(shape: p.grad.shape, scalars: zip(p.grad.scalars, m.scalars).map { $0 * $1 }) }
        }
    }
}

/// How a modular model is trained (METHODS.md §1).
public enum ModularMode: Codable, Equatable, Sendable {
    /// Pretrain `pretrainEpochs` without the loss → BSGC on each layer's |W| → train the rest with the loss.
    case fineTune(pretrainEpochs: Int)
    /// The loss from the first step, on contiguous blocks.
    case fromScratch
}

public struct ModularTrainingConfig: Sendable {
    /// Epochs (all of them, pretraining included), batch, optimiser, shuffling seed.
    public var train: TrainConfig
    public var lambda: Float
    public var k: Int
    /// Linear weights to regularise, e.g. ["2.weight"].
    public var layers: [String]
    public var mode: ModularMode
    /// Seed of the BSGC k-means (fine-tune mode).
    public var clusterSeed: UInt64

    public init(train: TrainConfig, lambda: Float = 0.7, k: Int = 4, layers: [String], mode: ModularMode = .fromScratch,
                clusterSeed: UInt64 = 0) {
        self.train = train; self.lambda = lambda; self.k = k; self.layers = layers; self.mode = mode; self.clusterSeed = clusterSeed
    }
}

public struct ModularTrainingResult: Codable, Sendable {
    /// The fixed clusters per regularised layer.
    public var clusters: [String: CoClustering]
    /// Per layer: C under the fixed clusters at the start of regularised training, then after every epoch of it.
    public var clusterabilityPerEpoch: [String: [Float]]
    /// Epoch records of both phases (numbered consecutively) and their optimiser steps.
    public var history: TrainingHistory
}

public enum ModularTraining {
    /// Trains `model` in place with the enmeshment loss.
    public static func train(_ model: Sequential, config: ModularTrainingConfig, train: Dataset, test: Dataset? = nil,
                             label: String = "modular") throws -> ModularTrainingResult {
        guard !config.layers.isEmpty else {
            throw GlassboxError.invalidArgument(name: "enmeshment layers", expected: "at least one Linear weight such as 2.weight", found: "none")
        }
        guard config.lambda >= 0, config.lambda.isFinite else {
            throw GlassboxError.invalidArgument(name: "lambda", expected: "a finite value ≥ 0", found: "\(config.lambda)")
        }
        let lins = try config.layers.map { try ModelAccess.linear(model, $0) }
        var history = Trainer(model: model, config: config.train).history  // empty until trained
        var clusters: [String: CoClustering] = [:]
        var rest = config.train
        switch config.mode {
        case let .fineTune(pre):
            guard pre >= 0, pre <= config.train.epochs else {
                throw GlassboxError.invalidArgument(name: "pretrain epochs", expected: "0 … \(config.train.epochs)", found: "\(pre)")
            }
            if pre > 0 {
                var c0 = config.train; c0.epochs = pre
                let t = Trainer(model: model, config: c0)
                history = try t.fit(train: train, test: test, label: "\(label) pretrain")
            }
            for (n, l) in zip(config.layers, lins) {
                clusters[n] = try BSGC.coCluster(weight: l.weight.value, k: config.k, seed: config.clusterSeed)
            }
            rest.epochs = config.train.epochs - pre
            rest.seed = config.train.seed &+ 1
        case .fromScratch:
            for (n, l) in zip(config.layers, lins) {
                clusters[n] = try CoClustering.contiguous(rows: l.outFeatures, columns: l.inFeatures, k: config.k)
            }
        }
        let loss = EnmeshmentLoss(lambda: config.lambda, layers: config.layers.map { ($0, clusters[$0]!) })
        var perEpoch: [String: [Float]] = [:]
        func log() throws { for (n, l) in zip(config.layers, lins) { perEpoch[n, default: []].append(try Clusterability.value(l.weight.value, clusters[n]!)) } }
        try log()
        if rest.epochs > 0 {
            let t = Trainer(model: model, config: rest)
            var hookError: Error?
            t.gradientHook = { m in do { try loss.addGradient(m) } catch { hookError = error } }
            var logError: Error?
            t.onEpoch = { _ in do { try log() } catch { logError = error } }
            let h = try t.fit(train: train, test: test, label: label)
            if let e = hookError ?? logError { throw e }
            let offset = history.epochs.count
            history.epochs += h.epochs.map { var r = $0; r.epoch += offset; return r }
            history.steps += h.steps
        }
        return ModularTrainingResult(clusters: clusters, clusterabilityPerEpoch: perEpoch, history: history)
    }
}
