import Foundation
import GlassboxCore

/// What `--engine slurm` passes to `sbatch` and how it follows the jobs. Defaults live here.
public struct SlurmSettings: Codable, Equatable, Sendable {
    /// `--partition`.
    public var partition: String?
    /// `--time` per task (Slurm's formats: `MM`, `HH:MM:SS`, `D-HH:MM`, …).
    public var time: String?
    /// `--mem` per task (`4000`, `8G`, …).
    public var mem: String?
    /// `--cpus-per-task`; also the task's `GLASSBOX_THREADS`.
    public var cpusPerTask: Int?
    /// More `#SBATCH` options, each one `--name=value` (`--account=abc`, `--qos=short`).
    public var sbatchArgs: [String] = []
    /// Write the job scripts, submit nothing.
    public var dryRun = false
    /// Seconds between two looks at the jobs' states (`scontrol show job`).
    public var poll = 2.0
    /// Seconds any one Slurm command (`sbatch`, `scontrol`, `sacct`, `scancel`) may take; also how long the controller
    /// may stay unreachable while jobs are followed.
    public var commandTimeout = 60.0
    /// Most seconds to wait for one submission's jobs (nil: no limit but the jobs' own `--time`).
    public var maxWait: Double?

    public init(partition: String? = nil, time: String? = nil, mem: String? = nil, cpusPerTask: Int? = nil, sbatchArgs: [String] = [],
                dryRun: Bool = false, poll: Double = 2.0, commandTimeout: Double = 60.0, maxWait: Double? = nil) {
        self.partition = partition; self.time = time; self.mem = mem; self.cpusPerTask = cpusPerTask; self.sbatchArgs = sbatchArgs
        self.dryRun = dryRun; self.poll = poll; self.commandTimeout = commandTimeout; self.maxWait = maxWait
    }

    public func validate() throws {
        func check(_ name: String, _ value: String?, _ pattern: String, _ expected: String) throws {
            guard let v = value else { return }
            guard v.range(of: pattern, options: .regularExpression) != nil else {
                throw GlassboxError.invalidArgument(name: name, expected: expected, found: "'\(v)'")
            }
        }
        try check("partition", partition, "^[A-Za-z0-9_.,-]+$", "a partition name (letters, digits, '_', '.', '-', ',')")
        try check("time", time, "^[0-9]+(-[0-9]+)?(:[0-9]+){0,2}$", "a Slurm time such as 30, 01:30:00 or 1-12:00")
        try check("mem", mem, "^[0-9]+[KMGTkmgt]?$", "a memory size such as 4000 or 8G")
        if let c = cpusPerTask, c < 1 { throw GlassboxError.invalidArgument(name: "cpus-per-task", expected: "a whole number ≥ 1", found: "\(c)") }
        for a in sbatchArgs where !(a.hasPrefix("--") && a.count > 2 && !a.contains(where: { $0.isNewline })) {
            throw GlassboxError.invalidArgument(name: "sbatch-arg", expected: "one sbatch option such as --account=abc", found: "'\(a)'")
        }
        guard poll >= 0.05 && poll <= 600 else { throw GlassboxError.invalidArgument(name: "poll", expected: "0.05…600 seconds", found: "\(poll)") }
        guard commandTimeout >= 1 && commandTimeout <= 3600 else {
            throw GlassboxError.invalidArgument(name: "command-timeout", expected: "1…3600 seconds", found: "\(commandTimeout)")
        }
        if let w = maxWait, !(w > 0) { throw GlassboxError.invalidArgument(name: "max-wait", expected: "seconds > 0", found: "\(w)") }
    }

    /// The `#SBATCH` lines every job of a batch shares.
    var headerOptions: [String] {
        var o: [String] = []
        if let partition { o.append("--partition=\(partition)") }
        if let time { o.append("--time=\(time)") }
        if let mem { o.append("--mem=\(mem)") }
        if let cpusPerTask { o.append("--cpus-per-task=\(cpusPerTask)") }
        return o + sbatchArgs
    }
}
