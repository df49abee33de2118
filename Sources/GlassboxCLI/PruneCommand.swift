import ArgumentParser
import Foundation
import GlassboxAnalysis
import GlassboxCore
import GlassboxData
import GlassboxNN

struct PruneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "Prune a saved model by weight magnitude (Han et al.) or by connected regions of its first layer (Takehana & Ozaki), retraining after each round.",
        discussion: """
        Masks are saved with the weights (NAME_mask tensors), so the pruned model stays pruned when loaded.
        Examples:
          glassbox prune lenet.safetensors --method magnitude --q 0.25 --rounds 5 --retrain-epochs 2 --data fashion-mnist --out lenet-pruned.safetensors
          glassbox prune mlp.safetensors --method regions --amount 0.4 --connectivity 4 --data mnist --resplit 8000:2000 --out mlp-regions.safetensors
        """)

    @Argument(help: "A .safetensors checkpoint written by glassbox.") var checkpoint: String
    @Option(help: "magnitude or regions.") var method = "magnitude"
    @Option(help: "magnitude: fraction of the remaining weights pruned per round; regions: fraction of the regions (default 0.4).")
    var amount: Double?
    @Option(help: "magnitude: prune |w| < q × std of the layer's kept weights.") var q: Double?
    @Option(help: "Pruning rounds (regions: repeats of region pruning + retraining).") var rounds = 1
    @Option(name: .customLong("retrain-epochs"), help: "Retraining epochs after each round.") var retrainEpochs = 1
    @Option(help: "Retraining learning rate (SGD; default 0.01, a tenth of the usual 0.1).") var lr: Float = 0.01
    @Option var momentum: Float = 0
    @Option(name: .customLong("batch-size")) var batchSize = 100
    @Option(help: "regions: 4 or 8.") var connectivity = 4
    @Option(help: "magnitude: layer (each layer on its own) or global (one ranking over all layers).") var scope = "layer"
    @Option(help: "weights, units (whole rows by L2 norm) or inputs (whole columns, e.g. pixels, by L2 norm); with --method regions, the granularity of the magnitude step.")
    var granularity = "weights"
    @Option(help: "regions: global (all regions ranked together) or unit.") var ranking = "global"
    @Option(name: .customLong("magnitude-amount"), help: "regions: share of first-layer weights pruned by |w| first.")
    var magnitudeAmount = 0.5
    @OptionGroup var dataOptions: DataOptions
    @Option(help: "Seed for --resplit and retraining.") var seed: UInt64 = 0
    @Option(help: "Where to save the pruned model.") var out: String
    @Flag(help: "Print the result as JSON on stdout.") var json = false
    @Flag(help: "No progress bar or log lines.") var quiet = false

    func run() throws {
        ProgressBar.quiet = quiet || json
        let (model, _) = try Checkpoint.load(checkpoint)
        let (train, test) = try dataOptions.load(seed: seed)
        let retrain = RetrainConfig(epochs: retrainEpochs, batchSize: batchSize, optimizer: .sgd(lr: lr, momentum: momentum), seed: seed)
        let log: (PruningRound) -> Void = { r in if !json { print(Self.line(r)) } }
        let result: PruningResult
        switch method {
        case "magnitude":
            let criterion: PruningCriterion
            switch (amount, q) {
            case let (a?, nil): criterion = .amount(a)
            case let (nil, q?): criterion = .stdMultiple(q)
            case (nil, nil): throw GlassboxError.invalidArgument(name: "--amount/--q", expected: "one of them for --method magnitude", found: "neither")
            default: throw GlassboxError.invalidArgument(name: "--amount/--q", expected: "only one of them", found: "both")
            }
            guard let s = PruningScope(rawValue: scope) else {
                throw GlassboxError.invalidArgument(name: "--scope", expected: "layer or global", found: "'\(scope)'")
            }
            let g = try granularityValue()
            result = try Pruner.magnitude(model, train: train, test: test,
                                          config: MagnitudePruningConfig(criterion: criterion, scope: s, granularity: g, rounds: rounds, retrain: retrain),
                                          log: log)
        case "regions":
            if q != nil { throw GlassboxError.invalidArgument(name: "--q", expected: "no --q with --method regions (use --amount for the region fraction)", found: "\(q!)") }
            guard let r = RegionRanking(rawValue: ranking) else {
                throw GlassboxError.invalidArgument(name: "--ranking", expected: "global or unit", found: "'\(ranking)'")
            }
            let config = RegionPruningConfig(magnitudeAmount: magnitudeAmount, magnitudeGranularity: try granularityValue(), regionFraction: amount ?? 0.4,
                                             connectivity: try Connectivity(connectivity), ranking: r, repeats: rounds, retrain: retrain)
            result = try Pruner.regions(model, train: train, test: test, config: config, log: log)
        default:
            throw GlassboxError.invalidArgument(name: "--method", expected: "magnitude or regions", found: "'\(method)'")
        }
        try Checkpoint.save(model, to: out, metadata: ["data": train.name, "seed": String(seed), "pruning_method": method,
                                                       "test_accuracy": String(result.after.testAccuracy)])
        if json {
            let enc = JSONEncoder()
            enc.outputFormatting = [.prettyPrinted, .sortedKeys]
            enc.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
            print(String(decoding: try enc.encode(result), as: UTF8.self))
            return
        }
        let s = result.unitSplit
        print(String(format: "units of %@: %d > 90 %% pruned, %d < 40 %% pruned, %d between", result.firstLayer, s.above90, s.below40, s.between))
        print("saved: \(out)")
    }

    func granularityValue() throws -> PruningGranularity {
        guard let g = PruningGranularity(rawValue: granularity) else {
            throw GlassboxError.invalidArgument(name: "--granularity", expected: "weights, units or inputs", found: "'\(granularity)'")
        }
        return g
    }

    static func line(_ r: PruningRound) -> String {
        var s = String(format: "round %d  %@  accuracy %.4f", r.round, r.label, r.testAccuracy)
        if let p = r.accuracyAfterPruning { s += String(format: " (%.4f before retraining)", p) }
        s += String(format: "  kept %d/%d (%.2f %%, %.1f×)  ", r.keptWeights, r.totalWeights, r.keptPercent, r.compression)
        s += r.layers.map { String(format: "%@ %.1f %%", $0.name, $0.keptPercent) }.joined(separator: "  ")
        return s
    }
}
