import XCTest
@testable import GlassboxFigures

final class TickTests: XCTestCase {
    func testUnitRange() {
        let t = Ticks.linear(0, 1, maxCount: 6)
        XCTAssertEqual(t.values, [0, 0.2, 0.4, 0.6, 0.8, 1.0])   // exact decimal doubles, no 0.6000000000000001
        XCTAssertEqual(t.labels, ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"])
    }

    func testRangeTo97() {
        let t = Ticks.linear(0, 97, maxCount: 6)
        XCTAssertEqual(t.values, [0, 20, 40, 60, 80, 100])
        XCTAssertEqual(t.labels, ["0", "20", "40", "60", "80", "100"])
    }

    func testSmallAndOffsetRanges() {
        XCTAssertEqual(Ticks.linear(0.1, 0.3, maxCount: 6).labels, ["0.10", "0.15", "0.20", "0.25", "0.30"])
        XCTAssertEqual(Ticks.linear(-0.35, 0.35, maxCount: 8).labels, ["-0.4", "-0.2", "0.0", "0.2", "0.4"])
        XCTAssertEqual(Ticks.linear(1, 20, maxCount: 6).values, [0, 5, 10, 15, 20])
        XCTAssertEqual(Ticks.linear(1e-4, 3.2e-4, maxCount: 4).labels, ["0.0001", "0.0002", "0.0003", "0.0004"])
        XCTAssertEqual(Ticks.linear(5, 5, maxCount: 5).values, [4.5, 5.0, 5.5])   // degenerate range widened
        XCTAssertEqual(Ticks.linear(0, 2_500_000, maxCount: 6).labels, ["0", "500000", "1000000", "1500000", "2000000", "2500000"])
        XCTAssertEqual(Ticks.linear(0, 3e7, maxCount: 4).labels, ["0", "1e7", "2e7", "3e7"])
    }

    func testEveryRangeGivesNiceCoveringTicks() {
        // Property over many ranges: ticks cover the data, at most maxCount, evenly spaced with a 1-2-5 step,
        // and every label parses back to its tick value with no more digits than the step needs.
        var lo = -3.7
        while lo < 50 {
            for span in [0.003, 0.07, 0.9, 1, 7.5, 33, 97, 1234.5] {
                let hi = lo + span
                for n in [3, 5, 6, 8, 11] {
                    let t = Ticks.linear(lo, hi, maxCount: n)
                    XCTAssertLessThanOrEqual(t.values.count, n)
                    let step = t.values[1] - t.values[0]
                    // Covers the range (float noise of 1e-9 steps in the input is ignored on purpose).
                    XCTAssertLessThanOrEqual(t.values.first!, lo + step * 1e-9)
                    XCTAssertGreaterThanOrEqual(t.values.last!, hi - step * 1e-9)
                    let mant = step / pow(10, floor(log10(step)))
                    XCTAssertTrue([1, 2, 5, 10].contains { abs(mant - Double($0)) < 1e-6 }, "step \(step)")
                    for (v, l) in zip(t.values, t.labels) {
                        XCTAssertEqual(Double(l)!, v, accuracy: step * 1e-9, "\(l) vs \(v)")
                        XCTAssertFalse(l.contains("00000"), "noisy label \(l)")
                    }
                }
            }
            lo += 4.3
        }
    }

    func testLogTicks() {
        let t = Ticks.log(0.02, 3)
        XCTAssertEqual(t.values, [0.01, 0.1, 1, 10])
        XCTAssertEqual(t.labels, ["0.01", "0.1", "1", "10"])
        XCTAssertEqual(Ticks.log(1e-8, 1e-6).labels, ["10⁻⁸", "10⁻⁷", "10⁻⁶"])
        XCTAssertEqual(Ticks.log(1, 1e12, maxCount: 5).values.count, 5)   // every 3rd decade
    }

    func testCompactLabels() {
        XCTAssertEqual(Ticks.compact(0.1 + 0.2), "0.3")
        XCTAssertEqual(Ticks.compact(1234.5678), "1235")
        XCTAssertEqual(Ticks.compact(0.5321), "0.532")
        XCTAssertEqual(Ticks.compact(1.5e6), "1.5e6")
        XCTAssertEqual(Ticks.compact(-0.00001234), "-1.23e-5")
        XCTAssertEqual(Ticks.format(-0.0001, decimals: 2), "0.00")
    }
}
