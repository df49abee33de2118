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
    /// `relativeGap × (largest merge distance)` (and than the `medianGap` floor).
    public var relativeGap: Double
    /// Floor of the gap: a gap must also exceed `medianGap ×` the larger of the element's median merge distance and
    /// the median merge distance of all elements together. 0 = no floor (METHODS.md §3.4's first gap as written).
    public var medianGap: Double
    /// Clusters with fewer members are discarded (their points may end up uncovered).
    public var minClusterSize: Int

    /// Default of `medianGap` (see `Mapper`; docs/DESIGN-NOTES.md).
    public static let defaultMedianGap = 4.0

    public init(lens: MapperLens = .pca([1]), intervals: Int = 10, overlap: Double = 0.3,
                metric: MapperMetric = .euclidean, relativeGap: Double = 0.3, medianGap: Double = MapperParameters.defaultMedianGap,
                minClusterSize: Int = 1) {
        self.lens = lens
        self.intervals = intervals
        self.overlap = overlap
        self.metric = metric
        self.relativeGap = relativeGap
        self.medianGap = medianGap
        self.minClusterSize = minClusterSize
    }

    enum CodingKeys: String, CodingKey { case lens, intervals, overlap, metric, relativeGap, medianGap, minClusterSize }

    /// Graphs written before `medianGap` existed were cut without the floor: a missing key reads as 0.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        lens = try c.decode(MapperLens.self, forKey: .lens)
        intervals = try c.decode(Int.self, forKey: .intervals)
        overlap = try c.decode(Double.self, forKey: .overlap)
        metric = try c.decode(MapperMetric.self, forKey: .metric)
        relativeGap = try c.decode(Double.self, forKey: .relativeGap)
        medianGap = try c.decodeIfPresent(Double.self, forKey: .medianGap) ?? 0
        minClusterSize = try c.decode(Int.self, forKey: .minClusterSize)
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

    /// The graph as compact JSON with sorted keys — what `JSONEncoder` with `.sortedKeys` gives and decodes back to an
    /// equal graph — written directly into bytes, which is about a hundred times faster than `JSONEncoder` on the
    /// thousands of member indices of a large graph.
    public func jsonData() throws -> Data {
        var out: [UInt8] = []
        out.reserveCapacity(64 + 8 * (uncovered.count + nodes.reduce(0) { $0 + $1.members.count + 4 * $1.mean.count }))
        func raw(_ s: StaticString) { s.withUTF8Buffer { out.append(contentsOf: $0) } }
        func int(_ v: Int) {
            if v < 0 { out.append(0x2D) }
            var m = v.magnitude
            let start = out.count
            repeat { out.append(UInt8(0x30 + m % 10)); m /= 10 } while m > 0
            out[start...].reverse()
        }
        func double(_ v: Double) throws {
            guard v.isFinite else {
                throw GlassboxError.invalidArgument(name: "graph", expected: "finite numbers for JSON", found: "\(v)")
            }
            if v == v.rounded() && abs(v) < 9.0e15 { int(Int(v)) } else { out.append(contentsOf: v.description.utf8) }
        }
        func list<T>(_ xs: [T], _ write: (T) throws -> Void) rethrows {
            out.append(0x5B)
            for (i, x) in xs.enumerated() { if i > 0 { out.append(0x2C) }; try write(x) }
            out.append(0x5D)
        }
        raw("{\"edges\":")
        list(edges) { e in
            raw("{\"overlap\":"); int(e.overlap); raw(",\"source\":"); int(e.source); raw(",\"target\":"); int(e.target); raw("}")
        }
        raw(",\"intervals\":")
        try list(intervals) { try list($0) { try list($0, double) } }
        raw(",\"lensRanges\":")
        try list(lensRanges) { try list($0, double) }
        raw(",\"nodes\":")
        try list(nodes) { n in
            raw("{\"coverElement\":"); list(n.coverElement, int)
            raw(",\"id\":"); int(n.id)
            raw(",\"lensMean\":"); try list(n.lensMean, double)
            raw(",\"mean\":"); try list(n.mean, double)
            raw(",\"members\":"); list(n.members, int)
            raw("}")
        }
        raw(",\"parameters\":")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        out.append(contentsOf: try encoder.encode(parameters))
        raw(",\"uncovered\":")
        list(uncovered, int)
        raw("}")
        return Data(out)
    }
}

/// Wall-clock seconds spent in each phase of `Mapper.graph` (for `glassbox topology mapper --time`).
public struct MapperTimings: Sendable {
    public var lens = 0.0, cover = 0.0, clustering = 0.0, graph = 0.0
    public init() {}
}

/// Mapper (Singh, Mémoli, Carlsson 2007).
///
/// - Cover: per lens dimension with range [m, M], R = M − m, n intervals of length L = R / (n − (n − 1)·o) whose
///   starts are m + i·L·(1 − o); adjacent intervals overlap by the fraction o of L and the union is exactly [m, M]
///   (giotto-tda's `CubicalCover` convention, also KeplerMapper PR #242; KeplerMapper's own cover instead uses
///   radius R/(2n(1 − o)) around n centres and extends past [m, M]). Intervals are closed. A constant lens (R = 0)
///   puts every point in interval 0 only. With two lens dimensions the cover elements are the products.
/// - Clustering inside each element: single linkage (minimum spanning tree) in the original space; the merge
///   distances h₁ ≤ … ≤ h_{m−1} are cut at the first gap h_{i+1} − h_i larger than
///   T = max(`relativeGap` · h_{m−1}, `medianGap` · max(median_e, median_all)): merges up to h_i are kept, the rest are
///   not. No such gap: one cluster. median_e is the element's (lower) median merge distance, median_all that of the
///   merge distances of all elements pooled.
///   * `medianGap` = 0 is the first-gap rule of METHODS.md §3.4. It follows giotto-tda's `FirstSimpleGap` in comparing
///     gaps with `relativeGap` (0.3) times the largest merge, but, unlike giotto-tda, it does not count the step from
///     0 to h₁ as a gap (giotto-tda pads the differences with h₁, so an element whose smallest merge already exceeds
///     0.3 · h_{m−1} falls apart into singletons, capped at `max_fraction · (m − 1)` clusters, i.e. m − 1 by default) and
///     it needs a gap strictly larger than the threshold (giotto-tda: ≥).
///   * The floor (default `medianGap` = 4) is Glassbox's addition (docs/DESIGN-NOTES.md). Without it the rule mistakes
///     the random spacing of points sampled along a curve for gaps: the largest spacing of an arc exceeds the next by
///     more than 30 % of itself in a good fraction of all elements, so a cover of dozens of elements usually splits a
///     sampled circle somewhere (TopologyMapperTests.testRandomlySampledCirclesGiveOneLoop: 10 samples of 150 noisy
///     circle filters, one loop in 10 with the floor, in 4 without). A real gap is large against the typical
///     merge distance too. The element's median says little when it has two or three points; the pooled median
///     covers those. The price: two structures closer than about 4 typical merge distances stay one cluster.
/// - Nodes = clusters; edges = pairs of nodes sharing at least one point, weighted by the number shared.
///
/// Cover elements are clustered concurrently (`Parallel.threads`); each writes only its own slot and the nodes are
/// numbered in element order afterwards, so the graph does not depend on the thread count.
public enum Mapper {
    public static func graph(_ cloud: PointCloud, parameters: MapperParameters = MapperParameters()) throws -> MapperGraph {
        var t = MapperTimings()
        return try graph(cloud, parameters: parameters, timings: &t)
    }

    public static func graph(_ cloud: PointCloud, parameters: MapperParameters, timings: inout MapperTimings) throws -> MapperGraph {
        try validate(parameters, points: cloud.count)
        var clock = Stopwatch()
        let lens = try lensValues(cloud, parameters.lens)
        timings.lens = clock.lap()
        let cover = self.cover(lens, intervals: parameters.intervals, overlap: parameters.overlap)
        timings.cover = clock.lap()
        let trees = spanningTrees(cloud, elements: cover.elementRows, scale: metricScale(cloud, parameters.metric))
        let clusters = cutTrees(trees, elements: cover.elementRows, parameters: parameters)
        timings.clustering = clock.lap()
        let nodes = self.nodes(clusters, cloud: cloud, lens: lens, intervals: parameters.intervals, minClusterSize: parameters.minClusterSize)
        let (edges, uncovered) = self.edges(nodes, points: cloud.count)
        timings.graph = clock.lap()
        return MapperGraph(parameters: parameters, nodes: nodes, edges: edges, uncovered: uncovered,
                           lensRanges: cover.ranges, intervals: cover.intervals)
    }

    /// Seconds between laps, for `--time`.
    struct Stopwatch {
        var clock = DispatchTime.now().uptimeNanoseconds
        mutating func lap() -> Double {
            let now = DispatchTime.now().uptimeNanoseconds
            defer { clock = now }
            return Double(now - clock) / 1e9
        }
    }

    static func validate(_ parameters: MapperParameters, points n: Int) throws {
        guard n > 0 else { throw GlassboxError.invalidArgument(name: "points", expected: "at least one point", found: "0") }
        // Each lens dimension allocates its intervals (and indexes them with Int32): a flag must not ask for 10¹¹.
        guard parameters.intervals >= 1, parameters.intervals <= 10_000 else {
            throw GlassboxError.invalidArgument(name: "intervals", expected: "1…10000", found: "\(parameters.intervals)")
        }
        guard parameters.overlap >= 0, parameters.overlap < 1 else {
            throw GlassboxError.invalidArgument(name: "overlap", expected: "0 ≤ o < 1", found: "\(parameters.overlap)")
        }
        guard parameters.relativeGap > 0 else {
            throw GlassboxError.invalidArgument(name: "relativeGap", expected: "> 0", found: "\(parameters.relativeGap)")
        }
        guard parameters.medianGap >= 0 else {
            throw GlassboxError.invalidArgument(name: "medianGap", expected: "≥ 0", found: "\(parameters.medianGap)")
        }
    }

    /// Lens values, row-major `n × dimension`.
    struct LensValues { var values: [Double]; var dimension: Int }

    static func lensValues(_ cloud: PointCloud, _ lens: MapperLens) throws -> LensValues {
        let n = cloud.count, d = cloud.dimension
        switch lens {
        case .pca(let comps):
            guard !comps.isEmpty, comps.count <= 2, let top = comps.max(), comps.allSatisfy({ $0 >= 1 }), top <= d else {
                throw GlassboxError.invalidArgument(name: "lens", expected: "1 or 2 principal components within 1…\(d)",
                                                    found: "\(comps)")
            }
            let pca = try PointCloudTools.pca(cloud, components: top)
            let ld = comps.count
            var v = [Double](repeating: 0, count: n * ld)
            for i in 0..<n { for (a, c) in comps.enumerated() { v[i * ld + a] = pca.projections[i * top + c - 1] } }
            return LensValues(values: v, dimension: ld)
        case .columns(let cols):
            guard !cols.isEmpty, cols.count <= 2, cols.allSatisfy({ (0..<d).contains($0) }) else {
                throw GlassboxError.invalidArgument(name: "lens", expected: "1 or 2 columns within 0…\(d - 1)", found: "\(cols)")
            }
            let ld = cols.count
            var v = [Double](repeating: 0, count: n * ld)
            for i in 0..<n { for (a, c) in cols.enumerated() { v[i * ld + a] = cloud.values[i * d + c] } }
            return LensValues(values: v, dimension: ld)
        case .values(let v, let dim):
            guard (1...2).contains(dim), v.count == n * dim, v.allSatisfy(\.isFinite) else {
                throw GlassboxError.invalidArgument(name: "lens", expected: "\(n) × 1 or 2 finite values",
                                                    found: "\(v.count) values of dimension \(dim)")
            }
            return LensValues(values: v, dimension: dim)
        }
    }

    /// The cover: per lens dimension its range and intervals, and the rows of each cover element.
    struct Cover {
        var ranges: [[Double]]
        var intervals: [[[Double]]]
        /// Rows of each cover element, ascending (elements in row-major order of their interval indices).
        var elementRows: [[Int]]
    }

    /// Intervals of length `range/(k − (k−1)·overlap)` per lens dimension (giotto-tda's convention), and the rows each
    /// element (interval, or pair of intervals) holds.
    static func cover(_ lens: LensValues, intervals k: Int, overlap o: Double) -> Cover {
        let ld = lens.dimension, n = lens.values.count / max(1, ld)
        // Interval ends are non-decreasing in i, so the intervals holding a value are consecutive:
        // first[a][r]...last[a][r] (first > last: none).
        var ranges: [[Double]] = []
        var intervals: [[[Double]]] = []
        var first = [[Int32]](repeating: [], count: ld), last = [[Int32]](repeating: [], count: ld)
        for a in 0..<ld {
            var lo = Double.infinity, hi = -Double.infinity
            for r in 0..<n { lo = min(lo, lens.values[r * ld + a]); hi = max(hi, lens.values[r * ld + a]) }
            ranges.append([lo, hi])
            let length = (hi - lo) / (Double(k) - Double(k - 1) * o)
            var starts = [Double](repeating: 0, count: k), ends = [Double](repeating: 0, count: k)
            for i in 0..<k {
                starts[i] = i == 0 ? lo : lo + Double(i) * length * (1 - o)
                ends[i] = i == k - 1 ? hi : starts[i] + length
            }
            intervals.append((0..<k).map { [starts[$0], ends[$0]] })
            var f = [Int32](repeating: 0, count: n), l = [Int32](repeating: -1, count: n)
            let step = length * (1 - o)
            for r in 0..<n {
                let x = lens.values[r * ld + a]
                if hi == lo { f[r] = 0; l[r] = 0; continue }
                // A guess from the arithmetic, then the exact closed-interval tests decide.
                var i = step > 0 ? Int(min(Double(k - 1), max(0, ((x - lo) / step).rounded(.down)))) : 0
                while i > 0 && x <= ends[i - 1] { i -= 1 }
                while i < k - 1 && x > ends[i] { i += 1 }
                var j = i
                while j + 1 < k && x >= starts[j + 1] { j += 1 }
                f[r] = Int32(i); l[r] = x >= starts[i] && x <= ends[i] ? Int32(j) : Int32(i - 1)
            }
            first[a] = f; last[a] = l
        }
        let elementCount = ld == 1 ? k : k * k
        var elementRows = [[Int]](repeating: [], count: elementCount)
        for r in 0..<n {
            let f0 = Int(first[0][r]), l0 = Int(last[0][r])
            if f0 > l0 { continue }
            if ld == 1 {
                for i in f0...l0 { elementRows[i].append(r) }
            } else {
                let f1 = Int(first[1][r]), l1 = Int(last[1][r])
                if f1 > l1 { continue }
                for i in f0...l0 { for j in f1...l1 { elementRows[i * k + j].append(r) } }
            }
        }
        return Cover(ranges: ranges, intervals: intervals, elementRows: elementRows)
    }

    /// Per-coordinate weights of the clustering metric. Variance-normalised divides each coordinate by its standard
    /// deviation. A coordinate whose standard deviation is at most 1e-9 of the largest is constant up to rounding
    /// (e.g. the centre pixel of normalised linear-gradient filters, 0 ± 1e-17): it gets weight 0, where dividing by
    /// its tiny standard deviation would blow rounding noise up to distances of order one.
    static func metricScale(_ cloud: PointCloud, _ metric: MapperMetric) -> [Double] {
        let n = cloud.count, d = cloud.dimension
        var scale = [Double](repeating: 1, count: d)
        guard metric == .varianceNormalised && n > 1 else { return scale }
        var sd = [Double](repeating: 0, count: d)
        for t in 0..<d {
            var m = 0.0
            for i in 0..<n { m += cloud.values[i * d + t] }
            m /= Double(n)
            var v = 0.0
            for i in 0..<n { let u = cloud.values[i * d + t] - m; v += u * u }
            sd[t] = (v / Double(n - 1)).squareRoot()
        }
        let top = sd.max() ?? 0
        for t in 0..<d { scale[t] = sd[t] > 1e-9 * top ? 1 / sd[t] : 0 }
        return scale
    }

    /// Minimum spanning trees of every element with two or more points, concurrently over elements (largest first),
    /// each into its own slot (so the result does not depend on the thread count).
    static func spanningTrees(_ cloud: PointCloud, elements elementRows: [[Int]], scale: [Double]) -> [ElementTree] {
        var trees = [ElementTree](repeating: ElementTree(), count: elementRows.count)
        let work = (0..<elementRows.count).filter { elementRows[$0].count > 1 }
            .sorted { (elementRows[$0].count, $1) > (elementRows[$1].count, $0) }
        let cost = work.reduce(0) { $0 + elementRows[$1].count * elementRows[$1].count }
        let threads = cost < 200_000 ? 1 : min(Parallel.threads, work.count)
        trees.withUnsafeMutableBufferPointer { slots in
            let out = slots   // each work item writes only out[work[w]]
            let body: (Int) -> Void = { w in out[work[w]] = elementTree(cloud, rows: elementRows[work[w]], scale: scale) }
            if threads > 1 {
                let next = ManagedAtomicCounter()
                DispatchQueue.concurrentPerform(iterations: threads) { _ in
                    while true { let w = next.increment(); if w >= work.count { break }; body(w) }
                }
            } else {
                for w in 0..<work.count { body(w) }
            }
        }
        return trees
    }

    /// Cuts each element's tree at its first large gap (the floor needs the median merge distance of all elements).
    static func cutTrees(_ trees: [ElementTree], elements elementRows: [[Int]], parameters: MapperParameters) -> [[[Int]]] {
        var pooledMedian = 0.0
        if parameters.medianGap > 0 {
            var all = trees.flatMap(\.heights)
            if !all.isEmpty { pooledMedian = PointCloudTools.quickSelect(&all, (all.count - 1) / 2) }
        }
        var clusters = [[[Int]]](repeating: [], count: elementRows.count)
        for e in 0..<elementRows.count where !elementRows[e].isEmpty {
            clusters[e] = cutTree(trees[e], rows: elementRows[e], relativeGap: parameters.relativeGap,
                                  medianGap: parameters.medianGap, pooledMedian: pooledMedian)
        }
        return clusters
    }

    /// One node per cluster of at least `minClusterSize` points, with its mean point and mean lens value.
    static func nodes(_ clusters: [[[Int]]], cloud: PointCloud, lens: LensValues, intervals k: Int, minClusterSize: Int) -> [MapperNode] {
        let d = cloud.dimension, ld = lens.dimension
        var nodes: [MapperNode] = []
        for e in 0..<clusters.count {
            let el = ld == 1 ? [e] : [e / k, e % k]
            for cluster in clusters[e] where cluster.count >= minClusterSize {
                var mean = [Double](repeating: 0, count: d)
                var lmean = [Double](repeating: 0, count: ld)
                for r in cluster {
                    for t in 0..<d { mean[t] += cloud.values[r * d + t] }
                    for t in 0..<ld { lmean[t] += lens.values[r * ld + t] }
                }
                nodes.append(MapperNode(id: nodes.count, coverElement: el, members: cluster,
                                        mean: mean.map { $0 / Double(cluster.count) },
                                        lensMean: lmean.map { $0 / Double(cluster.count) }))
            }
        }
        return nodes
    }

    /// Edges from shared points (every pair of nodes holding a point, as one integer key, sorted and counted) and the
    /// points no node holds.
    static func edges(_ nodes: [MapperNode], points n: Int) -> ([MapperEdge], uncovered: [Int]) {
        var nodesOf = [[Int]](repeating: [], count: n)
        for node in nodes { for r in node.members { nodesOf[r].append(node.id) } }
        let v = nodes.count
        var keys: [Int] = []
        for list in nodesOf where list.count > 1 {
            for x in 0..<list.count { for y in (x + 1)..<list.count { keys.append(list[x] * v + list[y]) } }
        }
        keys.sort()
        var edges: [MapperEdge] = []
        var i = 0
        while i < keys.count {
            var j = i + 1
            while j < keys.count && keys[j] == keys[i] { j += 1 }
            edges.append(MapperEdge(source: keys[i] / v, target: keys[i] % v, overlap: j - i))
            i = j
        }
        return (edges, (0..<n).filter { nodesOf[$0].isEmpty })
    }

    /// The minimum spanning tree of one cover element: edges between positions in `rows`, with their lengths.
    struct ElementTree {
        var a: [Int32] = [], b: [Int32] = []
        /// Edge lengths (merge distances) in the order Prim added the edges.
        var heights: [Double] = []
    }

    static func elementTree(_ cloud: PointCloud, rows: [Int], scale: [Double]) -> ElementTree {
        let m = rows.count, d = cloud.dimension
        if m < 2 { return ElementTree() }
        var pts = [Double](repeating: 0, count: m * d)
        for (i, r) in rows.enumerated() { for t in 0..<d { pts[i * d + t] = cloud.values[r * d + t] * scale[t] } }
        let tree = pts.withUnsafeBufferPointer { minimumSpanningTree($0.baseAddress!, count: m, dimension: d) }
        return ElementTree(a: tree.a, b: tree.b, heights: tree.squaredLengths.map { $0.squareRoot() })
    }

    /// Single-linkage clusters of `rows` from their tree, cut by the first-gap rule with the median floor (see
    /// `Mapper`); each cluster's rows ascending, clusters ordered by their first row.
    static func cutTree(_ tree: ElementTree, rows: [Int], relativeGap: Double, medianGap: Double, pooledMedian: Double) -> [[Int]] {
        let m = rows.count
        if m == 1 { return [rows] }
        let sorted = tree.heights.sorted()
        let floor = medianGap > 0 ? medianGap * max(sorted[(sorted.count - 1) / 2], pooledMedian) : 0
        let cut = firstGapCut(sorted, relativeGap: relativeGap, minimumGap: floor)
        var parent = Array(0..<m)
        func find(_ x: Int) -> Int { var x = x; while parent[x] != x { parent[x] = parent[parent[x]]; x = parent[x] }; return x }
        for e in 0..<(m - 1) where tree.heights[e] <= cut { parent[find(Int(tree.a[e]))] = find(Int(tree.b[e])) }
        // Rows are ascending, so clusters in order of first appearance are in order of their smallest row.
        var label = [Int](repeating: -1, count: m)
        var out: [[Int]] = []
        for j in 0..<m {
            let root = find(j)
            if label[root] < 0 { label[root] = out.count; out.append([]) }
            out[label[root]].append(rows[j])
        }
        return out
    }

    /// Single-linkage clusters of the rows of one element on their own (the pooled median is the element's).
    static func singleLinkage(_ cloud: PointCloud, rows: [Int], scale: [Double], relativeGap: Double,
                              medianGap: Double = 0) -> [[Int]] {
        let tree = elementTree(cloud, rows: rows, scale: scale)
        return cutTree(tree, rows: rows, relativeGap: relativeGap, medianGap: medianGap, pooledMedian: 0)
    }

    /// The single-linkage threshold of the first-gap rule for ascending merge heights h₁ ≤ … ≤ h_{m−1}: h_i for the
    /// first i with h_{i+1} − h_i > max(`relativeGap` · h_{m−1}, `minimumGap`), else h_{m−1} (one cluster).
    static func firstGapCut(_ heights: [Double], relativeGap: Double, minimumGap: Double = 0) -> Double {
        guard let top = heights.last else { return 0 }
        let threshold = max(relativeGap * top, minimumGap)
        for i in 0..<(heights.count - 1) where heights[i + 1] - heights[i] > threshold { return heights[i] }
        return top
    }

    /// Minimum spanning tree of `m` points (row-major `m × d`) by Prim's algorithm, O(m²·d) time, O(m·d) memory.
    /// Edges in the order Prim adds them: endpoints (row indices) and squared Euclidean lengths.
    ///
    /// The points outside the tree are kept in a column-major buffer, compacted as they leave, so each step is one
    /// pass of 4-wide SIMD over plain memory. A squared distance is always summed over the coordinates in order
    /// with fused multiply-adds, so it is bit-identical from either end; ties between equal candidates may pick
    /// either edge, which changes no merge height and no single-linkage partition.
    static func minimumSpanningTree(_ pts: UnsafePointer<Double>, count m: Int, dimension d: Int)
        -> (a: [Int32], b: [Int32], squaredLengths: [Double]) {
        var ea = [Int32](repeating: 0, count: max(0, m - 1)), eb = ea
        var eh = [Double](repeating: 0, count: max(0, m - 1))
        if m < 2 { return (ea, eb, eh) }
        let cap = (m + 3) & ~3
        let cols = UnsafeMutablePointer<Double>.allocate(capacity: cap * d)
        let best = UnsafeMutablePointer<Double>.allocate(capacity: cap)
        let from = UnsafeMutablePointer<Int64>.allocate(capacity: cap)
        let ids = UnsafeMutablePointer<Int64>.allocate(capacity: cap)
        let cur = UnsafeMutablePointer<Double>.allocate(capacity: d)
        defer { cols.deallocate(); best.deallocate(); from.deallocate(); ids.deallocate(); cur.deallocate() }
        for i in 0..<m {
            for t in 0..<d { cols[t * cap + i] = pts[i * d + t] }
            best[i] = .infinity; from[i] = 0; ids[i] = Int64(i)
        }
        var r = m
        func remove(_ p: Int) {
            r -= 1
            if p != r {
                for t in 0..<d { cols[t * cap + p] = cols[t * cap + r] }
                best[p] = best[r]; from[p] = from[r]; ids[p] = ids[r]
            }
        }
        for t in 0..<d { cur[t] = pts[t] }
        var curID: Int64 = 0
        remove(0)
        for step in 0..<(m - 1) {
            let r4 = r & ~3
            var minV = SIMD4<Double>(repeating: .infinity)
            var minP = SIMD4<Int64>(repeating: -1)
            let lane = SIMD4<Int64>(0, 1, 2, 3)
            let curIDs = SIMD4<Int64>(repeating: curID)
            var p = 0
            while p < r4 {
                var s = SIMD4<Double>(repeating: 0)
                for t in 0..<d {
                    let x = UnsafeRawPointer(cols + t * cap + p).loadUnaligned(as: SIMD4<Double>.self)
                    let u = x - SIMD4<Double>(repeating: cur[t])
                    s = s.addingProduct(u, u)
                }
                var b = UnsafeRawPointer(best + p).loadUnaligned(as: SIMD4<Double>.self)
                var f = UnsafeRawPointer(from + p).loadUnaligned(as: SIMD4<Int64>.self)
                let closer = s .< b
                b.replace(with: s, where: closer)
                f.replace(with: curIDs, where: closer)
                UnsafeMutableRawPointer(best + p).storeBytes(of: b, as: SIMD4<Double>.self)
                UnsafeMutableRawPointer(from + p).storeBytes(of: f, as: SIMD4<Int64>.self)
                let smaller = b .< minV
                minV.replace(with: b, where: smaller)
                minP.replace(with: lane &+ Int64(p), where: smaller)
                p += 4
            }
            var bestP = -1, bestV = Double.infinity
            for l in 0..<4 where minP[l] >= 0 && (minV[l] < bestV || (minV[l] == bestV && Int(minP[l]) < bestP)) {
                bestV = minV[l]; bestP = Int(minP[l])
            }
            while p < r {
                var s = 0.0
                for t in 0..<d { let u = cols[t * cap + p] - cur[t]; s = s.addingProduct(u, u) }
                if s < best[p] { best[p] = s; from[p] = curID }
                if bestP < 0 || best[p] < bestV { bestV = best[p]; bestP = p }
                p += 1
            }
            ea[step] = Int32(from[bestP]); eb[step] = Int32(ids[bestP]); eh[step] = best[bestP]
            for t in 0..<d { cur[t] = cols[t * cap + bestP] }
            curID = ids[bestP]
            remove(bestP)
        }
        return (ea, eb, eh)
    }
}

/// A shared counter handing out work items to the threads of one `concurrentPerform`.
final class ManagedAtomicCounter: @unchecked Sendable {
    private var value = 0
    private let lock = NSLock()
    /// The current value, then adds one.
    func increment() -> Int { lock.lock(); defer { lock.unlock() }; let v = value; value += 1; return v }
}
