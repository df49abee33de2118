import GlassboxCore

/// Lloyd's k-means with k-means++ seeding and several seeded restarts, for a few hundred to a few thousand
/// points of low dimension (the spectral embeddings of co-clustering). Points are one flat row-major array;
/// the loops work on preallocated buffers (no allocation per point or per iteration).
public enum KMeans {
    public struct Result: Equatable, Sendable {
        /// Cluster of each point, 0..<k.
        public var labels: [Int]
        /// Centres, `k × dim`, row-major.
        public var centers: [Double]
        /// Sum of squared distances of the points to their centres.
        public var inertia: Double
    }

    /// Clusters `count` points of dimension `dim` (`points` is `count × dim`, row-major) into `k` groups.
    /// The best of `restarts` runs (lowest inertia; the earliest on ties) is returned. Same seed, same result.
    public static func fit(points: [Double], count n: Int, dim d: Int, k: Int, restarts: Int = 10,
                           maxIterations: Int = 300, seed: UInt64) throws -> Result {
        guard n > 0, d > 0, points.count == n * d else {
            throw GlassboxError.shapeMismatch(what: "k-means points", expected: [n, d], found: [points.count])
        }
        guard k >= 1, k <= n else {
            throw GlassboxError.invalidArgument(name: "k", expected: "1 … \(n) clusters (one per point at most)", found: "\(k)")
        }
        var g = SeededGenerator(seed: seed)
        var best: Result?
        var labels = [Int](repeating: 0, count: n)
        var centers = [Double](repeating: 0, count: k * d)
        var sums = [Double](repeating: 0, count: k * d)
        var counts = [Int](repeating: 0, count: k)
        var dist = [Double](repeating: 0, count: n)
        // Converged when the centres moved by at most tolerance × the data's mean per-dimension variance
        // (the convention of scikit-learn's KMeans, tol = 1e-4), or when no label changes.
        var mean = [Double](repeating: 0, count: d), variance = 0.0
        for p in 0..<n { for t in 0..<d { mean[t] += points[p * d + t] / Double(n) } }
        for p in 0..<n { for t in 0..<d { let e = points[p * d + t] - mean[t]; variance += e * e / Double(n) } }
        let shiftTolerance = 1e-4 * variance / Double(d)
        for _ in 0..<max(1, restarts) {
            points.withUnsafeBufferPointer { xp in
                let x = xp.baseAddress!
                labels.withUnsafeMutableBufferPointer { lp in
                    centers.withUnsafeMutableBufferPointer { cp in
                        sums.withUnsafeMutableBufferPointer { sp in
                            counts.withUnsafeMutableBufferPointer { np in
                                dist.withUnsafeMutableBufferPointer { dp in
                                    seedPlusPlus(x, n: n, d: d, k: k, centers: cp.baseAddress!, dist: dp.baseAddress!, g: &g)
                                    lloyd(x, n: n, d: d, k: k, centers: cp.baseAddress!, labels: lp.baseAddress!, sums: sp.baseAddress!,
                                          counts: np.baseAddress!, dist: dp.baseAddress!, maxIterations: maxIterations,
                                          shiftTolerance: shiftTolerance)
                                }
                            }
                        }
                    }
                }
            }
            let inertia = dist.reduce(0, +)
            if best == nil || inertia < best!.inertia { best = Result(labels: labels, centers: centers, inertia: inertia) }
        }
        return best!
    }

    @inline(__always)
    static func sqDist(_ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>, _ d: Int) -> Double {
        var s = 0.0
        for t in 0..<d { let e = a[t] - b[t]; s += e * e }
        return s
    }

    /// k-means++: the first centre uniformly, each next one with probability ∝ squared distance to the nearest chosen.
    /// The closest centre to a point and its squared distance (first one on ties).
    @inline(__always)
    static func nearest(_ xp: UnsafePointer<Double>, _ centers: UnsafeMutablePointer<Double>, k: Int, d: Int) -> (Int, Double) {
        var bestC = 0, bestD = Double.infinity
        for c in 0..<k {
            let e = sqDist(xp, centers + c * d, d)
            if e < bestD { bestD = e; bestC = c }
        }
        return (bestC, bestD)
    }

    static func seedPlusPlus(_ x: UnsafePointer<Double>, n: Int, d: Int, k: Int, centers: UnsafeMutablePointer<Double>,
                             dist: UnsafeMutablePointer<Double>, g: inout SeededGenerator) {
        let first = g.int(below: n)
        (centers).update(from: x + first * d, count: d)
        var total = 0.0
        for p in 0..<n { dist[p] = sqDist(x + p * d, centers, d); total += dist[p] }
        for c in 1..<max(1, k) where c < k {
            var pick = n - 1
            if total > 0 {
                let r = Double(g.uniform()) * total
                var acc = 0.0
                for p in 0..<n { acc += dist[p]; if acc > r { pick = p; break } }
            } else {
                pick = g.int(below: n)
            }
            let cc = centers + c * d
            cc.update(from: x + pick * d, count: d)
            total = 0
            for p in 0..<n {
                let e = sqDist(x + p * d, cc, d)
                if e < dist[p] { dist[p] = e }
                total += dist[p]
            }
        }
    }

    /// Lloyd iterations until no label changes. An emptied cluster takes the point farthest from its centre.
    /// On return `dist[p]` is point p's squared distance to its centre.
    static func lloyd(_ x: UnsafePointer<Double>, n: Int, d: Int, k: Int, centers: UnsafeMutablePointer<Double>,
                      labels: UnsafeMutablePointer<Int>, sums: UnsafeMutablePointer<Double>, counts: UnsafeMutablePointer<Int>,
                      dist: UnsafeMutablePointer<Double>, maxIterations: Int, shiftTolerance: Double = 0) {
        for p in 0..<n { labels[p] = -1 }
        for _ in 0..<maxIterations {
            var changed = false
            for p in 0..<n {
                let (bestC, bestD) = nearest(x + p * d, centers, k: k, d: d)
                dist[p] = bestD
                if labels[p] != bestC { labels[p] = bestC; changed = true }
            }
            if !changed { break }
            sums.update(repeating: 0, count: k * d)
            counts.update(repeating: 0, count: k)
            for p in 0..<n {
                let c = labels[p]
                counts[c] += 1
                for t in 0..<d { sums[c * d + t] += x[p * d + t] }
            }
            var shift = 0.0
            for c in 0..<k {
                if counts[c] == 0 {
                    // Re-seed an empty cluster at the point farthest from its centre.
                    var far = 0
                    for p in 1..<n where dist[p] > dist[far] { far = p }
                    (centers + c * d).update(from: x + far * d, count: d)
                    dist[far] = 0
                } else {
                    let inv = 1 / Double(counts[c])
                    for t in 0..<d {
                        let new = sums[c * d + t] * inv, e = new - centers[c * d + t]
                        shift += e * e
                        centers[c * d + t] = new
                    }
                }
            }
            if shift <= shiftTolerance { break }
        }
        // Final assignment to the returned centres, so labels, distances and centres agree.
        for p in 0..<n { (labels[p], dist[p]) = nearest(x + p * d, centers, k: k, d: d) }
    }
}
