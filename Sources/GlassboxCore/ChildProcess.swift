import Foundation

/// Where `command` lives: itself when it names a path (and is executable), else the first executable of that name
/// on PATH, then in /usr/bin and /usr/sbin (where Debian puts curl and Slurm's programs).
public func executablePath(_ command: String) -> String? {
    if command.contains("/") { return FileManager.default.isExecutableFile(atPath: command) ? command : nil }
    let path = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init) + ["/usr/bin", "/usr/sbin"]
    return path.map { ($0 as NSString).appendingPathComponent(command) }.first { FileManager.default.isExecutableFile(atPath: $0) }
}

/// Reads a child process's standard output and error to their ends on two threads, so a full pipe never blocks it.
public final class PipeDrain: @unchecked Sendable {
    private var out = Data(), err = Data()
    private let group = DispatchGroup()

    public init(_ o: Pipe, _ e: Pipe) {
        group.enter()
        Thread { self.out = o.fileHandleForReading.readDataToEndOfFile(); self.group.leave() }.start()
        group.enter()
        Thread { self.err = e.fileHandleForReading.readDataToEndOfFile(); self.group.leave() }.start()
    }

    /// What was read, as text, once both pipes ended (or after `timeout` seconds, when a grandchild keeps one open).
    public func finish(timeout: Double = 5) -> (out: String, err: String) {
        _ = group.wait(timeout: .now() + timeout)
        return (String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self))
    }
}
