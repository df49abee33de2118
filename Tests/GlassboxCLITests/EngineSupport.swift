import Foundation
import XCTest

/// Helpers of the engine tests: tiny recipes, folder comparison up to wall-clock numbers, a one-node Slurm cluster.
enum EngineFixtures {
    /// `../shared/datasets/mnist` beside the repository (CI), or `GLASSBOX_TEST_MNIST` (a worktree elsewhere).
    static var mnist: String {
        if let p = ProcessInfo.processInfo.environment["GLASSBOX_TEST_MNIST"] { return p }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("shared/datasets/mnist").path
    }
    static var repoRoot: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    }

    /// Data → a small MLP → evaluation, metrics and the loss curves (a run takes well under a second).
    static let sweepRecipe = """
    ---
    title: Tiny sweep
    seed: 3
    parameters:
      epochs: 1
    ---
    # Tiny

    ```glassbox
    step: data
    dataset: mnist
    name: digits
    resplit: 300:100
    ```

    ```glassbox
    step: train
    name: mlp
    model: mlp 784-16-10 relu
    data: digits
    epochs: ${epochs}
    batch: 50
    optimizer: sgd
    lr: 0.1
    ```

    ```glassbox
    step: evaluate
    model: mlp
    ```

    ```glassbox
    step: metrics
    evaluations: [mlp]
    ```

    ```glassbox
    #| label: fig-curves
    #| caption: Training curves
    step: figure
    kind: curves
    models: [mlp]
    ```

    """

    /// A filter experiment of `nets` tiny CNNs (an ensemble of tasks), then the topology of their pooled filters.
    static func ensembleRecipe(nets: Int = 4) -> String {
        """
        ---
        title: Tiny filters
        seed: 2
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
        name: filters
        model: input 1x28x28; conv 8 k3 p1; relu; maxpool 2; flatten; linear 10
        nets: \(nets)
        epochs: 1
        train-limit: 200
        steps: [2]
        ```

        ```glassbox
        #| label: fig-filters
        step: topology
        filters: filters
        max-points: 200
        k: 5
        ```

        """
    }

    /// Every file under `dir` (relative paths), sorted.
    static func files(_ dir: String) -> [String] {
        let e = FileManager.default.enumerator(atPath: dir)
        var out: [String] = []
        while let f = e?.nextObject() as? String {
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: (dir as NSString).appendingPathComponent(f), isDirectory: &isDir), !isDir.boolValue { out.append(f) }
        }
        return out.sorted()
    }

    /// JSON without its wall-clock values: `seconds`, `samplesPerSecond` and a cell's `status` (executed/restored).
    static func withoutTimings(_ v: Any) -> Any {
        if let d = v as? [String: Any] {
            var out: [String: Any] = [:]
            for (k, x) in d where !["seconds", "samplesPerSecond", "status"].contains(k) { out[k] = withoutTimings(x) }
            return out
        }
        if let a = v as? [Any] { return a.map(withoutTimings) }
        return v
    }

    /// Asserts two folders hold the same files with the same bytes, except that JSON files are compared without
    /// their wall-clock values (the only numbers of a run that may differ). Returns how many files were compared.
    @discardableResult
    static func assertSameBytes(_ a: String, _ b: String, file: StaticString = #filePath, line: UInt = #line) throws -> Int {
        let fa = files(a), fb = files(b)
        XCTAssertEqual(fa, fb, "file lists differ", file: file, line: line)
        for f in fa where fb.contains(f) {
            let da = try Data(contentsOf: URL(fileURLWithPath: (a as NSString).appendingPathComponent(f)))
            let db = try Data(contentsOf: URL(fileURLWithPath: (b as NSString).appendingPathComponent(f)))
            if da == db { continue }
            if f.hasSuffix(".json"), let ja = try? JSONSerialization.jsonObject(with: da), let jb = try? JSONSerialization.jsonObject(with: db) {
                let na = try JSONSerialization.data(withJSONObject: withoutTimings(ja), options: [.sortedKeys])
                let nb = try JSONSerialization.data(withJSONObject: withoutTimings(jb), options: [.sortedKeys])
                XCTAssertEqual(na, nb, "\(f) differs beyond timings", file: file, line: line)
            } else {
                XCTFail("\(f) differs", file: file, line: line)
            }
        }
        return fa.count
    }
}

/// A throwaway one-node Slurm cluster (scripts/slurm-test-cluster.sh) with its state in a temporary folder.
final class SlurmTestCluster {
    let dir: String
    let conf: String
    static var script: String { (EngineFixtures.repoRoot as NSString).appendingPathComponent("scripts/slurm-test-cluster.sh") }

    private init(dir: String, conf: String) { self.dir = dir; self.conf = conf }

    /// Starts a cluster, or skips the test with the reason when Slurm is not installed or cannot run here.
    static func start() throws -> SlurmTestCluster {
        let check = try shell([script, "check"])
        if check.status != 0 {
            throw XCTSkip("Slurm tests skipped: \(check.err.trimmingCharacters(in: .whitespacesAndNewlines)); `make test` installs the packages when run as root")
        }
        let dir = "/tmp/gb-slurm-\(UUID().uuidString.prefix(8))"
        let up = try shell([script, "up", dir])
        guard up.status == 0 else {
            if getuid() != 0 { throw XCTSkip("Slurm tests skipped: a test cluster could not start without root: \(up.err)") }
            throw GlassboxTestError("the test cluster did not start: \(up.err)")
        }
        return SlurmTestCluster(dir: dir, conf: (dir as NSString).appendingPathComponent("etc/slurm.conf"))
    }

    func stop() { _ = try? SlurmTestCluster.shell([SlurmTestCluster.script, "down", dir]) }

    var environment: [String: String] { ["SLURM_CONF": conf] }

    /// Runs bash with `args`; output goes through files, so daemons the script starts cannot keep a pipe open.
    static func shell(_ args: [String]) throws -> (status: Int32, out: String, err: String) {
        let base = (NSTemporaryDirectory() as NSString).appendingPathComponent("gb-shell-\(UUID().uuidString)")
        FileManager.default.createFile(atPath: base + ".out", contents: nil)
        FileManager.default.createFile(atPath: base + ".err", contents: nil)
        defer { try? FileManager.default.removeItem(atPath: base + ".out"); try? FileManager.default.removeItem(atPath: base + ".err") }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = args
        p.standardInput = FileHandle.nullDevice
        p.standardOutput = FileHandle(forWritingAtPath: base + ".out")
        p.standardError = FileHandle(forWritingAtPath: base + ".err")
        try p.run()
        p.waitUntilExit()
        let out = (try? String(contentsOfFile: base + ".out", encoding: .utf8)) ?? ""
        let err = (try? String(contentsOfFile: base + ".err", encoding: .utf8)) ?? ""
        return (p.terminationStatus, out, err)
    }
}

struct GlassboxTestError: Error, CustomStringConvertible {
    var description: String
    init(_ s: String) { description = s }
}
