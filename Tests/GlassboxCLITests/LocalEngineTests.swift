import Foundation
import XCTest

/// Sweeps and ensembles on the local engine (worker processes of the built binary): the aggregate against a direct
/// computation, the same bytes on 1 and 2 workers and in one process, a failing task, a killed run.
final class LocalEngineTests: XCTestCase {
    let cli = GlassboxBinary.self
    var dir = ""
    var mnist: String { EngineFixtures.mnist }

    override func setUpWithError() throws {
        try XCTSkipUnless(FileManager.default.fileExists(atPath: mnist), "MNIST test set not found at \(mnist)")
        dir = "/tmp/gb-local-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }
    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    func path(_ name: String) -> String { (dir as NSString).appendingPathComponent(name) }

    @discardableResult
    func ok(_ args: [String], environment: [String: String] = [:]) throws -> (out: String, err: String) {
        let r = try cli.run(args, environment: environment)
        XCTAssertEqual(r.status, 0, "\(args): \(r.err)")
        return (r.out, r.err)
    }

    func json(_ path: String) throws -> [String: Any] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
    }

    /// 3 seeds × 2 values of epochs: 6 run folders, and an aggregate whose means and standard deviations are those
    /// computed here from the runs' run.json; diff and publish take the aggregate.
    func testSweepAggregateMatchesADirectComputation() throws {
        try EngineFixtures.sweepRecipe.write(toFile: path("tiny.md"), atomically: true, encoding: .utf8)
        let out = path("sweep")
        try ok(["sweep", path("tiny.md"), "--seeds", "0-2", "-p", "epochs=1,2", "--jobs", "2", "--out", out, "--data-dir", mnist, "--quiet"])
        let ids = ["epochs-1_seed-0", "epochs-1_seed-1", "epochs-1_seed-2", "epochs-2_seed-0", "epochs-2_seed-1", "epochs-2_seed-2"]
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: path("sweep/runs")).sorted(), ids)
        var values: [String: [String: [Double]]] = [:]   // setting → metric → values
        for id in ids {
            let m = try json(path("sweep/runs/\(id)/run.json"))
            XCTAssertEqual((m["seed"] as? NSNumber)?.intValue, Int(id.suffix(1)))
            let setting = String(id.prefix(8))
            for card in m["metrics"] as? [[String: Any]] ?? [] {
                values[setting, default: [:]][card["name"] as! String, default: []].append((card["value"] as! NSNumber).doubleValue)
            }
        }
        let aggregate = try json(path("sweep/run.json"))
        let cards = Dictionary(uniqueKeysWithValues: (aggregate["metrics"] as! [[String: Any]]).map { ($0["name"] as! String, $0) })
        let table = try XCTUnwrap((aggregate["tables"] as? [[String: Any]])?.first { $0["label"] as? String == "tbl-sweep-metrics" })
        let rows = table["rows"] as! [[String]]
        XCTAssertEqual(rows.count, 4, "2 metrics × 2 settings")
        for (setting, metrics) in values {
            let epochs = setting.dropFirst(7)
            for (metric, v) in metrics {
                XCTAssertEqual(v.count, 3)
                let mean = v.reduce(0, +) / 3
                let sd = (v.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 2).squareRoot()
                let card = try XCTUnwrap(cards["\(metric).mean[epochs=\(epochs)]"], "\(metric) \(setting)")
                XCTAssertEqual((card["value"] as! NSNumber).doubleValue, mean, accuracy: 1e-12)
                let row = try XCTUnwrap(rows.first { $0[0] == metric && $0[1] == "epochs = \(epochs)" })
                XCTAssertEqual(Double(row[2])!, mean, accuracy: abs(mean) * 1e-5)
                XCTAssertEqual(Double(row[3])!, sd, accuracy: sd * 1e-5 + 1e-12)
                XCTAssertEqual(Double(row[4])!, v.min()!, accuracy: abs(v.min()!) * 1e-5)
                XCTAssertEqual(Double(row[5])!, v.max()!, accuracy: abs(v.max()!) * 1e-5)
                XCTAssertEqual(row[6], "3")
            }
        }
        let figures = (aggregate["figures"] as! [[String: Any]]).map { $0["label"] as! String }
        XCTAssertEqual(figures, ["fig-sweep-metrics", "fig-runs-curves"])
        let page = try String(contentsOfFile: path("sweep/index.html"), encoding: .utf8)
        for id in ids { XCTAssertTrue(page.contains("href=\"runs/\(id)/index.html\""), "link to \(id)") }

        // diff reads the aggregate as a run folder; publish copies the runs it links to.
        let d = try ok(["diff", out, out, "--format", "json"])
        XCTAssertTrue(d.out.contains("\"metrics\""))
        try ok(["publish", out, "--out", path("site")])
        let site = EngineFixtures.files(path("site"))
        XCTAssertTrue(site.contains("runs/tiny-sweep/default/index.html"), "\(site)")
        for id in ids { XCTAssertTrue(site.contains("runs/tiny-sweep/default/runs/\(id)/index.html"), id) }

        // A second sweep runs every run again, but every cell is restored from its cache.
        try ok(["sweep", path("tiny.md"), "--seeds", "0-2", "-p", "epochs=1,2", "--out", out, "--data-dir", mnist, "--quiet"])
        for id in ids {
            let cells = try json(path("sweep/runs/\(id)/run.json"))["cells"] as! [[String: Any]]
            XCTAssertEqual(Set(cells.map { $0["status"] as! String }), ["restored"], id)
        }
    }

    /// The same sweep on 1 and on 2 workers: the same files, byte for byte (JSON up to its wall-clock numbers).
    func testOneAndTwoWorkersGiveTheSameRunFolders() throws {
        try EngineFixtures.sweepRecipe.write(toFile: path("tiny.md"), atomically: true, encoding: .utf8)
        for jobs in ["1", "2"] {
            try ok(["sweep", path("tiny.md"), "--seeds", "4,5", "-p", "epochs=1,2", "--jobs", jobs, "--out", path("j\(jobs)"), "--data-dir", mnist, "--quiet"])
        }
        let n = try EngineFixtures.assertSameBytes(path("j1"), path("j2"))
        XCTAssertGreaterThan(n, 40)
    }

    /// An ensemble cell gives the same bytes in one process and on 1 or 2 worker processes.
    func testEnsembleIsTheSameInProcessAndOnWorkers() throws {
        try EngineFixtures.ensembleRecipe().write(toFile: path("fe.md"), atomically: true, encoding: .utf8)
        try ok(["run", path("fe.md"), "--out", path("in-process"), "--data-dir", mnist, "--quiet"])
        for jobs in ["1", "2"] {
            let r = try ok(["run", path("fe.md"), "--out", path("local-\(jobs)"), "--data-dir", mnist, "--engine", "local", "--jobs", jobs])
            XCTAssertTrue(r.err.contains("4 tasks on local (\(jobs) worker"), r.err)
            try EngineFixtures.assertSameBytes(path("in-process"), path("local-\(jobs)"))
            XCTAssertFalse(FileManager.default.fileExists(atPath: path("local-\(jobs)/tasks")), "task folders go once the cell is complete")
        }
    }

    /// A task that fails: the merge never runs, the error names the task and shows its log; the rerun after the fix
    /// runs only the tasks that had not finished and gives the same bytes as one process.
    func testFailingTaskStopsTheMergeAndTheRerunResumes() throws {
        try EngineFixtures.ensembleRecipe().write(toFile: path("fe.md"), atomically: true, encoding: .utf8)
        let args = ["run", path("fe.md"), "--out", path("run"), "--data-dir", mnist, "--engine", "local", "--jobs", "1"]
        let r = try cli.run(args, environment: ["GLASSBOX_TASK_FAIL": "net-2"])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.err.contains("task net-2 (filter-net)") && r.err.contains("the merge did not run"), r.err)
        XCTAssertTrue(r.err.contains("net-2.log") && r.err.contains("failure injected by GLASSBOX_TASK_FAIL"), "the log's tail: \(r.err)")
        XCTAssertTrue(r.err.contains("cell 2 (filter-experiment) failed"), r.err)
        let tasks = try FileManager.default.contentsOfDirectory(atPath: path("run/tasks"))
        XCTAssertEqual(tasks.count, 1)
        let results = try FileManager.default.contentsOfDirectory(atPath: path("run/tasks/\(tasks[0])/results"))
        XCTAssertEqual(results.count, 2, "nets 0 and 1 finished; net 2 failed; net 3 never started; no merge: \(results)")
        XCTAssertFalse(results.contains { $0.hasPrefix("merge-") })

        let again = try ok(args)
        XCTAssertTrue(again.err.contains("2 tasks on local"), again.err)
        try ok(["run", path("fe.md"), "--out", path("reference"), "--data-dir", mnist, "--quiet"])
        try EngineFixtures.assertSameBytes(path("reference"), path("run"))
    }

    /// SIGKILL to the whole run (driver and workers) while tasks run: no result is partial, nothing counts as
    /// finished that is not; the rerun completes with the same bytes as one process.
    func testKilledRunLeavesNoPartialResult() throws {
        try EngineFixtures.ensembleRecipe(nets: 8).write(toFile: path("fe.md"), atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: cli.path)
        p.arguments = ["run", path("fe.md"), "--out", path("run"), "--data-dir", mnist, "--engine", "local", "--jobs", "2", "--quiet"]
        p.standardError = FileHandle.nullDevice
        try p.run()
        // Wait for the first finished net, then kill the process group.
        let deadline = Date().addingTimeInterval(60)
        var results: [String] = []
        while Date() < deadline {
            if let t = try? FileManager.default.contentsOfDirectory(atPath: path("run/tasks")).first {
                results = (try? FileManager.default.contentsOfDirectory(atPath: path("run/tasks/\(t)/results"))) ?? []
                if results.contains(where: { $0.hasSuffix(".out") && !$0.hasPrefix(".") }) { break }
            }
            usleep(2_000)
        }
        // The driver first (so it starts nothing new), then its workers, each by its process id.
        let workers = Self.children(of: p.processIdentifier)
        kill(p.processIdentifier, SIGKILL)
        for w in workers + Self.children(of: p.processIdentifier) { kill(w, SIGKILL) }
        p.waitUntilExit()
        // Killed workers may stay zombies until reaped; they cannot write anything any more. Give the kernel a moment.
        usleep(200_000)
        let task = try XCTUnwrap(try FileManager.default.contentsOfDirectory(atPath: path("run/tasks")).first)
        let folder = path("run/tasks/\(task)/results")
        let finished = try FileManager.default.contentsOfDirectory(atPath: folder).filter { !$0.hasPrefix(".") }
        XCTAssertFalse(finished.isEmpty)
        XCTAssertLessThan(finished.count, 9, "killed before the merge")
        for f in finished {
            // Every result file is a whole net: it decodes and has the net's filters.
            let net = try json((folder as NSString).appendingPathComponent(f))
            XCTAssertNotNil(net["filters"], f)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("run/run.json")))

        let again = try ok(["run", path("fe.md"), "--out", path("run"), "--data-dir", mnist, "--engine", "local", "--jobs", "2"])
        XCTAssertTrue(again.err.contains("\(8 - finished.count) task"), again.err)
        try ok(["run", path("fe.md"), "--out", path("reference"), "--data-dir", mnist, "--quiet"])
        try EngineFixtures.assertSameBytes(path("reference"), path("run"))
    }

    /// Process ids whose parent is `pid` (from /proc).
    static func children(of pid: Int32) -> [Int32] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { name -> Int32? in
            guard let child = Int32(name), let stat = try? String(contentsOfFile: "/proc/\(name)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return nil }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return fields.count > 1 && Int32(fields[1]) == pid ? child : nil
        }
    }

    /// A worker that cannot see its task folder says why (on a cluster: no shared file system).
    func testTaskOutsideASharedFileSystemSaysSo() throws {
        let r = try cli.run(["task", "run", "/nonexistent/run/tasks/0123", "0"])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.err.contains("cannot see the task folder /nonexistent/run/tasks/0123") && r.err.contains("shared"), r.err)
    }

    func testHelp() throws {
        for cmd in [["sweep"], ["task"], ["task", "run"], ["task", "bench"]] {
            let r = try cli.run(cmd + ["--help"])
            XCTAssertEqual(r.status, 0, "\(cmd) --help")
            XCTAssertTrue(r.out.contains("USAGE"), "\(cmd) --help printed \(r.out.prefix(200))")
        }
    }

    /// The engine's own cost: 6 empty tasks and their merge on one worker; the merged output is checked by the command.
    func testBenchRunsEmptyTasks() throws {
        let r = try ok(["task", "bench", "--count", "6", "--jobs", "1", "--dir", path("bench")])
        XCTAssertTrue(r.out.hasPrefix("6 tasks of 0 s + merge on local (1 worker): "), r.out)
        XCTAssertTrue(FileManager.default.fileExists(atPath: path("bench/batch.json")))
    }

    func testBadEngineFlagsAreOneClearLine() throws {
        try EngineFixtures.sweepRecipe.write(toFile: path("tiny.md"), atomically: true, encoding: .utf8)
        let cases: [([String], String)] = [
            (["run", path("tiny.md"), "--engine", "cloud"], "--engine: expected local or slurm"),
            (["run", path("tiny.md"), "--engine", "slurm", "--time", "soon"], "--time: expected a Slurm time"),
            (["run", path("tiny.md"), "--partition", "gpu"], "--engine"),
            (["sweep", path("tiny.md"), "--seeds", "3-1", "--out", path("x")], "--seeds"),
            (["sweep", path("tiny.md"), "-p", "width=1,2", "--out", path("x")], "-p width"),
            (["sweep", path("tiny.md"), "-p", "seed=1,2", "--out", path("x")], "--seeds"),
        ]
        for (args, needle) in cases {
            let r = try cli.run(args)
            XCTAssertEqual(r.status, 1, "\(args)")
            XCTAssertEqual(r.err.split(separator: "\n").count, 1, "\(args): \(r.err)")
            XCTAssertTrue(r.err.hasPrefix("glassbox: error: ") && r.err.contains(needle), "\(args): \(r.err)")
        }
    }
}
