import Foundation
import GlassboxCore
import GlassboxData
import GlassboxEngine
import GlassboxNN
import GlassboxReport

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

/// A trained (or pruned, or loaded) model as the workspace records it.
public struct ModelRecord: Codable, Sendable {
    public var spec: String
    /// The checkpoint file inside the cell folder.
    public var checkpoint: String
    /// The data set it was trained on (a workspace name).
    public var data: String
    public var history: TrainingHistory
    public var parameterCount: Int
    /// How the inputs it expects were scaled and normalised (the data it was trained or loaded with); nil: pixels
    /// scaled to [0, 1] and nothing else.
    public var normalization: Normalization? = nil
}

/// A probe set (images with concept masks) as the workspace records it: its file in the cell folder and a summary.
public struct ProbeRecord: Codable, Sendable {
    public var file: String
    public var images: Int
    public var concepts: Int
    /// How it was made, in words.
    public var source: String
}

public struct EvaluationRecord: Codable, Sendable {
    public var model: String
    public var data: String
    public var evaluation: Evaluation
}

/// A result an analysis step leaves in the workspace for later cells (pruning records, co-clusters, pooled
/// filters, …). `kind` names it in messages and in the cache, so asking for a pruning result by the name of a
/// cluster result is a clear error, not a silent "not found".
public protocol WorkspaceResult: Codable, Sendable {
    /// E.g. "pruning result".
    static var kind: String { get }
}

/// A result as the cache stores it: its kind and its JSON.
public struct StoredResult: Codable, Sendable {
    public var kind: String
    public var json: String

    public init<T: WorkspaceResult>(_ value: T) throws {
        kind = T.kind
        json = String(decoding: try ReportJSON.encode(value), as: UTF8.self)
    }
}

/// A workspace entry as stored in `cells/<key>/result.json`.
public enum Produced: WorkspaceEntry {
    /// A data set, stored as how to load it (the key holds the files' hashes, so loading again gives the same data).
    case data(name: String, source: DataSource)
    /// A model: checkpoint file in the cell folder, its spec and its training history.
    case model(name: String, record: ModelRecord)
    case evaluation(name: String, record: EvaluationRecord)
    /// A probe set, stored in its binary encoding in the cell folder.
    case probes(name: String, record: ProbeRecord)
    /// An analysis result, typed by its kind.
    case result(name: String, stored: StoredResult)

    public var workspaceName: WorkspaceName {
        switch self {
        case let .data(n, _): return WorkspaceName(.data, n)
        case let .model(n, _): return WorkspaceName(.model, n)
        case let .evaluation(n, _): return WorkspaceName(.evaluation, n)
        case let .probes(n, _): return WorkspaceName(.probes, n)
        case let .result(n, _): return WorkspaceName(.result, n)
        }
    }
}

/// Models, data sets, evaluations and results by name, shared by the cells of one run. Entries are typed:
/// asking for the wrong kind of thing under a name is an error naming what the name holds.
public final class Workspace: @unchecked Sendable {
    public private(set) var data: [String: (source: DataSource, pair: Lazy<DataPair>)] = [:]
    public private(set) var models: [String: (record: ModelRecord, model: Lazy<Sequential>)] = [:]
    public private(set) var evaluations: [String: EvaluationRecord] = [:]
    public private(set) var probes: [String: (record: ProbeRecord, set: Lazy<ProbeSet>)] = [:]
    private var results: [String: ResultSlot] = [:]
    /// How cells run work they split into independent tasks (the filter experiment's nets): nil runs it in this
    /// process as before; `glassbox run --engine local|slurm` sets it. The results are the same bytes either way.
    public var engine: (any TaskEngine)?

    /// A result held live (made in this run) or as stored JSON (restored from the cache), decoded when asked.
    private enum ResultSlot {
        case live(any WorkspaceResult)
        case stored(StoredResult)
        var kind: String {
            switch self {
            case let .live(v): return type(of: v).kind
            case let .stored(s): return s.kind
            }
        }
    }

    public init() {}

    /// Puts an entry into the workspace; `directory` is the cell folder holding its files, `live` the object the step
    /// made (a `DataPair` or a `Sequential`), kept instead of loading it again.
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
        case let .probes(name, record):
            let path = (directory as NSString).appendingPathComponent(record.file)
            let set = (live as? ProbeSet).map { Lazy(value: $0) } ?? Lazy { try ProbeSet.decode(try Files.read(path), source: path) }
            probes[name] = (record, set)
        case let .result(name, stored):
            results[name] = .stored(stored)
        }
    }

    /// Stores a result made in this run and returns its cache entry.
    @discardableResult
    public func addResult<T: WorkspaceResult>(_ value: T, name: String) throws -> Produced {
        results[name] = .live(value)
        return .result(name: name, stored: try StoredResult(value))
    }

    public func contains(_ n: WorkspaceName) -> Bool {
        switch n.kind {
        case .data: return data[n.name] != nil
        case .model: return models[n.name] != nil
        case .evaluation: return evaluations[n.name] != nil
        case .probes: return probes[n.name] != nil
        case .result: return results[n.name] != nil
        }
    }

    public func dataPair(_ name: String) throws -> DataPair {
        guard let d = data[name] else { throw GlassboxError.invalidArgument(name: "data", expected: "a data set made by an earlier cell", found: "'\(name)'") }
        return try d.pair.get()
    }

    public func model(_ name: String) throws -> (record: ModelRecord, model: Sequential) {
        guard let m = models[name] else { throw GlassboxError.invalidArgument(name: "model", expected: "a model made by an earlier cell", found: "'\(name)'") }
        return (m.record, try m.model.get())
    }

    /// A model and the test split it is analysed on: `data`, else the data the model was made with.
    public func modelWithTestData(_ name: String, data: String?) throws -> (model: Sequential, test: Dataset) {
        let (record, model) = try self.model(name)
        return (model, try dataPair(data ?? record.data).test)
    }

    public func modelRecord(_ name: String) throws -> ModelRecord {
        guard let m = models[name] else { throw GlassboxError.invalidArgument(name: "model", expected: "a model made by an earlier cell", found: "'\(name)'") }
        return m.record
    }

    /// The normalisation a model expects: its record's, else that of the data it was made with.
    public func normalization(ofModel name: String) -> Normalization? {
        guard let r = models[name]?.record else { return nil }
        return r.normalization ?? data[r.data]?.source.normalization
    }

    public func evaluation(_ name: String) throws -> EvaluationRecord {
        guard let e = evaluations[name] else {
            throw GlassboxError.invalidArgument(name: "evaluation", expected: "an evaluation made by an earlier cell", found: "'\(name)'")
        }
        return e
    }

    public func probeSet(_ name: String) throws -> ProbeSet {
        guard let p = probes[name] else {
            throw GlassboxError.invalidArgument(name: "probes", expected: "a probe set made by an earlier concepts cell", found: "'\(name)'")
        }
        return try p.set.get()
    }

    /// The kind of the result named `name`, if there is one.
    public func resultKind(_ name: String) -> String? { results[name]?.kind }

    /// The result named `name` as a `T`; `argument` names the cell argument for the error.
    public func result<T: WorkspaceResult>(_ name: String, _ type: T.Type, argument: String = "result") throws -> T {
        guard let slot = results[name] else {
            throw GlassboxError.invalidArgument(name: argument, expected: "a \(T.kind) made by an earlier cell", found: "no result named '\(name)'")
        }
        guard slot.kind == T.kind else {
            throw GlassboxError.invalidArgument(name: argument, expected: "a \(T.kind)", found: "'\(name)', a \(slot.kind)")
        }
        switch slot {
        case let .live(v):
            guard let t = v as? T else {
                throw GlassboxError.invalidArgument(name: argument, expected: "a \(T.kind)", found: "'\(name)' of another type")
            }
            return t
        case let .stored(s):
            let t = try ReportJSON.decode(T.self, from: Data(s.json.utf8), path: "result '\(name)' in the cell cache")
            results[name] = .live(t)
            return t
        }
    }
}
