import Foundation

/// A one-line progress bar on standard error, drawn only when stderr is a terminal and not silenced.
public final class ProgressBar {
    public static var quiet = false
    private let total: Int
    private let label: String
    private let enabled: Bool
    private var lastDraw = Date.distantPast

    public init(total: Int, label: String) {
        self.total = max(1, total)
        self.label = label
        self.enabled = !ProgressBar.quiet && isatty(STDERR_FILENO) == 1
    }

    public func update(_ done: Int, suffix: String = "") {
        guard enabled else { return }
        let now = Date()
        if done < total && now.timeIntervalSince(lastDraw) < 0.1 { return }
        lastDraw = now
        let width = 30
        let filled = min(width, done * width / total)
        let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
        FileHandle.standardError.write(Data("\r\(label) \(bar) \(done)/\(total) \(suffix)\u{1B}[K".utf8))
    }

    public func finish() {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }
}

/// Prints a line on standard error unless silenced (`--quiet`).
public func logInfo(_ message: String) {
    guard !ProgressBar.quiet else { return }
    FileHandle.standardError.write(Data((message + "\n").utf8))
}
