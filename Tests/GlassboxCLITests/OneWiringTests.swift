import Foundation
import XCTest

/// The command line and the recipe steps decode into the same configurations and call the same analysis functions,
/// so the same inputs give the same numbers. Everything here runs the built binary (the release build in `make test`).
final class OneWiringTests: XCTestCase {
    let cli = GlassboxBinary.self
    var dir = ""
    var mnist: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("shared/datasets/mnist").path
    }

    override func setUpWithError() throws {
        try XCTSkipUnless(FileManager.default.fileExists(atPath: mnist), "MNIST test set not found at \(mnist)")
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("wiring-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }
    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    func path(_ name: String) -> String { (dir as NSString).appendingPathComponent(name) }

    func ok(_ args: [String]) throws -> String {
        let r = try cli.run(args)
        XCTAssertEqual(r.status, 0, "\(args): \(r.err)")
        return r.out
    }

    /// Runs a recipe with the binary and returns the decoded stored results of every cell, by workspace name.
    func runRecipe(_ cells: String) throws -> [String: Any] {
        let recipe = "---\ntitle: Wiring\nseed: 5\n---\n" + cells
        try recipe.write(toFile: path("wiring.md"), atomically: true, encoding: .utf8)
        _ = try ok(["run", path("wiring.md"), "--out", path("run"), "--quiet", "--data-dir", mnist])
        var results: [String: Any] = [:]
        let cellsDir = path("run/cells")
        for key in try FileManager.default.contentsOfDirectory(atPath: cellsDir) where !key.hasPrefix(".") {
            let data = try Data(contentsOf: URL(fileURLWithPath: "\(cellsDir)/\(key)/result.json"))
            let json = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
            for p in json["produced"] as? [[String: Any]] ?? [] {
                guard let r = p["result"] as? [String: Any], let name = r["name"] as? String,
                      let stored = r["stored"] as? [String: Any], let text = stored["json"] as? String else { continue }
                results[name] = try JSONSerialization.jsonObject(with: Data(text.utf8))
            }
        }
        return results
    }

    static let mlp = "mlp 784-24-12-10 relu"

    /// The value with every `seconds` and `samplesPerSecond` entry removed (they are the only wall-clock numbers).
    func withoutTimings(_ v: Any) -> Any {
        if let d = v as? [String: Any] {
            var out: [String: Any] = [:]
            for (k, x) in d where k != "seconds" && k != "samplesPerSecond" { out[k] = withoutTimings(x) }
            return out
        }
        if let a = v as? [Any] { return a.map(withoutTimings) }
        return v
    }

    /// The same MLP trained by the command line: same data, split, seed and settings as the recipe's train cell.
    func trainMLP(_ out: String) throws {
        _ = try ok(["train", "--model", Self.mlp, "--data", "mnist", "--data-dir", mnist, "--resplit", "400:200", "--seed", "5",
                    "--epochs", "2", "--batch", "50", "--lr", "0.1", "--quiet", "--out", out])
    }

    /// The MNIST test set re-split 400:200 as 'digits', then a model trained on it (as the command line's train does).
    func digitsAnd(train name: String, model: String, epochs: Int, lr: Double) -> String {
        """
        ```glassbox
        step: data
        dataset: mnist
        name: digits
        resplit: 400:200
        ```

        ```glassbox
        step: train
        name: \(name)
        model: \(model)
        data: digits
        epochs: \(epochs)
        batch: 50
        lr: \(lr)
        ```

        """
    }

    var dataAndMLP: String { digitsAnd(train: "mlp", model: Self.mlp, epochs: 2, lr: 0.1) }

    func testPruneAndClusterGiveTheSameNumbersFromTheCommandLineAndARecipe() throws {
        let results = try runRecipe(dataAndMLP + """
        ```glassbox
        step: prune
        model: mlp
        name: mag
        method: magnitude
        amount: 0.5
        rounds: 2
        ```

        ```glassbox
        step: cluster
        model: mlp
        layer: 2.weight
        k: 3
        null: 4
        ```
        """)
        try trainMLP(path("mlp.safetensors"))
        // prune: the data and the retraining rate (a tenth of the training rate) come from the checkpoint.
        let pruneOut = try ok(["prune", path("mlp.safetensors"), "--method", "magnitude", "--amount", "0.5", "--rounds", "2", "--seed", "5",
                               "--json", "--quiet", "--out", path("pruned.safetensors")])
        // Everything but the wall-clock timings of the retraining epochs.
        let cliPrune = try XCTUnwrap(withoutTimings(JSONSerialization.jsonObject(with: Data(pruneOut.utf8))) as? [String: Any])
        let stepPrune = try XCTUnwrap(withoutTimings(results["mag"] as Any) as? [String: Any])
        XCTAssertEqual(NSDictionary(dictionary: cliPrune), NSDictionary(dictionary: stepPrune), "prune: command line and step differ")
        // cluster
        let clusterOut = try ok(["cluster", path("mlp.safetensors"), "--layer", "2.weight", "--k", "3", "--null", "4", "--seed", "5"])
        var cliCluster = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(clusterOut.utf8)) as? [String: Any])
        var stepCluster = try XCTUnwrap(results["mlp.clusters"] as? [String: Any])
        // The model is named by its checkpoint path on the command line and by its workspace name in a recipe.
        cliCluster["model"] = nil; stepCluster["model"] = nil
        XCTAssertEqual(NSDictionary(dictionary: cliCluster), NSDictionary(dictionary: stepCluster), "cluster: command line and step differ")
    }

    /// Explanations: `glassbox explain` and the `concepts` + `dissect` / `explain` cells on the same CNN (trained the same
    /// way on both sides) and the same 120 probe images give the same result, every IoU and formula included.
    func testExplanationsGiveTheSameNumbersFromTheCommandLineAndARecipe() throws {
        let spec = "input 1x28x28; conv 6 k5 p2; relu; maxpool 2; flatten; linear 10"
        let results = try runRecipe(digitsAnd(train: "cnn", model: spec, epochs: 1, lr: 0.05) + """
        ```glassbox
        step: concepts
        data: digits
        count: 120
        ```

        ```glassbox
        step: dissect
        model: cnn
        layer: 0.weight
        name: dissection
        ```

        ```glassbox
        step: explain
        model: cnn
        layer: 0.weight
        units: [0, 1]
        clusters: 3
        name: clustered
        ```
        """)
        _ = try ok(["train", "--model", spec, "--data", "mnist", "--data-dir", mnist, "--resplit", "400:200", "--seed", "5",
                    "--epochs", "1", "--batch", "50", "--lr", "0.05", "--quiet", "--out", path("cnn.safetensors")])
        let common = [path("cnn.safetensors"), "--layer", "0.weight", "--probe", "images", "--probe-count", "120", "--seed", "5",
                      "--data", "mnist", "--data-dir", mnist, "--resplit", "400:200", "--json"]
        for (method, name, extra) in [("dissect", "dissection", [String]()), ("clustered", "clustered", ["--units", "0-1", "--clusters", "3"])] {
            let out = try ok(["explain"] + common + ["--method", method] + extra)
            var cli = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
            var step = try XCTUnwrap(results[name] as? [String: Any], "\(name) not stored: \(results.keys.sorted())")
            for k in ["model", "stats", "seconds"] { cli[k] = nil; step[k] = nil }
            XCTAssertEqual(Set(cli.keys), Set(step.keys), method)
            for k in cli.keys.sorted() where !(NSDictionary(dictionary: [k: cli[k]!]).isEqual(to: [k: step[k] as Any])) {
                XCTFail("\(method).\(k): command line \(String(describing: cli[k]!).prefix(300)) … step \(String(describing: step[k] ?? "none").prefix(300))")
            }
        }
    }

    func testTopologyOfFiltersGivesTheSameNumbersFromTheCommandLineAndARecipe() throws {
        let spec = "input 1x28x28; conv 16 k3 p1; relu; maxpool 2; flatten; linear 10"
        let results = try runRecipe("""
        ```glassbox
        step: data
        dataset: mnist
        name: digits
        resplit: 300:100
        ```

        ```glassbox
        step: filter-experiment
        data: digits
        nets: 1
        epochs: 1
        batch: 50
        model: \(spec)
        ```

        ```glassbox
        step: topology
        filters: filters
        p: 0.5
        ```
        """)
        XCTAssertNotNil(results["filters"])
        let manifest = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path("run/run.json")))) as? [String: Any])
        let metrics = Dictionary(uniqueKeysWithValues: (manifest["metrics"] as? [[String: Any]] ?? []).map { ($0["name"] as! String, $0["value"] as! Double) })
        // The filter experiment's net 0 is `glassbox train` with Adam at 0.002 and the recipe seed.
        _ = try ok(["train", "--model", spec, "--data", "mnist", "--data-dir", mnist, "--resplit", "300:100", "--seed", "5", "--epochs", "1",
                    "--batch", "50", "--optimizer", "adam", "--lr", "0.002", "--quiet", "--out", path("cnn.safetensors")])
        let out = try ok(["topology", "filters", path("cnn.safetensors"), "--layer", "0.weight", "--p", "0.5"])
        let cli = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
        let key = metrics.keys.first { $0.hasSuffix(".kept") }.map { String($0.dropLast(5)) } ?? "?"
        XCTAssertEqual(cli["densityKept"] as? Double, metrics["\(key).kept"])
        XCTAssertEqual(cli["dominantH1"] as? Double, metrics["\(key).h1"])
        XCTAssertEqual(cli["loopCount"] as? Double, metrics["\(key).loops"])
        XCTAssertEqual(cli["cliqueLoopCount"] as? Double, metrics["\(key).cliqueLoops"])
    }

    /// A checkpoint whose tensors disagree with its spec, a wrong layer, and another layer's clusters: one clear line each.
    func testMismatchesAreOneClearError() throws {
        try trainMLP(path("mlp.safetensors"))
        let wrongLayer = try cli.run(["cluster", path("mlp.safetensors"), "--layer", "7.weight"])
        XCTAssertEqual(wrongLayer.status, 1)
        XCTAssertEqual(wrongLayer.err.split(separator: "\n").count, 1, wrongLayer.err)
        XCTAssertTrue(wrongLayer.err.contains("--layer: expected a Linear layer of the model: 0.weight, 2.weight, 4.weight, found '7.weight'"), wrongLayer.err)

        let mismatched = try cli.run(["evaluate", path("mlp.safetensors"), "--spec", "mlp 784-30-12-10"])
        XCTAssertEqual(mismatched.status, 1)
        XCTAssertEqual(mismatched.err.split(separator: "\n").count, 1, mismatched.err)
        XCTAssertTrue(mismatched.err.contains("0.weight") && mismatched.err.contains("[30, 784]") && mismatched.err.contains("[24, 784]"), mismatched.err)

        let recipe = "---\ntitle: Ablate\nseed: 5\n---\n" + dataAndMLP + """
        ```glassbox
        step: cluster
        model: mlp
        layer: 0.weight
        k: 3
        null: 0
        ```

        ```glassbox
        step: ablate
        model: mlp
        clusters: mlp.clusters
        layer: 2.weight
        ```
        """
        try recipe.write(toFile: path("ablate.md"), atomically: true, encoding: .utf8)
        let ablate = try cli.run(["run", path("ablate.md"), "--out", path("ablate"), "--quiet", "--data-dir", mnist])
        XCTAssertEqual(ablate.status, 1)
        XCTAssertEqual(ablate.err.split(separator: "\n").count, 1, ablate.err)
        XCTAssertTrue(ablate.err.contains("cell 4 (ablate) failed") && ablate.err.contains("co-clusters of layer 2.weight")
                      && ablate.err.contains("is for 0.weight"), ablate.err)
    }
}
