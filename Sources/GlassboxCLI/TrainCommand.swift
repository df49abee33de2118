import ArgumentParser
import Foundation
import GlassboxCore
import GlassboxData
import GlassboxNN

/// Where the data come from: a known data set, optionally re-split (so a test set alone can serve for training).
struct DataOptions: ParsableArguments {
    @Option(name: .long, help: "Data set name (mnist, fashion-mnist, cifar10).")
    var data = "fashion-mnist"

    @Option(name: .customLong("data-dir"), help: "Folder holding the data set's files (default: the search path).")
    var dataDir: String?

    @Option(help: "Use only the first N samples of each split.")
    var limit: Int?

    @Option(help: "Re-split the data set's test split into TRAIN:TEST samples with the seed (e.g. 8000:2000 for the MNIST test set).")
    var resplit: String?

    func load(seed: UInt64) throws -> (train: Dataset, test: Dataset) {
        if let resplit {
            let parts = resplit.split(separator: ":").map { Int($0) }
            guard parts.count == 2, let a = parts[0], let b = parts[1] else {
                throw GlassboxError.invalidArgument(name: "--resplit", expected: "TRAIN:TEST sample counts such as 8000:2000", found: "'\(resplit)'")
            }
            let all = try DatasetRegistry.load(name: data, split: .test, directory: dataDir)
            return try all.split(trainCount: a, testCount: b, seed: seed)
        }
        let train = try DatasetRegistry.load(name: data, split: .train, limit: limit, directory: dataDir)
        let test = try DatasetRegistry.load(name: data, split: .test, limit: limit, directory: dataDir)
        return (train, test)
    }
}

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a model on a data set and save it as .safetensors.",
        discussion: """
        MODEL SPEC: 'mlp 784-100-50-10 sigmoid' or a clause list such as
        'input 1x28x28; conv 16 k5 p2; relu; maxpool 2; flatten; linear 10' (see `glassbox train --help-spec`).
        Example: glassbox train --model 'mlp 784-100-50-10 sigmoid' --epochs 5 --lr 0.1 --out mlp.safetensors
        """)

    @Option(help: "Model spec.") var model = "mlp 784-100-50-10 sigmoid"
    @OptionGroup var dataOptions: DataOptions
    @Option var epochs = 5
    @Option(name: .customLong("batch-size")) var batchSize = 100
    @Option(help: "sgd or adam.") var optimizer = "sgd"
    @Option(help: "Learning rate (default 0.1 for SGD, 0.001 for Adam).") var lr: Float?
    @Option var momentum: Float = 0
    @Option(name: .customLong("weight-decay")) var weightDecay: Float = 0
    @Option(help: "constant, step:EVERY:GAMMA or cosine[:MIN].") var schedule = "constant"
    @Option(help: "Seed for initialisation, shuffling and splits.") var seed: UInt64 = 0
    @Option(name: .customLong("checkpoint-steps"), help: "Comma-separated optimiser steps at which to save a checkpoint.")
    var checkpointSteps: String?
    @Option(name: .customLong("checkpoint-dir")) var checkpointDir = "checkpoints"
    @Option(help: "Where to save the trained model.") var out: String?
    @Flag(help: "Print the final metrics as JSON on stdout.") var json = false
    @Flag(help: "No progress bar or log lines.") var quiet = false

    func run() throws {
        ProgressBar.quiet = quiet
        // Check every option before the (slow) data load.
        let spec = try ModelSpec.parse(model)
        let lrSchedule = try LRSchedule.parse(schedule)
        let opt: OptimizerConfig
        switch optimizer {
        case "sgd": opt = .sgd(lr: lr ?? 0.1, momentum: momentum, weightDecay: weightDecay)
        case "adam": opt = .adam(lr: lr ?? 0.001, weightDecay: weightDecay)
        default: throw GlassboxError.invalidArgument(name: "--optimizer", expected: "sgd or adam", found: "'\(optimizer)'")
        }
        let steps = try (checkpointSteps ?? "").split(separator: ",").map { s -> Int in
            guard let v = Int(s.trimmingCharacters(in: .whitespaces)), v > 0 else {
                throw GlassboxError.invalidArgument(name: "--checkpoint-steps", expected: "positive integers separated by commas", found: "'\(s)'")
            }
            return v
        }
        let (train, test) = try dataOptions.load(seed: seed)
        let net = try Sequential(spec: spec, seed: seed)
        let config = TrainConfig(epochs: epochs, batchSize: batchSize, optimizer: opt, schedule: lrSchedule,
                                 seed: seed, checkpointSteps: steps)
        let trainer = Trainer(model: net, config: config)
        trainer.onCheckpoint = { step, m in
            let path = (checkpointDir as NSString).appendingPathComponent(String(format: "step-%06d.safetensors", step))
            try Checkpoint.save(m, to: path, metadata: ["step": String(step)])
            logInfo("checkpoint: \(path)")
        }
        trainer.onEpoch = { r in
            logInfo(String(format: "epoch %d  loss %.4f  train acc %.4f  test acc %.4f  (%.1f s, %.0f samples/s)", r.epoch, r.loss,
                           r.trainAccuracy, r.testAccuracy ?? .nan, r.seconds, r.samplesPerSecond))
        }
        logInfo("model: \(spec)  (\(net.parameterCount) parameters)")
        logInfo("data: \(train.name) train \(train.count), test \(test.count); \(BLAS.configuration), threads \(Parallel.threads)")
        try trainer.fit(train: train, test: test)
        let ev = try Trainer.evaluate(net, on: test)
        if let out {
            try Checkpoint.save(net, to: out, metadata: ["data": train.name, "seed": String(seed), "test_accuracy": String(ev.accuracy)])
            logInfo("saved: \(out)")
        }
        try printEvaluation(ev, history: trainer.history, json: json)
    }
}

struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Accuracy, per-class accuracy and confusion matrix of a saved model.",
        discussion: "Example: glassbox evaluate mlp.safetensors --data fashion-mnist")

    @Argument(help: "A .safetensors checkpoint written by glassbox (or with --spec, by PyTorch).") var checkpoint: String
    @Option(help: "Model spec, for checkpoints without one in their metadata.") var spec: String?
    @OptionGroup var dataOptions: DataOptions
    @Option(help: "Seed for --resplit.") var seed: UInt64 = 0
    @Flag(help: "Print JSON on stdout.") var json = false

    func run() throws {
        let (model, _) = try Checkpoint.load(checkpoint, spec: try spec.map(ModelSpec.parse))
        let test = try dataOptions.load(seed: seed).test
        try printEvaluation(try Trainer.evaluate(model, on: test), history: nil, json: json)
    }
}

func printEvaluation(_ ev: Evaluation, history: TrainingHistory?, json: Bool) throws {
    if json {
        struct Out: Codable { var evaluation: Evaluation; var history: TrainingHistory? }
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        enc.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        print(String(decoding: try enc.encode(Out(evaluation: ev, history: history)), as: UTF8.self))
        return
    }
    print(String(format: "test accuracy %.4f  loss %.4f  (%d samples)", ev.accuracy, ev.loss, ev.count))
    let width = max(8, ev.classNames.map(\.count).max() ?? 8)
    for (i, name) in ev.classNames.enumerated() {
        print("  " + name.padding(toLength: width, withPad: " ", startingAt: 0) + String(format: "  %.4f", ev.perClassAccuracy[i]))
    }
    print("confusion (rows: true class, columns: predicted):")
    for row in ev.confusion { print("  " + row.map { String(format: "%5d", $0) }.joined()) }
}
