import Foundation
import GlassboxCore

/// Runs a short command (sbatch, scontrol, sacct, scancel) and returns its status and output, killing it when it
/// takes longer than `timeout` seconds: no Slurm client call may hang a run.
enum Subprocess {
    struct Output {
        var status: Int32
        var out: String
        var err: String
        var ok: Bool { status == 0 }
        /// stderr, else stdout, trimmed to one line.
        var message: String {
            let s = (err.isEmpty ? out : err).trimmingCharacters(in: .whitespacesAndNewlines)
            return s.split(separator: "\n").last.map(String.init) ?? "(no output)"
        }
    }

    struct TimedOut: Error, CustomStringConvertible {
        var command: String
        var seconds: Double
        var description: String { "\(command) did not answer within \(Int(seconds)) s" }
    }

    static func run(_ command: String, _ arguments: [String], timeout: Double) throws -> Output {
        guard let exe = executablePath(command) else {
            throw GlassboxError.message("\(command) not found on PATH: --engine slurm runs on a Slurm login node (sbatch, scontrol, scancel)")
        }
        let child = try ChildProcess(exe, arguments)
        if !child.waitForExit(seconds: timeout) {
            child.process.terminate()
            if !child.waitForExit(seconds: 2) { kill(child.process.processIdentifier, SIGKILL); child.waitForExit() }
            _ = child.output()
            throw TimedOut(command: ([command] + arguments).joined(separator: " "), seconds: timeout)
        }
        let (out, err) = child.output()
        return Output(status: child.process.terminationStatus, out: out, err: err)
    }
}
