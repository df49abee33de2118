import Foundation
import XCTest
@testable import GlassboxCore
@testable import GlassboxFigures

/// Error bars on line plots: checked counts, drawn (the picture changes), absent from the JSON when unused.
final class ErrorBarTests: XCTestCase {
    func testErrorBars() throws {
        let plain = LinePlot(series: [LineSeries(name: "a", x: [1, 2], y: [0.5, 0.7])])
        let bars = LinePlot(series: [LineSeries(name: "a", x: [1, 2], y: [0.5, 0.7], errors: [0.1, .nan])])
        XCTAssertThrowsError(try LinePlot(series: [LineSeries(name: "a", x: [1, 2], y: [0.5, 0.7], errors: [0.1])]).validate())
        XCTAssertEqual(bars.series[0].errorEnds.count, 2)
        XCTAssertEqual(bars.series[0].errorEnds[0].low, 0.4, accuracy: 1e-12)
        XCTAssertTrue(bars.series[0].errorEnds[1].low.isNaN, "NaN: no bar")
        let size = FigureSize.screen(width: 300, height: 200)
        XCTAssertNotEqual(try Figure.linePlot(plain).render(to: .png, size: size), try Figure.linePlot(bars).render(to: .png, size: size))
        let json = String(decoding: try JSONEncoder().encode(Figure.linePlot(plain)), as: UTF8.self)
        XCTAssertFalse(json.contains("errors"), "figures without error bars keep their JSON")
        let back = try JSONDecoder().decode(Figure.self, from: try JSONEncoder().encode(Figure.linePlot(
            LinePlot(series: [LineSeries(name: "a", x: [1, 2], y: [0.5, 0.7], errors: [0.1, 0.2])]))))
        guard case let .linePlot(p) = back else { return XCTFail() }
        XCTAssertEqual(p.series[0].errors, [0.1, 0.2])
    }
}
