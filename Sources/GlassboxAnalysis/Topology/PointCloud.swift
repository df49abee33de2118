import Foundation
import GlassboxCore

/// A point cloud: `count` rows of `dimension` coordinates, row-major, Double.
public struct PointCloud: Codable, Equatable, Sendable {
    public var values: [Double]
    public var dimension: Int

    public init(values: [Double], dimension: Int) throws {
        guard dimension > 0 else {
            throw GlassboxError.invalidArgument(name: "dimension", expected: "> 0", found: "\(dimension)")
        }
        guard values.count % dimension == 0 else {
            throw GlassboxError.invalidArgument(name: "points", expected: "a multiple of dimension \(dimension) values",
                                                found: "\(values.count) values")
        }
        if let bad = values.firstIndex(where: { !$0.isFinite }) {
            throw GlassboxError.invalidArgument(name: "points", expected: "finite coordinates",
                                                found: "\(values[bad]) at row \(bad / dimension), column \(bad % dimension)")
        }
        self.values = values
        self.dimension = dimension
    }

    public var count: Int { values.count / dimension }
    public func row(_ i: Int) -> ArraySlice<Double> { values[(i * dimension)..<((i + 1) * dimension)] }

    /// The rows at `indices`, in that order.
    public func subset(_ indices: [Int]) -> PointCloud {
        var v: [Double] = []
        v.reserveCapacity(indices.count * dimension)
        for i in indices { v += row(i) }
        return try! PointCloud(values: v, dimension: dimension)
    }
}

/// Result of per-filter normalisation.
public struct NormalisedFilters: Codable, Sendable {
    public var points: PointCloud
    /// Original row of each kept point.
    public var kept: [Int]
    /// Rows dropped because their centred norm was below `minNorm`.
    public var droppedCount: Int
}

public struct DensityFilterResult: Codable, Sendable {
    /// Original rows kept (ascending row order), the fraction p with the smallest δ_k.
    public var kept: [Int]
    /// δ_k of every input point: the distance to its k-th nearest neighbour, not counting the point itself.
    public var kthDistance: [Double]
    /// The largest δ_k among the kept points.
    public var cutoff: Double
    public var k: Int
    public var fraction: Double
}

public struct PCAResult: Codable, Sendable {
    public var mean: [Double]
    /// `components[c]` = unit principal axis c (length `dimension`), by decreasing variance; sign chosen so that the
    /// largest-magnitude coordinate is positive.
    public var components: [[Double]]
    /// Variance (eigenvalue of the covariance, divisor n − 1) along each component.
    public var variances: [Double]
    /// Projections of the centred points, row-major `count × components.count`.
    public var projections: [Double]
}

public enum PointCloudTools {
    /// Per-filter normalisation: subtract each row's own mean and divide by its own norm. Rows whose centred norm is
    /// below `minNorm` (constant or near-zero filters) are dropped and counted.
    public static func normaliseFilters(_ cloud: PointCloud, minNorm: Double = 1e-8) -> NormalisedFilters {
        let d = cloud.dimension
        var out: [Double] = []
        var kept: [Int] = []
        for i in 0..<cloud.count {
            let r = cloud.row(i)
            let m = r.reduce(0, +) / Double(d)
            let norm = r.reduce(0) { $0 + ($1 - m) * ($1 - m) }.squareRoot()
            if norm < minNorm { continue }
            kept.append(i)
            out += r.map { ($0 - m) / norm }
        }
        return NormalisedFilters(points: try! PointCloud(values: out, dimension: d), kept: kept,
                                 droppedCount: cloud.count - kept.count)
    }

    /// δ_k(x) for every point: the distance to its k-th nearest neighbour, excluding x itself (duplicates of x at
    /// distance 0 do count as neighbours). Squared distances come from BLAS (‖x‖² + ‖y‖² − 2x·y, float32 Gram
    /// matrix, in blocks of rows); every candidate within the float error bound of the k-th is then recomputed
    /// exactly in Double, so the result is exact.
    public static func kthNeighbourDistances(_ cloud: PointCloud, k: Int) throws -> [Double] {
        let n = cloud.count, d = cloud.dimension
        guard k >= 1, k < n else {
            throw GlassboxError.invalidArgument(name: "k", expected: "1 ≤ k < number of points (\(n))", found: "\(k)")
        }
        let x = cloud.values.map { Float($0) }
        var sq = [Double](repeating: 0, count: n)
        var maxSq = 0.0
        for i in 0..<n { sq[i] = cloud.row(i).reduce(0) { $0 + $1 * $1 }; maxSq = max(maxSq, sq[i]) }
        let block = max(1, min(n, (1 << 22) / max(1, n)))
        var gram = [Float](repeating: 0, count: block * n)
        var result = [Double](repeating: 0, count: n)
        var approx = [Double](repeating: 0, count: n)
        // float32 rounding of x·y is below ~ d·2⁻²³·(‖x‖²+‖y‖²); a generous bound.
        let slack = (4.0 * Double(d) + 16) * 1.2e-7 * 2 * maxSq + 1e-12
        var start = 0
        while start < n {
            let rows = min(block, n - start)
            x.withUnsafeBufferPointer { xp in
                gram.withUnsafeMutableBufferPointer { g in
                    BLAS.gemm(transB: true, m: rows, n: n, k: d, a: xp.baseAddress! + start * d, b: xp.baseAddress!,
                              c: g.baseAddress!)
                }
            }
            for r in 0..<rows {
                let i = start + r
                for j in 0..<n { approx[j] = sq[i] + sq[j] - 2 * Double(gram[r * n + j]) }
                approx[i] = .infinity
                var sorted = approx
                // k-th smallest among the others (index k − 1).
                let kth = quickSelect(&sorted, k - 1)
                var candidates: [Double] = []
                for j in 0..<n where j != i && approx[j] <= kth + slack {
                    var s = 0.0
                    for t in 0..<d { let u = cloud.values[i * d + t] - cloud.values[j * d + t]; s += u * u }
                    candidates.append(s)
                }
                candidates.sort()
                result[i] = candidates[k - 1].squareRoot()
            }
            start += rows
        }
        return result
    }

    /// The k-th smallest value (0-based) of `a`; reorders `a`.
    static func quickSelect(_ a: inout [Double], _ k: Int) -> Double {
        var lo = 0, hi = a.count - 1
        while lo < hi {
            let pivot = a[(lo + hi) / 2]
            var i = lo, j = hi
            while i <= j {
                while a[i] < pivot { i += 1 }
                while a[j] > pivot { j -= 1 }
                if i <= j { a.swapAt(i, j); i += 1; j -= 1 }
            }
            if k <= j { hi = j } else if k >= i { lo = i } else { return a[k] }
        }
        return a[k]
    }

    /// Density filter ρ(k, p): keep the fraction p of points with the smallest δ_k (rounded to the nearest count,
    /// at least one). Ties in δ_k are broken by row order (earlier rows first).
    public static func densityFilter(_ cloud: PointCloud, k: Int, fraction p: Double) throws -> DensityFilterResult {
        guard p > 0, p <= 1 else {
            throw GlassboxError.invalidArgument(name: "fraction", expected: "0 < p ≤ 1", found: "\(p)")
        }
        let delta = try kthNeighbourDistances(cloud, k: k)
        let keep = max(1, min(cloud.count, Int((p * Double(cloud.count)).rounded())))
        let order = (0..<cloud.count).sorted { (delta[$0], $0) < (delta[$1], $1) }
        let kept = Array(order.prefix(keep)).sorted()
        return DensityFilterResult(kept: kept, kthDistance: delta, cutoff: delta[order[keep - 1]], k: k, fraction: p)
    }

    /// Max–min (farthest-point) landmarks: starting from row `start`, repeatedly add the point farthest from the
    /// landmarks chosen so far (ties: the earlier row). Returns `count` row indices in the order chosen. The
    /// landmarks cover the cloud evenly, so a Rips complex on them keeps its large-scale shape (the subsample is
    /// within the covering radius returned of every point). Deterministic.
    public static func maxminLandmarks(_ cloud: PointCloud, count m: Int, start: Int = 0) throws -> (indices: [Int], coveringRadius: Double) {
        let n = cloud.count, d = cloud.dimension
        guard m >= 1, m <= n else {
            throw GlassboxError.invalidArgument(name: "landmarks", expected: "1 ≤ count ≤ number of points (\(n))", found: "\(m)")
        }
        guard start >= 0, start < n else {
            throw GlassboxError.invalidArgument(name: "start", expected: "a row index below \(n)", found: "\(start)")
        }
        var nearest = [Double](repeating: .infinity, count: n)
        var chosen = [start]
        chosen.reserveCapacity(m)
        var current = start
        var radius = 0.0
        cloud.values.withUnsafeBufferPointer { v in
            while true {
                var far = -1, farDist = -1.0
                for i in 0..<n {
                    var s = 0.0
                    for t in 0..<d { let u = v[i * d + t] - v[current * d + t]; s += u * u }
                    if s < nearest[i] { nearest[i] = s }
                    if nearest[i] > farDist { farDist = nearest[i]; far = i }
                }
                radius = farDist.squareRoot()
                if chosen.count == m { break }
                chosen.append(far)
                current = far
            }
        }
        return (chosen, radius)
    }

    /// Principal components: the top `components` eigenvectors of the covariance matrix (LAPACKE dsyevr), the
    /// variances along them and the projections of the centred points.
    public static func pca(_ cloud: PointCloud, components c: Int) throws -> PCAResult {
        let n = cloud.count, d = cloud.dimension
        guard c >= 1, c <= d else {
            throw GlassboxError.invalidArgument(name: "components", expected: "1…\(d)", found: "\(c)")
        }
        guard n >= 2 else {
            throw GlassboxError.invalidArgument(name: "points", expected: "at least 2 points for PCA", found: "\(n)")
        }
        var mean = [Double](repeating: 0, count: d)
        for i in 0..<n { for t in 0..<d { mean[t] += cloud.values[i * d + t] } }
        for t in 0..<d { mean[t] /= Double(n) }
        var cov = [Double](repeating: 0, count: d * d)
        for i in 0..<n {
            for a in 0..<d {
                let xa = cloud.values[i * d + a] - mean[a]
                for b in a..<d { cov[a * d + b] += xa * (cloud.values[i * d + b] - mean[b]) }
            }
        }
        for a in 0..<d { for b in a..<d { cov[a * d + b] /= Double(n - 1); cov[b * d + a] = cov[a * d + b] } }
        let (w, z) = try LinearAlgebra.topEigen(symmetric: cov, n: d, count: c)
        var comps: [[Double]] = []
        var vars: [Double] = []
        for col in stride(from: c - 1, through: 0, by: -1) {
            var v = (0..<d).map { z[$0 * c + col] }
            let big = v.indices.max { abs(v[$0]) < abs(v[$1]) }!
            if v[big] < 0 { v = v.map { -$0 } }
            comps.append(v)
            vars.append(max(0, w[col]))
        }
        var proj = [Double](repeating: 0, count: n * c)
        for i in 0..<n {
            for (ci, v) in comps.enumerated() {
                var s = 0.0
                for t in 0..<d { s += (cloud.values[i * d + t] - mean[t]) * v[t] }
                proj[i * c + ci] = s
            }
        }
        return PCAResult(mean: mean, components: comps, variances: vars, projections: proj)
    }
}
