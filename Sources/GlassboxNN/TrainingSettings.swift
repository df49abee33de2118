import GlassboxCore

/// Which optimiser a run uses (its rate and settings are in `TrainingSettings`).
public enum OptimizerKind: String, Codable, CaseIterable, Sendable { case sgd, adam }

/// The settings of one training run as a user gives them (`step: train`, `glassbox train`): its defaults live
/// here, once. `config()` checks them and makes the trainer's `TrainConfig`.
public struct TrainingSettings: Codable, Equatable, Sendable {
    public var epochs = 2
    public var batchSize = 64
    public var optimizer = OptimizerKind.sgd
    /// nil: 0.1 for SGD, 0.001 for Adam.
    public var learningRate: Float?
    public var momentum: Float = 0
    public var weightDecay: Float = 0
    public var schedule = LRSchedule.constant
    public var seed: UInt64 = 0
    /// Optimiser steps after which the trainer reports a checkpoint.
    public var checkpointSteps: [Int] = []

    public init() {}

    /// The learning rate in force: the given one, or the optimiser's default.
    public var rate: Float { learningRate ?? (optimizer == .adam ? 0.001 : 0.1) }

    public var optimizerConfig: OptimizerConfig {
        optimizer == .adam ? .adam(lr: rate, weightDecay: weightDecay) : .sgd(lr: rate, momentum: momentum, weightDecay: weightDecay)
    }

    /// Checks every value a user can set and makes the trainer's configuration.
    public func config() throws -> TrainConfig {
        guard epochs >= 1 else { throw GlassboxError.invalidArgument(name: "epochs", expected: "a whole number ≥ 1", found: "\(epochs)") }
        guard batchSize >= 1 else { throw GlassboxError.invalidArgument(name: "batch", expected: "a whole number ≥ 1", found: "\(batchSize)") }
        guard rate.isFinite, rate > 0 else {
            throw GlassboxError.invalidArgument(name: "lr", expected: "a finite learning rate > 0", found: "\(rate)")
        }
        guard momentum.isFinite, momentum >= 0, momentum < 1 else {
            throw GlassboxError.invalidArgument(name: "momentum", expected: "a number in [0, 1)", found: "\(momentum)")
        }
        guard weightDecay.isFinite, weightDecay >= 0 else {
            throw GlassboxError.invalidArgument(name: "weight-decay", expected: "a finite number ≥ 0", found: "\(weightDecay)")
        }
        if let bad = checkpointSteps.first(where: { $0 < 1 }) {
            throw GlassboxError.invalidArgument(name: "checkpoint-steps", expected: "optimiser steps ≥ 1", found: "\(bad)")
        }
        return TrainConfig(epochs: epochs, batchSize: batchSize, optimizer: optimizerConfig, schedule: schedule, seed: seed,
                           checkpointSteps: checkpointSteps)
    }
}
