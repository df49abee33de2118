import ArgumentParser
import Foundation
import GlassboxCore
import GlassboxEngine

/// The engine flags of `run`, `sweep` and `task bench`: where independent tasks run, and the Slurm pass-through.
struct EngineOptions: ParsableArguments {
    @Option(help: "Where tasks run: local (worker processes of this program) or slurm (job arrays; the run folder on a shared file system).")
    var engine: String?
    @Option(help: "local: worker processes at once (default: the core count); slurm: most array tasks running at once (default: no limit).")
    var jobs: Int?
    @Option(help: "Times a failed task is tried again (default: 0 local, 2 slurm).")
    var retries: Int?
    @Option(help: "slurm: the partition (sbatch --partition).") var partition: String?
    @Option(help: "slurm: time limit per task, e.g. 30 or 01:00:00 (sbatch --time).") var time: String?
    @Option(help: "slurm: memory per task, e.g. 4G (sbatch --mem).") var mem: String?
    @Option(name: .customLong("cpus-per-task"), help: "slurm: CPUs per task, also its thread count (sbatch --cpus-per-task).")
    var cpusPerTask: Int?
    @Option(name: .customLong("sbatch-arg"), parsing: .unconditionalSingleValue,
            help: "slurm: one more sbatch option, e.g. --sbatch-arg --account=abc (repeatable).")
    var sbatchArgs: [String] = []
    @Flag(name: .customLong("dry-run"), help: "slurm: write the job scripts and print the sbatch commands; submit nothing.")
    var dryRun = false
    @Option(help: "slurm: seconds between two looks at the jobs' states (default 2).") var poll: Double?
    @Option(name: .customLong("max-wait"), help: "slurm: most seconds to wait for one round of jobs (default: no limit).")
    var maxWait: Double?
    @Option(name: .customLong("command-timeout"), help: "slurm: most seconds one sbatch/scontrol call may take (default 60).")
    var commandTimeout: Double?

    /// The settings the flags describe; nil when no engine flag is given and `fallback` is nil (run in this process).
    func settings(fallback: EngineSettings.Kind?) throws -> EngineSettings? {
        let kind: EngineSettings.Kind?
        if let e = engine {
            guard let k = EngineSettings.Kind(rawValue: e) else {
                throw GlassboxError.invalidArgument(name: "--engine", expected: "local or slurm", found: "'\(e)'")
            }
            kind = k
        } else {
            kind = fallback ?? (jobs != nil || retries != nil ? .local : nil)
        }
        var slurm = SlurmSettings(partition: partition, time: time, mem: mem, cpusPerTask: cpusPerTask, sbatchArgs: sbatchArgs, dryRun: dryRun,
                                  maxWait: maxWait)
        if let poll { slurm.poll = poll }
        if let commandTimeout { slurm.commandTimeout = commandTimeout }
        guard let kind else {
            if slurm != SlurmSettings() { throw GlassboxError.invalidArgument(name: "--engine", expected: "slurm with Slurm options", found: "none") }
            return nil
        }
        let s = EngineSettings(engine: kind, jobs: jobs, retries: retries, slurm: slurm)
        try renamingArguments { try s.validate() }
        return s
    }

    /// The engine (nil: in this process).
    func makeEngine(fallback: EngineSettings.Kind?, quiet: Bool) throws -> (any TaskEngine)? {
        guard let s = try settings(fallback: fallback) else { return nil }
        return try s.makeEngine(executable: EngineSettings.currentExecutable(), quiet: quiet)
    }
}
