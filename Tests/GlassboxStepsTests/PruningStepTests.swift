import Foundation
import XCTest
import GlassboxTestSupport
@testable import GlassboxAnalysis
@testable import GlassboxCore
@testable import GlassboxReport

/// The `prune` step and the pruning figure kinds in a small recipe on 600 + 200 MNIST test images.
final class PruningStepTests: XCTestCase {
    var dir = ""
    override func setUpWithError() throws {
        try requireMNIST()
        dir = try makeTempDir("prune")
    }
    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    func recipe(pruneArgs: String = "amount: 0.5", extra: String = "") -> String {
        """
        ---
        title: Pruning test
        seed: 1
        ---
        ```glassbox
        step: data
        dataset: mnist
        name: digits
        resplit: 600:200
        ```

        ```glassbox
        step: train
        name: mlp
        model: mlp 784-32-10 sigmoid
        data: digits
        epochs: 2
        batch: 50
        ```

        ```glassbox
        step: prune
        model: mlp
        name: mag
        method: magnitude
        \(pruneArgs)
        rounds: 2
        retrain-epochs: 1
        ```

        ```glassbox
        step: prune
        model: mlp
        name: reg
        method: regions
        connectivity: 8
        retrain-epochs: 1
        ```

        ```glassbox
        #| label: fig-w
        step: figure
        kind: weights
        model: reg
        count: 32
        columns: 8
        ```

        ```glassbox
        #| label: fig-r
        step: figure
        kind: regions
        model: reg
        count: 8
        connectivity: 8
        ```

        ```glassbox
        #| label: fig-s
        step: figure
        kind: sparsity
        model: mag
        ```

        ```glassbox
        #| label: fig-a
        step: figure
        kind: prune-accuracy
        results: [mag, reg]
        ```

        ```glassbox
        #| label: fig-h
        step: figure
        kind: weight-histogram
        models: [mlp, mag]
        ```

        ```glassbox
        #| label: fig-u
        step: figure
        kind: unit-pruned
        results: [mag, reg]
        ```
        \(extra)
        """
    }

    func run(_ text: String) throws -> RunSummary {
        let path = (dir as NSString).appendingPathComponent("prune.md")
        try write(text, to: path)
        return try Runner.run(recipe: path, options: options(out: (dir as NSString).appendingPathComponent("run")))
    }

    func testPruneStepsRunCacheAndKeepMasks() throws {
        let first = try run(recipe())
        XCTAssertEqual(first.statistics.executed, Array(1...10))
        let html = try readText(first.indexPath)
        XCTAssertTrue(html.contains("pruned by magnitude"), "summary text")
        XCTAssertTrue(html.contains("Units of 0.weight"))
        for f in ["fig-w", "fig-r", "fig-s", "fig-a", "fig-h", "fig-u"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: (first.runDirectory as NSString).appendingPathComponent("figures/\(f).png")), f)
        }
        // 50 % of the remaining weights per round, per layer: 25 088 → 12 544 → 6272 and 320 → 160 → 80.
        let cards = first.manifest.metrics
        let kept = try XCTUnwrap(cards.first { $0.name == "mag.kept" })
        XCTAssertEqual(kept.value, Double(6272 + 80) / Double(25_088 + 320), accuracy: 1e-12)
        // A new cell after a cached run: the pruned model comes back from its checkpoint with its masks.
        let extra = """

        ```glassbox
        step: evaluate
        model: mag
        ```
        """
        let second = try run(recipe(extra: extra))
        XCTAssertEqual(second.statistics.executed, [11])
        XCTAssertEqual(second.statistics.restored, Array(1...10))
        let mag = try XCTUnwrap(cards.first { $0.name == "mag.accuracy" })
        XCTAssertTrue(try readText(second.indexPath).contains(String(format: "accuracy %.2f %%", mag.value * 100)))
    }

    func testPruneCompareTabulatesTheSplits() throws {
        let extra = """

        ```glassbox
        #| output: false
        step: prune
        model: mlp
        name: pix
        method: regions
        granularity: inputs
        retrain-epochs: 0
        ```

        ```glassbox
        #| label: tbl-cmp
        step: prune-compare
        results: [mag, reg, pix]
        ```
        """
        let summary = try run(recipe(extra: extra))
        let html = try readText(summary.indexPath)
        XCTAssertTrue(html.contains("Units by region step"), "compare table")
        XCTAssertTrue(html.contains("magnitude granularity"), "a setting that differs between results is a column")
        XCTAssertTrue(html.contains("region pruning removed more than 90 %"), "the region-step split in the prune text")
        // `#| output: false`: the pix cell ran (its row is in the table, its metrics in run.json) but shows nothing itself.
        XCTAssertFalse(html.contains("Model 'pix'"), "hidden cell output")
        XCTAssertTrue(html.contains(">pix<"), "pix row of the compare table")
        XCTAssertEqual(summary.manifest.tables.map(\.label).filter { $0 == "tbl-pix" }, [], "hidden tables are not numbered")
        // The per-pixel reading keeps at most 392 of 784 pixels per unit (the second layer's 320 weights are untouched).
        let kept = try XCTUnwrap(summary.manifest.metrics.first { $0.name == "pix.kept" })
        XCTAssertLessThanOrEqual(kept.value, Double(32 * 392 + 320) / Double(25_088 + 320) + 1e-12)
        XCTAssertThrowsError(try run(recipe(extra: extra.replacingOccurrences(of: "granularity: inputs", with: "granularity: pixels")))) { e in
            XCTAssertTrue("\(e)".contains("'granularity': expected one of weights, units, inputs"), "\(e)")
        }
    }

    func testBadArgumentsNameTheCellLine() throws {
        XCTAssertThrowsError(try run(recipe(pruneArgs: "scope: layer"))) { e in
            XCTAssertTrue("\(e)".contains("amount"), "\(e)")
        }
        XCTAssertThrowsError(try run(recipe(pruneArgs: "amount: 2"))) { e in
            XCTAssertTrue("\(e)".contains("prune.md:26: cell 3 'amount': expected a fraction in [0, 1]"), "\(e)")
        }
    }
}
