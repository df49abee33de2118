import Foundation
import XCTest
import GlassboxTestSupport
import GlassboxAnalysis
@testable import GlassboxCore
@testable import GlassboxData
@testable import GlassboxNN
@testable import GlassboxReport
@testable import GlassboxSteps

/// A recipe that makes a checkpoint and an image folder, then loads them (`load`, `dataset: folder:`): the loaded
/// model gives the trained one's numbers and `glassbox evaluate`'s, the cache follows the files, and a normalisation
/// that does not match the checkpoint's is refused. Synthetic 8×8 images, so it runs anywhere.
final class YourModelTests: XCTestCase {
    var dir = ""
    override func setUpWithError() throws { dir = try makeTempDir("byo") }
    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    func path(_ p: String) -> String { (dir as NSString).appendingPathComponent(p) }

    /// Two classes of 8×8 grey images: bright on the left ("left") or on the right ("right"), with seeded noise.
    func makeFolder(_ root: String, perClass: [String: Int] = ["train": 24, "test": 12]) throws {
        var g = SeededGenerator(seed: 7)
        for (split, n) in perClass {
            for (label, cls) in ["left", "right"].enumerated() {
                let folder = (root as NSString).appendingPathComponent("\(split)/\(cls)")
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
                for i in 0..<n {
                    let pixels = (0..<64).map { p -> UInt8 in
                        let bright = (p % 8 < 4) == (label == 0)
                        return UInt8((bright ? 150 : 20) + Int(g.next() % 80))
                    }
                    let png = try PNGFile.encode(width: 8, height: 8, colorType: 0, bitDepth: 8, rows: pixels, stride: 8)
                    try png.write(to: URL(fileURLWithPath: (folder as NSString).appendingPathComponent(String(format: "%02d.png", i))))
                }
            }
        }
    }

    func recipe(dataNormalize: String = "normalize: {mean: [0.5], std: [0.25]}") -> String {
        """
        ---
        title: Bring your own
        seed: 0
        ---

        ```glassbox
        step: data
        dataset: folder:\(path("source"))
        name: source
        normalize: {mean: [0.5], std: [0.25]}
        ```

        ```glassbox
        step: train
        name: cnn
        model: input 1x8x8; conv 4 k3 p1; relu; maxpool 2; flatten; linear 6; relu; linear 2
        data: source
        epochs: 2
        batch: 8
        optimizer: adam
        lr: 0.01
        ```

        ```glassbox
        step: evaluate
        model: cnn
        ```

        ```glassbox
        step: export-model
        model: cnn
        path: \(path("files/cnn.safetensors"))
        ```

        ```glassbox
        step: export-images
        data: source
        path: \(path("files/images"))
        ```

        ```glassbox
        step: data
        dataset: folder:\(path("files/images"))
        name: images
        \(dataNormalize)
        ```

        ```glassbox
        step: load
        path: \(path("files/cnn.safetensors"))
        data: images
        name: net
        ```

        ```glassbox
        step: evaluate
        model: net
        ```

        ```glassbox
        step: cluster
        model: net
        layer: 4.weight
        k: 2
        null: 3
        ```

        ```glassbox
        step: prune
        model: net
        method: magnitude
        amount: 0.5
        retrain-epochs: 1
        ```

        ```glassbox
        step: filters
        models: [net, cnn]
        layer: 0.weight
        ```
        """
    }

    func run(_ text: String) throws -> (RunSummary, StepSession) {
        try write(text, to: path("byo.md"))
        let session = StepSession()
        let summary = try Runner.run(recipe: path("byo.md"), options: options(out: path("run")), session: session)
        return (summary, session)
    }

    func testALoadedCheckpointAndImageFolderGiveTheTrainedModelsNumbersAndFollowTheCache() throws {
        try makeFolder(path("source"))
        let (first, ws1) = try run(recipe())
        XCTAssertEqual(first.statistics.executed, Array(1...11))
        let trained = try ws1.workspace.evaluation("cnn").evaluation, loaded = try ws1.workspace.evaluation("net").evaluation
        // The PNGs hold the same 8-bit pixels and the checkpoint the same weights: the same numbers.
        XCTAssertEqual(loaded.accuracy, trained.accuracy)
        XCTAssertEqual(loaded.loss, trained.loss, accuracy: 1e-6)
        XCTAssertEqual(loaded.confusion, trained.confusion)
        XCTAssertEqual(try ws1.workspace.modelRecord("net").normalization, Normalization(mean: [0.5], std: [0.25]))
        // What `glassbox evaluate FILE --data folder:… --normalize 0.5/0.25` computes.
        let checkpoint = try Checkpoint.load(path("files/cnn.safetensors"), options: StateDictOptions())
        XCTAssertEqual(NormalizationMetadata.decode(checkpoint.metadata), Normalization(mean: [0.5], std: [0.25]))
        let test = try DataRequest(dataset: "folder:\(path("files/images"))", normalization: Normalization(mean: [0.5], std: [0.25])).load().test
        let command = try Trainer.evaluate(checkpoint.model, on: test)
        XCTAssertEqual(command.accuracy, loaded.accuracy)
        XCTAssertEqual(command.loss, loaded.loss)
        XCTAssertEqual(try ws1.workspace.result("filters", FilterExperimentResult.self).pools[0].count, 8, "4 filters of each of the two models")

        // Everything restores; an exported folder that was deleted is written again (and nothing after it changes).
        XCTAssertEqual(try run(recipe()).0.statistics.executed, [])
        try FileManager.default.removeItem(atPath: path("files/images"))
        XCTAssertEqual(try run(recipe()).0.statistics.executed, [5])
        // An image moved to the other class re-runs the folder's data cell and everything that reads it.
        try FileManager.default.moveItem(atPath: path("files/images/test/left/00.png"), toPath: path("files/images/test/right/99.png"))
        XCTAssertEqual(try run(recipe()).0.statistics.executed, [6, 7, 8, 9, 10, 11])
        // Another checkpoint at the same path (its hash joins the load cell's key): the load cell and what follows re-run.
        let other = try Sequential(spec: ModelSpec.parse("input 1x8x8; conv 4 k3 p1; relu; maxpool 2; flatten; linear 6; relu; linear 2"), seed: 9)
        try Checkpoint.save(other, to: path("files/cnn.safetensors"),
                            metadata: ["exported_from": "cnn"].merging(NormalizationMetadata.encode(Normalization(mean: [0.5], std: [0.25]))) { a, _ in a })
        XCTAssertEqual(try run(recipe()).0.statistics.executed, [7, 8, 9, 10, 11])
    }

    func testNormalisationThatDiffersFromTheCheckpointsIsRefused() throws {
        try makeFolder(path("source"))
        XCTAssertThrowsError(try run(recipe(dataNormalize: "scale: true"))) { e in
            let text = "\(e)"
            XCTAssertTrue(text.contains("data normalised as") && text.contains("mean 0.5 / std 0.25") && text.contains("'images' with normalisation none"), text)
        }
    }

    func testNormalizeArgumentErrorsNameTheLine() throws {
        try makeFolder(path("source"))
        let cases = [("normalize: {mean: [0.5]}", "found no std"), ("normalize: {mean: [0.5, 0.5], std: [1]}", "as many std values as mean values"),
                     ("normalize: {mean: [0.5], sd: [1]}", "a key 'sd'"), ("normalize: 0.5/0", "std values > 0"),
                     ("normalize: {mean: [1, 2, 3], std: [1, 1, 1]}", "1 value (the data have 1 channel)")]
        for (line, needle) in cases {
            XCTAssertThrowsError(try run(recipe(dataNormalize: line)), line) { e in
                XCTAssertTrue("\(e)".contains("byo.md:") && "\(e)".contains(needle), "\(line): \(e)")
            }
        }
    }

    /// The built-in recipe runs (on a small part of Fashion-MNIST, its files in a temporary folder).
    func testBuiltInYourModelRecipeRuns() throws {
        try XCTSkipUnless(FileManager.default.fileExists(atPath: "/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz")
                          || FileManager.default.fileExists(atPath: (repoRoot as NSString).appendingPathComponent("datasets/fashion-mnist")),
                          "Fashion-MNIST not installed")
        let recipe = (repoRoot as NSString).appendingPathComponent("reports/your-model.md")
        var o = options(out: path("builtin"), parameters: ["files=\(path("files"))", "train_limit=600", "test_limit=200", "epochs=1"])
        o.dataDirectory = nil
        let summary = try Runner.run(recipe: recipe, options: o)
        XCTAssertEqual(summary.statistics.restored, [])
        XCTAssertTrue(FileManager.default.fileExists(atPath: path("files/fashion-cnn.safetensors")))
        let html = try readText(summary.indexPath)
        XCTAssertTrue(html.contains("fig-topology-mapper"))
        XCTAssertTrue(html.contains("loaded from"))
    }
}
