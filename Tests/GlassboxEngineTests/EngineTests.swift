import Foundation
import XCTest
@testable import GlassboxCore
@testable import GlassboxEngine

/// The batch folder, the in-process engine, failure injection and the Slurm engine's text handling (scripts, job
/// states). The process engines are tested through the built binary in GlassboxCLITests.
final class EngineTests: XCTestCase {
    var dir = ""
    override func setUpWithError() throws {
        dir = (NSTemporaryDirectory() as NSString).appendingPathComponent("glassbox-engine-\(UUID().uuidString)")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }
    override func tearDown() {
        unsetenv(TaskWorker.failureVariable)
        try? FileManager.default.removeItem(atPath: dir)
    }

    /// Counts how often each input was computed.
    final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private(set) var calls: [String] = []
        func add(_ s: String) { lock.lock(); calls.append(s); lock.unlock() }
    }

    func registry(_ counter: Counter) -> TaskRegistry {
        TaskRegistry(tasks: ["square": { input in
            counter.add(input)
            guard let v = Int(input) else { throw GlassboxError.message("not a number: \(input)") }
            return Data("\(v * v)".utf8)
        }], merges: ["sum": { _, results in
            Data("\(results.map { Int(String(decoding: $0, as: UTF8.self))! }.reduce(0, +))".utf8)
        }])
    }

    func batch(_ inputs: [String], reuse: Bool = true) throws -> TaskBatch {
        try TaskBatch.prepare(folder: (dir as NSString).appendingPathComponent("b"), name: "squares",
                              tasks: inputs.enumerated().map { TaskSpec(id: "t\($0.offset)", kind: "square", input: $0.element) },
                              merge: MergeSpec(kind: "sum", input: ""), reuse: reuse)
    }

    func testMergeReadsEveryResultInOrderAndARerunReusesThem() throws {
        let counter = Counter()
        let engine = InProcessEngine(registry: registry(counter))
        let b = try batch(["1", "2", "3"])
        XCTAssertEqual(b.missing, [0, 1, 2])
        try engine.run(b)
        XCTAssertTrue(b.isComplete)
        XCTAssertEqual(String(decoding: try b.mergedOutput(), as: UTF8.self), "14")
        XCTAssertEqual(counter.calls, ["1", "2", "3"])
        // Same batch again: nothing is computed. One input changed: only that task (and the merge) run.
        try engine.run(try batch(["1", "2", "3"]))
        XCTAssertEqual(counter.calls.count, 3)
        let changed = try batch(["1", "5", "3"])
        XCTAssertEqual(changed.missing, [1])
        try engine.run(changed)
        XCTAssertEqual(counter.calls, ["1", "2", "3", "5"])
        XCTAssertEqual(String(decoding: try changed.mergedOutput(), as: UTF8.self), "35")
        // reuse: false starts from nothing.
        XCTAssertEqual(try batch(["1", "5", "3"], reuse: false).missing, [0, 1, 2])
    }

    func testKeysDependOnKindAndInputOnly() {
        let a = TaskSpec(id: "x", kind: "square", input: "2"), b = TaskSpec(id: "y", kind: "square", input: "2")
        XCTAssertEqual(a.key, b.key, "the id names the task; the key is what it computes")
        XCTAssertNotEqual(a.key, TaskSpec(id: "x", kind: "echo", input: "2").key)
        XCTAssertNotEqual(a.key, TaskSpec(id: "x", kind: "square", input: "3").key)
    }

    func testLeftoversOfKilledTasksAreRemovedAndNeverCountAsResults() throws {
        let b = try batch(["4"])
        // What a task killed in the middle of writing leaves: the temporary file, never the result.
        let tmp = b.path("results/.\(b.tasks[0].key).out.tmp-12345")
        try Data("partial".utf8).write(to: URL(fileURLWithPath: tmp))
        XCTAssertFalse(b.isDone(0))
        let again = try batch(["4"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: tmp), "prepare clears temporary files")
        try InProcessEngine(registry: registry(Counter())).run(again)
        XCTAssertEqual(String(decoding: try again.result(0), as: UTF8.self), "16")
    }

    func testAFailingTaskStopsTheMergeAndTheRerunResumes() throws {
        let counter = Counter()
        setenv(TaskWorker.failureVariable, "t1", 1)
        let b = try batch(["1", "2", "3"])
        XCTAssertThrowsError(try InProcessEngine(registry: registry(counter)).run(b)) { e in
            let f = e as? TaskFailure
            XCTAssertEqual(f?.task, "t1")
            XCTAssertTrue("\(e)".contains("task t1 (square)") && "\(e)".contains("GLASSBOX_TASK_FAIL"), "\(e)")
        }
        XCTAssertFalse(b.isMerged, "the merge never ran")
        XCTAssertTrue(b.isDone(0))
        unsetenv(TaskWorker.failureVariable)
        try InProcessEngine(registry: registry(counter)).run(try batch(["1", "2", "3"]))
        XCTAssertEqual(counter.calls, ["1", "2", "3"], "t0 ran once; t1 ran after the fix; t2 (never reached) then")
    }

    func testInjectionCountsAttempts() throws {
        setenv(TaskWorker.failureVariable, "t0:2", 1)
        let b = try batch(["7"])
        let engine = InProcessEngine(registry: registry(Counter()))
        XCTAssertThrowsError(try engine.run(b))
        XCTAssertThrowsError(try engine.run(b))
        try engine.run(b)
        XCTAssertEqual(String(decoding: try b.mergedOutput(), as: UTF8.self), "49")
    }

    func testWorkerRefusesAFolderItCannotSee() {
        XCTAssertThrowsError(try TaskWorker.run(folder: "/nonexistent/run/tasks/abc", which: "0", registry: .diagnostics)) { e in
            XCTAssertTrue("\(e)".contains("shared by every node"), "\(e)")
            XCTAssertTrue("\(e)".contains("/nonexistent/run/tasks/abc"), "\(e)")
        }
    }

    func testBadIDsAreRefused() {
        XCTAssertThrowsError(try TaskBatch.prepare(folder: dir, name: "x", tasks: [TaskSpec(id: "a b", kind: "echo", input: "")], merge: nil))
        XCTAssertThrowsError(try TaskBatch.prepare(folder: dir, name: "x", tasks: [TaskSpec(id: "a", kind: "echo", input: ""),
                                                                                  TaskSpec(id: "a", kind: "echo", input: "1")], merge: nil))
    }

    // MARK: Slurm text

    func testScontrolRecordsAndArrayRanges() {
        let text = """
        JobId=5 ArrayJobId=1 ArrayTaskId=2 JobName=wrap UserId=root(0) JobState=FAILED Reason=NonZeroExitCode Dependency=(null) ExitCode=3:0 RunTime=00:00:01
        JobId=1 ArrayJobId=1 ArrayTaskId=3-9%2 JobName=wrap JobState=PENDING Reason=JobArrayTaskLimit ExitCode=0:0
        JobId=3 ArrayJobId=1 ArrayTaskId=0 JobName=wrap JobState=COMPLETED Reason=None ExitCode=0:0
        """
        let r = SlurmJobRecord.parseScontrol(text)
        XCTAssertEqual(r.count, 3)
        XCTAssertEqual(r[0].jobID, "1")
        XCTAssertEqual(r[0].elements, [2])
        XCTAssertEqual(r[0].summary, "FAILED (NonZeroExitCode), exit code 3:0")
        XCTAssertTrue(r[0].isTerminal && !r[0].isCompleted)
        XCTAssertEqual(r[1].elements, [3, 4, 5, 6, 7, 8, 9])
        XCTAssertFalse(r[1].isTerminal || r[1].isStuck)
        XCTAssertTrue(r[2].isCompleted)
        XCTAssertEqual(SlurmJobRecord.parseElements("1,4-8:2,10%3"), [1, 4, 6, 8, 10])
        let held = SlurmJobRecord.parseScontrol("JobId=7 JobState=PENDING Reason=launch_failed_requeued_held ExitCode=0:0")
        XCTAssertTrue(held[0].isStuck)
        XCTAssertTrue(SlurmJobRecord.parseScontrol("JobId=8 JobState=PENDING Reason=JobHeldAdmin")[0].isStuck)
        XCTAssertFalse(SlurmJobRecord.parseScontrol("JobId=9 JobState=PENDING Reason=Dependency")[0].isStuck)
        let acct = SlurmJobRecord.parseSacct("12_3|FAILED|1:0\n12_[4-6]|PENDING|0:0\n13|CANCELLED by 0|0:0\n")
        XCTAssertEqual(acct.map(\.elements), [[3], [4, 5, 6], []])
        XCTAssertEqual(acct.map(\.state), ["FAILED", "PENDING", "CANCELLED"])
    }

    func testJobScripts() throws {
        let b = try TaskBatch.prepare(folder: (dir as NSString).appendingPathComponent("b"), name: "filters",
                                      tasks: (0..<6).map { TaskSpec(id: "net-\($0)", kind: "echo", input: "\($0)") }, merge: MergeSpec(kind: "concat", input: ""))
        let s = SlurmSettings(partition: "gpu", time: "01:00:00", mem: "4G", cpusPerTask: 2, sbatchArgs: ["--account=abc"])
        let array = SlurmScript.array(b, tasks: [0, 3, 5], settings: s, throttle: 2, executable: "/opt/glass box/glassbox")
        for line in ["#SBATCH --array=0-2%2", "#SBATCH --output=\(b.folder)/logs/slurm-%A_%a.out", "#SBATCH --partition=gpu", "#SBATCH --time=01:00:00",
                     "#SBATCH --mem=4G", "#SBATCH --cpus-per-task=2", "#SBATCH --account=abc", "TASKS=(0 3 5)", "IDS=(net-0 net-3 net-5)",
                     "exec '/opt/glass box/glassbox' task run \"$BATCH\" \"${TASKS[$SLURM_ARRAY_TASK_ID]}\" >>\"$BATCH/logs/${IDS[$SLURM_ARRAY_TASK_ID]}.log\" 2>&1"] {
            XCTAssertTrue(array.contains(line + "\n"), "missing: \(line)\n\(array)")
        }
        XCTAssertTrue(array.hasPrefix("#!/bin/bash\n"))
        let merge = SlurmScript.merge(b, settings: s, executable: "/usr/bin/glassbox")
        XCTAssertTrue(merge.contains("task run \"$BATCH\" merge >>\"$BATCH/logs/merge.log\" 2>&1\n"), merge)
        XCTAssertFalse(merge.contains("--array"))
        XCTAssertEqual(SlurmScript.quote("it's"), "'it'\\''s'")
        XCTAssertThrowsError(try SlurmScript.checkPath("/tmp/a b", what: "run folder"))
    }

    func testSettingsValidation() throws {
        XCTAssertNoThrow(try EngineSettings(engine: .slurm, slurm: SlurmSettings(time: "1-12:00", mem: "8G")).validate())
        let bad: [(EngineSettings, String)] = [
            (EngineSettings(jobs: 0), "jobs"),
            (EngineSettings(retries: 99), "retries"),
            (EngineSettings(engine: .slurm, slurm: SlurmSettings(time: "an hour")), "time"),
            (EngineSettings(engine: .slurm, slurm: SlurmSettings(mem: "lots")), "mem"),
            (EngineSettings(engine: .slurm, slurm: SlurmSettings(sbatchArgs: ["account=abc"])), "sbatch-arg"),
            (EngineSettings(engine: .local, slurm: SlurmSettings(partition: "gpu")), "engine"),
        ]
        for (s, name) in bad {
            XCTAssertThrowsError(try s.validate(), name) { e in
                guard case let GlassboxError.invalidArgument(n, _, _) = e else { return XCTFail("\(e)") }
                XCTAssertEqual(n, name)
            }
        }
        XCTAssertEqual(EngineSettings().effectiveRetries, 0)
        XCTAssertEqual(EngineSettings(engine: .slurm).effectiveRetries, 2)
    }
}
