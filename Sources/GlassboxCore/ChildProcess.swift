import Foundation

/// Where `command` lives: itself when it names a path (and is executable), else the first executable of that name
/// on PATH, then in /usr/bin and /usr/sbin (where Debian puts curl and Slurm's programs).
public func executablePath(_ command: String) -> String? {
    if command.contains("/") { return FileManager.default.isExecutableFile(atPath: command) ? command : nil }
    let path = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init) + ["/usr/bin", "/usr/sbin"]
    return path.map { ($0 as NSString).appendingPathComponent(command) }.first { FileManager.default.isExecutableFile(atPath: $0) }
}

/// A child process started with standard input from /dev/null and its standard output and error read to their ends
/// on two threads, so a full pipe never blocks it (curl for `datasets fetch`, the Slurm client programs).
public final class ChildProcess: @unchecked Sendable {
    public let process = Process()
    private let exited = DispatchSemaphore(value: 0)
    private let readers = DispatchGroup()
    private var out = Data(), err = Data()

    public init(_ executable: String, _ arguments: [String]) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        let o = Pipe(), e = Pipe()
        process.standardOutput = o
        process.standardError = e
        process.terminationHandler = { [exited] _ in exited.signal() }
        try process.run()
        readers.enter()
        Thread { self.out = o.fileHandleForReading.readDataToEndOfFile(); self.readers.leave() }.start()
        readers.enter()
        Thread { self.err = e.fileHandleForReading.readDataToEndOfFile(); self.readers.leave() }.start()
    }

    /// Waits for the child to exit, at most `seconds` when given; true once it has exited (then not to be asked again).
    @discardableResult
    public func waitForExit(seconds: Double? = nil) -> Bool {
        guard let seconds else { exited.wait(); return true }
        return exited.wait(timeout: .now() + seconds) == .success
    }

    /// What the child printed, as text, once both pipes ended (or after `timeout` seconds, when a grandchild keeps one
    /// open).
    public func output(timeout: Double = 5) -> (out: String, err: String) {
        _ = readers.wait(timeout: .now() + timeout)
        return (String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self))
    }
}
