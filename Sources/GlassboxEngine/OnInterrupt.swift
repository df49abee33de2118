import Foundation

/// Ctrl-C (SIGINT) or SIGTERM while an engine waits: clean up (stop the worker processes, cancel the Slurm jobs) and
/// end the program with status 130, so no work is left running behind a stopped run. Outside `run` the signals act
/// as usual.
enum OnInterrupt {
    static func run<T>(_ cleanUp: @escaping @Sendable () -> Void, _ body: () throws -> T) throws -> T {
        let signals = [SIGINT, SIGTERM]
        let sources = signals.map { sig -> DispatchSourceSignal in
            signal(sig, SIG_IGN)
            let s = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            s.setEventHandler {
                cleanUp()
                exit(130)
            }
            s.resume()
            return s
        }
        defer {
            for s in sources { s.cancel() }
            for sig in signals { signal(sig, SIG_DFL) }
        }
        return try body()
    }
}

/// The process ids of running workers, shared with the interrupt handler.
final class RunningProcesses: @unchecked Sendable {
    private let lock = NSLock()
    private var pids: Set<Int32> = []
    func insert(_ pid: Int32) { lock.lock(); pids.insert(pid); lock.unlock() }
    func remove(_ pid: Int32) { lock.lock(); pids.remove(pid); lock.unlock() }
    /// Sends SIGTERM to every one still running.
    func terminateAll() {
        lock.lock(); let all = pids; lock.unlock()
        for p in all { kill(p, SIGTERM) }
    }
}
