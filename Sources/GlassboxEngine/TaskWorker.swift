import Foundation
import GlassboxCore

/// Runs one task (or the merge) of a batch in this process: what `glassbox task run FOLDER INDEX|merge` does on a
/// worker process or a Slurm node, and what the in-process engine does for each task.
public enum TaskWorker {
    /// Environment variable for tests: `id` makes that task fail every time, `id:n` its first n attempts
    /// (comma-separated; `merge` names the merge). Nothing else reads it.
    public static let failureVariable = "GLASSBOX_TASK_FAIL"

    /// Runs task `index` unless its result exists; the output is written atomically.
    public static func perform(_ batch: TaskBatch, index: Int, registry: TaskRegistry) throws {
        guard batch.tasks.indices.contains(index) else {
            throw GlassboxError.invalidArgument(name: "task index", expected: "0…\(batch.tasks.count - 1)", found: "\(index)")
        }
        if batch.isDone(index) { return }
        let t = batch.tasks[index]
        try injectedFailure(batch, id: t.id)
        let output = try registry.task(t.kind)(t.input)
        try Files.writeAtomically(output, to: batch.resultPath(index))
    }

    /// Runs the merge over every task's output unless its output exists.
    public static func performMerge(_ batch: TaskBatch, registry: TaskRegistry) throws {
        guard let m = batch.merge else { return }
        if batch.isMerged { return }
        if let i = batch.missing.first {
            throw GlassboxError.message("merge of \(batch.folder): task \(batch.tasks[i].id) has no result")
        }
        try injectedFailure(batch, id: "merge")
        let results = try batch.tasks.indices.map { try batch.result($0) }
        try Files.writeAtomically(try registry.merge(m.kind)(m.input, results), to: batch.mergedPath)
    }

    /// The worker command: checks the folder is visible here (a Slurm node sees it only on a shared file system),
    /// runs task `which` (an index) or the merge (`merge`), and logs start and end on standard error.
    public static func run(folder: String, which: String, registry: TaskRegistry) throws {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDir), isDir.boolValue else {
            throw GlassboxError.message("cannot see the task folder \(folder) on host \(hostName()): the run folder must be on a file system shared "
                                        + "by every node that runs tasks (--engine slurm needs a shared file system; see README, Running on a cluster)")
        }
        let batch = try TaskBatch.open(folder)
        let start = Date()
        let label: String
        if which == "merge" {
            label = "merge (\(batch.merge?.kind ?? "none"))"
            note("\(stamp()) \(label) of \(batch.name) on \(hostName()), pid \(getpid())")
            try performMerge(batch, registry: registry)
        } else {
            guard let i = Int(which), batch.tasks.indices.contains(i) else {
                throw GlassboxError.invalidArgument(name: "task", expected: "merge or an index 0…\(batch.tasks.count - 1)", found: "'\(which)'")
            }
            label = "task \(batch.tasks[i].id) (\(batch.tasks[i].kind))"
            note("\(stamp()) \(label) of \(batch.name) on \(hostName()), pid \(getpid())")
            try perform(batch, index: i, registry: registry)
        }
        note("\(stamp()) \(label) done in \(String(format: "%.3f", Date().timeIntervalSince(start))) s")
    }

    static func note(_ s: String) { FileHandle.standardError.write(Data((s + "\n").utf8)) }

    static func stamp() -> String {
        let f = DateFormatter()
        f.dateFormat = "yyyy-MM-dd HH:mm:ss"
        return f.string(from: Date())
    }

    public static func hostName() -> String { ProcessInfo.processInfo.hostName }

    /// The test hook (see `failureVariable`).
    static func injectedFailure(_ batch: TaskBatch, id: String) throws {
        guard let spec = ProcessInfo.processInfo.environment[failureVariable], !spec.isEmpty else { return }
        for item in spec.split(separator: ",") {
            let parts = item.split(separator: ":", maxSplits: 1).map(String.init)
            guard parts.first == id else { continue }
            if parts.count == 2, let times = Int(parts[1]) {
                let counter = batch.path("logs/\(id).injected")
                let done = Int(String(decoding: FileManager.default.contents(atPath: counter) ?? Data(), as: UTF8.self)) ?? 0
                if done >= times { return }
                try Files.writeAtomically(Data("\(done + 1)".utf8), to: counter)
            }
            throw GlassboxError.message("task \(id): failure injected by \(failureVariable) (a test hook)")
        }
    }
}
