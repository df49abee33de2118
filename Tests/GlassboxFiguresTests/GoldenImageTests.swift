import Foundation
import GlassboxCore
import XCTest
@testable import GlassboxFigures

/// Renders each fixture to PNG, decodes it and compares pixels with a committed golden PNG.
/// Set GLASSBOX_UPDATE_GOLDEN=1 to (re)write the goldens, then look at them before committing.
final class GoldenImageTests: XCTestCase {
    static let goldenDir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")
    /// A pixel differs when a channel is off by more than this (antialiasing drift between cairo/pixman builds).
    static let channelTolerance = 40
    /// Share of pixels allowed to differ.
    static let maxDifferingShare = 0.005

    func checkGolden(_ name: String, _ figure: Figure, file: StaticString = #filePath, line: UInt = #line) throws {
        let png = try figure.render(to: .png, size: Fixtures.size)
        let path = Self.goldenDir.appendingPathComponent("\(name).png").path
        if ProcessInfo.processInfo.environment["GLASSBOX_UPDATE_GOLDEN"] == "1" {
            try Files.writeAtomically(png, to: path)
            return
        }
        guard FileManager.default.fileExists(atPath: path) else {
            XCTFail("missing golden \(path); run with GLASSBOX_UPDATE_GOLDEN=1 and inspect it", file: file, line: line)
            return
        }
        let expected = try RasterImage(png: try Files.read(path))
        let actual = try RasterImage(png: png)
        let diff = actual.difference(from: expected, tolerance: Self.channelTolerance)
        XCTAssertTrue(diff.sizesMatch, "\(name): size \(actual.width)×\(actual.height) vs golden \(expected.width)×\(expected.height)", file: file, line: line)
        XCTAssertLessThanOrEqual(diff.differingShare, Self.maxDifferingShare,
                                 "\(name): \(diff.differingPixels) of \(diff.totalPixels) pixels differ (max channel Δ \(diff.maxChannelDelta))",
                                 file: file, line: line)
    }

    func testFilterGrid() throws { try checkGolden("filter_grid", Fixtures.filterGrid) }
    func testWeightImages() throws { try checkGolden("weight_images", Fixtures.weightImages) }
    func testImageGrid() throws { try checkGolden("image_grid", Fixtures.imageGrid) }
    func testBarChart() throws { try checkGolden("bar_chart", Fixtures.barChart) }
    func testHeatMapConfusion() throws { try checkGolden("heat_map_confusion", Fixtures.confusion) }
    func testHeatMapDelta() throws { try checkGolden("heat_map_delta", Fixtures.deltaAccuracy) }
    func testLinePlot() throws { try checkGolden("line_plot", Fixtures.linePlot) }
    func testHistogram() throws { try checkGolden("histogram", Fixtures.histogram) }

    /// The comparison itself must notice a real change: a different figure fails against a golden.
    func testGoldenComparisonDetectsChange() throws {
        let a = try RasterImage(png: Fixtures.barChart.render(to: .png, size: Fixtures.size))
        let b = try RasterImage(png: Fixtures.histogram.render(to: .png, size: Fixtures.size))
        XCTAssertGreaterThan(a.difference(from: b, tolerance: Self.channelTolerance).differingShare, Self.maxDifferingShare)
        XCTAssertEqual(a.difference(from: a, tolerance: 0).differingPixels, 0)
    }
}
