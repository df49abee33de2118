import Foundation
import GlassboxCore
import GlassboxData

/// Everything that defines a training run.
public struct TrainConfig: Codable, Equatable, Sendable {
    public var epochs: Int
    public var batchSize: Int
    public var optimizer: OptimizerConfig
    public var schedule: LRSchedule
    /// Seeds the shuffling of every epoch (model initialisation has its own seed in `Sequential.init`).
    public var seed: UInt64
    /// Optimiser steps (1-based, counted over the whole run) after which `onCheckpoint` is called.
    public var checkpointSteps: [Int]
    /// Also evaluate on the test set after every epoch (needs a test set).
    public var evaluateEachEpoch: Bool
    /// Each batch is split into this many fixed shards that run in parallel (one per thread, as far as there
    /// are threads) on copies of the model, and their gradients are summed in a fixed order. The split does
    /// not depend on the thread count, so the numbers are the same on any machine. 1 trains on the model
    /// itself (then `model.activations` holds each batch's activations for `onStep`).
    public var shards: Int

    public init(epochs: Int = 5, batchSize: Int = 100, optimizer: OptimizerConfig = .sgd(lr: 0.1), schedule: LRSchedule = .constant,
                seed: UInt64 = 0, checkpointSteps: [Int] = [], evaluateEachEpoch: Bool = true, shards: Int = 2) {
        self.epochs = epochs; self.batchSize = batchSize; self.optimizer = optimizer; self.schedule = schedule
        self.seed = seed; self.checkpointSteps = checkpointSteps; self.evaluateEachEpoch = evaluateEachEpoch
        self.shards = max(1, shards)
    }
}

extension TrainConfig {
    /// Checks every setting before training: sizes, and optimiser numbers that are finite and in range (a NaN or
    /// infinite learning rate would train to NaN weights). Names are the command line's (`--lr`, `--momentum`, …).
    public func validate() throws {
        func bad(_ name: String, _ expected: String, _ found: CustomStringConvertible) -> GlassboxError {
            .invalidArgument(name: name, expected: expected, found: "\(found)")
        }
        guard batchSize > 0 else { throw bad("batch-size", "a whole number ≥ 1", batchSize) }
        guard epochs >= 0 else { throw bad("epochs", "a whole number ≥ 0", epochs) }
        if let step = checkpointSteps.first(where: { $0 <= 0 }) { throw bad("checkpoint-steps", "positive step numbers", step) }
        try optimizer.validate()
        try schedule.validate()
    }
}

extension OptimizerConfig {
    /// Finite numbers in PyTorch's ranges: lr ≥ 0, momentum ≥ 0, weight decay ≥ 0, betas in [0, 1), eps ≥ 0.
    public func validate() throws {
        func check(_ name: String, _ v: Float, _ ok: Bool, _ expected: String) throws {
            guard v.isFinite, ok else { throw GlassboxError.invalidArgument(name: name, expected: expected, found: "\(v)") }
        }
        switch self {
        case let .sgd(lr, momentum, wd):
            try check("lr", lr, lr >= 0, "a finite learning rate ≥ 0")
            try check("momentum", momentum, momentum >= 0, "a finite momentum ≥ 0")
            try check("weight-decay", wd, wd >= 0, "a finite weight decay ≥ 0")
        case let .adam(lr, b1, b2, eps, wd):
            try check("lr", lr, lr >= 0, "a finite learning rate ≥ 0")
            try check("beta1", b1, b1 >= 0 && b1 < 1, "a number in [0, 1)")
            try check("beta2", b2, b2 >= 0 && b2 < 1, "a number in [0, 1)")
            try check("eps", eps, eps >= 0, "a finite number ≥ 0")
            try check("weight-decay", wd, wd >= 0, "a finite weight decay ≥ 0")
        }
    }
}

extension LRSchedule {
    /// Finite, positive factors: `step` needs EVERY ≥ 1 and GAMMA > 0, `cosine` a minimum ≥ 0.
    public func validate() throws {
        switch self {
        case .constant: return
        case let .step(every, gamma):
            guard every > 0, gamma.isFinite, gamma > 0 else {
                throw GlassboxError.invalidArgument(name: "schedule", expected: "step:EVERY:GAMMA with EVERY ≥ 1 and a finite GAMMA > 0",
                                                    found: "step:\(every):\(gamma)")
            }
        case let .cosine(minimum):
            guard minimum.isFinite, minimum >= 0 else {
                throw GlassboxError.invalidArgument(name: "schedule", expected: "cosine:MIN with a finite MIN ≥ 0", found: "cosine:\(minimum)")
            }
        }
    }
}

/// The divergence check of the training loop: a non-finite loss or weight stops training with an error naming
/// where it happened and what to change, instead of training on to a checkpoint full of NaN.
enum Divergence {
    static func check(loss: Double, model: Sequential, epoch: Int, batch: Int, batches: Int, step: Int, learningRate: Float) throws {
        guard loss.isFinite else {
            throw error(epoch: epoch, batch: batch, batches: batches, step: step, learningRate: learningRate,
                        what: "the loss is \(loss.isNaN ? "NaN" : "\(loss)")")
        }
        for (name, p) in model.namedParameters where !allFinite(p.value) {
            throw error(epoch: epoch, batch: batch, batches: batches, step: step, learningRate: learningRate,
                        what: "weight \(name) is not finite after the update")
        }
    }

    static func error(epoch: Int, batch: Int, batches: Int, step: Int, learningRate: Float, what: String) -> GlassboxError {
        .message("training diverged at epoch \(epoch), step \(batch) of \(batches) (optimiser step \(step)): \(what); "
                 + "lower the learning rate (\(learningRate)) or the momentum")
    }

    /// True when every value is finite: x · 0 is 0 for finite x and NaN for ±inf or NaN, and NaN survives the sum
    /// (eight partial sums, so the loop vectorises).
    static func allFinite(_ t: Tensor) -> Bool {
        t.withUnsafeBufferPointer { b in
            var acc = SIMD8<Float>(repeating: 0)
            let n = b.count, base = b.baseAddress
            var i = 0
            while i + 8 <= n {
                acc += UnsafeRawPointer(base! + i).loadUnaligned(as: SIMD8<Float>.self) * 0
                i += 8
            }
            var rest: Float = 0
            while i < n { rest += base![i] * 0; i += 1 }
            return (acc.sum() + rest) == 0
        }
    }
}

/// Metrics of one epoch. `trainAccuracy` and `loss` are running values over the epoch's batches (the model
/// changes while they are measured), as most training logs report them.
public struct EpochRecord: Codable, Equatable, Sendable {
    public var epoch: Int
    public var learningRate: Float
    public var loss: Float
    public var trainAccuracy: Float
    public var testLoss: Float?
    public var testAccuracy: Float?
    public var seconds: Double
    public var samplesPerSecond: Double
}

/// Accuracy, loss, per-class accuracy and the confusion matrix (`confusion[true][predicted]`).
public struct Evaluation: Codable, Equatable, Sendable {
    public var count: Int
    public var accuracy: Float
    public var loss: Float
    public var perClassAccuracy: [Float]
    public var confusion: [[Int]]
    public var classNames: [String]
}

public struct TrainingHistory: Codable, Sendable {
    public var epochs: [EpochRecord] = []
    public var steps = 0
    /// An empty history (a loaded model's).
    public init() {}
}

/// Mini-batch training with seeded shuffling.
public final class Trainer {
    public let model: Sequential
    public let config: TrainConfig
    public let optimizer: Optimizer
    public private(set) var history = TrainingHistory()
    /// The test-set evaluation after the last epoch, when `config.evaluateEachEpoch` made one: the trained model's
    /// final evaluation, so callers need not run the test set again.
    public private(set) var lastEvaluation: Evaluation?
    /// Called after each optimiser step listed in `config.checkpointSteps`, with the step number.
    public var onCheckpoint: ((Int, Sequential) throws -> Void)?
    /// Called after every epoch with its record.
    public var onEpoch: ((EpochRecord) -> Void)?
    /// Called after every optimiser step (for analyses that read gradients or activations per batch).
    public var onStep: ((Int, Sequential) -> Void)?
    /// Called once per batch after the model's parameters hold the batch gradient and before the optimiser
    /// step, so extra loss terms (e.g. a regulariser) can add their gradient.
    public var gradientHook: ((Sequential) -> Void)?

    public init(model: Sequential, config: TrainConfig) {
        self.model = model
        self.config = config
        self.optimizer = config.optimizer.make(for: model.namedParameters.map(\.parameter))
        Runtime.configure()
    }

    /// Checks that the data fit the model's input, with an error naming both.
    public static func checkCompatible(_ model: Sequential, _ data: Dataset) throws {
        let sample = [data.channels, data.height, data.width]
        let ok = model.spec.input == sample || (model.spec.input.count == 1 && model.spec.input[0] == data.featureCount)
        guard ok else {
            throw GlassboxError.invalidArgument(name: "model input", expected: "data of shape \(model.spec.input) (spec '\(model.spec)')",
                                                found: "\(data.name) with samples \(sample.map(String.init).joined(separator: "x"))")
        }
        if let last = try model.spec.shapes().last, last != [data.classCount] {
            throw GlassboxError.invalidArgument(name: "model output", expected: "\(data.classCount) classes for \(data.name)", found: "\(last)")
        }
    }

    /// Trains on `train`. Stops with an error naming the epoch and step at the first non-finite loss or weight
    /// (`Divergence`), before that step's checkpoint: a diverged model is never handed to `onCheckpoint` or returned
    /// as trained.
    @discardableResult
    public func fit(train: Dataset, test: Dataset? = nil, label: String = "train") throws -> TrainingHistory {
        try config.validate()
        try Trainer.checkCompatible(model, train)
        lastEvaluation = nil
        guard train.count > 0 else {
            throw GlassboxError.invalidArgument(name: "data", expected: "training samples",
                                                found: "none in '\(train.name)' (a file data set of one set is the test split; resplit: TRAIN:TEST splits it)")
        }
        var rng = SeededGenerator(seed: config.seed)
        let n = train.count, bs = config.batchSize, k = train.classCount
        let checkpoints = Set(config.checkpointSteps)
        let baseLR = config.optimizer.learningRate
        let featureShape = Array(train.images.shape.dropFirst())
        let workers = try shardModels()
        for epoch in 0..<config.epochs {
            let lr = config.schedule.rate(base: baseLR, epoch: epoch, epochs: config.epochs)
            optimizer.learningRate = lr
            let order = rng.permutation(n)
            let start = Date()
            var lossSum = 0.0, correct = 0
            let batches = n / bs + (n % bs == 0 ? 0 : 1)   // not (n + bs − 1) / bs, which overflows for a huge --batch-size
            let bar = ProgressBar(total: batches, label: "\(label) epoch \(epoch + 1)/\(config.epochs)")
            for b in 0..<batches {
                let idx = Array(order[(b * bs)..<min(n, (b + 1) * bs)])
                let (loss, hits) = step(idx, train: train, workers: workers, featureShape: featureShape, k: k)
                lossSum += loss
                correct += hits
                history.steps += 1
                try Divergence.check(loss: loss / Double(idx.count), model: model, epoch: epoch + 1, batch: b + 1, batches: batches,
                                     step: history.steps, learningRate: lr)
                onStep?(history.steps, model)
                if checkpoints.contains(history.steps) { try onCheckpoint?(history.steps, model) }
                bar.update(b + 1, suffix: String(format: "loss %.4f", lossSum / Double(b * bs + idx.count)))
            }
            bar.finish()
            let seconds = Date().timeIntervalSince(start)
            var record = EpochRecord(epoch: epoch + 1, learningRate: lr, loss: Float(lossSum / Double(n)),
                                     trainAccuracy: Float(correct) / Float(n), testLoss: nil, testAccuracy: nil,
                                     seconds: seconds, samplesPerSecond: Double(n) / seconds)
            if config.evaluateEachEpoch, let test {
                let ev = try Trainer.evaluate(model, on: test)
                guard ev.loss.isFinite else {
                    throw Divergence.error(epoch: epoch + 1, batch: batches, batches: batches, step: history.steps, learningRate: lr,
                                           what: "the test loss is \(ev.loss.isNaN ? "NaN" : "\(ev.loss)") (the weights are finite but too large)")
                }
                record.testLoss = ev.loss
                record.testAccuracy = ev.accuracy
                lastEvaluation = ev
            }
            history.epochs.append(record)
            onEpoch?(record)
        }
        return history
    }

    /// The models that run the shards: the model itself for one shard, otherwise copies that share nothing
    /// with it but the parameter values, handed over before each step.
    private func shardModels() throws -> [Sequential] {
        guard config.shards > 1 else { return [model] }
        return try (0..<config.shards).map { s in
            let copy = try Sequential(spec: model.spec, seed: 0)
            copy.poolsBeforeReLU = true
            for l in copy.layers {
                (l as? Conv2d)?.maxWorkers = 1
                (l as? Dropout)?.reseed(config.seed &+ 0x5EED &+ UInt64(s) &* 104_729)
            }
            return copy
        }
    }

    /// One optimiser step on the samples `idx`; returns the summed loss and the number of correct predictions.
    private func step(_ idx: [Int], train: Dataset, workers: [Sequential], featureShape: [Int], k: Int) -> (Double, Int) {
        let m = idx.count
        let master = model.namedParameters.map(\.parameter)
        let sharded = workers.count > 1 && workers[0] !== model
        if sharded {
            for w in workers { for (p, q) in zip(master, w.namedParameters.map(\.parameter)) { q.value = p.value } }
        }
        var partLoss = [Double](repeating: 0, count: workers.count)
        var partHits = [Int](repeating: 0, count: workers.count)
        // BLAS runs on one thread in every case (Runtime.configure): a threaded GEMM on the serial path would give
        // other bits than the single-threaded GEMMs of the concurrent path.
        let concurrent = sharded && Parallel.threads > 1
        partLoss.withUnsafeMutableBufferPointer { lossOut in
            partHits.withUnsafeMutableBufferPointer { hitsOut in
                let lossPtr = lossOut.baseAddress!, hitsPtr = hitsOut.baseAddress!
                Parallel.forChunks(m, parts: workers.count, concurrently: concurrent) { s, range in
                    let net = workers[s]
                    let rows = Array(idx[range])
                    let x = train.images.gatherRows(rows).reshaped([rows.count] + featureShape)
                    let labels = rows.map { train.labels[$0] }
                    let logits = net.forward(x, training: true)
                    var grad = Tensor(zeros: [rows.count, k])
                    let loss: Float = logits.withUnsafeBufferPointer { l in
                        labels.withUnsafeBufferPointer { y in
                            grad.withUnsafeMutableBufferPointer { g in
                                Ops.softmaxCrossEntropy(logits: l.baseAddress!, labels: y.baseAddress!, n: rows.count, k: k,
                                                        grad: g.baseAddress!, gradScale: 1 / Float(m))
                            }
                        }
                    }
                    lossPtr[s] = Double(loss) * Double(rows.count)
                    hitsPtr[s] = zip(logits.argmaxRows(), labels).reduce(0) { $0 + ($1.0 == Int($1.1) ? 1 : 0) }
                    net.backward(grad)
                }
            }
        }
        if sharded {
            // Sum the shards' gradients in shard order (deterministic), then let go of the shared values so the
            // optimiser updates them in place instead of copying.
            let used = min(workers.count, m)
            for (pi, p) in master.enumerated() {
                p.grad.withUnsafeMutableBufferPointer { dst in
                    workers[0].namedParameters[pi].parameter.grad.withUnsafeBufferPointer { dst.baseAddress!.update(from: $0.baseAddress!, count: $0.count) }
                    for s in 1..<used {
                        workers[s].namedParameters[pi].parameter.grad.withUnsafeBufferPointer { src in
                            for i in 0..<src.count { dst[i] += src[i] }
                        }
                    }
                }
                p.maskGradient()
            }
            for w in workers { for q in w.namedParameters.map(\.parameter) { q.value = Tensor(zeros: [0]) } }
        }
        gradientHook?(model)
        optimizer.step()
        return (partLoss.reduce(0, +), partHits.reduce(0, +))
    }

    /// Accuracy, mean loss, per-class accuracy and confusion matrix over a data set, in batches.
    /// Batches of 128 keep a CNN's activations in cache (batches of 1000 made the 10,000-image test set 1.2× slower).
    public static func evaluate(_ model: Sequential, on data: Dataset, batchSize: Int = 128) throws -> Evaluation {
        Runtime.configure()
        try checkCompatible(model, data)
        let k = data.classCount
        var confusion = [[Int]](repeating: [Int](repeating: 0, count: k), count: k)
        var lossSum = 0.0
        var start = 0
        while start < data.count {
            let end = min(data.count, start + batchSize)
            let logits = model.forward(data.images.rows(start..<end))
            let labels = Array(data.labels[start..<end])
            let loss = logits.withUnsafeBufferPointer { l in
                labels.withUnsafeBufferPointer { y in
                    Ops.softmaxCrossEntropy(logits: l.baseAddress!, labels: y.baseAddress!, n: end - start, k: k, grad: nil)
                }
            }
            lossSum += Double(loss) * Double(end - start)
            for (p, y) in zip(logits.argmaxRows(), labels) { confusion[Int(y)][p] += 1 }
            start = end
        }
        let correct = (0..<k).reduce(0) { $0 + confusion[$1][$1] }
        let perClass = (0..<k).map { c -> Float in
            let total = confusion[c].reduce(0, +)
            return total == 0 ? .nan : Float(confusion[c][c]) / Float(total)
        }
        return Evaluation(count: data.count, accuracy: Float(correct) / Float(max(1, data.count)),
                          loss: Float(lossSum / Double(max(1, data.count))), perClassAccuracy: perClass,
                          confusion: confusion, classNames: data.classNames)
    }
}
