import ArgumentParser
import Foundation
import GlassboxAnalysis
import GlassboxCore
import GlassboxData
import GlassboxNN
import GlassboxReport
import GlassboxSteps

private let clustering = CoClusterSettings.arguments

/// `glassbox cluster MODEL.safetensors --layer 2.weight --k 4` — BSGC co-clusters and clusterability (JSON).
struct ClusterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster",
        abstract: "Co-cluster one Linear layer (BSGC) and print its clusterability, baseline and shuffle null as JSON.",
        discussion: """
        The options are the arguments of a recipe's `step: cluster`, with the same defaults; the data (for the
        gradient affinities) default to the checkpoint's.
        Example: glassbox cluster mlp.safetensors --layer 2.weight --k 4 --affinity gradient --data mnist --resplit 8000:2000
        """)

    @Argument(help: "A .safetensors checkpoint written by glassbox.") var checkpoint: String
    @Option(help: flagHelp(clustering, "layer")) var layer: String?
    @Option(help: flagHelp(clustering, "k")) var k: String?
    @Option(help: flagHelp(clustering, "affinity")) var affinity: String?
    @Option(help: flagHelp(clustering, "null")) var null: String?
    @Option(help: flagHelp(clustering, "batches")) var batches: String?
    @Option(help: "Seed of k-means, the shuffles and --resplit (default 0).") var seed: String?
    @Option(help: "Also write the co-clusters for NumPy (.npz: row_clusters, column_clusters, singular_values) or the result as .json.")
    var out: String?
    @OptionGroup var dataOptions: DataOptions

    func settings() throws -> CoClusterSettings {
        try decodeFlags(clustering, [("layer", layer), ("k", k), ("affinity", affinity), ("null", null), ("batches", batches), ("seed", seed)],
                        into: CoClusterSettings())
    }

    func run() throws {
        let s = try settings()
        let format = try out.map { try ArraysOut.format($0, allowed: ["npz", "json"]) }
        let c = try LoadedCheckpoint(checkpoint)
        let data = s.affinity == .weight ? nil : try dataOptions.load(seed: s.seed, recorded: c.data).train
        let result = try renamingArguments { try CoClusterAnalysis.run(c.model, name: checkpoint, data: data, settings: s) }
        if let out, format == "npz" { try NumpyArchive.write(ArraysOut.coClusters(result), to: out) }
        if let out, format == "json" { try Files.writeAtomically(try ReportJSON.encode(result), to: out) }
        try printJSON(result, pretty: true)
    }
}

/// `glassbox ecs MODEL.safetensors --data mnist --resplit 8000:2000` — effective circuit size per class (JSON).
struct ECSCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ecs",
        abstract: "Effective circuit size per class over the test images of each class, as JSON.",
        discussion: "Example: glassbox ecs mlp.safetensors --data mnist --data-dir ../shared/datasets/mnist --resplit 8000:2000")

    @Argument(help: "A .safetensors checkpoint written by glassbox.") var checkpoint: String
    @Option(help: "Seed of --resplit.") var seed: UInt64 = 0
    @OptionGroup var dataOptions: DataOptions

    func run() throws {
        let c = try LoadedCheckpoint(checkpoint)
        let test = try dataOptions.loadTest(seed: seed, recorded: c.data)
        try printJSON(try EffectiveCircuitSize.run(c.model, test: test), pretty: true)
    }
}
