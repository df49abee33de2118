import Foundation
import XCTest
@testable import GlassboxCore
@testable import GlassboxReport

/// The statistics of a sweep's aggregate against hand-computed values, the grouping into settings, and the
/// manifest digest that ignores wall-clock time.
final class RunAggregateTests: XCTestCase {
    func manifest(seed: UInt64, lr: String, accuracy: Double, loss: Double?, seconds: Double = 1) -> RunManifest {
        var metrics = [MetricCard(name: "mlp.accuracy", label: "mlp test accuracy", value: accuracy, direction: .higher,
                                  display: String(format: "%.2f %%", accuracy * 100))]
        if let loss { metrics.append(MetricCard(name: "mlp.loss", label: "mlp test loss", value: loss, direction: .lower, display: "\(loss)")) }
        return RunManifest(recipe: "r.md", recipeSHA256: "x", title: "R", runID: "run", parameters: [
            .init(name: "lr", value: lr, defaultValue: "0.1"), .init(name: "epochs", value: "2", defaultValue: "2"),
        ], seed: seed, defaultSeed: 0, toolVersion: "t", blas: "b",
        cells: [.init(index: 1, line: 3, step: "train", label: nil, key: "k", status: "executed", seconds: seconds)],
        metrics: metrics, tables: [], figures: [])
    }

    func testStatisticsByHand() throws {
        // 1, 2, 4: mean 7/3, sample variance ((−4/3)² + (−1/3)² + (5/3)²) / 2 = (16 + 1 + 25) / 18 = 7/3.
        let s = try XCTUnwrap(SummaryStatistics.of([1, 2, 4]))
        XCTAssertEqual(s.n, 3)
        XCTAssertEqual(s.mean, 7.0 / 3, accuracy: 1e-15)
        XCTAssertEqual(s.sd!, (7.0 / 3).squareRoot(), accuracy: 1e-15)
        XCTAssertEqual(s.min, 1)
        XCTAssertEqual(s.max, 4)
        let one = try XCTUnwrap(SummaryStatistics.of([5, .nan]))
        XCTAssertEqual(one.n, 1, "NaN is left out")
        XCTAssertNil(one.sd, "no spread from one value")
        XCTAssertNil(SummaryStatistics.of([.nan]))
    }

    func testSettingsAreTheValuesOfTheParametersThatDiffer() throws {
        let runs = [
            manifest(seed: 0, lr: "0.1", accuracy: 0.80, loss: 0.5), manifest(seed: 1, lr: "0.1", accuracy: 0.90, loss: 0.3),
            manifest(seed: 0, lr: "0.5", accuracy: 0.60, loss: nil), manifest(seed: 1, lr: "0.5", accuracy: 0.70, loss: 0.9),
        ]
        let a = try RunAggregate.run(RunAggregateSettings(), runs: runs)
        XCTAssertEqual(a.swept, ["lr"], "epochs is the same everywhere; the seed is never a setting")
        XCTAssertEqual(a.settings.map(\.label), ["lr = 0.1", "lr = 0.5"])
        XCTAssertEqual(a.settings.map(\.runs), [[0, 1], [2, 3]])
        XCTAssertEqual(a.settings.map(\.seeds), [[0, 1], [0, 1]])
        XCTAssertEqual(a.metrics.map(\.name), ["mlp.accuracy", "mlp.loss"])
        XCTAssertTrue(a.metrics[0].percent)
        let acc = a.metrics[0].statistics
        XCTAssertEqual(acc[0]!.mean, 0.85, accuracy: 1e-15)
        XCTAssertEqual(acc[0]!.sd!, (0.005).squareRoot(), accuracy: 1e-15)
        XCTAssertEqual(acc[1]!.mean, 0.65, accuracy: 1e-15)
        let loss = a.metrics[1].statistics
        XCTAssertEqual(loss[1]!.n, 1, "one run of lr = 0.5 lacks the metric")
        XCTAssertEqual(loss[1]!.mean, 0.9)
        XCTAssertEqual(RunAggregate.format(0.85, percent: true), "85.00 %")

        let all = try RunAggregate.run(RunAggregateSettings(groupBy: []), runs: runs)
        XCTAssertEqual(all.settings.map(\.label), ["all runs"])
        XCTAssertEqual(all.metrics[0].statistics[0]!.n, 4)
        XCTAssertThrowsError(try RunAggregate.run(RunAggregateSettings(groupBy: ["width"]), runs: runs))
        XCTAssertThrowsError(try RunAggregate.run(RunAggregateSettings(metrics: ["mlp.f1"]), runs: runs))
        XCTAssertThrowsError(try RunAggregate.run(RunAggregateSettings(), runs: []))
    }

    func testDigestIgnoresTimingsOnly() {
        let a = manifest(seed: 0, lr: "0.1", accuracy: 0.8, loss: 0.5, seconds: 1)
        var b = manifest(seed: 0, lr: "0.1", accuracy: 0.8, loss: 0.5, seconds: 7)
        b.cells[0].status = "restored"
        XCTAssertEqual(a.contentDigest, b.contentDigest)
        XCTAssertNotEqual(a.contentDigest, manifest(seed: 0, lr: "0.1", accuracy: 0.8000001, loss: 0.5).contentDigest)
    }
}
