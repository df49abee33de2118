import Foundation
import XCTest

/// The command line on an image folder: export, info, train with normalisation, evaluate (the recorded normalisation
/// is used, and a recipe that loads the checkpoint gives the same accuracy), activations for NumPy, and clear errors.
final class FileDataCLITests: XCTestCase {
    let cli = GlassboxBinary.self
    var dir = ""
    /// Debian's dataset-fashion-mnist, which `make test` installs.
    let fashion = "/usr/share/datasets/fashion-mnist"

    override func setUpWithError() throws {
        try XCTSkipUnless(FileManager.default.fileExists(atPath: fashion + "/t10k-labels-idx1-ubyte.gz"), "Fashion-MNIST not found at \(fashion)")
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("filedata-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }
    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    func path(_ name: String) -> String { (dir as NSString).appendingPathComponent(name) }

    func ok(_ args: [String]) throws -> String {
        let r = try cli.run(args)
        XCTAssertEqual(r.status, 0, "\(args): \(r.err)")
        return r.out
    }

    func fails(_ args: [String]) throws -> String {
        let r = try cli.run(args)
        XCTAssertEqual(r.status, 1, "\(args) should fail: \(r.out)")
        XCTAssertEqual(r.err.split(separator: "\n").count, 1, "one line: \(r.err)")
        return r.err
    }

    func accuracy(_ json: String) throws -> Double {
        let o = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        return try XCTUnwrap((o["evaluation"] as? [String: Any])?["accuracy"] as? Double)
    }

    func testImageFolderFromExportToTrainEvaluateAndActivations() throws {
        for cmd in [["activations"], ["datasets", "export"]] { XCTAssertTrue(try ok(cmd + ["--help"]).contains("USAGE")) }
        let folder = path("digits")
        XCTAssertTrue(try ok(["datasets", "export", "fashion-mnist", "--dir", fashion, "--split", "test", "--limit", "300", "--out", folder])
            .hasPrefix("300 test images → \(folder)"))
        let info = try ok(["datasets", "info", "folder:\(folder)"])
        XCTAssertTrue(info.contains("test: 300 images") && info.contains("train: none") && info.contains("loads as: 1 channel(s) of 28×28"), info)

        let net = path("net.safetensors")
        _ = try ok(["train", "--model", "input 1x28x28; conv 4 k5 p2; relu; maxpool 4; flatten; linear 10", "--data", "folder:\(folder)",
                    "--resplit", "200:100", "--normalize", "0.2860/0.3530", "--epochs", "2", "--lr", "0.05", "--quiet", "--out", net])
        // The checkpoint records its data and normalisation: a bare evaluate uses both; other normalisation, other numbers.
        let recorded = try accuracy(try ok(["evaluate", net, "--json"]))
        XCTAssertEqual(try accuracy(try ok(["evaluate", net, "--data", "folder:\(folder)", "--resplit", "200:100", "--json"])), recorded)
        let explicit = try ok(["evaluate", net, "--data", "folder:\(folder)", "--resplit", "200:100", "--normalize", "0.2860/0.3530", "--json"])
        XCTAssertEqual(try accuracy(explicit), recorded)
        let raw = try ok(["evaluate", net, "--data", "folder:\(folder)", "--resplit", "200:100", "--normalize", "0/1", "--json"])
        XCTAssertNotEqual(raw, explicit)

        // A recipe that loads the checkpoint onto the same folder gives the command's accuracy.
        let recipe = """
        ---
        title: Loaded
        seed: 0
        ---

        ```glassbox
        step: data
        dataset: folder:\(folder)
        resplit: 200:100
        normalize: {mean: [0.2860], std: [0.3530]}
        ```

        ```glassbox
        step: load
        path: \(net)
        data: digits
        ```

        ```glassbox
        step: evaluate
        model: net
        ```

        ```glassbox
        step: metrics
        evaluations: [net]
        ```
        """
        try recipe.write(toFile: path("loaded.md"), atomically: true, encoding: .utf8)
        _ = try ok(["run", path("loaded.md"), "--out", path("run"), "--quiet"])
        let manifest = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path("run/run.json")))) as? [String: Any])
        let metrics = try XCTUnwrap(manifest["metrics"] as? [[String: Any]])
        let value = try XCTUnwrap(metrics.first { $0["name"] as? String == "net.accuracy" }?["value"] as? Double)
        XCTAssertEqual(value, recorded, accuracy: 1e-7)

        // Activations for NumPy: the .npy header says float32 and the layer's shape.
        let out = try ok(["activations", net, "--layer", "3", "--out", path("acts.npy")])
        XCTAssertTrue(out.contains("activations of layer 3 (flatten), float32 [100, 196], 100 test samples"), out)
        let npy = try Data(contentsOf: URL(fileURLWithPath: path("acts.npy")))
        XCTAssertTrue(String(decoding: npy.prefix(80), as: UTF8.self).contains("'descr': '<f4', 'fortran_order': False, 'shape': (100, 196)"))
        XCTAssertEqual(npy.count, 128 + 100 * 196 * 4)
        _ = try ok(["activations", net, "--layer", "4.weight", "--split", "train", "--out", path("logits.npz")])

        // Bad input: one line naming the flag or the file.
        XCTAssertTrue(try fails(["evaluate", net, "--normalize", "0.5"]).contains("--normalize: expected"))
        XCTAssertTrue(try fails(["activations", net, "--layer", "3", "--out", path("a.txt")]).contains("--out: expected a file name ending in .npy or .npz"))
        XCTAssertTrue(try fails(["activations", net, "--layer", "9", "--out", path("a.npy")]).contains("--layer: expected a layer index 0…4"))
        XCTAssertTrue(try fails(["evaluate", net, "--strip-prefix", ""]).contains("--strip-prefix: expected"))
        XCTAssertTrue(try fails(["evaluate", net, "--data", "folder:\(path("nothing"))"]).contains("nothing at"))
        XCTAssertTrue(try fails(["train", "--data", "folder:\(folder)", "--epochs", "1", "--quiet"]).contains("none in"),
                      "a one-set folder has no training split without --resplit")
    }
}
