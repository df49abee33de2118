import Foundation
import GlassboxCore

/// Runs a batch on a Slurm cluster from a login node. Each round writes one job-array script for the tasks still
/// missing (`#SBATCH --array=0-(N-1)%K`, one log per task) and submits it with `sbatch --parsable`, then submits the
/// merge with `--dependency=afterok:ARRAY --kill-on-invalid-dep=yes`, so the merge runs only if every task succeeded
/// and is cancelled (not left waiting) otherwise. It follows the jobs with `scontrol show job` (or `sacct` once the
/// controller forgot them), every command under a time limit, never with `sbatch --wait` (which returns 0 when a
/// dependent job is cancelled). Failed tasks are submitted again up to `retries` times; then the error names the
/// task and shows the end of its log. The batch folder must be on a file system every node shares.
public struct SlurmEngine: TaskEngine {
    public var settings: SlurmSettings
    /// Most array elements running at once (`%K`).
    public var throttle: Int?
    public var retries: Int
    public var executable: String
    public var quiet: Bool

    public init(settings: SlurmSettings, throttle: Int? = nil, retries: Int = 2, executable: String, quiet: Bool = false) {
        self.settings = settings; self.throttle = throttle; self.retries = max(0, retries); self.executable = executable; self.quiet = quiet
    }

    public var description: String { "slurm" + (settings.partition.map { " (partition \($0))" } ?? "") }

    var client: SlurmClient { SlurmClient(timeout: settings.commandTimeout) }

    func note(_ s: String) { if !quiet { logInfo(s) } }

    public func run(_ batch: TaskBatch) throws {
        try SlurmScript.checkPath(batch.folder, what: "run folder")
        try SlurmScript.checkPath(executable, what: "glassbox binary")
        var attempts = [Int](repeating: 0, count: batch.tasks.count)
        var mergeAttempts = 0
        var round = 0
        while !batch.isComplete {
            round += 1
            let missing = batch.missing
            let scripts = try writeScripts(batch, missing: missing, round: round)
            if settings.dryRun { throw dryRun(scripts) }
            for i in missing { attempts[i] += 1 }
            if missing.isEmpty { mergeAttempts += 1 }
            let jobs = try submit(scripts, batch: batch, count: missing.count)
            let outcome = try OnInterrupt.run({
                FileHandle.standardError.write(Data("\nglassbox: interrupted; cancelling Slurm jobs \(jobs.all.joined(separator: ", "))\n".utf8))
                client.cancel(jobs.all)
            }) { try follow(batch, jobs: jobs, tasks: missing) }
            switch outcome {
            case .complete:
                continue
            case let .tasksFailed(reasons):
                // The merge is cancelled by Slurm (its dependency can never be met); make sure before the next round.
                client.cancel(jobs.merge.map { [$0] } ?? [])
                for (i, reason) in reasons.sorted(by: { $0.key < $1.key }) where attempts[i] > retries {
                    throw failure(batch, index: i, reason: reason, attempts: attempts[i], arrayJob: jobs.array, element: missing.firstIndex(of: i))
                }
                note("\(batch.name): \(reasons.count) task(s) failed (\(reasons.keys.sorted().map { batch.tasks[$0].id }.joined(separator: ", "))); submitting them again")
            case let .mergeFailed(reason):
                if !missing.isEmpty { mergeAttempts += 1 }
                if mergeAttempts > retries {
                    throw TaskFailure(batch: batch.name, task: "merge", kind: batch.merge?.kind ?? "", attempts: mergeAttempts, reason: reason,
                                      log: batch.mergeLogPath, tail: TaskBatch.tail(batch.mergeLogPath))
                }
                note("\(batch.name): the merge failed (\(reason)); submitting it again")
            }
        }
    }

    struct Scripts {
        var array: String?
        var merge: String?
    }

    struct Jobs {
        var array: String?
        var merge: String?
        var all: [String] { [array, merge].compactMap { $0 } }
    }

    func writeScripts(_ batch: TaskBatch, missing: [Int], round: Int) throws -> Scripts {
        var s = Scripts()
        if !missing.isEmpty {
            let path = batch.path("slurm/array-\(round).sh")
            try Files.writeAtomically(Data(SlurmScript.array(batch, tasks: missing, settings: settings, throttle: throttle, executable: executable).utf8), to: path)
            s.array = path
        }
        if batch.merge != nil {
            let path = batch.path("slurm/merge-\(round).sh")
            try Files.writeAtomically(Data(SlurmScript.merge(batch, settings: settings, executable: executable).utf8), to: path)
            s.merge = path
        }
        return s
    }

    func dryRun(_ s: Scripts) -> EngineDryRun {
        var commands: [String] = []
        if let a = s.array { commands.append("ARRAY=$(sbatch --parsable \(SlurmScript.quote(a)))") }
        if let m = s.merge {
            commands.append("sbatch --parsable " + (s.array == nil ? "" : "--dependency=afterok:$ARRAY --kill-on-invalid-dep=yes ") + SlurmScript.quote(m))
        }
        return EngineDryRun(scripts: [s.array, s.merge].compactMap { $0 }, commands: commands)
    }

    func submit(_ s: Scripts, batch: TaskBatch, count: Int) throws -> Jobs {
        var jobs = Jobs()
        if let a = s.array { jobs.array = try client.submit([a]) }
        if let m = s.merge {
            do {
                jobs.merge = try client.submit((jobs.array.map { ["--dependency=afterok:\($0)", "--kill-on-invalid-dep=yes"] } ?? []) + [m])
            } catch {
                client.cancel(jobs.all)
                throw error
            }
        }
        note("\(batch.name): " + (jobs.array.map { "\(count) task\(count == 1 ? "" : "s") as Slurm array job \($0)" } ?? "no tasks")
             + (jobs.merge.map { ", merge as job \($0)" } ?? ""))
        return jobs
    }

    enum Outcome {
        case complete
        /// Task index → how its job ended.
        case tasksFailed([Int: String])
        case mergeFailed(String)
    }

    /// Watches the jobs until the merge completed, or something failed and nothing of this round still runs.
    func follow(_ batch: TaskBatch, jobs: Jobs, tasks: [Int]) throws -> Outcome {
        let start = Date()
        var lastAnswer = Date()
        let progress = ProgressBar(total: max(1, tasks.count), label: "slurm \(jobs.array ?? jobs.merge ?? "")")
        defer { progress.finish() }
        while true {
            if let limit = settings.maxWait, Date().timeIntervalSince(start) > limit {
                client.cancel(jobs.all)
                throw GlassboxError.message("slurm: jobs \(jobs.all.joined(separator: ", ")) of \(batch.name) did not finish within --max-wait \(formatSeconds(limit)); cancelled them")
            }
            var elements: [SlurmJobRecord] = []
            var arrayKnown = jobs.array == nil
            var merge: SlurmJobRecord?
            var answered = true
            if let a = jobs.array {
                switch client.query(a) {
                case let .records(r): elements = r; arrayKnown = true
                case .unknown: break
                case let .error(m): answered = false; try controllerSilent(since: lastAnswer, message: m, jobs: jobs)
                }
            }
            if let m = jobs.merge, answered {
                switch client.query(m) {
                case let .records(r): merge = r.first
                case .unknown: break
                case let .error(msg): answered = false; try controllerSilent(since: lastAnswer, message: msg, jobs: jobs)
                }
            }
            if !answered { Thread.sleep(forTimeInterval: settings.poll); continue }
            lastAnswer = Date()

            if let stuck = (elements + [merge].compactMap { $0 }).first(where: \.isStuck) {
                client.cancel(jobs.all)
                throw GlassboxError.message("slurm: job \(stuck.jobID) of \(batch.name) will not start: \(stuck.summary); cancelled jobs \(jobs.all.joined(separator: ", "))")
            }
            let done = tasks.filter { batch.isDone($0) }.count
            let running = elements.filter { $0.state == "RUNNING" }.reduce(0) { $0 + max(1, $1.elements.count) }
            progress.update(done, suffix: "\(running) running")

            // Array elements still queued or running (unknown records: assume finished, the files tell the rest).
            let active = arrayKnown && elements.contains { !$0.isTerminal }
            let failedElement = elements.contains { $0.isTerminal && !$0.isCompleted }
            if let m = merge {
                if m.isCompleted { return batch.isMerged ? .complete : .mergeFailed("the merge job \(m.jobID) completed without writing its output") }
                if m.isTerminal && m.state != "CANCELLED" { return .mergeFailed("merge job \(m.jobID) \(m.summary)") }
                if (m.state == "CANCELLED" || failedElement) && !active { return outcomeOfTasks(batch, tasks: tasks, elements: elements, merge: m) }
            } else if jobs.merge != nil {
                // The controller forgot the merge job and accounting cannot tell: the files can.
                if batch.isMerged { return .complete }
                if !active { return outcomeOfTasks(batch, tasks: tasks, elements: elements, merge: nil) }
            } else if !active {
                return batch.missing.isEmpty ? .complete : outcomeOfTasks(batch, tasks: tasks, elements: elements, merge: nil)
            }
            Thread.sleep(forTimeInterval: settings.poll)
        }
    }

    /// Which of this round's tasks have no result, and how their jobs ended.
    func outcomeOfTasks(_ batch: TaskBatch, tasks: [Int], elements: [SlurmJobRecord], merge: SlurmJobRecord?) -> Outcome {
        var reasons: [Int: String] = [:]
        for (element, i) in tasks.enumerated() where !batch.isDone(i) {
            let record = elements.first { $0.elements.contains(element) }
            reasons[i] = record.map { "Slurm job \($0.jobID)_\(element) \($0.summary)" } ?? "its Slurm job ended without a result"
        }
        if reasons.isEmpty { return .mergeFailed("merge job \(merge?.jobID ?? "?") \(merge?.summary ?? "was not found") although every task has its result") }
        return .tasksFailed(reasons)
    }

    func controllerSilent(since last: Date, message: String, jobs: Jobs) throws {
        if Date().timeIntervalSince(last) > settings.commandTimeout {
            throw GlassboxError.message("slurm: the controller stopped answering for \(formatSeconds(settings.commandTimeout)) while following jobs "
                                        + "\(jobs.all.joined(separator: ", ")) (\(message)); they may still run: check with squeue")
        }
    }

    func failure(_ batch: TaskBatch, index i: Int, reason: String, attempts: Int, arrayJob: String?, element: Int?) -> TaskFailure {
        var tail = TaskBatch.tail(batch.logPath(i))
        var log = batch.logPath(i)
        if tail.isEmpty, let a = arrayJob, let e = element {
            // Nothing from glassbox itself: the job script's own output (e.g. the shared file system check).
            let wrapper = batch.path("logs/slurm-\(a)_\(e).out")
            let t = TaskBatch.tail(wrapper)
            if !t.isEmpty { tail = t; log = wrapper }
        }
        return TaskFailure(batch: batch.name, task: batch.tasks[i].id, kind: batch.tasks[i].kind, attempts: attempts, reason: reason, log: log, tail: tail)
    }

    func formatSeconds(_ s: Double) -> String { s == s.rounded() ? "\(Int(s)) s" : String(format: "%.1f s", s) }
}
