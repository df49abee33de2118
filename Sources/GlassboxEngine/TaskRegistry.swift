import Foundation
import GlassboxCore

/// What each task kind and merge kind does: handlers by name. The layer that knows the work registers it (the steps
/// register the filter experiment's nets and the sweep's runs); every engine and every worker process of the same
/// binary looks kinds up here, so a task means the same thing wherever it runs.
public struct TaskRegistry: Sendable {
    /// Computes a task's output from its input.
    public typealias Run = @Sendable (_ input: String) throws -> Data
    /// Computes a merge's output from its input and every task's output, in task order.
    public typealias Merge = @Sendable (_ input: String, _ results: [Data]) throws -> Data

    public private(set) var tasks: [String: Run]
    public private(set) var merges: [String: Merge]

    public init(tasks: [String: Run] = [:], merges: [String: Merge] = [:]) { self.tasks = tasks; self.merges = merges }

    /// Both registries' kinds (the other one's win on a clash).
    public func adding(_ other: TaskRegistry) -> TaskRegistry {
        TaskRegistry(tasks: tasks.merging(other.tasks) { $1 }, merges: merges.merging(other.merges) { $1 })
    }

    public func task(_ kind: String) throws -> Run {
        guard let r = tasks[kind] else {
            throw GlassboxError.invalidArgument(name: "task kind", expected: "one of \(tasks.keys.sorted().joined(separator: ", "))", found: "'\(kind)'")
        }
        return r
    }

    public func merge(_ kind: String) throws -> Merge {
        guard let m = merges[kind] else {
            throw GlassboxError.invalidArgument(name: "merge kind", expected: "one of \(merges.keys.sorted().joined(separator: ", "))", found: "'\(kind)'")
        }
        return m
    }

    /// Kinds that measure the engines themselves (`glassbox task bench`) and test them: `echo` returns its input;
    /// `sleep` waits `seconds` of its JSON input `{"seconds": s, "value": v}` then returns `v`; the merge `concat`
    /// joins the outputs with newlines.
    public static let diagnostics = TaskRegistry(
        tasks: [
            "echo": { input in Data(input.utf8) },
            "sleep": { input in
                let s = try EngineJSON.decode(SleepInput.self, from: Data(input.utf8), path: "sleep task input")
                guard s.seconds >= 0, s.seconds <= 3600 else {
                    throw GlassboxError.invalidArgument(name: "seconds", expected: "0…3600", found: "\(s.seconds)")
                }
                Thread.sleep(forTimeInterval: s.seconds)
                return Data(s.value.utf8)
            },
        ],
        merges: ["concat": { _, results in Data(results.map { String(decoding: $0, as: UTF8.self) }.joined(separator: "\n").utf8) }])

    public struct SleepInput: Codable, Sendable {
        public var seconds: Double
        public var value: String
        public init(seconds: Double, value: String) { self.seconds = seconds; self.value = value }
    }
}
