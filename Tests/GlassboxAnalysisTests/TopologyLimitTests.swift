import Foundation
import GlassboxCore
import XCTest
@testable import GlassboxAnalysis

/// Point files whose headers lie about their size, non-finite values, and the persistent-homology budget (issue 12).
final class TopologyLimitTests: XCTestCase {
    func npy(shape: String, payload: Int) -> Data {
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': \(shape), }"
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        var bytes: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0]
        bytes += [UInt8(header.utf8.count & 0xff), UInt8(header.utf8.count >> 8)]
        return Data(bytes + Array(header.utf8) + [UInt8](repeating: 0, count: payload))
    }

    /// The reproducers: (1, 2⁶²) used to write out of bounds; (2⁶² + 1, 4) on 16 bytes used to read as one point.
    func testNPYShapesThatOverflowAreErrors() {
        for shape in ["(1, 4611686018427387904)", "(4611686018427387905, 4)", "(9223372036854775807, 9223372036854775807)"] {
            XCTAssertThrowsError(try PointFormats.parse(npy(shape: shape, payload: 16), source: "p.npy")) { e in
                let dims = shape.dropFirst().dropLast().replacingOccurrences(of: ", ", with: " × ")
                XCTAssertEqual("\(e)", "p.npy: shape: expected at most 2147483648 elements, found \(dims)")
            }
        }
        XCTAssertEqual(try PointFormats.parse(npy(shape: "(1, 4)", payload: 16), source: "p.npy").count, 1)
        XCTAssertThrowsError(try PointFormats.parse(npy(shape: "(2, 4)", payload: 16), source: "p.npy")) { e in
            XCTAssertTrue("\(e)".contains("expected 32 bytes"), "\(e)")
        }
    }

    func testNonFiniteValuesNameTheFile() {
        XCTAssertThrowsError(try PointFormats.parse(Data("1,2\n3,nan\n".utf8), source: "pts.csv")) { e in
            XCTAssertEqual("\(e)", "pts.csv: line 2: expected finite numbers, found nan in column 2")
        }
        XCTAssertThrowsError(try PointFormats.parse(Data("x,y\n1,inf\n".utf8), source: "pts.csv")) { e in
            XCTAssertEqual("\(e)", "pts.csv: line 2: expected finite numbers, found inf in column 2")
        }
        var bad = npy(shape: "(1, 2)", payload: 0)
        bad.append(contentsOf: [0, 0, 0x80, 0x3F, 0, 0, 0xC0, 0x7F])   // 1.0, NaN
        XCTAssertThrowsError(try PointFormats.parse(bad, source: "p.npy")) { e in
            XCTAssertEqual("\(e)", "p.npy: data: expected finite values, found nan at row 0, column 1")
        }
    }

    /// Finite coordinates whose distance overflows: refused (the csv fuzz target found the infinite threshold).
    func testInfiniteDistancesAreRefused() {
        XCTAssertThrowsError(try VietorisRips.barcodes(points: [0, 0, 1e200, 0, 0, -1e200], dimension: 2, maxDimension: 1)) { e in
            XCTAssertEqual("\(e)", "points: expected coordinates whose distances are finite numbers, found an infinite distance between rows 0 and 1")
        }
        var many = [Double](repeating: 0, count: 200)
        many[199] = -8.6e287
        XCTAssertThrowsError(try VietorisRips.barcodes(points: many, dimension: 2, maxDimension: 1))
    }

    /// 700 points with maxdim 2 could build C(700, 4) ≈ 9.9·10⁹ tetrahedra (the issue measured 1.7 GB): refused
    /// before the distance matrix is allocated; the limit can be raised.
    func testPersistentHomologyBudget() throws {
        XCTAssertThrowsError(try VietorisRips.checkBudget(points: 700, maxDimension: 2)) { e in
            XCTAssertEqual("\(e)", "persistent homology of 700 points up to dimension 2: expected at most 2000000000 simplices "
                           + "(raise the limit with GLASSBOX_MAX_SIMPLICES=N), found 9918641075 simplices")
        }
        XCTAssertNoThrow(try VietorisRips.checkBudget(points: 700, maxDimension: 1))
        XCTAssertNoThrow(try VietorisRips.checkBudget(points: 2000, maxDimension: 1))
        XCTAssertThrowsError(try VietorisRips.checkBudget(points: 20_000, maxDimension: 0)) { e in
            XCTAssertTrue("\(e)".contains("GLASSBOX_MAX_PH_POINTS"), "\(e)")
        }
        let start = Date()
        XCTAssertThrowsError(try VietorisRips.barcodes(points: [Double](repeating: 0.5, count: 700 * 3), dimension: 3, maxDimension: 2))
        XCTAssertLessThan(Date().timeIntervalSince(start), 0.5)
        setenv("GLASSBOX_MAX_SIMPLICES", "100", 1)
        defer { unsetenv("GLASSBOX_MAX_SIMPLICES") }
        XCTAssertNoThrow(try VietorisRips.checkBudget(points: 9, maxDimension: 1))        // C(9, 3) = 84
        XCTAssertThrowsError(try VietorisRips.checkBudget(points: 10, maxDimension: 1))   // C(10, 3) = 120
    }
}
