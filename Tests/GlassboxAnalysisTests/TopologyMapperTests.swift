import Foundation
import GlassboxCore
import XCTest
@testable import GlassboxAnalysis

final class TopologyPointCloudTests: XCTestCase {
    func testNormalisationDropsConstantFilters() throws {
        let cloud = try PointCloud(values: [1, 2, 3, 5, 5, 5, 0, 0, 2], dimension: 3)
        let r = PointCloudTools.normaliseFilters(cloud)
        XCTAssertEqual(r.kept, [0, 2])
        XCTAssertEqual(r.droppedCount, 1)
        let s = 1 / 2.0.squareRoot()
        for (a, b) in zip(r.points.values.prefix(3), [-s, 0, s]) { XCTAssertEqual(a, b, accuracy: 1e-15) }
        for (a, b) in zip(r.points.values.suffix(3), [-1 / 6.0.squareRoot(), -1 / 6.0.squareRoot(), 2 / 6.0.squareRoot()]) {
            XCTAssertEqual(a, b, accuracy: 1e-15)
        }
    }

    func testKthNeighbourAndDensityFilterOnALine() throws {
        let line = try PointCloud(values: [0, 1, 3, 7], dimension: 1)
        XCTAssertEqual(try PointCloudTools.kthNeighbourDistances(line, k: 1), [1, 1, 2, 4])
        XCTAssertEqual(try PointCloudTools.kthNeighbourDistances(line, k: 2), [3, 2, 3, 6])
        let f = try PointCloudTools.densityFilter(line, k: 1, fraction: 0.5)
        XCTAssertEqual(f.kept, [0, 1])
        XCTAssertEqual(f.cutoff, 1)
        XCTAssertThrowsError(try PointCloudTools.kthNeighbourDistances(line, k: 4))
        XCTAssertThrowsError(try PointCloudTools.densityFilter(line, k: 1, fraction: 0))
    }

    func testKthNeighbourMatchesBruteForceWithDuplicates() throws {
        var rng = SeededGenerator(seed: 3)
        var v = (0..<(300 * 9)).map { _ in Double.random(in: -1...1, using: &rng) }
        v.replaceSubrange(9..<18, with: v[0..<9])   // row 1 duplicates row 0
        let cloud = try PointCloud(values: v, dimension: 9)
        let dist = euclideanDistances(v, dimension: 9)
        for k in [1, 5, 40] {
            let fast = try PointCloudTools.kthNeighbourDistances(cloud, k: k)
            for i in 0..<300 {
                var row = (0..<300).filter { $0 != i }.map { dist[i * 300 + $0] }
                row.sort()
                XCTAssertEqual(fast[i], row[k - 1], accuracy: 1e-12)
            }
            if k == 1 { XCTAssertEqual(fast[0], 0); XCTAssertEqual(fast[1], 0) }
        }
    }

    func testPCAFindsTheAxesOfARotatedCross() throws {
        // (±3, 0, 0), (0, ±1, 0) rotated by 30° about z and shifted: variances 6 and 2/3, third 0.
        let c = cos(Double.pi / 6), s = sin(Double.pi / 6)
        let raw: [[Double]] = [[3, 0, 0], [-3, 0, 0], [0, 1, 0], [0, -1, 0]]
        var pts: [Double] = []
        for p in raw {
            let x: Double = c * p[0] - s * p[1] + 5
            let y: Double = s * p[0] + c * p[1] - 2
            pts += [x, y, p[2] + 1]
        }
        let r = try PointCloudTools.pca(try PointCloud(values: pts, dimension: 3), components: 2)
        XCTAssertEqual(r.variances[0], 6, accuracy: 1e-12)
        XCTAssertEqual(r.variances[1], 2.0 / 3, accuracy: 1e-12)
        for (a, b) in zip(r.components[0], [c, s, 0]) { XCTAssertEqual(a, b, accuracy: 1e-12) }
        for (a, b) in zip(r.components[1], [-s, c, 0]) { XCTAssertEqual(abs(a), abs(b), accuracy: 1e-12) }
        XCTAssertEqual(r.projections[0], 3, accuracy: 1e-12)
        XCTAssertEqual(r.projections[2], -3, accuracy: 1e-12)
        XCTAssertEqual(r.mean, [5, -2, 1])
        XCTAssertThrowsError(try PointCloudTools.pca(try PointCloud(values: pts, dimension: 3), components: 4))
    }
}

final class TopologyMapperTests: XCTestCase {
    func testCircleFiltersGiveASingleCycle() throws {
        let cloud = try PointCloud(values: circleFilters(600), dimension: 9)
        for medianGap in [MapperParameters.defaultMedianGap, 0] {
            let g = try Mapper.graph(cloud, parameters: MapperParameters(lens: .pca([1]), intervals: 10, overlap: 0.3,
                                                                          medianGap: medianGap))
            // 2 end intervals hold one arc each, the 8 inner ones two arcs: V = 18, a single cycle.
            XCTAssertEqual(g.nodes.count, 18)
            XCTAssertEqual(g.edges.count, 18)
            XCTAssertEqual(g.componentCount, 1)
            XCTAssertEqual(g.cycleRank, 1)
            XCTAssertEqual(g.uncovered, [])
            // Every node has degree 2.
            var degree = [Int](repeating: 0, count: g.nodes.count)
            for e in g.edges { degree[e.source] += 1; degree[e.target] += 1 }
            XCTAssertEqual(Set(degree), [2])
            let data = try JSONEncoder().encode(g)
            XCTAssertEqual(try JSONDecoder().decode(MapperGraph.self, from: data), g)
        }
    }

    /// 60 evenly spaced circle filters through the report's pipeline and default cover (PCA1 × PCA2, 6 intervals for
    /// 60 points, overlap 2/3, variance-normalised single linkage), all points kept: one component, one loop.
    /// Before the variance-normalisation fix the centre pixel (0 up to rounding, standard deviation ~1e-17) was scaled
    /// by ~1e17 and the graph fell apart (2 components here, 18 with 10 intervals and overlap 0.3).
    func testSixtyCircleFiltersWithTheReportCoverGiveOneLoop() throws {
        let cloud = try PointCloud(values: circleFilters(60), dimension: 9)
        let r = try FilterTopology.analyse(cloud, settings: FilterTopologySettings(k: 3, fraction: 1))
        XCTAssertEqual(r.intervals, 6)
        XCTAssertEqual(r.filtered.count, 60)
        XCTAssertEqual(r.mapper.componentCount, 1)
        XCTAssertEqual(r.cliqueLoopCount, 1)
        XCTAssertEqual(r.mapper.uncovered, [])
        // The same with the plain first-gap rule: evenly spaced arcs have equal merge heights, nothing to cut.
        for medianGap in [MapperParameters.defaultMedianGap, 0] {
            for intervals in [6, 8] {
                let g = try Mapper.graph(r.filtered, parameters: MapperParameters(lens: .pca([1, 2]), intervals: intervals, overlap: 2.0 / 3,
                                                                                  metric: .varianceNormalised, medianGap: medianGap))
                XCTAssertEqual(g.componentCount, 1, "\(intervals) intervals, median gap \(medianGap)")
                XCTAssertEqual(try FilterTopology.cliqueLoops(g), 1, "\(intervals) intervals, median gap \(medianGap)")
            }
        }
    }

    /// The orientation loop: the full circle of edge filters has a cycle whose nodes turn once through θ; half the
    /// circle (θ in [0, π), edges of one sign) is a path; non-square filters have no orientation.
    func testOrientationLoopOnFullAndHalfCircles() throws {
        let full = try FilterTopology.analyse(try PointCloud(values: circleFilters(60), dimension: 9),
                                              settings: FilterTopologySettings(k: 3, fraction: 1))
        XCTAssertEqual(full.orientationLoop, true)
        let half = try PointCloud(values: Array(circleFilters(120).prefix(60 * 9)), dimension: 9)
        let g = try Mapper.graph(half, parameters: MapperParameters(lens: .pca([1, 2]), intervals: 6, overlap: 2.0 / 3,
                                                                     metric: .varianceNormalised))
        XCTAssertEqual(g.componentCount, 1)
        XCTAssertEqual(FilterTopology.orientationLoop(g), false)
        // A triangle of nodes at θ = 0, 2π/3, 4π/3: each edge turns by 2π/3, the cycle by 2π. The same filters
        // scaled to length 0.3 are not edge-like (projection < 0.5) and do not count.
        func triangle(_ length: Double) -> MapperGraph {
            let nodes = (0..<3).map { i -> MapperNode in
                let t = 2 * Double.pi * Double(i) / 3
                let f = topologyNormalise(topologyGrid.map { cos(t) * $0.x + sin(t) * $0.y }).map { $0 * length }
                return MapperNode(id: i, coverElement: [i], members: [i], mean: f, lensMean: [0])
            }
            let edges = [(0, 1), (1, 2), (0, 2)].map { MapperEdge(source: $0.0, target: $0.1, overlap: 1) }
            return MapperGraph(parameters: MapperParameters(), nodes: nodes, edges: edges, uncovered: [], lensRanges: [[0, 0]],
                               intervals: [[[0, 0]]])
        }
        XCTAssertEqual(FilterTopology.orientationLoop(triangle(1)), true)
        XCTAssertEqual(FilterTopology.orientationLoop(triangle(0.3)), false)
        let nonSquare = try Mapper.graph(try PointCloud(values: [0, 1, 2, 3, 4, 5], dimension: 3),
                                         parameters: MapperParameters(lens: .columns([0]), intervals: 1, overlap: 0))
        XCTAssertNil(FilterTopology.orientationLoop(nonSquare))
    }

    /// Variance normalisation gives weight 0 to a coordinate that is constant up to rounding: the graph is the same
    /// as with that coordinate exactly constant.
    func testVarianceNormalisationIgnoresRoundingNoise() throws {
        var v = circleFilters(60)
        let noisy = try PointCloud(values: v, dimension: 9)
        XCTAssertTrue((0..<60).contains { v[$0 * 9 + 4] != 0 })   // the centre pixel carries rounding noise
        for i in 0..<60 { v[i * 9 + 4] = 0 }
        let exact = try PointCloud(values: v, dimension: 9)
        let p = MapperParameters(lens: .pca([1, 2]), intervals: 10, overlap: 0.3, metric: .varianceNormalised)
        let a = try Mapper.graph(noisy, parameters: p), b = try Mapper.graph(exact, parameters: p)
        XCTAssertEqual(a.nodes.map(\.members), b.nodes.map(\.members))
        XCTAssertEqual(a.edges, b.edges)
    }

    /// Circle filters at random angles with a little noise (σ = 0.05 per pixel before normalising), 150 per sample,
    /// the report's cover: with the
    /// median floor every sample gives one component and one loop; the plain first-gap rule splits arcs at their
    /// largest random spacing and breaks most of them.
    func testRandomlySampledCirclesGiveOneLoop() throws {
        var rng = SeededGenerator(seed: 21)
        var plainSingle = 0
        for sample in 0..<10 {
            var v: [Double] = []
            for _ in 0..<150 {
                let t = Double.random(in: 0..<(2 * .pi), using: &rng)
                v += topologyNormalise(topologyGrid.map { cos(t) * $0.x + sin(t) * $0.y + 0.05 * gaussian(&rng) })
            }
            let cloud = try PointCloud(values: v, dimension: 9)
            let intervals = FilterTopologySettings.scaledIntervals(kept: 150)
            func graph(_ medianGap: Double) throws -> MapperGraph {
                try Mapper.graph(cloud, parameters: MapperParameters(lens: .pca([1, 2]), intervals: intervals, overlap: 2.0 / 3,
                                                                     metric: .varianceNormalised, medianGap: medianGap))
            }
            let g = try graph(MapperParameters.defaultMedianGap)
            XCTAssertEqual(g.componentCount, 1, "sample \(sample)")
            XCTAssertEqual(try FilterTopology.cliqueLoops(g), 1, "sample \(sample)")
            let plain = try graph(0)
            if plain.componentCount == 1, try FilterTopology.cliqueLoops(plain) == 1 { plainSingle += 1 }
        }
        print("random circles: one loop in 10 of 10 samples with the median floor, in \(plainSingle) of 10 without")
        XCTAssertLessThan(plainSingle, 5)
    }

    func testCoverUsesTheGiottoIntervalLength() throws {
        let cloud = try PointCloud(values: [0, 0.2, 0.5, 0.9, 1], dimension: 1)
        let g = try Mapper.graph(cloud, parameters: MapperParameters(lens: .columns([0]), intervals: 2, overlap: 0.5))
        XCTAssertEqual(g.intervals[0][0][0], 0)
        XCTAssertEqual(g.intervals[0][0][1], 2.0 / 3, accuracy: 1e-15)
        XCTAssertEqual(g.intervals[0][1][0], 1.0 / 3, accuracy: 1e-15)
        XCTAssertEqual(g.intervals[0][1][1], 1)
        // 30 intervals with gain 3: length = 1/(30 − 29·2/3) = 1/(32/3) = 3/32.
        let h = try Mapper.graph(cloud, parameters: MapperParameters(lens: .columns([0]), intervals: 30, overlap: 2.0 / 3))
        XCTAssertEqual(h.intervals[0][0][1], 3.0 / 32, accuracy: 1e-12)
    }

    func testMinClusterSizeLeavesPointsUncoveredAndBadInputThrows() throws {
        let cloud = try PointCloud(values: [0, 0.01, 0.02, 5], dimension: 1)
        let g = try Mapper.graph(cloud, parameters: MapperParameters(lens: .columns([0]), intervals: 1, overlap: 0,
                                                                      minClusterSize: 2))
        XCTAssertEqual(g.nodes.map(\.members), [[0, 1, 2]])
        XCTAssertEqual(g.uncovered, [3])
        XCTAssertThrowsError(try Mapper.graph(cloud, parameters: MapperParameters(lens: .columns([1]))))
        XCTAssertThrowsError(try Mapper.graph(cloud, parameters: MapperParameters(lens: .columns([0]), overlap: 1)))
        XCTAssertThrowsError(try MapperLens.parse("pcb1"))
        XCTAssertEqual(try MapperLens.parse("pca1,pca2"), .pca([1, 2]))
    }
}
