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
        let p = Process()
        guard let exe = executablePath(command) else {
            throw GlassboxError.message("\(command) not found on PATH: --engine slurm runs on a Slurm login node (sbatch, scontrol, scancel)")
        }
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = arguments
        p.standardInput = FileHandle.nullDevice
        let outPipe = Pipe(), errPipe = Pipe()
        p.standardOutput = outPipe
        p.standardError = errPipe
        let done = DispatchSemaphore(value: 0)
        p.terminationHandler = { _ in done.signal() }
        try p.run()
        // Read both pipes on their own threads so a full pipe never blocks the child.
        let reader = PipeDrain(outPipe, errPipe)
        if done.wait(timeout: .now() + timeout) == .timedOut {
            p.terminate()
            if done.wait(timeout: .now() + 2) == .timedOut { kill(p.processIdentifier, SIGKILL); done.wait() }
            _ = reader.finish()
            throw TimedOut(command: ([command] + arguments).joined(separator: " "), seconds: timeout)
        }
        let (out, err) = reader.finish()
        return Output(status: p.terminationStatus, out: out, err: err)
    }
}
