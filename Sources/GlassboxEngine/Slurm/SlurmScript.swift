import Foundation
import GlassboxCore

/// The job scripts the Slurm engine submits: one job array per round of tasks (element i runs the i-th task still
/// missing) and one merge job that runs when every element succeeded.
enum SlurmScript {
    /// A word for bash: single-quoted.
    static func quote(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }

    /// `#SBATCH` lines cannot quote: paths in them must not hold white space, quotes or `%` (Slurm's filename patterns).
    static func checkPath(_ path: String, what: String) throws {
        if path.contains(where: { $0.isWhitespace || $0 == "'" || $0 == "\"" || $0 == "%" || $0 == "\\" }) {
            throw GlassboxError.invalidArgument(name: "--out", expected: "a \(what) path without spaces, quotes or '%' for --engine slurm", found: "'\(path)'")
        }
    }

    static func jobName(_ batch: TaskBatch) -> String {
        let safe = String(batch.name.unicodeScalars.map { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "._-".unicodeScalars.contains($0)) ? Character($0) : "_" })
        return "glassbox-" + String(safe.prefix(40))
    }

    /// The guard every job starts with: the batch folder must be visible on the node.
    static func visibilityCheck() -> String {
        """
        if [ ! -d "$BATCH" ]; then
          echo "glassbox: cannot see $BATCH on $(hostname): the run folder must be on a file system shared by every node (see README, Running on a cluster)" >&2
          exit 2
        fi
        """
    }

    static func array(_ batch: TaskBatch, tasks: [Int], settings: SlurmSettings, throttle: Int?, executable: String) -> String {
        let ids = tasks.map { batch.tasks[$0].id }
        var lines = [
            "#!/bin/bash",
            "# \(tasks.count) task(s) of \(batch.name), written by glassbox: array element i runs task TASKS[i] of the batch",
            "# in the folder below. Submitted with: sbatch --parsable THIS_FILE",
            "#SBATCH --job-name=\(jobName(batch))",
            "#SBATCH --array=0-\(tasks.count - 1)" + (throttle.map { "%\($0)" } ?? ""),
            "#SBATCH --output=\(batch.folder)/logs/slurm-%A_%a.out",
        ]
        lines += settings.headerOptions.map { "#SBATCH \($0)" }
        lines += [
            "set -u",
            "BATCH=\(quote(batch.folder))",
            "TASKS=(\(tasks.map(String.init).joined(separator: " ")))",
            "IDS=(\(ids.joined(separator: " ")))",
            visibilityCheck(),
        ]
        lines += threadLines(settings)
        lines.append("exec \(quote(executable)) task run \"$BATCH\" \"${TASKS[$SLURM_ARRAY_TASK_ID]}\" >>\"$BATCH/logs/${IDS[$SLURM_ARRAY_TASK_ID]}.log\" 2>&1")
        return lines.joined(separator: "\n") + "\n"
    }

    static func merge(_ batch: TaskBatch, settings: SlurmSettings, executable: String) -> String {
        var lines = [
            "#!/bin/bash",
            "# The merge of \(batch.name), written by glassbox: runs when every task succeeded. Submitted with",
            "#   sbatch --parsable --dependency=afterok:ARRAY_JOB_ID --kill-on-invalid-dep=yes THIS_FILE",
            "#SBATCH --job-name=\(jobName(batch))-merge",
            "#SBATCH --output=\(batch.folder)/logs/slurm-merge-%j.out",
        ]
        lines += settings.headerOptions.map { "#SBATCH \($0)" }
        lines += ["set -u", "BATCH=\(quote(batch.folder))", visibilityCheck()]
        lines += threadLines(settings)
        lines.append("exec \(quote(executable)) task run \"$BATCH\" merge >>\"$BATCH/logs/merge.log\" 2>&1")
        return lines.joined(separator: "\n") + "\n"
    }

    /// A task uses as many threads as Slurm gave it CPUs (`--cpus-per-task`, else 1) unless the environment says
    /// otherwise; the results do not depend on it.
    static func threadLines(_ s: SlurmSettings) -> [String] {
        ["export GLASSBOX_THREADS=${GLASSBOX_THREADS:-${SLURM_CPUS_PER_TASK:-1}}",
         "export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-$GLASSBOX_THREADS}"]
    }
}
