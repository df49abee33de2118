/// Exact, optimal k-means in one dimension by dynamic programming (Wang & Song 2011, Ckmeans.1d.dp), replacing the
/// reference code's Lloyd runs: the result is the global minimum of the within-cluster sum of squares and does not
/// depend on a seed.
///
/// In sorted order an optimal clustering is a split into contiguous runs. With D[q][j] the least cost of putting the
/// first j+1 distinct values into q clusters, D[q][j] = min over i of D[q−1][i−1] + cost(i…j). The best i is
/// non-decreasing in j (the cost has the Monge property), so each row is filled by divide and conquer in
/// O(m log m) cost evaluations (Ckmeans.1d.dp's "loglinear" method): O(k·m log m) in all, m distinct values.
/// Equal values are merged first (with their multiplicity as weight), so ties are never split and fewer than k
/// distinct values give fewer clusters. Ties between splits of equal cost go to the leftmost split.
public enum OptimalKMeans1D {
    public struct Cluster: Codable, Equatable, Sendable {
        /// Smallest and largest value in the cluster.
        public var min: Float
        public var max: Float
        /// Number of values (with multiplicity).
        public var count: Int
        public var mean: Double
    }

    public struct Result: Equatable, Sendable {
        /// Clusters in ascending order of value.
        public var clusters: [Cluster]
        /// Within-cluster sum of squared deviations from the cluster means.
        public var cost: Double
    }

    /// `k` < 1 is taken as 1. Values must be finite (`UnitActivations` checks that).
    public static func cluster(_ values: [Float], k: Int) -> Result {
        let k = max(1, k)
        guard !values.isEmpty else { return Result(clusters: [], cost: 0) }
        let sorted = sortedFloats(values)
        var u: [Float] = [], w: [Double] = []
        for v in sorted {
            if let last = u.last, last == v { w[w.count - 1] += 1 } else { u.append(v); w.append(1) }
        }
        let m = u.count, kk = Swift.min(k, m)
        // Prefix sums around the mean, so S2 − S1²/W loses little to cancellation.
        let shift = sorted.reduce(0.0) { $0 + Double($1) } / Double(sorted.count)
        var W = [Double](repeating: 0, count: m + 1), S1 = W, S2 = W
        for i in 0..<m {
            let d = Double(u[i]) - shift
            W[i + 1] = W[i] + w[i]; S1[i + 1] = S1[i] + w[i] * d; S2[i + 1] = S2[i] + w[i] * d * d
        }
        @inline(__always) func cost(_ i: Int, _ j: Int) -> Double {   // values i…j inclusive
            let ww = W[j + 1] - W[i], s = S1[j + 1] - S1[i]
            return Swift.max(0, (S2[j + 1] - S2[i]) - s * s / ww)
        }
        var prev = (0..<m).map { cost(0, $0) }
        var cur = [Double](repeating: .infinity, count: m)
        var split = [[Int32]](repeating: [], count: kk)   // split[q][j]: first index of the last cluster
        split[0] = [Int32](repeating: 0, count: m)
        if kk >= 2 {
            for q in 1..<kk {
                var s = [Int32](repeating: 0, count: m)
                // Fill cur[j] for j in lo…hi knowing the best i lies in optLo…optHi.
                func fill(_ lo: Int, _ hi: Int, _ optLo: Int, _ optHi: Int) {
                    guard lo <= hi else { return }
                    let mid = (lo + hi) / 2
                    var best = Double.infinity, bestI = Swift.max(optLo, q)
                    for i in Swift.max(optLo, q)...Swift.min(optHi, mid) {
                        let c = prev[i - 1] + cost(i, mid)
                        if c < best { best = c; bestI = i }
                    }
                    cur[mid] = best
                    s[mid] = Int32(bestI)
                    fill(lo, mid - 1, optLo, bestI)
                    fill(mid + 1, hi, bestI, optHi)
                }
                fill(q, m - 1, q, m - 1)
                split[q] = s
                swap(&prev, &cur)
                for j in 0..<m { cur[j] = .infinity }
            }
        }
        // Back-track the splits.
        var bounds: [(Int, Int)] = []
        var j = m - 1
        for q in stride(from: kk - 1, through: 0, by: -1) {
            let i = q == 0 ? 0 : Int(split[q][j])
            bounds.append((i, j))
            j = i - 1
        }
        bounds.reverse()
        let clusters = bounds.map { i, j -> Cluster in
            let ww = W[j + 1] - W[i]
            return Cluster(min: u[i], max: u[j], count: Int(ww), mean: shift + (S1[j + 1] - S1[i]) / ww)
        }
        return Result(clusters: clusters, cost: bounds.reduce(0) { $0 + cost($1.0, $1.1) })
    }

    /// Ascending order of finite floats by a least-significant-digit radix sort on their bits (three 11-bit passes),
    /// mapped so that unsigned order is numeric order: much faster than a comparison sort on millions of values.
    public static func sortedFloats(_ values: [Float]) -> [Float] {
        let n = values.count
        guard n > 64 else { return values.sorted() }
        var a = [UInt32](repeating: 0, count: n), b = a
        var count = [Int](repeating: 0, count: 2049)
        a.withUnsafeMutableBufferPointer { ap in
            b.withUnsafeMutableBufferPointer { bp in
                count.withUnsafeMutableBufferPointer { cp in
                    values.withUnsafeBufferPointer { v in
                        for i in 0..<n {
                            let bits = v[i].bitPattern
                            ap[i] = bits & 0x8000_0000 != 0 ? ~bits : bits | 0x8000_0000
                        }
                    }
                    var src = ap.baseAddress!, dst = bp.baseAddress!
                    let c = cp.baseAddress!
                    for pass in 0..<3 {
                        let shift = UInt32(pass * 11)
                        c.update(repeating: 0, count: 2049)
                        for i in 0..<n { c[Int((src[i] >> shift) & 0x7FF) + 1] += 1 }
                        for i in 0..<2048 { c[i + 1] += c[i] }
                        for i in 0..<n {
                            let d = Int((src[i] >> shift) & 0x7FF)
                            dst[c[d]] = src[i]
                            c[d] += 1
                        }
                        swap(&src, &dst)
                    }
                }
            }
        }
        // Three passes: the sorted keys are in b.
        return b.map { k in Float(bitPattern: k & 0x8000_0000 != 0 ? k & 0x7FFF_FFFF : ~k) }
    }
}
