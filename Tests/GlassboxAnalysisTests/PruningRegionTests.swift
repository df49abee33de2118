import GlassboxAnalysis
import GlassboxCore
import XCTest

final class PruningRegionTests: XCTestCase {
    /// Hand-drawn mask where pieces touch only at corners.
    let diagonal: [Float] = [
        1, 1, 0, 0, 1,
        1, 0, 0, 1, 0,
        0, 0, 1, 0, 0,
        0, 1, 0, 0, 1,
        0, 1, 0, 1, 1,
    ]

    func testFourVersusEightConnectivityOnCornerContacts() throws {
        let four = try ConnectedComponents.label(mask: diagonal, height: 5, width: 5, connectivity: .four)
        XCTAssertEqual(four.count, 6)
        XCTAssertEqual(four.labels, [
            1, 1, 0, 0, 2,
            1, 0, 0, 3, 0,
            0, 0, 4, 0, 0,
            0, 5, 0, 0, 6,
            0, 5, 0, 6, 6,
        ])
        let eight = try ConnectedComponents.label(mask: diagonal, height: 5, width: 5, connectivity: .eight)
        XCTAssertEqual(eight.count, 3)
        XCTAssertEqual(eight.labels, [
            1, 1, 0, 0, 2,
            1, 0, 0, 2, 0,
            0, 0, 2, 0, 0,
            0, 2, 0, 0, 3,
            0, 2, 0, 3, 3,
        ])
    }

    /// Prongs that only join on the last row exercise the union-find merges (and label renumbering).
    func testLateMergesGiveOneComponent() throws {
        let comb: [Float] = [
            1, 0, 1, 0, 1, 0, 1,
            1, 0, 1, 0, 1, 0, 1,
            1, 1, 1, 1, 1, 1, 1,
            0, 0, 0, 0, 0, 0, 0,
            1, 0, 1, 0, 1, 1, 1,
        ]
        let cc = try ConnectedComponents.label(mask: comb, height: 5, width: 7, connectivity: .four)
        XCTAssertEqual(cc.count, 4)
        XCTAssertEqual(Array(cc.labels[0..<21]), comb[0..<21].map { $0 == 0 ? 0 : 1 })
        XCTAssertEqual(Array(cc.labels[28..<35]), [2, 0, 3, 0, 4, 4, 4])
        // A right-to-left staircase joins only through north-east corners.
        let stairs: [Float] = [0, 0, 1, 0, 1, 0, 1, 0, 0]
        XCTAssertEqual(try ConnectedComponents.label(mask: stairs, height: 3, width: 3, connectivity: .eight).count, 1)
        XCTAssertEqual(try ConnectedComponents.label(mask: stairs, height: 3, width: 3, connectivity: .four).count, 3)
        XCTAssertEqual(try ConnectedComponents.label(mask: [0, 0, 0, 0], height: 2, width: 2, connectivity: .four).count, 0)
        XCTAssertThrowsError(try ConnectedComponents.label(mask: [1, 0, 1], height: 2, width: 2, connectivity: .four))
        XCTAssertThrowsError(try Connectivity(6)) { XCTAssertEqual("\($0)", "connectivity: expected 4 or 8, found 6") }
    }

    /// Against a breadth-first flood fill (numbered in the same raster order) on random masks.
    func testMatchesFloodFillOnRandomMasks() throws {
        var g = SeededGenerator(seed: 11)
        for trial in 0..<40 {
            let (h, w) = (28, 28)
            let density = Float(trial % 4 + 3) / 10
            let mask = (0..<(h * w)).map { _ in g.uniform() < density ? Float(1) : 0 }
            for conn in Connectivity.allCases {
                let cc = try ConnectedComponents.label(mask: mask, height: h, width: w, connectivity: conn)
                let ref = floodFill(mask, h, w, conn)
                XCTAssertEqual(cc.count, ref.count, "trial \(trial) \(conn)")
                XCTAssertEqual(cc.labels, ref.labels, "trial \(trial) \(conn)")
            }
        }
    }

    func floodFill(_ m: [Float], _ h: Int, _ w: Int, _ c: Connectivity) -> (count: Int, labels: [Int32]) {
        var labels = [Int32](repeating: 0, count: h * w)
        var next: Int32 = 0
        let steps = c == .four ? [(0, 1), (1, 0), (0, -1), (-1, 0)]
            : [(0, 1), (1, 0), (0, -1), (-1, 0), (1, 1), (1, -1), (-1, 1), (-1, -1)]
        for start in 0..<(h * w) where m[start] != 0 && labels[start] == 0 {
            next += 1
            labels[start] = next
            var queue = [start], head = 0
            while head < queue.count {
                let p = queue[head]; head += 1
                for (dy, dx) in steps {
                    let y = p / w + dy, x = p % w + dx
                    guard y >= 0, y < h, x >= 0, x < w else { continue }
                    let q = y * w + x
                    if m[q] != 0 && labels[q] == 0 { labels[q] = next; queue.append(q) }
                }
            }
        }
        return (Int(next), labels)
    }

    // Two units of 3×3 weights. Unit 0: regions {0.9, 0.8} (mean 0.85), {0.3}, {−0.35}; unit 1: {0.2, −0.2}
    // (mean 0.2), {0.25, 0.25}.
    let weight: [Float] = [
        0.9, 0.8, 0, 0, 0, 0, 0.3, 0, -0.35,
        0.2, 0, 0.25, -0.2, 0, 0.25, 0, 0, 0,
    ]
    let mask: [Float] = [
        1, 1, 0, 0, 0, 0, 1, 0, 1,
        1, 0, 1, 1, 0, 1, 0, 0, 0,
    ]

    func testRegionScoresAreMeanAbsoluteWeight() throws {
        let (regions, maps) = try RegionPruning.regions(weight: weight, mask: mask, units: 2, height: 3, width: 3, connectivity: .four)
        XCTAssertEqual(maps.map(\.count), [3, 2])
        XCTAssertEqual(regions.map(\.unit), [0, 0, 0, 1, 1])
        XCTAssertEqual(regions.map(\.label), [1, 2, 3, 1, 2])
        XCTAssertEqual(regions.map(\.size), [2, 1, 1, 2, 2])
        for (r, want) in zip(regions, [0.85, 0.3, 0.35, 0.2, 0.25]) { XCTAssertEqual(r.score, want, accuracy: 1e-7) }
    }

    func testLowestFortyPercentGlobalVersusPerUnit() throws {
        let (regions, _) = try RegionPruning.regions(weight: weight, mask: mask, units: 2, height: 3, width: 3, connectivity: .four)
        // 40 % of 5 regions = 2: globally both of unit 1; per unit round(1.2) = 1 and round(0.8) = 1.
        XCTAssertEqual(try RegionPruning.select(regions, fraction: 0.4, ranking: .global), [3, 4])
        XCTAssertEqual(try RegionPruning.select(regions, fraction: 0.4, ranking: .unit), [1, 3])
        let (newMask, record) = try RegionPruning.prunePass(weight: weight, mask: mask, units: 2, height: 3, width: 3, connectivity: .four,
                                                            fraction: 0.4, ranking: .global, pass: 1)
        XCTAssertEqual(Array(newMask[0..<9]), Array(mask[0..<9]))
        XCTAssertEqual(Array(newMask[9..<18]), [Float](repeating: 0, count: 9))
        XCTAssertEqual(record.regions, 5)
        XCTAssertEqual(record.regionsPruned, 2)
        XCTAssertEqual(record.weightsPruned, 4)
        XCTAssertEqual(record.scoreThreshold!, 0.25, accuracy: 1e-7)
        // Equal scores: the smaller unit, then the smaller label goes first.
        let tied = [WeightRegion(unit: 1, label: 1, size: 1, score: 0.5), WeightRegion(unit: 0, label: 2, size: 1, score: 0.5),
                    WeightRegion(unit: 0, label: 1, size: 1, score: 0.5)]
        XCTAssertEqual(try RegionPruning.select(tied, fraction: 0.34, ranking: .global), [2])
        XCTAssertEqual(try RegionPruning.select(tied, fraction: 0.67, ranking: .global), [1, 2])
        XCTAssertThrowsError(try RegionPruning.select(tied, fraction: 1.2, ranking: .global)) { e in
            XCTAssertTrue("\(e)".hasPrefix("region fraction: expected"), "\(e)")
        }
    }
}
