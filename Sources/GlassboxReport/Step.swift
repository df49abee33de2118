import Foundation
import GlassboxCore
import GlassboxData
import GlassboxFigures
import GlassboxNN

/// A kind of cell (`step: NAME`). Register new kinds with `StepRegistry.register`; the runner needs no change.
public protocol Step: Sendable {
    /// The name written after `step:` in a cell.
    var name: String { get }
    /// What the cell reads: workspace names (their producers' cache keys join this cell's key) and files
    /// (their content hashes join the key). Called before `run`, also when the cell is then restored.
    func inputs(_ context: CellContext, _ workspace: Workspace) throws -> StepInputs
    /// Does the work. Files the result refers to go into `context.directory`.
    func run(_ context: CellContext, _ workspace: Workspace) throws -> CellResult
}

/// Names a cell reads from the workspace and files it reads from disk.
public struct StepInputs: Sendable {
    public var names: [WorkspaceName]
    public var files: [String]
    public init(names: [WorkspaceName] = [], files: [String] = []) { self.names = names; self.files = files }

    /// The cell's `model` and the data it runs on: the `data` argument, or else the data the model was trained on.
    public static func modelAndData(_ ctx: CellContext, _ ws: Workspace) throws -> StepInputs {
        let model = try ctx.args.requireString("model")
        var names = [WorkspaceName(.model, model)]
        if let d = try ctx.args.string("data") { names.append(WorkspaceName(.data, d)) }
        else if let m = ws.models[model] { names.append(WorkspaceName(.data, m.record.data)) }
        return StepInputs(names: names)
    }
}

/// A name in the workspace, qualified by what it holds.
public struct WorkspaceName: Hashable, Codable, Sendable, CustomStringConvertible {
    public enum Kind: String, Codable, Sendable { case data, model, evaluation, result }
    public var kind: Kind
    public var name: String
    public init(_ kind: Kind, _ name: String) { self.kind = kind; self.name = name }
    public var description: String { "\(kind.rawValue) '\(name)'" }
}

/// Everything a step sees of its cell.
public struct CellContext: Sendable {
    public let recipe: Recipe
    public let cell: RecipeCell
    public let args: CellArgs
    /// The recipe seed (after `-p seed=`).
    public let seed: UInt64
    /// Folder for files this cell writes (checkpoints, figures). It becomes `cells/<key>/`.
    public let directory: String
    /// Overrides the data set search path (tests, `--data-dir`).
    public let dataDirectory: String?
    public let quiet: Bool

    /// The label for this cell's figure or table: the `#| label:` option, else one derived from the cell number.
    public func label(prefix: String) -> String { cell.options.label ?? "\(prefix)-cell\(cell.index)" }
}

/// What a cell produced: workspace entries (restored from the cache on later runs) and outputs for the report.
public struct CellResult: Codable, Sendable {
    public var produced: [Produced]
    public var outputs: [CellOutput]
    public init(produced: [Produced] = [], outputs: [CellOutput] = []) { self.produced = produced; self.outputs = outputs }
}

/// A workspace entry as stored in `cells/<key>/result.json`.
public enum Produced: Codable, Sendable {
    /// A data set, stored as how to load it (the key holds the files' hashes, so loading again gives the same data).
    case data(name: String, source: DataSource)
    /// A trained model: checkpoint file in the cell folder, its spec and its training history.
    case model(name: String, record: ModelRecord)
    case evaluation(name: String, record: EvaluationRecord)
    /// Any other JSON result (for steps added later).
    case result(name: String, json: String)

    public var workspaceName: WorkspaceName {
        switch self {
        case let .data(n, _): return WorkspaceName(.data, n)
        case let .model(n, _): return WorkspaceName(.model, n)
        case let .evaluation(n, _): return WorkspaceName(.evaluation, n)
        case let .result(n, _): return WorkspaceName(.result, n)
        }
    }
}

public struct ModelRecord: Codable, Sendable {
    public var spec: String
    public var checkpoint: String
    public var data: String
    public var history: TrainingHistory
    public var parameterCount: Int
}

public struct EvaluationRecord: Codable, Sendable {
    public var model: String
    public var data: String
    public var evaluation: Evaluation
}

/// Something shown in the report.
public enum CellOutput: Codable, Sendable {
    case figure(FigureOutput)
    case table(TableOutput)
    case metrics([MetricCard])
    case text(String)
}

public struct FigureOutput: Codable, Sendable {
    public var label: String
    public var caption: String?
    /// File names inside the cell folder.
    public var png: String
    public var json: String
    /// CSS pixel size the PNG is meant to be shown at.
    public var width: Int
    public var height: Int
}

public struct TableOutput: Codable, Sendable {
    public var label: String
    public var caption: String?
    public var columns: [String]
    public var rows: [[String]]
    /// Per column: true when it holds numbers (right-aligned).
    public var numeric: [Bool]
}

public struct MetricCard: Codable, Sendable, Equatable {
    /// Machine name, e.g. "cnn.accuracy".
    public var name: String
    public var label: String
    public var value: Double
    /// "higher" or "lower" (which is better).
    public var direction: String
    /// The value as shown (e.g. "87.3 %").
    public var display: String
}

/// All steps by name.
public enum StepRegistry {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var steps: [String: any Step] = {
        var d: [String: any Step] = [:]
        for s in builtInSteps { d[s.name] = s }
        return d
    }()

    public static let builtInSteps: [any Step] = [DataStep(), TrainStep(), EvaluateStep(), FigureStep(), TableStep(), MetricsStep(),
                                                   PruneStep(), PruneFigureStep(), PruneCompareStep(), TopologyCompareStep(),
                                                   TrainModularStep(), ClusterStep(), AblateStep(), ECSStep(), ModularityFigureStep(), NCutStep(),
                                                   FilterExperimentStep(), TopologyStep(), TopologySensitivityStep()]

    /// Adds or replaces a step.
    public static func register(_ step: any Step) {
        lock.lock(); defer { lock.unlock() }
        steps[step.name] = step
    }

    public static func step(named name: String) -> (any Step)? {
        lock.lock(); defer { lock.unlock() }
        return steps[name]
    }

    public static var names: [String] {
        lock.lock(); defer { lock.unlock() }
        return steps.keys.sorted()
    }
}

/// Loads a value when first asked, then keeps it (cached cells restore lazily: a fully cached run loads
/// no data set and no checkpoint).
public final class Lazy<T>: @unchecked Sendable {
    private var value: T?
    private let make: () throws -> T
    public init(_ make: @escaping () throws -> T) { self.make = make }
    public init(value: T) { self.value = value; self.make = { value } }
    public func get() throws -> T {
        if let value { return value }
        let v = try make()
        value = v
        return v
    }
}

/// A train/test pair under one name.
public struct DataPair: Sendable {
    public var train: Dataset
    public var test: Dataset
}

/// How a `data` cell loaded its data (enough to load it again identically).
public struct DataSource: Codable, Sendable, Equatable {
    public var dataset: String
    /// The folder the files were found in (recorded in run.json; the cache key uses the files' hashes).
    public var folder: String
    public var trainLimit: Int?
    public var testLimit: Int?
    /// Re-split the test split into train/test with `seed`.
    public var resplit: [Int]?
    public var seed: UInt64
    public var classNames: [String]

    public func load() throws -> DataPair {
        if let r = resplit {
            let all = try DatasetRegistry.load(name: dataset, split: .test, directory: folder)
            let (a, b) = try all.split(trainCount: r[0], testCount: r[1], seed: seed)
            return DataPair(train: a, test: b)
        }
        let train = try DatasetRegistry.load(name: dataset, split: .train, limit: trainLimit, directory: folder)
        let test = try DatasetRegistry.load(name: dataset, split: .test, limit: testLimit, directory: folder)
        return DataPair(train: train, test: test)
    }
}

/// Models, data sets and results by name, shared by the cells of one run.
public final class Workspace: @unchecked Sendable {
    public private(set) var data: [String: (source: DataSource, pair: Lazy<DataPair>)] = [:]
    public private(set) var models: [String: (record: ModelRecord, model: Lazy<Sequential>)] = [:]
    public private(set) var evaluations: [String: EvaluationRecord] = [:]
    public private(set) var results: [String: String] = [:]

    public init() {}

    /// Puts a cell's products into the workspace; `directory` is the cell folder holding their files.
    public func add(_ produced: Produced, directory: String, live: Any? = nil) {
        switch produced {
        case let .data(name, source):
            let pair = (live as? DataPair).map { Lazy(value: $0) } ?? Lazy { try source.load() }
            data[name] = (source, pair)
        case let .model(name, record):
            let path = (directory as NSString).appendingPathComponent(record.checkpoint)
            let model = (live as? Sequential).map { Lazy(value: $0) } ?? Lazy { try Checkpoint.load(path).model }
            models[name] = (record, model)
        case let .evaluation(name, record):
            evaluations[name] = record
        case let .result(name, json):
            results[name] = json
        }
    }

    func contains(_ n: WorkspaceName) -> Bool {
        switch n.kind {
        case .data: return data[n.name] != nil
        case .model: return models[n.name] != nil
        case .evaluation: return evaluations[n.name] != nil
        case .result: return results[n.name] != nil
        }
    }

    public func dataPair(_ name: String) throws -> DataPair {
        guard let d = data[name] else { throw GlassboxError.message("no data set named '\(name)'") }
        return try d.pair.get()
    }

    public func model(_ name: String) throws -> (record: ModelRecord, model: Sequential) {
        guard let m = models[name] else { throw GlassboxError.message("no model named '\(name)'") }
        return (m.record, try m.model.get())
    }

    public func evaluation(_ name: String) throws -> EvaluationRecord {
        guard let e = evaluations[name] else { throw GlassboxError.message("no evaluation named '\(name)'") }
        return e
    }
}
