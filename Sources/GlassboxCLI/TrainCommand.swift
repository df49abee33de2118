import ArgumentParser
import Foundation
import GlassboxCore
import GlassboxData
import GlassboxNN
import GlassboxSteps

private let training = TrainingSettings.arguments

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a model on a data set and save it as .safetensors.",
        discussion: """
        MODEL SPEC: 'mlp 784-100-50-10 sigmoid' or a clause list such as
        'input 1x28x28; conv 16 k5 p2; relu; maxpool 2; flatten; linear 10' (see `glassbox train --help-spec`).
        The options are the same as the arguments of a recipe's `step: train`, with the same defaults.
        Example: glassbox train --model 'mlp 784-100-50-10 sigmoid' --epochs 5 --lr 0.1 --out mlp.safetensors
        """)

    @Option(help: "Model spec (default: \(TrainStep.Options().spec)).") var model: String?
    @OptionGroup var dataOptions: DataOptions
    @Option(help: flagHelp(training, "epochs")) var epochs: String?
    @Option(name: [.customLong("batch"), .customLong("batch-size")], help: flagHelp(training, "batch")) var batch: String?
    @Option(help: flagHelp(training, "optimizer")) var optimizer: String?
    @Option(help: flagHelp(training, "lr")) var lr: String?
    @Option(help: flagHelp(training, "momentum")) var momentum: String?
    @Option(name: .customLong("weight-decay"), help: flagHelp(training, "weight-decay")) var weightDecay: String?
    @Option(help: flagHelp(training, "schedule")) var schedule: String?
    @Option(help: "Seed of the initialisation, the shuffling and --resplit (default 0).") var seed: String?
    @Option(name: .customLong("checkpoint-steps"), help: "Comma-separated optimiser steps at which to save a checkpoint.")
    var checkpointSteps: String?
    @Option(name: .customLong("checkpoint-dir")) var checkpointDir = "checkpoints"
    @Option(help: "Where to save the trained model.") var out: String?
    @Flag(help: "Print the final metrics as JSON on stdout.") var json = false
    @Flag(help: "No progress bar or log lines.") var quiet = false
    @Flag(name: .customLong("help-spec"), help: "Print the model spec grammar and exit.") var helpSpec = false

    func run() throws {
        if helpSpec { print(ModelSpec.grammar); return }
        ProgressBar.quiet = quiet
        // Check every option before the (slow) data load.
        let spec = try renamingArguments(["model": "--model"]) { try ModelSpec.parse(model ?? TrainStep.Options().spec) }
        var settings = try decodeFlags(training, [("epochs", epochs), ("batch", batch), ("optimizer", optimizer), ("lr", lr),
                                                  ("momentum", momentum), ("weight-decay", weightDecay), ("schedule", schedule),
                                                  ("seed", seed)], into: TrainingSettings())
        settings.checkpointSteps = try (checkpointSteps ?? "").split(separator: ",").map { s -> Int in
            guard let v = Int(s.trimmingCharacters(in: .whitespaces)), v > 0 else {
                throw GlassboxError.invalidArgument(name: "--checkpoint-steps", expected: "positive integers separated by commas", found: "'\(s)'")
            }
            return v
        }
        let config = try renamingArguments { try settings.config() }
        let request = try dataOptions.request(seed: settings.seed)
        let data = try dataOptions.load(seed: settings.seed)
        let net = try Sequential(spec: spec, seed: settings.seed)
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
        logInfo("data: \(data.train.name) train \(data.train.count), test \(data.test.count); \(BLAS.configuration), threads \(Parallel.threads)")
        try trainer.fit(train: data.train, test: data.test)
        let ev = try trainer.lastEvaluation ?? Trainer.evaluate(net, on: data.test)
        if let out {
            var metadata = CheckpointKeys.record(request, learningRate: settings.rate)
            metadata["seed"] = String(settings.seed)
            metadata["test_accuracy"] = String(ev.accuracy)
            try Checkpoint.save(net, to: out, metadata: metadata)
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

    @Argument(help: "A .safetensors checkpoint written by glassbox, or a PyTorch state dict (saved with safetensors.torch.save_file).") var checkpoint: String
    @OptionGroup var names: StateDictFlags
    @OptionGroup var dataOptions: DataOptions
    @Option(help: "Seed for --resplit.") var seed: UInt64 = 0
    @Flag(help: "Print JSON on stdout.") var json = false

    func run() throws {
        let c = try LoadedCheckpoint(checkpoint, flags: names)
        let test = try dataOptions.loadTest(seed: seed, recorded: c.data)
        try printEvaluation(try Trainer.evaluate(c.model, on: test), history: nil, json: json)
    }
}

func printEvaluation(_ ev: Evaluation, history: TrainingHistory?, json: Bool) throws {
    if json {
        struct Out: Codable { var evaluation: Evaluation; var history: TrainingHistory? }
        try printJSON(Out(evaluation: ev, history: history), pretty: true)
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
