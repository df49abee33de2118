import Foundation
import XCTest

/// The Slurm engine against a real one-node cluster that these tests start and stop themselves on loopback
/// (scripts/slurm-test-cluster.sh: a private munged, slurmctld and slurmd, state in a temporary folder). Skipped with
/// a message when Slurm is not installed.
final class SlurmEngineTests: XCTestCase {
    let cli = GlassboxBinary.self
    nonisolated(unsafe) static var cluster: SlurmTestCluster?
    nonisolated(unsafe) static var skip: XCTSkip?
    var dir = ""
    var mnist: String { EngineFixtures.mnist }

    override class func setUp() {
        super.setUp()
        do { cluster = try SlurmTestCluster.start() } catch let s as XCTSkip { skip = s } catch {
            skip = XCTSkip("\(error)")
            XCTFail("\(error)")
        }
    }

    override class func tearDown() {
        cluster?.stop()
        cluster = nil
        super.tearDown()
    }

    override func setUpWithError() throws {
        if let s = Self.skip { throw s }
        try XCTSkipUnless(FileManager.default.fileExists(atPath: mnist), "MNIST test set not found at \(mnist)")
        dir = "/tmp/gb-slurm-test-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }
    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    func path(_ name: String) -> String { (dir as NSString).appendingPathComponent(name) }
    var env: [String: String] { Self.cluster!.environment }
    /// Fast polling for a test cluster.
    let slurm = ["--engine", "slurm", "--poll", "0.2"]

    @discardableResult
    func ok(_ args: [String], environment: [String: String] = [:]) throws -> (out: String, err: String) {
        let r = try cli.run(args, environment: env.merging(environment) { $1 })
        XCTAssertEqual(r.status, 0, "\(args): \(r.err)")
        return (r.out, r.err)
    }

    /// The same sweep and the same ensemble on Slurm and locally: the same bytes.
    func testSlurmGivesTheSameBytesAsLocal() throws {
        try EngineFixtures.sweepRecipe.write(toFile: path("tiny.md"), atomically: true, encoding: .utf8)
        let sweep = ["sweep", path("tiny.md"), "--seeds", "0,1", "-p", "epochs=1,2", "--data-dir", mnist]
        let s = try ok(sweep + slurm + ["--out", path("slurm")])
        XCTAssertTrue(s.err.contains("4 tasks as Slurm array job") && s.err.contains("merge as job"), s.err)
        try ok(sweep + ["--engine", "local", "--jobs", "2", "--quiet", "--out", path("local")])
        XCTAssertGreaterThan(try EngineFixtures.assertSameBytes(path("local"), path("slurm")), 40)

        try EngineFixtures.ensembleRecipe().write(toFile: path("fe.md"), atomically: true, encoding: .utf8)
        try ok(["run", path("fe.md"), "--out", path("fe-slurm"), "--data-dir", mnist] + slurm + ["--jobs", "2"])
        try ok(["run", path("fe.md"), "--out", path("fe-one"), "--data-dir", mnist, "--quiet"])
        try EngineFixtures.assertSameBytes(path("fe-one"), path("fe-slurm"))
    }

    /// A task that fails on every try: after its retry the error names it and shows its log, the merge never ran;
    /// the rerun after the fix submits only the tasks without results. A task that fails once is retried and the run
    /// completes.
    func testFailingTaskOnSlurm() throws {
        try EngineFixtures.ensembleRecipe().write(toFile: path("fe.md"), atomically: true, encoding: .utf8)
        let args = ["run", path("fe.md"), "--out", path("run"), "--data-dir", mnist] + slurm + ["--retries", "1"]
        let r = try cli.run(args, environment: env.merging(["GLASSBOX_TASK_FAIL": "net-1"]) { $1 })
        XCTAssertEqual(r.status, 1, r.err)
        XCTAssertTrue(r.err.contains("task net-1 (filter-net)") && r.err.contains("failed 2 times"), r.err)
        XCTAssertTrue(r.err.contains("FAILED") && r.err.contains("the merge did not run"), r.err)
        XCTAssertTrue(r.err.contains("net-1.log") && r.err.contains("failure injected by GLASSBOX_TASK_FAIL"), r.err)
        let task = try XCTUnwrap(try FileManager.default.contentsOfDirectory(atPath: path("run/tasks")).first)
        let batch = path("run/tasks/\(task)")
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(batch)/logs/merge.log"), "the merge job never ran")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: "\(batch)/results").filter { !$0.hasPrefix(".") }.count, 3)

        let again = try ok(args)
        XCTAssertTrue(again.err.contains("1 task as Slurm array job"), again.err)
        try ok(["run", path("fe.md"), "--out", path("reference"), "--data-dir", mnist, "--quiet"])
        try EngineFixtures.assertSameBytes(path("reference"), path("run"))

        let once = try ok(["run", path("fe.md"), "--out", path("retried"), "--data-dir", mnist] + slurm, environment: ["GLASSBOX_TASK_FAIL": "net-3:1"])
        XCTAssertTrue(once.err.contains("1 task(s) failed (net-3); submitting them again"), once.err)
        try EngineFixtures.assertSameBytes(path("reference"), path("retried"))
    }

    /// --dry-run writes the job scripts and submits nothing.
    func testDryRunWritesScriptsOnly() throws {
        try EngineFixtures.ensembleRecipe().write(toFile: path("fe.md"), atomically: true, encoding: .utf8)
        let r = try ok(["run", path("fe.md"), "--out", path("run"), "--data-dir", mnist, "--engine", "slurm", "--dry-run", "--partition", "debug",
                        "--time", "10", "--mem", "500", "--sbatch-arg", "--comment=glassbox-test"])
        XCTAssertTrue(r.err.contains("dry run: wrote") && r.err.contains("--dependency=afterok:$ARRAY --kill-on-invalid-dep=yes"), r.err)
        let task = try XCTUnwrap(try FileManager.default.contentsOfDirectory(atPath: path("run/tasks")).first)
        let script = try String(contentsOfFile: path("run/tasks/\(task)/slurm/array-1.sh"), encoding: .utf8)
        for line in ["#SBATCH --array=0-3", "#SBATCH --partition=debug", "#SBATCH --time=10", "#SBATCH --mem=500", "#SBATCH --comment=glassbox-test"] {
            XCTAssertTrue(script.contains(line + "\n"), "\(line) in\n\(script)")
        }
        // The scripts work as written: submit them by hand, as the message says.
        let array = try SlurmTestCluster.shell(["-c", "SLURM_CONF=\(Self.cluster!.conf) sbatch --parsable \(path("run/tasks/\(task)/slurm/array-1.sh"))"])
        XCTAssertEqual(array.status, 0, array.err)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("run/run.json")))
    }

    /// A controller that does not answer: one clear error within the time limits, not a hang.
    func testUnreachableControllerIsOneClearError() throws {
        try EngineFixtures.ensembleRecipe().write(toFile: path("fe.md"), atomically: true, encoding: .utf8)
        let conf = try String(contentsOfFile: Self.cluster!.conf, encoding: .utf8)
            .replacingOccurrences(of: #"SlurmctldPort=\d+"#, with: "SlurmctldPort=9", options: .regularExpression)
        try conf.write(toFile: path("dead.conf"), atomically: true, encoding: .utf8)
        let start = Date()
        let r = try cli.run(["run", path("fe.md"), "--out", path("run"), "--data-dir", mnist, "--quiet"] + slurm + ["--command-timeout", "20"],
                            environment: ["SLURM_CONF": path("dead.conf")])
        XCTAssertEqual(r.status, 1)
        XCTAssertLessThan(Date().timeIntervalSince(start), 40)
        XCTAssertTrue(r.err.contains("slurm: sbatch failed") && r.err.contains("Unable to contact slurm controller"), r.err)
        XCTAssertEqual(r.err.split(separator: "\n").count, 1, r.err)
    }
}
