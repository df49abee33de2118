import Foundation
import GlassboxCore
import XCTest
@testable import GlassboxAnalysis

/// Single linkage inside a cover element: the minimum spanning tree, the cut rule, and the clusters, on small
/// hand-computed cases and against brute force.
final class TopologyClusteringTests: XCTestCase {
    /// Clusters of all points by the first-gap rule (`medianGap` 0: METHODS.md's rule as written).
    func clusters(_ xs: [Double], dimension d: Int = 1, gap: Double = 0.3, medianGap: Double = 0) throws -> [[Int]] {
        let cloud = try PointCloud(values: xs, dimension: d)
        return Mapper.singleLinkage(cloud, rows: Array(0..<cloud.count), scale: Array(repeating: 1, count: d),
                                    relativeGap: gap, medianGap: medianGap)
    }

    /// Points 0, 1, 2, 10, 11 on a line: merge heights 1, 1, 1, 8. The only gap is 8 − 1 = 7 > 0.3 · 8 = 2.4, so the
    /// cut is at 1: {0, 1, 2} and {10, 11}.
    func testTwoGroupsOnALine() throws {
        XCTAssertEqual(try clusters([0, 1, 2, 10, 11]), [[0, 1, 2], [3, 4]])
        // Rows in any order: clusters list rows ascending, ordered by their first row.
        XCTAssertEqual(try clusters([10, 0, 11, 1, 2]), [[0, 2], [1, 3, 4]])
    }

    /// Evenly spaced points: all merge heights equal, no gap, one cluster — however sparse.
    func testEvenlySpacedPointsStayTogether() throws {
        XCTAssertEqual(try clusters([0, 1, 2, 3, 4, 5]), [[0, 1, 2, 3, 4, 5]])
        XCTAssertEqual(try clusters([0, 100, 200]), [[0, 1, 2]])
        // Two points: one merge height, nothing to compare it with: one cluster.
        XCTAssertEqual(try clusters([0, 7]), [[0, 1]])
        XCTAssertEqual(try clusters([3]), [[0]])
    }

    /// 0, 0.1, 5, 5.1, 20: heights 0.1, 0.1, 4.9, 15. Gaps 0, 4.8, 10.1 against 0.3 · 15 = 4.5: the first one above is
    /// 4.8, so the cut is at 0.1 and the three groups separate ({20} alone).
    func testFirstGapNotLargestGap() throws {
        XCTAssertEqual(try clusters([0, 0.1, 5, 5.1, 20]), [[0, 1], [2, 3], [4]])
        // With relative gap 0.7 (threshold 10.5) no gap qualifies: one cluster.
        XCTAssertEqual(try clusters([0, 0.1, 5, 5.1, 20], gap: 0.7), [[0, 1, 2, 3, 4]])
        XCTAssertEqual(Mapper.firstGapCut([0.1, 0.1, 4.9, 15], relativeGap: 0.3), 0.1)
        XCTAssertEqual(Mapper.firstGapCut([0.1, 0.1, 4.9, 15], relativeGap: 0.7), 15)
        XCTAssertEqual(Mapper.firstGapCut([2], relativeGap: 0.3), 2)
    }

    /// The median floor. 0, 1, 2, 3, 4, 6: heights 1, 1, 1, 1, 2. The plain rule cuts the gap 2 − 1 = 1 > 0.3 · 2 and
    /// splits off the last point of what is one unevenly spaced row; with `medianGap` 6 a gap must exceed 6 × the
    /// median height 1, so the row stays whole. A point 8 away (gap 7 > 6) still separates; one 7 away (gap 6, not
    /// larger than 6) does not.
    func testMedianFloorKeepsUnevenRowsTogether() throws {
        XCTAssertEqual(try clusters([0, 1, 2, 3, 4, 6]), [[0, 1, 2, 3, 4], [5]])
        XCTAssertEqual(try clusters([0, 1, 2, 3, 4, 6], medianGap: 6), [[0, 1, 2, 3, 4, 5]])
        XCTAssertEqual(try clusters([0, 1, 2, 3, 4, 12], medianGap: 6), [[0, 1, 2, 3, 4], [5]])
        XCTAssertEqual(try clusters([0, 1, 2, 3, 4, 11], medianGap: 6), [[0, 1, 2, 3, 4, 5]])
        XCTAssertEqual(Mapper.firstGapCut([1, 1, 1, 1, 2], relativeGap: 0.3, minimumGap: 6), 2)
        XCTAssertEqual(Mapper.firstGapCut([1, 1, 1, 1, 8], relativeGap: 0.3, minimumGap: 6), 1)
        // Three points 0, 1, 10: heights 1, 9; the (lower) median is 1, so the gap 8 > 6 splits {0, 1} from {10} …
        XCTAssertEqual(try clusters([0, 1, 10], medianGap: 6), [[0, 1], [2]])
        // … unless the median of all elements is larger: with a pooled median of 2 the floor is 12.
        let cloud = try PointCloud(values: [0, 1, 10], dimension: 1)
        let tree = Mapper.elementTree(cloud, rows: [0, 1, 2], scale: [1])
        XCTAssertEqual(Mapper.cutTree(tree, rows: [0, 1, 2], relativeGap: 0.3, medianGap: 6, pooledMedian: 2), [[0, 1, 2]])
        XCTAssertEqual(Mapper.cutTree(tree, rows: [0, 1, 2], relativeGap: 0.3, medianGap: 6, pooledMedian: 1), [[0, 1], [2]])
    }

    /// A right triangle (3-4-5) and a far point in the plane: MST edges 3, 4 and the distance to the far point.
    func testMinimumSpanningTreeKnownAnswer() throws {
        let pts: [Double] = [0, 0, 3, 0, 0, 4, 30, 40]
        let t = pts.withUnsafeBufferPointer { Mapper.minimumSpanningTree($0.baseAddress!, count: 4, dimension: 2) }
        // 0–1 (squared 9), 0–2 (16); (30, 40) is nearest to (0, 4): 30² + 36² = 2196 (to (3, 0): 2329, to (0, 0): 2500).
        XCTAssertEqual(t.squaredLengths.sorted(), [9, 16, 2196])
        var pairs = Set<[Int32]>()
        for e in 0..<3 { pairs.insert([min(t.a[e], t.b[e]), max(t.a[e], t.b[e])]) }
        XCTAssertEqual(pairs, [[0, 1], [0, 2], [2, 3]])
        XCTAssertEqual(try clusters(pts, dimension: 2), [[0, 1, 2], [3]])
    }

    /// The SIMD Prim against Kruskal on all pairs, for sizes around the 4-wide blocks and several dimensions: same
    /// sorted merge heights, same partition at every cut.
    func testMinimumSpanningTreeMatchesKruskal() throws {
        var rng = SeededGenerator(seed: 11)
        for (m, d) in [(2, 1), (3, 2), (4, 3), (5, 9), (7, 1), (8, 4), (13, 9), (64, 9), (101, 5)] {
            let pts = (0..<(m * d)).map { _ in Double.random(in: -1...1, using: &rng) }
            let t = pts.withUnsafeBufferPointer { Mapper.minimumSpanningTree($0.baseAddress!, count: m, dimension: d) }
            // Kruskal with squared distances summed the same way.
            var pairs: [(Double, Int, Int)] = []
            for i in 0..<m {
                for j in (i + 1)..<m {
                    var s = 0.0
                    for k in 0..<d { let u = pts[j * d + k] - pts[i * d + k]; s = s.addingProduct(u, u) }
                    pairs.append((s, i, j))
                }
            }
            pairs.sort { $0.0 < $1.0 }
            var parent = Array(0..<m)
            func find(_ x: Int) -> Int { var x = x; while parent[x] != x { x = parent[x] }; return x }
            var kruskal: [Double] = []
            for (s, i, j) in pairs where find(i) != find(j) { parent[find(i)] = find(j); kruskal.append(s) }
            XCTAssertEqual(t.squaredLengths.sorted(), kruskal, "m \(m) d \(d)")
            // Tree: m − 1 edges joining everything.
            parent = Array(0..<m)
            for e in 0..<(m - 1) { parent[find(Int(t.a[e]))] = find(Int(t.b[e])) }
            XCTAssertEqual(Set((0..<m).map(find)).count, 1)
        }
    }

    /// Single-linkage clusters at the first-gap cut are the connected parts of the graph of pairs within the cut.
    func testClustersAreThresholdComponents() throws {
        var rng = SeededGenerator(seed: 5)
        for trial in 0..<20 {
            let m = 5 + trial * 3, d = 1 + trial % 4
            // Three blobs of different spreads.
            var xs: [Double] = []
            for i in 0..<m { for _ in 0..<d { xs.append(Double(i % 3) * 4 + Double.random(in: 0...(0.5 + Double(i % 3)), using: &rng)) } }
            let got = try clusters(xs, dimension: d)
            let pts = xs
            let t = pts.withUnsafeBufferPointer { Mapper.minimumSpanningTree($0.baseAddress!, count: m, dimension: d) }
            let cut = Mapper.firstGapCut(t.squaredLengths.map { $0.squareRoot() }.sorted(), relativeGap: 0.3)
            var parent = Array(0..<m)
            func find(_ x: Int) -> Int { var x = x; while parent[x] != x { x = parent[x] }; return x }
            for i in 0..<m {
                for j in (i + 1)..<m {
                    var s = 0.0
                    for k in 0..<d { let u = xs[j * d + k] - xs[i * d + k]; s = s.addingProduct(u, u) }
                    if s.squareRoot() <= cut { parent[find(i)] = find(j) }
                }
            }
            var groups: [Int: [Int]] = [:]
            for i in 0..<m { groups[find(i), default: []].append(i) }
            XCTAssertEqual(got, groups.values.sorted { $0[0] < $1[0] }, "trial \(trial)")
        }
    }

    /// The graph does not depend on the number of threads the elements are clustered on.
    func testGraphIsTheSameOnOneOrTwoThreads() throws {
        var rng = SeededGenerator(seed: 9)
        let n = 3000
        var v: [Double] = []
        for _ in 0..<n {
            let t = Double.random(in: 0..<(2 * .pi), using: &rng)
            v += [cos(t), sin(t)] + (0..<7).map { _ in 0.1 * Double.random(in: -1...1, using: &rng) }
        }
        let cloud = try PointCloud(values: v, dimension: 9)
        let saved = Parallel.threads
        defer { Parallel.threads = saved }
        Parallel.threads = 1
        let one = try Mapper.graph(cloud, parameters: MapperParameters(lens: .pca([1, 2]), intervals: 6, overlap: 0.5))
        Parallel.threads = 2
        let two = try Mapper.graph(cloud, parameters: MapperParameters(lens: .pca([1, 2]), intervals: 6, overlap: 0.5))
        XCTAssertEqual(one, two)
        XCTAssertEqual(one.componentCount, 1)
    }

    /// `jsonData` decodes to the same graph as `JSONEncoder`'s output, and to the same bytes.
    func testJSONWriterMatchesJSONEncoder() throws {
        let cloud = try PointCloud(values: circleFilters(120), dimension: 9)
        let g = try Mapper.graph(cloud, parameters: MapperParameters(lens: .pca([1, 2]), intervals: 5, overlap: 0.4,
                                                                      metric: .varianceNormalised))
        let fast = try g.jsonData()
        XCTAssertEqual(try JSONDecoder().decode(MapperGraph.self, from: fast), g)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let slow = try encoder.encode(g)
        XCTAssertEqual(try JSONSerialization.jsonObject(with: fast) as? NSDictionary,
                       try JSONSerialization.jsonObject(with: slow) as? NSDictionary)
    }
}
