import Foundation
import XCTest
import GlassboxTestSupport
@testable import GlassboxCore
@testable import GlassboxEngine
@testable import GlassboxReport

/// The filter experiment split into tasks (one per net) gives the same result bytes and the same cache key as in one
/// process; a failing task leaves the finished ones for the rerun. (In process here; worker processes and Slurm are
/// tested through the binary in GlassboxCLITests.)
final class EnsembleTests: XCTestCase {
    var dir = ""
    override func setUpWithError() throws {
        try requireMNIST()
        dir = try makeTempDir("ensemble")
    }
    override func tearDown() {
        unsetenv(TaskWorker.failureVariable)
        try? FileManager.default.removeItem(atPath: dir)
    }

    let recipe = """
    ---
    title: Ensemble
    seed: 4
    ---

    ```glassbox
    step: data
    dataset: mnist
    name: digits
    resplit: 300:100
    ```

    ```glassbox
    step: filter-experiment
    data: digits
    model: input 1x28x28; conv 4 k3 p1; relu; maxpool 2; flatten; linear 10
    nets: 3
    epochs: 1
    train-limit: 150
    steps: [1]
    ```

    """

    func run(_ out: String, engine: (any TaskEngine)?) throws -> RunSummary {
        let path = (dir as NSString).appendingPathComponent("e.md")
        try write(recipe, to: path)
        return try Runner.run(recipe: path, options: options(out: (dir as NSString).appendingPathComponent(out)),
                              session: StepSession(engine: engine))
    }

    func result(_ s: RunSummary) throws -> Data {
        try Files.read((s.runDirectory as NSString).appendingPathComponent("cells/\(s.keys[1])/result.json"))
    }

    func testTasksGiveTheSameResultAndKeyAsOneProcess() throws {
        let one = try run("one", engine: nil)
        let tasks = try run("tasks", engine: InProcessEngine(registry: StepTasks.registry))
        XCTAssertEqual(one.keys, tasks.keys, "the engine is not part of the cache key")
        XCTAssertEqual(try result(one), try result(tasks))
        XCTAssertFalse(FileManager.default.fileExists(atPath: (tasks.runDirectory as NSString).appendingPathComponent("tasks")))
        // A cell computed as tasks is restored by a run in one process.
        let again = try Runner.run(recipe: (dir as NSString).appendingPathComponent("e.md"),
                                   options: options(out: (dir as NSString).appendingPathComponent("tasks")))
        XCTAssertEqual(again.statistics.restored, [1, 2])
    }

    func testFailingTaskKeepsTheFinishedOnes() throws {
        setenv(TaskWorker.failureVariable, "net-1", 1)
        XCTAssertThrowsError(try run("run", engine: InProcessEngine(registry: StepTasks.registry))) { e in
            guard let f = e as? CellFailure, let t = f.underlying as? TaskFailure else { return XCTFail("\(e)") }
            XCTAssertEqual(t.task, "net-1")
            XCTAssertEqual(f.cell, 2)
        }
        let tasks = (dir as NSString).appendingPathComponent("run/tasks")
        let batch = (tasks as NSString).appendingPathComponent(try XCTUnwrap(try FileManager.default.contentsOfDirectory(atPath: tasks).first))
        XCTAssertEqual(try TaskBatch.open(batch).missing, [1, 2])
        unsetenv(TaskWorker.failureVariable)
        let s = try run("run", engine: InProcessEngine(registry: StepTasks.registry))
        XCTAssertEqual(s.statistics.executed, [2])
        XCTAssertEqual(try result(s), try result(try run("one", engine: nil)))
    }
}
