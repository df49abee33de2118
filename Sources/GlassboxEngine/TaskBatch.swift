import Foundation
import GlassboxCore

/// One unit of independent work. Any engine runs it, in any process, on any node that sees the batch folder:
/// `kind` names the handler (`TaskRegistry`), `input` is its complete serialised description (JSON text), and the
/// result depends on nothing else. `id` is stable and readable (`net-7`, `epochs-2_seed-3`): it names the task's
/// log and appears in errors.
public struct TaskSpec: Codable, Sendable, Equatable {
    public var id: String
    public var kind: String
    public var input: String

    public init(id: String, kind: String, input: String) { self.id = id; self.kind = kind; self.input = input }

    /// The content hash of what the task computes: its kind, its input and the tool version. The result file is
    /// named by it, so a re-run finds the tasks that already finished and never mistakes another task's result.
    public var key: String { SHA256.hex(["glassbox-task 1", GlassboxVersion.string, kind, input].joined(separator: "\n")) }
}

/// The step after a batch's tasks: reads every task's output (in task order) and writes one output.
public struct MergeSpec: Codable, Sendable, Equatable {
    public var kind: String
    public var input: String
    public init(kind: String, input: String) { self.kind = kind; self.input = input }
}

/// A batch of tasks and its merge, as a folder every engine and every worker reads:
/// ```
/// <folder>/batch.json            the tasks (id, kind, input) in order and the merge
/// <folder>/results/<key>.out     a task's output, written atomically (temporary file, then rename)
/// <folder>/results/merge-<key>.out
/// <folder>/logs/<id>.log         what the task printed, every attempt appended (merge.log for the merge)
/// <folder>/slurm/                job scripts (slurm engine)
/// ```
/// A result file exists only once complete, so a killed task leaves nothing a later run could mistake for output.
public struct TaskBatch: Sendable {
    public static let format = "glassbox-task-batch 1"
    /// Absolute path.
    public let folder: String
    /// Short name for job names and messages (e.g. the cell's result name).
    public let name: String
    public let tasks: [TaskSpec]
    public let merge: MergeSpec?

    struct Stored: Codable {
        var format: String
        var name: String
        var tasks: [TaskSpec]
        var merge: MergeSpec?
    }

    /// Writes the batch into `folder` (created if needed). Results of tasks still in the batch are kept when `reuse`
    /// (the default); other results and temporary files left by killed tasks are removed.
    public static func prepare(folder: String, name: String, tasks: [TaskSpec], merge: MergeSpec?, reuse: Bool = true) throws -> TaskBatch {
        try validate(tasks)
        let abs = URL(fileURLWithPath: folder).standardizedFileURL.path
        let batch = TaskBatch(folder: abs, name: name, tasks: tasks, merge: merge)
        let fm = FileManager.default
        for sub in ["results", "logs"] { try fm.createDirectory(atPath: batch.path(sub), withIntermediateDirectories: true) }
        let keep: Set<String> = reuse ? Set(tasks.indices.map { batch.resultName($0) } + (merge == nil ? [] : [batch.mergedName])) : []
        for f in (try? fm.contentsOfDirectory(atPath: batch.path("results"))) ?? [] where !keep.contains(f) {
            try? fm.removeItem(atPath: batch.path("results/\(f)"))
        }
        try Files.writeAtomically(try EngineJSON.encode(Stored(format: format, name: name, tasks: tasks, merge: merge)),
                                  to: batch.path("batch.json"))
        return batch
    }

    /// Opens a batch written by `prepare` (what a worker process does).
    public static func open(_ folder: String) throws -> TaskBatch {
        let abs = URL(fileURLWithPath: folder).standardizedFileURL.path
        let file = (abs as NSString).appendingPathComponent("batch.json")
        let s = try EngineJSON.decode(Stored.self, from: try Files.read(file), path: file)
        guard s.format == format else { throw GlassboxError.badFile(path: file, field: "format", expected: format, found: s.format) }
        try validate(s.tasks)
        return TaskBatch(folder: abs, name: s.name, tasks: s.tasks, merge: s.merge)
    }

    static func validate(_ tasks: [TaskSpec]) throws {
        var ids = Set<String>()
        for t in tasks {
            guard isSafeID(t.id), ids.insert(t.id).inserted else {
                throw GlassboxError.invalidArgument(name: "task id", expected: "unique ids of letters, digits, '.', '_', '-'", found: "'\(t.id)'")
            }
        }
    }

    /// Letters, digits, `.`, `_`, `-`, not starting with `.` (one path component, safe in a shell word).
    public static func isSafeID(_ s: String) -> Bool {
        guard let first = s.unicodeScalars.first, first != ".", s.count <= 200 else { return false }
        return s.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "._-".unicodeScalars.contains($0)) }
    }

    public func path(_ relative: String) -> String { (folder as NSString).appendingPathComponent(relative) }

    /// The merge's key: its kind and input and the keys of every task, in order.
    public var mergeKey: String? {
        merge.map { m in SHA256.hex((["glassbox-merge 1", GlassboxVersion.string, m.kind, m.input] + tasks.map(\.key)).joined(separator: "\n")) }
    }

    func resultName(_ i: Int) -> String { "\(tasks[i].key).out" }
    var mergedName: String { "merge-\(mergeKey ?? "none").out" }

    public func resultPath(_ i: Int) -> String { path("results/\(resultName(i))") }
    public var mergedPath: String { path("results/\(mergedName)") }
    public func logPath(_ i: Int) -> String { path("logs/\(tasks[i].id).log") }
    public var mergeLogPath: String { path("logs/merge.log") }

    public func isDone(_ i: Int) -> Bool { FileManager.default.fileExists(atPath: resultPath(i)) }
    /// Indices of tasks without a result, in order.
    public var missing: [Int] { tasks.indices.filter { !isDone($0) } }
    public var isMerged: Bool { merge == nil || FileManager.default.fileExists(atPath: mergedPath) }
    /// Every task has its result and the merge (if any) its output.
    public var isComplete: Bool { missing.isEmpty && isMerged }

    public func result(_ i: Int) throws -> Data { try Files.read(resultPath(i)) }
    public func mergedOutput() throws -> Data {
        guard merge != nil else { throw GlassboxError.message("batch \(folder) has no merge") }
        return try Files.read(mergedPath)
    }

    /// The last `lines` lines of a log (empty when there is none).
    public static func tail(_ path: String, lines: Int = 20) -> [String] {
        guard let d = FileManager.default.contents(atPath: path) else { return [] }
        let all = String(decoding: d, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let trimmed = all.last == "" ? Array(all.dropLast()) : all
        return Array(trimmed.suffix(lines))
    }
}

/// JSON with sorted keys (stable bytes) and the non-finite numbers spelled as strings, like the report's files.
public enum EngineJSON {
    public static func encode<T: Encodable>(_ v: T) throws -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        e.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        do { return try e.encode(v) } catch { throw GlassboxError.message("could not encode \(T.self) as JSON: \(error)") }
    }

    public static func decode<T: Decodable>(_ type: T.Type, from data: Data, path: String) throws -> T {
        let d = JSONDecoder()
        d.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        do { return try d.decode(type, from: data) } catch {
            throw GlassboxError.badFile(path: path, field: "JSON", expected: "a \(T.self) value", found: "\(error)")
        }
    }

    /// `v` as JSON text (a task's input).
    public static func text<T: Encodable>(_ v: T) throws -> String { String(decoding: try encode(v), as: UTF8.self) }
}
