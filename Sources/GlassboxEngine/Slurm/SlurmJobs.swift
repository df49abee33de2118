import Foundation
import GlassboxCore

/// A job's state as `scontrol show job -o` (or `sacct`) reports it: one record per array element once elements
/// have started, one record for the still-pending rest (`ArrayTaskId=4-9%2`).
struct SlurmJobRecord: Equatable {
    var jobID: String
    /// Array elements this record covers (empty for a job that is not an array).
    var elements: [Int]
    var state: String
    var reason: String
    var exitCode: String

    static let terminal: Set<String> = ["COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY", "BOOT_FAIL",
                                        "DEADLINE", "PREEMPTED", "SPECIAL_EXIT", "REVOKED"]
    var isTerminal: Bool { Self.terminal.contains(state) }
    var isCompleted: Bool { state == "COMPLETED" }

    /// A pending job that will never start by itself: held (e.g. "launch failed requeued held") or refused.
    var isStuck: Bool {
        if state == "REQUEUE_HOLD" || state == "SPECIAL_EXIT" { return true }
        guard state == "PENDING" else { return false }
        let r = reason.lowercased()
        return r.contains("held") || r.contains("launch_failed") || ["badconstraints", "partitiontimelimit", "partitionnodelimit",
                                                                      "invalidaccount", "invalidqos"].contains(r)
    }

    var summary: String { "\(state)\(reason == "None" || reason.isEmpty ? "" : " (\(reason))")\(exitCode.isEmpty || exitCode == "0:0" ? "" : ", exit code \(exitCode)")" }

    /// Records of `scontrol show job -o ID`: one line each, `Key=Value` words.
    static func parseScontrol(_ text: String) -> [SlurmJobRecord] {
        text.split(separator: "\n").compactMap { line in
            var fields: [String: String] = [:]
            for word in line.split(separator: " ") {
                guard let eq = word.firstIndex(of: "=") else { continue }
                let key = String(word[..<eq])
                if fields[key] == nil { fields[key] = String(word[eq...].dropFirst()) }
            }
            guard let id = fields["JobId"], let state = fields["JobState"] else { return nil }
            return SlurmJobRecord(jobID: fields["ArrayJobId"] ?? id, elements: parseElements(fields["ArrayTaskId"] ?? ""), state: state,
                                  reason: fields["Reason"] ?? "", exitCode: fields["ExitCode"] ?? "")
        }
    }

    /// Records of `sacct -X -n -P -o JobID,State,ExitCode -j ID`: `12_3|FAILED|1:0`, `12_[4-9%2]|PENDING|0:0`.
    static func parseSacct(_ text: String) -> [SlurmJobRecord] {
        text.split(separator: "\n").compactMap { line in
            let f = line.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            guard f.count >= 3 else { return nil }
            let idParts = f[0].split(separator: "_", maxSplits: 1).map(String.init)
            let elements = idParts.count == 2 ? parseElements(idParts[1].trimmingCharacters(in: CharacterSet(charactersIn: "[]"))) : []
            // sacct writes "CANCELLED by 0".
            let state = f[1].split(separator: " ").first.map(String.init) ?? f[1]
            return SlurmJobRecord(jobID: idParts[0], elements: elements, state: state, reason: "", exitCode: f[2])
        }
    }

    /// `3`, `0-9`, `0-9%2`, `1,3,5-7`, `0-8:2` → the element indices.
    static func parseElements(_ s: String) -> [Int] {
        let body = s.split(separator: "%").first.map(String.init) ?? ""
        var out: [Int] = []
        for part in body.split(separator: ",") {
            let stepParts = part.split(separator: ":")
            let step = stepParts.count == 2 ? max(1, Int(stepParts[1]) ?? 1) : 1
            let bounds = stepParts[0].split(separator: "-").compactMap { Int($0) }
            if bounds.count == 1 { out.append(bounds[0]) } else if bounds.count == 2, bounds[0] <= bounds[1], bounds[1] - bounds[0] < 1_000_000 {
                out += Array(stride(from: bounds[0], through: bounds[1], by: step))
            }
        }
        return out
    }
}

/// The Slurm client commands the engine uses, each under a time limit.
struct SlurmClient {
    var timeout: Double

    /// `sbatch --parsable ARGS` → the job id.
    func submit(_ arguments: [String]) throws -> String {
        let r: Subprocess.Output
        do { r = try Subprocess.run("sbatch", ["--parsable"] + arguments, timeout: timeout) } catch let e as Subprocess.TimedOut {
            throw GlassboxError.message("slurm: \(e); is slurmctld running and SLURM_CONF right?")
        }
        guard r.ok else {
            let m = r.message.replacingOccurrences(of: "sbatch: error: ", with: "")
            throw GlassboxError.message("slurm: sbatch failed: \(m)" + (m.contains("contact slurm controller") ? " (is slurmctld running, and SLURM_CONF right?)" : ""))
        }
        let id = r.out.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ";").first.map(String.init) ?? ""
        guard !id.isEmpty, id.allSatisfy(\.isNumber) else { throw GlassboxError.message("slurm: sbatch printed no job id: '\(r.out.prefix(200))'") }
        return id
    }

    enum Answer {
        case records([SlurmJobRecord])
        /// The controller no longer knows the job (its record aged out) and accounting cannot tell.
        case unknown
        /// The command failed (controller unreachable, …).
        case error(String)
    }

    /// The job's records from `scontrol`, else from `sacct`.
    func query(_ id: String) -> Answer {
        let r: Subprocess.Output
        do { r = try Subprocess.run("scontrol", ["show", "job", "-o", id], timeout: timeout) } catch { return .error("\(error)") }
        if r.ok { return .records(SlurmJobRecord.parseScontrol(r.out)) }
        guard r.message.lowercased().contains("invalid job id") else { return .error("scontrol: \(r.message)") }
        guard let s = try? Subprocess.run("sacct", ["-X", "-n", "-P", "-o", "JobID,State,ExitCode", "-j", id], timeout: timeout), s.ok else {
            return .unknown
        }
        let records = SlurmJobRecord.parseSacct(s.out)
        return records.isEmpty ? .unknown : .records(records)
    }

    func cancel(_ ids: [String]) {
        guard !ids.isEmpty else { return }
        _ = try? Subprocess.run("scancel", ids, timeout: timeout)
    }
}
