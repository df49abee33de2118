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

#if canImport(CMalloc)
import CMalloc
#endif

/// Process-wide settings that make the training loop fast.
public enum Runtime {
    private static let configured: Void = {
        #if canImport(CMalloc)
        // Batches allocate tensors of a few hundred KB to a few MB. glibc's default serves those with fresh
        // mmap()s and returns them on free, so every batch paid for zeroed pages from the kernel (a quarter of
        // the MLP's training time). Keep them on the heap and keep freed memory for reuse.
        mallopt(M_MMAP_THRESHOLD, 256 << 20)
        mallopt(M_TRIM_THRESHOLD, 512 << 20)
        #endif
        // OpenBLAS on one thread, so results do not depend on its thread count (see `BLAS`); LAPACK calls made
        // before any BLAS wrapper runs are covered too.
        _ = BLAS.singleThreaded
    }()

    /// Idempotent; called by the trainer and the command line before heavy work.
    public static func configure() { _ = configured }
}
