import Foundation
import GlassboxCore

/// A pool of worker processes on this machine: each task is its own process of this binary
/// (`EXECUTABLE task run FOLDER INDEX`, output appended to the task's log), at most `jobs` at once. When every task
/// has its result, the merge runs the same way. Each worker gets `GLASSBOX_THREADS` (and OpenBLAS's thread count) =
/// cores / workers unless the environment sets them, so the workers do not fight over the cores; the results do not
/// depend on it.
public struct LocalEngine: TaskEngine {
    public var jobs: Int
    public var retries: Int
    public var executable: String
    public var quiet: Bool

    public init(jobs: Int, retries: Int = 0, executable: String, quiet: Bool = false) {
        self.jobs = max(1, jobs); self.retries = max(0, retries); self.executable = executable; self.quiet = quiet
    }

    public var description: String { "local (\(jobs) worker\(jobs == 1 ? "" : "s"))" }

    /// One running worker.
    final class Worker {
        let index: Int?   // nil: the merge
        let process: Process
        init(index: Int?, process: Process) { self.index = index; self.process = process }
    }

    public func run(_ batch: TaskBatch) throws {
        // Workers run in process groups of their own (Foundation's Process), so Ctrl-C does not reach them: stop them here.
        let workers = RunningProcesses()
        try OnInterrupt.run({
            FileHandle.standardError.write(Data("\nglassbox: interrupted; stopping the worker processes\n".utf8))
            workers.terminateAll()
        }) { try run(batch, workers: workers) }
    }

    func run(_ batch: TaskBatch, workers: RunningProcesses) throws {
        var queue = batch.missing
        let total = queue.count
        let progress = ProgressBar(total: total, label: "tasks (\(description))")
        defer { progress.finish() }
        if !quiet && total > 0 { logInfo("\(batch.name): \(total) task\(total == 1 ? "" : "s") on \(description)") }
        let environment = workerEnvironment(workers: min(jobs, max(1, total)))
        let finished = DispatchSemaphore(value: 0)
        var running: [Worker] = []
        var attempts = [Int](repeating: 0, count: batch.tasks.count)
        var failure: TaskFailure?
        var done = 0
        while !queue.isEmpty || !running.isEmpty {
            while failure == nil, running.count < jobs, !queue.isEmpty {
                let i = queue.removeFirst()
                attempts[i] += 1
                let p = try launch(batch, which: "\(i)", log: batch.logPath(i), environment: environment, signal: finished)
                workers.insert(p.processIdentifier)
                running.append(Worker(index: i, process: p))
            }
            if running.isEmpty { break }
            finished.wait()
            for w in running where !w.process.isRunning {
                workers.remove(w.process.processIdentifier)
                let i = w.index!
                if w.process.terminationStatus == 0 && batch.isDone(i) {
                    done += 1
                    progress.update(done)
                } else if attempts[i] <= retries && failure == nil {
                    queue.append(i)
                } else if failure == nil {
                    // Stop starting tasks; the ones running finish (their results serve the next attempt).
                    failure = TaskFailure(batch: batch.name, task: batch.tasks[i].id, kind: batch.tasks[i].kind, attempts: attempts[i],
                                          reason: Self.exitText(w.process), log: batch.logPath(i), tail: TaskBatch.tail(batch.logPath(i)))
                }
            }
            running.removeAll { !$0.process.isRunning }
        }
        if let failure { throw failure }
        try runMerge(batch, environment: environment, workers: workers)
    }

    /// The merge in a worker process of its own, with the same retries.
    func runMerge(_ batch: TaskBatch, environment: [String: String], workers: RunningProcesses) throws {
        guard !batch.isMerged else { return }
        var attempt = 0
        while true {
            attempt += 1
            let finished = DispatchSemaphore(value: 0)
            let p = try launch(batch, which: "merge", log: batch.mergeLogPath, environment: environment, signal: finished)
            workers.insert(p.processIdentifier)
            finished.wait()
            p.waitUntilExit()
            workers.remove(p.processIdentifier)
            if p.terminationStatus == 0 && batch.isMerged { return }
            if attempt > retries {
                throw TaskFailure(batch: batch.name, task: "merge", kind: batch.merge?.kind ?? "", attempts: attempt, reason: Self.exitText(p),
                                  log: batch.mergeLogPath, tail: TaskBatch.tail(batch.mergeLogPath))
            }
        }
    }

    func launch(_ batch: TaskBatch, which: String, log: String, environment: [String: String], signal: DispatchSemaphore) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = ["task", "run", batch.folder, which]
        p.environment = environment
        let handle = try Self.appending(to: log)
        p.standardOutput = handle
        p.standardError = handle
        p.standardInput = FileHandle.nullDevice
        p.terminationHandler = { _ in signal.signal() }
        do { try p.run() } catch {
            throw GlassboxError.message("could not start the worker \(executable): \(error.localizedDescription)")
        }
        try? handle.close()
        return p
    }

    /// The worker's environment: ours, plus thread counts that share the cores between `workers` processes.
    func workerEnvironment(workers: Int) -> [String: String] {
        var env = ProcessInfo.processInfo.environment
        let threads = "\(max(1, ProcessInfo.processInfo.activeProcessorCount / max(1, workers)))"
        if env["GLASSBOX_THREADS"] == nil { env["GLASSBOX_THREADS"] = threads }
        if env["OPENBLAS_NUM_THREADS"] == nil { env["OPENBLAS_NUM_THREADS"] = env["GLASSBOX_THREADS"] }
        return env
    }

    static func appending(to path: String) throws -> FileHandle {
        let fm = FileManager.default
        try fm.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        if !fm.fileExists(atPath: path) { _ = fm.createFile(atPath: path, contents: nil) }
        guard let h = FileHandle(forWritingAtPath: path) else {
            throw GlassboxError.badFile(path: path, field: "log", expected: "a writable file", found: "none")
        }
        h.seekToEndOfFile()
        return h
    }

    static func exitText(_ p: Process) -> String {
        p.terminationReason == .uncaughtSignal ? "killed by signal \(p.terminationStatus)" : "exit status \(p.terminationStatus)"
    }
}
