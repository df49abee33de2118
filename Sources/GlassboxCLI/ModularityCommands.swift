import ArgumentParser
import Foundation
import GlassboxAnalysis
import GlassboxCore
import GlassboxData
import GlassboxNN
import GlassboxReport

/// `glassbox cluster MODEL.safetensors --layer 2.weight --k 4` — BSGC co-clusters and clusterability (JSON).
struct ClusterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster",
        abstract: "Co-cluster one Linear layer (BSGC) and print its clusterability, baseline and shuffle null as JSON.",
        discussion: "Example: glassbox cluster mlp.safetensors --layer 2.weight --k 4 --affinity gradient --data mnist --resplit 8000:2000")

    @Argument(help: "A .safetensors checkpoint written by glassbox.") var checkpoint: String
    @Option(help: "Linear weight to cluster (e.g. 2.weight).") var layer = "2.weight"
    @Option(help: "Number of co-clusters.") var k = 4
    @Option(help: "weight (|W|), gradient (mean |dL/dW| over training batches) or weight-gradient (mean |W·dL/dW|).")
    var affinity = "weight"
    @Option(help: "Shuffled copies of W for the null distribution.") var null = 50
    @Option(help: "Seed of k-means and the shuffles (and of --resplit).") var seed: UInt64 = 0
    @Option(help: "Training batches for the gradient affinities (default: all).") var batches: Int?
    @OptionGroup var dataOptions: DataOptions

    func run() throws {
        guard let kind = Affinity(rawValue: affinity) else {
            throw GlassboxError.invalidArgument(name: "--affinity", expected: Affinity.allCases.map(\.rawValue).joined(separator: ", "), found: "'\(affinity)'")
        }
        let (model, _) = try Checkpoint.load(checkpoint)
        let lin = try ModelAccess.linear(model, layer)
        var data: Dataset?
        if kind != .weight { data = try dataOptions.load(seed: seed).train }
        let aff = try BSGC.affinity(kind, model: model, layer: layer, data: data, batches: batches)
        let clusters = try BSGC.coCluster(affinity: aff, k: k, seed: seed)
        let report = try Clusterability.assess(weight: lin.weight.value, clusters: clusters, seed: seed, nullDraws: null)
        let out = ClusterStepResult(model: checkpoint, layer: layer, affinity: kind, report: report)
        print(String(decoding: try ReportJSON.encode(out), as: UTF8.self))
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
        let (model, _) = try Checkpoint.load(checkpoint)
        let test = try dataOptions.load(seed: seed).test
        print(String(decoding: try ReportJSON.encode(try EffectiveCircuitSize.run(model, test: test)), as: UTF8.self))
    }
}
