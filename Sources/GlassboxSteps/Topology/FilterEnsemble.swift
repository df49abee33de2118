import Foundation
import GlassboxAnalysis
import GlassboxCore
import GlassboxData
import GlassboxEngine
import GlassboxNN

/// The filter experiment as a batch of tasks: one `filter-net` task per net (`FilterExperiment.trainNet`) and the
/// `filter-pool` merge (`FilterExperiment.pool`). A task's input names the data by how to load it (a `DataSource`
/// with an absolute folder), so a worker process or a Slurm node loads the same samples; the pooled result is the
/// same bytes as `FilterExperiment.run` in one process.
public enum FilterEnsemble {
    public static let netKind = "filter-net"
    public static let poolKind = "filter-pool"

    struct NetInput: Codable {
        var settings: FilterExperimentSettings
        var data: DataSource
        var index: Int
    }

    struct PoolInput: Codable {
        var settings: FilterExperimentSettings
        var data: String
        var kernel: Int
    }

    /// Checks the settings here (before anything is submitted), runs the nets on `engine` with their task folder
    /// `folder`, and returns the pooled result.
    public static func run(_ s: FilterExperimentSettings, source: DataSource, trainCount: Int, data: String, engine: any TaskEngine,
                           folder: String) throws -> FilterExperimentResult {
        let (kernel, _) = try FilterExperiment.check(s, trainCount: trainCount)
        var located = source
        located.folder = URL(fileURLWithPath: source.folder).standardizedFileURL.path
        let tasks = try (0..<s.nets).map { i in
            TaskSpec(id: "net-\(i)", kind: netKind, input: try EngineJSON.text(NetInput(settings: s, data: located, index: i)))
        }
        let merge = MergeSpec(kind: poolKind, input: try EngineJSON.text(PoolInput(settings: s, data: data, kernel: kernel)))
        let batch = try TaskBatch.prepare(folder: folder, name: "filter-experiment \(data)", tasks: tasks, merge: merge)
        try engine.run(batch)
        return try EngineJSON.decode(FilterExperimentResult.self, from: try batch.mergedOutput(), path: batch.mergedPath)
    }

    /// The handlers: train one net; pool the nets.
    public static let registry = TaskRegistry(
        tasks: [netKind: { input in
            let t = try EngineJSON.decode(NetInput.self, from: Data(input.utf8), path: "\(netKind) task input")
            let pair = try t.data.load()
            let net = try FilterExperiment.trainNet(t.index, settings: t.settings, train: pair.train, test: pair.test,
                                                    label: "net \(t.index + 1)/\(t.settings.nets)")
            return try EngineJSON.encode(net)
        }],
        merges: [poolKind: { input, results in
            let p = try EngineJSON.decode(PoolInput.self, from: Data(input.utf8), path: "\(poolKind) merge input")
            let nets = try results.enumerated().map { try EngineJSON.decode(FilterNet.self, from: $1, path: "result of net \($0)") }
            return try EngineJSON.encode(FilterExperiment.pool(nets, settings: p.settings, data: p.data, kernel: p.kernel))
        }])
}
