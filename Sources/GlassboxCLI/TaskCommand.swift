import ArgumentParser
import Foundation
import GlassboxCore
import GlassboxEngine
import GlassboxSteps

struct TaskCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "task",
        abstract: "Run one task of a batch (what worker processes and Slurm jobs do), or measure an engine's overhead per task.",
        subcommands: [TaskRunCommand.self, TaskBenchCommand.self])
}

struct TaskRunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run task INDEX (or the merge) of the batch in FOLDER and write its result there atomically.",
        discussion: "Engines start this; a user needs it only to re-run one task by hand, e.g. glassbox task run run/tasks/<key> 3")

    @Argument(help: "The batch folder (holding batch.json).") var folder: String
    @Argument(help: "A task index (0-based) or 'merge'.") var which: String

    func run() throws {
        try TaskWorker.run(folder: folder, which: which, registry: StepTasks.registry)
    }
}

struct TaskBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time COUNT tasks that sleep SECONDS each, plus their merge, on an engine: its overhead per task.",
        discussion: """
        With --seconds 0 the tasks do nothing, so the time is the engine's own: starting each task's process (or Slurm
        job), writing and finding its result, and the merge. On Slurm the folder must be on the shared file system.
        Example: glassbox task bench --engine local --jobs 1 --count 20
        """)

    @Option(help: "Number of tasks.") var count = 20
    @Option(help: "Seconds each task sleeps.") var seconds = 0.0
    @Option(help: "Folder for the batch (default: a new folder in the current directory, removed afterwards).") var dir: String?
    @OptionGroup(title: "Engine (default: local)") var engine: EngineOptions

    func run() throws {
        guard count >= 1, count <= 100_000 else { throw GlassboxError.invalidArgument(name: "--count", expected: "1…100000", found: "\(count)") }
        guard seconds >= 0, seconds <= 3600 else { throw GlassboxError.invalidArgument(name: "--seconds", expected: "0…3600", found: "\(seconds)") }
        let e = try engine.makeEngine(fallback: .local, quiet: true)!
        let folder = dir ?? FileManager.default.currentDirectoryPath + "/.glassbox-bench-\(getpid())"
        defer { if dir == nil { try? FileManager.default.removeItem(atPath: folder) } }
        let tasks = try (0..<count).map { i in
            TaskSpec(id: "t\(i)", kind: "sleep", input: try EngineJSON.text(TaskRegistry.SleepInput(seconds: seconds, value: "\(i)")))
        }
        let batch = try TaskBatch.prepare(folder: folder, name: "bench", tasks: tasks, merge: MergeSpec(kind: "concat", input: ""), reuse: false)
        let start = Date()
        try e.run(batch)
        let wall = Date().timeIntervalSince(start)
        let merged = String(decoding: try batch.mergedOutput(), as: UTF8.self)
        guard merged == (0..<count).map(String.init).joined(separator: "\n") else {
            throw GlassboxError.message("bench: the merged output is not the tasks' outputs in order")
        }
        print(String(format: "%d tasks of %.3g s + merge on %@: %.3f s wall, %.4f s per task", count, seconds, e.description, wall, wall / Double(count)))
    }
}
