import ArgumentParser
import Foundation
import GlassboxAnalysis
import GlassboxCore
import GlassboxData
import GlassboxNN
import GlassboxSteps

private let pruning = PruneSettings.arguments

struct PruneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "Prune a saved model by weight magnitude (Han et al.) or by connected regions of its first layer (Takehana & Ozaki), retraining after each round.",
        discussion: """
        The options are the arguments of a recipe's `step: prune`, with the same defaults; the data default to the
        checkpoint's. Masks are saved with the weights (NAME_mask tensors), so the pruned model stays pruned when loaded.
        Examples:
          glassbox prune lenet.safetensors --method magnitude --q 0.25 --rounds 5 --retrain-epochs 2 --data fashion-mnist --out lenet-pruned.safetensors
          glassbox prune mlp.safetensors --method regions --amount 0.4 --connectivity 4 --data mnist --resplit 8000:2000 --out mlp-regions.safetensors
        """)

    @Argument(help: "A .safetensors checkpoint written by glassbox.") var checkpoint: String
    @Option(help: flagHelp(pruning, "method")) var method: String?
    @Option(help: flagHelp(pruning, "amount")) var amount: String?
    @Option(help: flagHelp(pruning, "q")) var q: String?
    @Option(help: flagHelp(pruning, "rounds")) var rounds: String?
    @Option(name: .customLong("retrain-epochs"), help: flagHelp(pruning, "retrain-epochs")) var retrainEpochs: String?
    @Option(help: flagHelp(pruning, "lr")) var lr: String?
    @Option(help: flagHelp(pruning, "momentum")) var momentum: String?
    @Option(name: [.customLong("batch"), .customLong("batch-size")], help: flagHelp(pruning, "batch")) var batch: String?
    @Option(help: flagHelp(pruning, "scope")) var scope: String?
    @Option(help: flagHelp(pruning, "granularity")) var granularity: String?
    @Option(help: flagHelp(pruning, "layers")) var layers: String?
    @Option(name: .customLong("magnitude-amount"), help: flagHelp(pruning, "magnitude-amount")) var magnitudeAmount: String?
    @Option(help: flagHelp(pruning, "connectivity")) var connectivity: String?
    @Option(help: flagHelp(pruning, "ranking")) var ranking: String?
    @Option(help: "Seed of --resplit and the retraining shuffles (default 0).") var seed: String?
    @OptionGroup var dataOptions: DataOptions
    @Option(help: "Where to save the pruned model.") var out: String
    @Option(name: .customLong("arrays-out"), help: "Also write the pruned weights and masks for NumPy (.npz: NAME float32, NAME_mask uint8).")
    var arraysOut: String?
    @Flag(help: "Print the result as JSON on stdout.") var json = false
    @Flag(help: "No progress bar or log lines.") var quiet = false

    func settings() throws -> PruneSettings {
        try decodeFlags(pruning, [("method", method), ("amount", amount), ("q", q), ("rounds", rounds), ("retrain-epochs", retrainEpochs),
                                  ("lr", lr), ("momentum", momentum), ("batch", batch), ("scope", scope), ("granularity", granularity),
                                  ("layers", layers), ("magnitude-amount", magnitudeAmount), ("connectivity", connectivity),
                                  ("ranking", ranking), ("seed", seed)], into: PruneSettings())
    }

    func run() throws {
        ProgressBar.quiet = quiet || json
        let s = try settings()
        if let arraysOut { _ = try ArraysOut.format(arraysOut, flag: "--arrays-out", allowed: ["npz"]) }
        let c = try LoadedCheckpoint(checkpoint)
        let data = try dataOptions.load(seed: s.seed, recorded: c.data)
        let log: (PruningRound) -> Void = { r in if !json { print(Self.line(r)) } }
        let result = try renamingArguments {
            try Pruner.run(c.model, train: data.train, test: data.test, settings: s, modelRate: c.learningRate, log: log)
        }
        var metadata = c.metadata
        metadata["seed"] = String(s.seed)
        metadata["pruning_method"] = s.method.rawValue
        metadata["test_accuracy"] = String(result.after.testAccuracy)
        try Checkpoint.save(c.model, to: out, metadata: metadata)
        if let arraysOut {
            _ = try ArraysOut.format(arraysOut, flag: "--arrays-out", allowed: ["npz"])
            try NumpyArchive.write(ArraysOut.parameters(c.model), to: arraysOut)
        }
        if json { try printJSON(result, pretty: true); return }
        let split = result.unitSplit
        print(String(format: "units of %@: %d > 90 %% pruned, %d < 40 %% pruned, %d between", result.firstLayer, split.above90, split.below40, split.between))
        print("saved: \(out)")
    }

    static func line(_ r: PruningRound) -> String {
        var s = String(format: "round %d  %@  accuracy %.4f", r.round, r.label, r.testAccuracy)
        if let p = r.accuracyAfterPruning { s += String(format: " (%.4f before retraining)", p) }
        s += String(format: "  kept %d/%d (%.2f %%, %.1f×)  ", r.keptWeights, r.totalWeights, r.keptPercent, r.compression)
        s += r.layers.map { String(format: "%@ %.1f %%", $0.name, $0.keptPercent) }.joined(separator: "  ")
        return s
    }
}
