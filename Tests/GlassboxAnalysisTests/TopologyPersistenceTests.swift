import Foundation
import GlassboxCore
import XCTest
@testable import GlassboxAnalysis

final class TopologyPersistenceTests: XCTestCase {
    func testCircleFiltersGiveOneLoopWithClosedFormBar() throws {
        let points = circleFilters(60)
        let b = try VietorisRips.barcodes(points: points, dimension: 9, maxDimension: 1)
        let birth = 2 * sin(Double.pi / 60), death = 3.0.squareRoot()
        XCTAssertEqual(b[1].count, 1)
        XCTAssertEqual(b[1][0].birth, birth, accuracy: 1e-5)
        XCTAssertEqual(b[1][0].death, death, accuracy: 1e-5)
        XCTAssertEqual(birth, 0.1046719, accuracy: 1e-7)
        XCTAssertEqual(b[0].count, 60)
        XCTAssertEqual(b[0].filter(\.isInfinite).count, 1)
        for bar in b[0] where !bar.isInfinite {
            XCTAssertEqual(bar.birth, 0)
            XCTAssertEqual(bar.death, birth, accuracy: 1e-5)
        }
        XCTAssertEqual(b.threshold, 2, accuracy: 1e-9)   // enclosing radius: antipodal filters
    }

    func testCircleFiltersH2AreWedgeOfSpheres() throws {
        // Adamaszek–Adams: at √3 the Rips complex of 3m evenly spaced circle points is a wedge of m − 1 two-spheres.
        let b = try VietorisRips.barcodes(points: circleFilters(15), dimension: 9, maxDimension: 2)
        XCTAssertEqual(b[1].count, 1)
        XCTAssertEqual(b[2].count, 4)
        for bar in b[2] { XCTAssertEqual(bar.birth, 3.0.squareRoot(), accuracy: 1e-9) }
    }

    func testHexagonAndSquare() throws {
        let hex = (0..<6).flatMap { i in [cos(Double(i) * .pi / 3), sin(Double(i) * .pi / 3)] }
        let h = try VietorisRips.barcodes(points: hex, dimension: 2, maxDimension: 2)
        XCTAssertEqual(h[1].count, 1)
        XCTAssertEqual(h[1][0].birth, 1, accuracy: 1e-12)
        XCTAssertEqual(h[1][0].death, 3.0.squareRoot(), accuracy: 1e-12)
        let square: [Double] = [0, 0, 1, 0, 1, 1, 0, 1]
        let s = try VietorisRips.barcodes(points: square, dimension: 2, maxDimension: 1)
        XCTAssertEqual(s[1], [PersistenceBar(birth: 1, death: 2.0.squareRoot())])
        XCTAssertEqual(s[0].count, 4)
        XCTAssertEqual(s[0].filter { $0.death == 1 }.count, 3)
    }

    func testExplicitThresholdIsClosedAndLeavesEssentialClasses() throws {
        let square = try PointCloud(values: [0, 0, 1, 0, 1, 1, 0, 1], dimension: 2)
        // Below the diagonal the 4-cycle never fills in: an essential H1 class.
        let cut = try VietorisRips.barcodes(square, maxDimension: 1, threshold: 1.2)
        XCTAssertEqual(cut[1], [PersistenceBar(birth: 1, death: .infinity)])
        // Closed threshold: edges of length exactly 1 are in.
        XCTAssertEqual(try VietorisRips.barcodes(square, maxDimension: 0, threshold: 1)[0].filter(\.isInfinite).count, 1)
        XCTAssertEqual(try VietorisRips.barcodes(square, maxDimension: 0, threshold: 0.5)[0].filter(\.isInfinite).count, 4)
        XCTAssertThrowsError(try VietorisRips.barcodes(square, threshold: .infinity))
        XCTAssertThrowsError(try VietorisRips.barcodes(square, threshold: -1))
    }

    func testKleinBottleFiltersNeedCoefficientsToTellFromTorus() throws {
        let points = kleinFilters(12, 24)
        let z2 = try VietorisRips.barcodes(points: points, dimension: 9, maxDimension: 1, modulus: 2)
        let z3 = try VietorisRips.barcodes(points: points, dimension: 9, maxDimension: 1, modulus: 3)
        // 12 × 24 grid (θ1 ∈ [0, π), θ2 ∈ [0, 2π)): below r ≈ 0.66 small grid loops are still open, above r ≈ 0.89
        // new short-lived loops appear; in between the Klein bottle's homology shows: H1(Z/2) = (Z/2)², H1(Z/3) = Z/3.
        for r in [0.7, 0.75, 0.8, 0.85] {
            XCTAssertEqual(z2.bettiNumber(1, at: r), 2, "Z/2 at r = \(r)")
            XCTAssertEqual(z3.bettiNumber(1, at: r), 1, "Z/3 at r = \(r)")
            XCTAssertEqual(z2.bettiNumber(0, at: r), 1)
        }
    }

    func testRandomCloudsMatchPlainBoundaryReduction() throws {
        var rng = SeededGenerator(seed: 7)
        for (n, d, maxDim, p) in [(30, 3, 2, 2), (36, 9, 2, 3), (60, 3, 1, 2), (50, 9, 1, 5), (32, 3, 2, 5)] {
            let points = (0..<(n * d)).map { _ in Double.random(in: -1...1, using: &rng) }
            let dist = euclideanDistances(points, dimension: d)
            let fast = try VietorisRips.barcodes(distances: dist, maxDimension: maxDim, modulus: p)
            let ref = referenceBarcodes(distances: dist, n: n, maxDimension: maxDim, threshold: fast.threshold, modulus: p)
            for k in 0...maxDim {
                XCTAssertEqual(fast[k].count, ref[k].count, "n=\(n) d=\(d) p=\(p) H\(k)")
                for (a, b) in zip(fast[k], ref[k]) {
                    XCTAssertEqual(a.birth, b.birth, accuracy: 1e-12)
                    XCTAssertEqual(a.death, b.death)
                }
            }
        }
    }

    func testBadInputIsAClearError() {
        XCTAssertThrowsError(try VietorisRips.barcodes(distances: [0, 1, 1], maxDimension: 1))
        XCTAssertThrowsError(try VietorisRips.barcodes(distances: [0, 1, 2, 0], maxDimension: 1))
        XCTAssertThrowsError(try VietorisRips.barcodes(points: [0, 0, 1, 1], dimension: 2, modulus: 4))
        XCTAssertThrowsError(try VietorisRips.barcodes(points: [0, 0, 1, 1], dimension: 2, maxDimension: 3))
        XCTAssertThrowsError(try VietorisRips.barcodes(points: [0, .nan, 1, 1], dimension: 2))
        XCTAssertThrowsError(try VietorisRips.barcodes(points: [0, 0, 1], dimension: 2))
    }

    func testJSONWritesInfiniteDeathAsNull() throws {
        let b = try VietorisRips.barcodes(points: [0, 0, 1, 0, 1, 1, 0, 1], dimension: 2)
        let data = try JSONEncoder().encode(b)
        XCTAssertTrue(String(decoding: data, as: UTF8.self).contains("null"))
        XCTAssertEqual(try JSONDecoder().decode(Barcodes.self, from: data), b)
    }
}
