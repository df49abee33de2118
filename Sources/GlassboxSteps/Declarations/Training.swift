import GlassboxCore
import GlassboxNN

extension LRSchedule {
    /// The schedule as `parse` reads it.
    public var text: String {
        switch self {
        case .constant: return "constant"
        case let .step(every, gamma): return "step:\(every):\(formatNumber(gamma))"
        case let .cosine(minimum): return minimum == 0 ? "cosine" : "cosine:\(formatNumber(minimum))"
        }
    }
}

public extension TrainingSettings {
    /// `step: train` and `glassbox train` read these.
    static let arguments = Arguments<TrainingSettings>(defaults: { TrainingSettings() }, [
        .int("epochs", \.epochs, help: "passes over the training set"),
        .int("batch", \.batchSize, help: "samples per optimiser step"),
        .choice("optimizer", \.optimizer, help: "the optimiser (PyTorch's SGD or Adam)"),
        .number("lr", \.learningRate, 0, openLow: true, help: "learning rate", default: "0.1 for SGD, 0.001 for Adam"),
        .number("momentum", \.momentum, 0, 1, openHigh: true, help: "SGD momentum"),
        .number("weight-decay", \.weightDecay, 0, help: "L2 weight decay added to the gradient"),
        .custom("schedule", \.schedule, .text, help: "learning-rate schedule: constant, step:EVERY:GAMMA or cosine[:MIN]",
                show: { $0.text }, parse: LRSchedule.parse),
        .seed(\.seed, help: "seed of the initialisation and the shuffling"),
    ])
}
