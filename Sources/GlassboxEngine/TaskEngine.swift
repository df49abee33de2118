import Foundation
import GlassboxCore

/// Runs a batch of independent tasks and then its merge. Whatever the engine and however many workers it has, the
/// outputs are the same bytes: each task is computed from its input alone and the merge reads them in task order.
public protocol TaskEngine: Sendable {
    /// For messages, e.g. "local (2 workers)".
    var description: String { get }
    /// Runs every task of `batch` that has no result yet, then the merge (when it has one and its output is missing).
    /// Throws `TaskFailure` naming the first task that failed for good; the merge then does not run, and the results
    /// of the tasks that finished stay for the next attempt.
    func run(_ batch: TaskBatch) throws
}

/// A task that failed for good (after its retries), with the end of its log.
public struct TaskFailure: Error, CustomStringConvertible, Sendable {
    public var batch: String
    /// The task's id, or `merge`.
    public var task: String
    public var kind: String
    public var attempts: Int
    /// How it failed: an exit status, a Slurm job state, or the error itself (in-process).
    public var reason: String
    /// The task's log file (nil in process).
    public var log: String?
    public var tail: [String]

    public init(batch: String, task: String, kind: String, attempts: Int, reason: String, log: String?, tail: [String]) {
        self.batch = batch; self.task = task; self.kind = kind; self.attempts = attempts; self.reason = reason; self.log = log; self.tail = tail
    }

    public var description: String {
        let what = task == "merge" ? "the merge (\(kind))" : "task \(task) (\(kind))"
        var s = "\(what) of \(batch) failed"
        s += attempts > 1 ? " \(attempts) times" : ""
        s += ": \(reason)"
        s += task == "merge" ? "" : "; the merge did not run (rerun to resume: finished tasks are kept)"
        guard let log else { return s }
        if tail.isEmpty { return s + ". Its log \(log) is empty or missing (is the run folder on a file system every node shares?)" }
        return s + ". Last lines of \(log):\n" + tail.map { "    " + $0 }.joined(separator: "\n")
    }
}

/// Runs tasks one after another in this process (tests; the same outputs as any other engine).
public struct InProcessEngine: TaskEngine {
    public let registry: TaskRegistry
    public init(registry: TaskRegistry) { self.registry = registry }
    public var description: String { "in process" }

    public func run(_ batch: TaskBatch) throws {
        for i in batch.missing {
            do { try TaskWorker.perform(batch, index: i, registry: registry) } catch {
                throw TaskFailure(batch: batch.name, task: batch.tasks[i].id, kind: batch.tasks[i].kind, attempts: 1, reason: "\(error)", log: nil, tail: [])
            }
        }
        do { try TaskWorker.performMerge(batch, registry: registry) } catch {
            throw TaskFailure(batch: batch.name, task: "merge", kind: batch.merge?.kind ?? "", attempts: 1, reason: "\(error)", log: nil, tail: [])
        }
    }
}

/// `--dry-run`: the job scripts were written and nothing was submitted. Not a failure: the command line prints it
/// and exits 0.
public struct EngineDryRun: Error, CustomStringConvertible, Sendable {
    public var scripts: [String]
    public var commands: [String]
    public var description: String {
        "dry run: wrote \(scripts.joined(separator: ", ")); nothing was submitted. To submit by hand:\n"
            + commands.map { "    " + $0 }.joined(separator: "\n")
    }
}

/// The engine's settings, as `glassbox run` and `glassbox sweep` take them (`--engine`, `--jobs`, `--retries` and the
/// Slurm pass-through options). Defaults live here, in the initialiser.
public struct EngineSettings: Codable, Equatable, Sendable {
    public enum Kind: String, Codable, Sendable, CaseIterable {
        /// A pool of worker processes of this binary on this machine.
        case local
        /// Job arrays on a Slurm cluster (the run folder on a shared file system).
        case slurm
    }

    public var engine = Kind.local
    /// local: worker processes at once (nil: the core count). slurm: most array tasks running at once (`%K`; nil: no limit).
    public var jobs: Int?
    /// How many times a failed task is tried again (nil: 0 locally, 2 on Slurm).
    public var retries: Int?
    public var slurm = SlurmSettings()

    public init(engine: Kind = .local, jobs: Int? = nil, retries: Int? = nil, slurm: SlurmSettings = SlurmSettings()) {
        self.engine = engine; self.jobs = jobs; self.retries = retries; self.slurm = slurm
    }

    public var effectiveRetries: Int { retries ?? (engine == .slurm ? 2 : 0) }

    public func validate() throws {
        if let j = jobs, j < 1 { throw GlassboxError.invalidArgument(name: "jobs", expected: "a whole number ≥ 1", found: "\(j)") }
        if let r = retries, !(0...20).contains(r) { throw GlassboxError.invalidArgument(name: "retries", expected: "0…20", found: "\(r)") }
        if engine == .slurm { try slurm.validate() } else if slurm != SlurmSettings() {
            throw GlassboxError.invalidArgument(name: "engine", expected: "slurm when Slurm options (--partition, --time, --mem, --cpus-per-task, "
                                                + "--sbatch-arg, --dry-run, --poll, --max-wait) are given", found: engine.rawValue)
        }
    }

    /// The engine these settings describe. `executable` is this program (workers and jobs run it as
    /// `EXECUTABLE task run FOLDER INDEX`).
    public func makeEngine(executable: String, quiet: Bool = false) throws -> any TaskEngine {
        try validate()
        switch engine {
        case .local:
            return LocalEngine(jobs: jobs ?? ProcessInfo.processInfo.activeProcessorCount, retries: effectiveRetries, executable: executable, quiet: quiet)
        case .slurm:
            return SlurmEngine(settings: slurm, throttle: jobs, retries: effectiveRetries, executable: executable, quiet: quiet)
        }
    }

    /// The running program's absolute path (`/proc/self/exe` on Linux).
    public static func currentExecutable() -> String {
        if let p = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return p }
        return URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.path
    }
}
