import Foundation
import GlassboxCore

/// Settings of the filter-space pipeline (METHODS.md §3): normalise, density filter ρ(k, p), Rips barcodes, Mapper.
public struct FilterTopologySettings: Codable, Equatable, Sendable {
    /// Density filter k; nil = METHODS.md's k = 200 scaled to the cloud: round(200 · n / 6400), at least 3.
    public var k: Int?
    public var fraction: Double
    /// Mapper intervals per lens dimension; nil = 30 for clouds of ≥ 1500 kept points, else round(√kept / 1.5)
    /// clamped to 6…30 (30 × 30 cubes on a few hundred points leave most cubes with one or two points).
    public var intervals: Int?
    public var overlap: Double
    public var maxDimension: Int
    public var minClusterSize: Int
    /// Largest cloud handed to persistent homology and Mapper: when the density filter keeps more points, that
    /// many max–min landmarks of them (starting at the densest point) are used instead. nil: no limit.
    public var maxPoints: Int?

    public init(k: Int? = nil, fraction: Double = 0.3, intervals: Int? = nil, overlap: Double = 2.0 / 3.0, maxDimension: Int = 1,
                minClusterSize: Int = 1, maxPoints: Int? = nil) {
        self.k = k; self.fraction = fraction; self.intervals = intervals; self.overlap = overlap
        self.maxDimension = maxDimension; self.minClusterSize = minClusterSize; self.maxPoints = maxPoints
    }

    public static func scaledK(count n: Int) -> Int { max(3, Int((200.0 * Double(n) / 6400).rounded())) }
    public static func scaledIntervals(kept: Int) -> Int {
        kept >= 1500 ? 30 : max(6, min(30, Int((Double(kept).squareRoot() / 1.5).rounded())))
    }
}

/// The result of the pipeline on one cloud of filters.
public struct FilterTopologyResult: Codable, Sendable {
    public var settings: FilterTopologySettings
    public var inputCount: Int
    /// Near-constant filters dropped by normalisation.
    public var droppedCount: Int
    public var k: Int
    public var intervals: Int
    /// Points the density filter kept (before any landmark subsampling).
    public var densityKept: Int
    /// Covering radius of the landmarks when `maxPoints` subsampled the kept points (every kept point lies within it
    /// of a landmark); nil when all kept points were used.
    public var landmarkRadius: Double?
    /// The normalised points analysed: those kept by the density filter, or their landmarks (rows of `filtered`).
    public var filtered: PointCloud
    /// δ_k of each kept point.
    public var keptDensity: [Double]
    public var barcodes: Barcodes
    public var mapper: MapperGraph
    /// Lengths of the two longest H1 bars (infinite bars end at the filtration threshold); 0 when absent.
    public var dominantH1: Double
    public var secondH1: Double
    /// dominant / second (∞ when there is one H1 bar, 0 when none).
    public var dominantRatio: Double { secondH1 > 0 ? dominantH1 / secondH1 : (dominantH1 > 0 ? .infinity : 0) }
    /// Independent cycles of the Mapper graph: edges − nodes + components. With a 2-D lens, overlapping cover cubes
    /// give cliques, so this also counts their triangles.
    public var loopCount: Int { mapper.cycleRank }
    /// Rank of H1 of the Mapper graph's clique (flag) complex: cycles that triangles of the graph do not fill.
    public var cliqueLoopCount: Int
    /// Whether the Mapper graph has a cycle of edge-like nodes along which the edge orientation turns once around
    /// (`FilterTopology.orientationLoop`); nil when the filters are not square.
    public var orientationLoop: Bool?
}

public enum FilterTopology {
    /// Runs the pipeline on raw filters (`cloud` rows = flattened k×k filters).
    public static func analyse(_ cloud: PointCloud, settings s: FilterTopologySettings = FilterTopologySettings()) throws -> FilterTopologyResult {
        let norm = PointCloudTools.normaliseFilters(cloud)
        let n = norm.points.count
        guard n >= 4 else {
            throw GlassboxError.invalidArgument(name: "filters", expected: "at least 4 filters that are not constant", found: "\(n)")
        }
        let k = min(s.k ?? FilterTopologySettings.scaledK(count: n), n - 1)
        guard k >= 1 else { throw GlassboxError.invalidArgument(name: "k", expected: "≥ 1", found: "\(k)") }
        let density = try PointCloudTools.densityFilter(norm.points, k: k, fraction: s.fraction)
        var keptRows = density.kept
        guard keptRows.count >= 3 else {
            throw GlassboxError.invalidArgument(name: "density filter", expected: "at least 3 points kept", found: "\(keptRows.count) (p = \(s.fraction))")
        }
        var landmarkRadius: Double?
        if let cap = s.maxPoints, keptRows.count > cap {
            guard cap >= 3 else { throw GlassboxError.invalidArgument(name: "max-points", expected: "≥ 3", found: "\(cap)") }
            let dense = norm.points.subset(keptRows)
            let densest = keptRows.indices.min { (density.kthDistance[keptRows[$0]], $0) < (density.kthDistance[keptRows[$1]], $1) }!
            let l = try PointCloudTools.maxminLandmarks(dense, count: cap, start: densest)
            keptRows = l.indices.sorted().map { keptRows[$0] }
            landmarkRadius = l.coveringRadius
        }
        let filtered = norm.points.subset(keptRows)
        let barcodes = try VietorisRips.barcodes(points: filtered.values, dimension: filtered.dimension, maxDimension: s.maxDimension)
        let intervals = s.intervals ?? FilterTopologySettings.scaledIntervals(kept: filtered.count)
        let params = MapperParameters(lens: .pca([1, 2]), intervals: intervals, overlap: s.overlap, metric: .varianceNormalised,
                                      minClusterSize: s.minClusterSize)
        let graph = try Mapper.graph(filtered, parameters: params)
        let lengths = barcodes[1].map { min($0.death, barcodes.threshold) - $0.birth }.sorted(by: >)
        return FilterTopologyResult(settings: s, inputCount: cloud.count, droppedCount: norm.droppedCount, k: k, intervals: intervals,
                                    densityKept: density.kept.count, landmarkRadius: landmarkRadius,
                                    filtered: filtered, keptDensity: keptRows.map { density.kthDistance[$0] },
                                    barcodes: barcodes, mapper: graph, dominantH1: lengths.first ?? 0,
                                    secondH1: lengths.count > 1 ? lengths[1] : 0, cliqueLoopCount: try cliqueLoops(graph),
                                    orientationLoop: orientationLoop(graph))
    }

    /// The primary circle of Carlsson et al. (2008) in a Mapper graph of k×k filters. Each node's mean filter m is
    /// projected on the plane of the linear gradients X(x, y) = x and Y(x, y) = y (grid x, y ∈ [−1, 1] in k steps,
    /// row-major with y outer, each normalised): a = ⟨m, X⟩, b = ⟨m, Y⟩. Nodes with √(a² + b²) ≥ `minimumEdgeness`
    /// are edge-like, with orientation θ = atan2(b, a) (C(θ) = cos θ·x + sin θ·y has θ itself, its negative θ + π).
    /// True when some cycle of the graph restricted to edge-like nodes turns θ by a non-zero multiple of 2π, each
    /// edge counting the turn of at most π between its ends: a loop that runs through the edge orientations in order.
    /// It says nothing about loops that triangles fill (β1 does); nil when the dimension is not a square.
    public static func orientationLoop(_ g: MapperGraph, minimumEdgeness: Double = 0.5) -> Bool? {
        guard let d = g.nodes.first?.mean.count else { return false }
        let k = Int(Double(d).squareRoot().rounded())
        guard k >= 2, k * k == d else { return nil }
        let steps = (0..<k).map { -1 + 2 * Double($0) / Double(k - 1) }
        var gx = [Double](repeating: 0, count: d), gy = gx
        for r in 0..<k { for c in 0..<k { gx[r * k + c] = steps[c]; gy[r * k + c] = steps[r] } }
        let norm = gx.reduce(0) { $0 + $1 * $1 }.squareRoot()
        var theta = [Double?](repeating: nil, count: g.nodes.count)
        for (i, node) in g.nodes.enumerated() {
            var a = 0.0, b = 0.0
            for t in 0..<d { a += node.mean[t] * gx[t] / norm; b += node.mean[t] * gy[t] / norm }
            if (a * a + b * b).squareRoot() >= minimumEdgeness { theta[i] = atan2(b, a) }
        }
        var adjacent = [[(Int, Double)]](repeating: [], count: g.nodes.count)
        for e in g.edges {
            guard let u = theta[e.source], let v = theta[e.target] else { continue }
            let turn = remainder(v - u, 2 * Double.pi)
            adjacent[e.source].append((e.target, turn)); adjacent[e.target].append((e.source, -turn))
        }
        // Unwrap θ along a spanning forest; an edge that disagrees with the unwrapped values by about 2π closes a loop.
        var unwrapped = [Double?](repeating: nil, count: g.nodes.count)
        for start in 0..<g.nodes.count where theta[start] != nil && unwrapped[start] == nil {
            unwrapped[start] = 0
            var stack = [start]
            while let u = stack.popLast() {
                for (v, turn) in adjacent[u] {
                    if let w = unwrapped[v] {
                        if abs(unwrapped[u]! + turn - w) > Double.pi { return true }
                    } else {
                        unwrapped[v] = unwrapped[u]! + turn
                        stack.append(v)
                    }
                }
            }
        }
        return false
    }

    /// β1 of the clique complex of a Mapper graph: Rips at scale 1 on the graph metric truncated at 2
    /// (edges at distance 1, all other pairs at 2), so every triangle of the graph is filled.
    public static func cliqueLoops(_ g: MapperGraph) throws -> Int {
        let n = g.nodes.count
        guard n >= 3 else { return 0 }
        var d = [Double](repeating: 2, count: n * n)
        for i in 0..<n { d[i * n + i] = 0 }
        for e in g.edges { d[e.source * n + e.target] = 1; d[e.target * n + e.source] = 1 }
        return try VietorisRips.barcodes(distances: d, maxDimension: 1, threshold: 1).bettiNumber(1, at: 1)
    }
}

/// The numbers of a pipeline run without its point cloud and graph (what `glassbox topology filters` prints).
public struct FilterTopologySummary: Codable, Sendable {
    public var settings: FilterTopologySettings
    public var inputCount: Int
    public var droppedCount: Int
    public var k: Int
    public var intervals: Int
    public var densityKept: Int
    public var landmarkRadius: Double?
    public var barcodes: Barcodes
    public var dominantH1: Double
    public var secondH1: Double
    public var mapperNodes: Int
    public var mapperEdges: Int
    public var mapperComponents: Int
    public var loopCount: Int
    public var cliqueLoopCount: Int
    public var orientationLoop: Bool?
}

public extension FilterTopologyResult {
    var summary: FilterTopologySummary {
        FilterTopologySummary(settings: settings, inputCount: inputCount, droppedCount: droppedCount, k: k, intervals: intervals,
                              densityKept: densityKept, landmarkRadius: landmarkRadius, barcodes: barcodes, dominantH1: dominantH1,
                              secondH1: secondH1, mapperNodes: mapper.nodes.count, mapperEdges: mapper.edges.count,
                              mapperComponents: mapper.componentCount, loopCount: loopCount, cliqueLoopCount: cliqueLoopCount,
                              orientationLoop: orientationLoop)
    }
}
