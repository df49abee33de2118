import Foundation
import GlassboxCore

/// The lens (filter function) of Mapper: one or two real values per point.
public enum MapperLens: Codable, Equatable, Sendable {
    /// Projections on principal components (1-based: [1] = PCA1, [1, 2] = PCA1 and PCA2) of the cloud.
    case pca([Int])
    /// Columns of the cloud itself (0-based).
    case columns([Int])
    /// Given values, row-major `count × dimension`.
    case values([Double], dimension: Int)

    enum CodingKeys: String, CodingKey { case kind, indices, values, dimension }

    /// JSON: {"kind": "pca", "indices": [1]}, {"kind": "columns", "indices": [0]} or
    /// {"kind": "values", "values": [...], "dimension": 1}.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .pca(let i): try c.encode("pca", forKey: .kind); try c.encode(i, forKey: .indices)
        case .columns(let i): try c.encode("columns", forKey: .kind); try c.encode(i, forKey: .indices)
        case .values(let v, let d):
            try c.encode("values", forKey: .kind); try c.encode(v, forKey: .values); try c.encode(d, forKey: .dimension)
        }
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        switch try c.decode(String.self, forKey: .kind) {
        case "pca": self = .pca(try c.decode([Int].self, forKey: .indices))
        case "columns": self = .columns(try c.decode([Int].self, forKey: .indices))
        case "values": self = .values(try c.decode([Double].self, forKey: .values), dimension: try c.decode(Int.self, forKey: .dimension))
        case let k:
            throw DecodingError.dataCorruptedError(forKey: .kind, in: c, debugDescription: "unknown lens kind '\(k)'")
        }
    }

    /// Parses "pca1", "pca1,pca2", "col0", "col2,col5".
    public static func parse(_ text: String) throws -> MapperLens {
        let parts = text.lowercased().split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }
        func bad() -> GlassboxError {
            .invalidArgument(name: "--lens", expected: "pca1, pca2, pca1,pca2 or colN[,colM]", found: "'\(text)'")
        }
        guard (1...2).contains(parts.count) else { throw bad() }
        if parts.allSatisfy({ $0.hasPrefix("pca") }) {
            let c = try parts.map { p -> Int in guard let v = Int(p.dropFirst(3)), v >= 1 else { throw bad() }; return v }
            return .pca(c)
        }
        if parts.allSatisfy({ $0.hasPrefix("col") }) {
            let c = try parts.map { p -> Int in guard let v = Int(p.dropFirst(3)), v >= 0 else { throw bad() }; return v }
            return .columns(c)
        }
        throw bad()
    }
}

/// Distance used to cluster inside one cover element (always in the original space, never the lens).
public enum MapperMetric: String, Codable, Sendable, CaseIterable {
    case euclidean
    /// Each coordinate divided by its standard deviation over the whole cloud, then Euclidean.
    case varianceNormalised = "variance-normalised"
}

public struct MapperParameters: Codable, Equatable, Sendable {
    public var lens: MapperLens
    /// Intervals per lens dimension.
    public var intervals: Int
    /// Overlap fraction o of adjacent intervals, 0 ≤ o < 1.
    public var overlap: Double
    public var metric: MapperMetric
    /// Single-linkage cut: the first gap between consecutive sorted merge distances larger than
    /// `relativeGap × (largest merge distance)`.
    public var relativeGap: Double
    /// Clusters with fewer members are discarded (their points may end up uncovered).
    public var minClusterSize: Int

    public init(lens: MapperLens = .pca([1]), intervals: Int = 10, overlap: Double = 0.3,
                metric: MapperMetric = .euclidean, relativeGap: Double = 0.3, minClusterSize: Int = 1) {
        self.lens = lens
        self.intervals = intervals
        self.overlap = overlap
        self.metric = metric
        self.relativeGap = relativeGap
        self.minClusterSize = minClusterSize
    }
}

public struct MapperNode: Codable, Equatable, Sendable {
    public var id: Int
    /// Interval index per lens dimension of the cover element this cluster came from.
    public var coverElement: [Int]
    /// Rows of the input cloud, ascending.
    public var members: [Int]
    /// Mean of the members' points (original coordinates).
    public var mean: [Double]
    /// Mean lens value of the members.
    public var lensMean: [Double]
}

public struct MapperEdge: Codable, Equatable, Sendable {
    public var source: Int
    public var target: Int
    /// Number of points shared by the two nodes.
    public var overlap: Int
}

public struct MapperGraph: Codable, Equatable, Sendable {
    public var parameters: MapperParameters
    public var nodes: [MapperNode]
    public var edges: [MapperEdge]
    /// Rows that are in no node.
    public var uncovered: [Int]
    /// Lens range [min, max] per lens dimension.
    public var lensRanges: [[Double]]
    /// Cover intervals per lens dimension, each [start, end] (closed).
    public var intervals: [[[Double]]]

    /// Number of connected components of the graph.
    public var componentCount: Int {
        var parent = Array(0..<nodes.count)
        func find(_ x: Int) -> Int { var x = x; while parent[x] != x { parent[x] = parent[parent[x]]; x = parent[x] }; return x }
        var count = nodes.count
        for e in edges {
            let a = find(e.source), b = find(e.target)
            if a != b { parent[a] = b; count -= 1 }
        }
        return count
    }

    /// Independent cycles of the graph (first Betti number): E − V + components.
    public var cycleRank: Int { edges.count - nodes.count + componentCount }
}

/// Mapper (Singh, Mémoli, Carlsson 2007).
///
/// - Cover: per lens dimension with range [m, M], R = M − m, n intervals of length L = R / (n − (n − 1)·o) whose
///   starts are m + i·L·(1 − o); adjacent intervals overlap by the fraction o of L and the union is exactly [m, M]
///   (giotto-tda's `CubicalCover` convention, also KeplerMapper PR #242; KeplerMapper's own cover instead uses
///   radius R/(2n(1 − o)) around n centres and extends past [m, M]). Intervals are closed. A constant lens (R = 0)
///   puts every point in interval 0 only. With two lens dimensions the cover elements are the products.
/// - Clustering inside each element: single linkage (minimum spanning tree) in the original space; the merge
///   distances h₁ ≤ … ≤ h_{m−1} are cut at the first gap h_{i+1} − h_i larger than `relativeGap · h_{m−1}`: merges up
///   to h_i are kept, the rest are not (giotto-tda's "first simple gap" rule). No such gap: one cluster.
/// - Nodes = clusters; edges = pairs of nodes sharing at least one point, weighted by the number shared.
public enum Mapper {
    public static func graph(_ cloud: PointCloud, parameters: MapperParameters = MapperParameters()) throws -> MapperGraph {
        let n = cloud.count, d = cloud.dimension
        guard n > 0 else { throw GlassboxError.invalidArgument(name: "points", expected: "at least one point", found: "0") }
        guard parameters.intervals >= 1 else {
            throw GlassboxError.invalidArgument(name: "intervals", expected: "≥ 1", found: "\(parameters.intervals)")
        }
        guard parameters.overlap >= 0, parameters.overlap < 1 else {
            throw GlassboxError.invalidArgument(name: "overlap", expected: "0 ≤ o < 1", found: "\(parameters.overlap)")
        }
        guard parameters.relativeGap > 0 else {
            throw GlassboxError.invalidArgument(name: "relativeGap", expected: "> 0", found: "\(parameters.relativeGap)")
        }
        // Lens values, row-major n × ld.
        let lens: [Double]
        let ld: Int
        switch parameters.lens {
        case .pca(let comps):
            guard !comps.isEmpty, comps.count <= 2, let top = comps.max(), comps.allSatisfy({ $0 >= 1 }), top <= d else {
                throw GlassboxError.invalidArgument(name: "lens", expected: "1 or 2 principal components within 1…\(d)",
                                                    found: "\(comps)")
            }
            let pca = try PointCloudTools.pca(cloud, components: top)
            ld = comps.count
            lens = (0..<n).flatMap { i in comps.map { pca.projections[i * top + $0 - 1] } }
        case .columns(let cols):
            guard !cols.isEmpty, cols.count <= 2, cols.allSatisfy({ (0..<d).contains($0) }) else {
                throw GlassboxError.invalidArgument(name: "lens", expected: "1 or 2 columns within 0…\(d - 1)", found: "\(cols)")
            }
            ld = cols.count
            lens = (0..<n).flatMap { i in cols.map { cloud.values[i * d + $0] } }
        case .values(let v, let dim):
            guard (1...2).contains(dim), v.count == n * dim, v.allSatisfy(\.isFinite) else {
                throw GlassboxError.invalidArgument(name: "lens", expected: "\(n) × 1 or 2 finite values",
                                                    found: "\(v.count) values of dimension \(dim)")
            }
            ld = dim
            lens = v
        }
        // Cover.
        let k = parameters.intervals, o = parameters.overlap
        var ranges: [[Double]] = []
        var intervals: [[[Double]]] = []
        var membership: [[[Int]]] = []   // [lens dim][interval] → rows
        for a in 0..<ld {
            let col = (0..<n).map { lens[$0 * ld + a] }
            let lo = col.min()!, hi = col.max()!
            ranges.append([lo, hi])
            let length = (hi - lo) / (Double(k) - Double(k - 1) * o)
            var ivs: [[Double]] = []
            var members = [[Int]](repeating: [], count: k)
            for i in 0..<k {
                let s = i == 0 ? lo : lo + Double(i) * length * (1 - o)
                let e = i == k - 1 ? hi : s + length
                ivs.append([s, e])
                if hi == lo && i > 0 { continue }
                for r in 0..<n where col[r] >= s && col[r] <= e { members[i].append(r) }
            }
            intervals.append(ivs)
            membership.append(members)
        }
        // Metric scale.
        var scale = [Double](repeating: 1, count: d)
        if parameters.metric == .varianceNormalised && n > 1 {
            for t in 0..<d {
                let m = (0..<n).reduce(0) { $0 + cloud.values[$1 * d + t] } / Double(n)
                let v = (0..<n).reduce(0) { $0 + pow(cloud.values[$1 * d + t] - m, 2) } / Double(n - 1)
                scale[t] = v > 0 ? 1 / v.squareRoot() : 1
            }
        }
        var nodes: [MapperNode] = []
        let elements: [[Int]] = ld == 1 ? (0..<k).map { [$0] } : (0..<k).flatMap { i in (0..<k).map { [i, $0] } }
        for el in elements {
            var rows = membership[0][el[0]]
            if ld == 2 { let other = Set(membership[1][el[1]]); rows = rows.filter { other.contains($0) } }
            if rows.isEmpty { continue }
            for cluster in singleLinkageFirstGap(cloud, rows: rows, scale: scale, relativeGap: parameters.relativeGap)
            where cluster.count >= parameters.minClusterSize {
                var mean = [Double](repeating: 0, count: d)
                var lmean = [Double](repeating: 0, count: ld)
                for r in cluster {
                    for t in 0..<d { mean[t] += cloud.values[r * d + t] }
                    for t in 0..<ld { lmean[t] += lens[r * ld + t] }
                }
                nodes.append(MapperNode(id: nodes.count, coverElement: el, members: cluster,
                                        mean: mean.map { $0 / Double(cluster.count) },
                                        lensMean: lmean.map { $0 / Double(cluster.count) }))
            }
        }
        // Edges from shared points.
        var nodesOf = [[Int]](repeating: [], count: n)
        for node in nodes { for r in node.members { nodesOf[r].append(node.id) } }
        var shared: [Int: Int] = [:]
        for list in nodesOf where list.count > 1 {
            for x in 0..<list.count { for y in (x + 1)..<list.count { shared[list[x] * nodes.count + list[y], default: 0] += 1 } }
        }
        let edges = shared.map { MapperEdge(source: $0.key / nodes.count, target: $0.key % nodes.count, overlap: $0.value) }
            .sorted { ($0.source, $0.target) < ($1.source, $1.target) }
        let uncovered = (0..<n).filter { nodesOf[$0].isEmpty }
        return MapperGraph(parameters: parameters, nodes: nodes, edges: edges, uncovered: uncovered,
                           lensRanges: ranges, intervals: intervals)
    }

    /// Single-linkage clusters of `rows` (Prim's minimum spanning tree), cut at the first large gap; each cluster's
    /// rows ascending, clusters ordered by their first row.
    static func singleLinkageFirstGap(_ cloud: PointCloud, rows: [Int], scale: [Double], relativeGap: Double) -> [[Int]] {
        let m = rows.count, d = cloud.dimension
        if m == 1 { return [rows] }
        // The element's points, scaled, in one contiguous buffer: the O(m²) loop below then runs over plain memory.
        var pts = [Double](repeating: 0, count: m * d)
        for (i, r) in rows.enumerated() { for t in 0..<d { pts[i * d + t] = cloud.values[r * d + t] * scale[t] } }
        var inTree = [Bool](repeating: false, count: m)
        var best = [Double](repeating: .infinity, count: m)   // squared distances to the tree
        var from = [Int](repeating: -1, count: m)
        var tree: [(a: Int, b: Int, h: Double)] = []
        tree.reserveCapacity(m - 1)
        var current = 0
        inTree[0] = true
        pts.withUnsafeBufferPointer { pb in
            let p = pb.baseAddress!
            for _ in 1..<m {
                var next = -1
                let c = p + current * d
                for j in 0..<m where !inTree[j] {
                    let q = p + j * d
                    var dj = 0.0
                    for t in 0..<d { let u = c[t] - q[t]; dj += u * u }
                    if dj < best[j] { best[j] = dj; from[j] = current }
                    if next < 0 || best[j] < best[next] { next = j }
                }
                inTree[next] = true
                tree.append((from[next], next, best[next].squareRoot()))
                current = next
            }
        }
        let heights = tree.map(\.h).sorted()
        var cut = heights.last!
        for i in 0..<(heights.count - 1) where heights[i + 1] - heights[i] > relativeGap * heights.last! {
            cut = heights[i]
            break
        }
        var parent = Array(0..<m)
        func find(_ x: Int) -> Int { var x = x; while parent[x] != x { parent[x] = parent[parent[x]]; x = parent[x] }; return x }
        for e in tree where e.h <= cut { parent[find(e.a)] = find(e.b) }
        var groups: [Int: [Int]] = [:]
        for j in 0..<m { groups[find(j), default: []].append(rows[j]) }
        return groups.values.map { $0.sorted() }.sorted { $0[0] < $1[0] }
    }
}
