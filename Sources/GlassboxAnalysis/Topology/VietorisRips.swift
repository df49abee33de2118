import Foundation
import GlassboxCore

/// Persistent homology of the Vietoris–Rips filtration (closed balls: an edge {i, j} enters at d(i, j)).
///
/// Implementation after the ideas published for Ripser (U. Bauer, J. Appl. Comput. Topol. 5, 2021), written from
/// the paper's description:
/// - the filtration orders simplices by diameter; ties between simplices of one dimension are broken by
///   *descending* combinatorial index (any fixed tie-break gives the same barcode);
/// - a k-simplex {v_k > … > v_0} is the integer Σ C(v_i, i + 1) (combinatorial number system), decoded on demand;
/// - H0 by union–find over the edges in filtration order (Kruskal); the edges that merge components are the
///   pivots of the 0-dimensional reduction and are *cleared* (never become H1 columns);
/// - H_d, d ≥ 1, by reducing the coboundary matrix (cohomology) with columns in reverse filtration order; the
///   coboundary is never stored: cofacets are enumerated from the simplex index, only the reduction
///   combination V of each reduced column is kept;
/// - clearing (Chen–Kerber twist): a (d+1)-simplex that is the pivot of a d-column is not a (d+1)-column;
/// - emergent pairs: when the first cofacet of equal diameter (= the pivot of the unreduced column) is not yet a
///   pivot, the column is already reduced — no heap, no reduction (zero-length pair, not listed);
/// - coefficients in Z/p with a table of modular inverses.
public enum VietorisRips {
    /// Barcodes from a point cloud: `points` holds `count` rows of `dimension` coordinates (row-major).
    /// Euclidean distances are computed in Double.
    public static func barcodes(points: [Double], dimension d: Int, maxDimension: Int = 1, threshold: Double? = nil,
                                modulus: Int = 2) throws -> Barcodes {
        guard d > 0 else { throw GlassboxError.invalidArgument(name: "dimension", expected: "> 0", found: "\(d)") }
        guard points.count % d == 0 else {
            throw GlassboxError.invalidArgument(name: "points", expected: "a multiple of dimension \(d) values",
                                                found: "\(points.count) values")
        }
        if let bad = points.firstIndex(where: { !$0.isFinite }) {
            throw GlassboxError.invalidArgument(name: "points", expected: "finite coordinates",
                                                found: "\(points[bad]) at row \(bad / d), column \(bad % d)")
        }
        let n = points.count / d
        var dist = [Double](repeating: 0, count: n * n)
        points.withUnsafeBufferPointer { p in
            for i in 0..<n {
                for j in (i + 1)..<max(i + 1, n) {
                    var s = 0.0
                    for k in 0..<d { let t = p[i * d + k] - p[j * d + k]; s += t * t }
                    let r = s.squareRoot()
                    dist[i * n + j] = r
                    dist[j * n + i] = r
                }
            }
        }
        return try compute(dist: dist, n: n, maxDimension: maxDimension, threshold: threshold, modulus: modulus)
    }

    /// Barcodes from a full symmetric n×n distance matrix (row-major, zero diagonal).
    public static func barcodes(distances: [Double], maxDimension: Int = 1, threshold: Double? = nil,
                                modulus: Int = 2) throws -> Barcodes {
        let n = Int(Double(distances.count).squareRoot().rounded())
        guard n * n == distances.count else {
            throw GlassboxError.invalidArgument(name: "distances", expected: "n×n values (a square matrix)",
                                                found: "\(distances.count) values")
        }
        for i in 0..<n {
            guard distances[i * n + i] == 0 else {
                throw GlassboxError.invalidArgument(name: "distances", expected: "zero diagonal",
                                                    found: "\(distances[i * n + i]) at (\(i), \(i))")
            }
            for j in (i + 1)..<max(i + 1, n) {
                let a = distances[i * n + j], b = distances[j * n + i]
                guard a.isFinite, a >= 0 else {
                    throw GlassboxError.invalidArgument(name: "distances", expected: "finite non-negative values",
                                                        found: "\(a) at (\(i), \(j))")
                }
                guard a == b else {
                    throw GlassboxError.invalidArgument(name: "distances", expected: "a symmetric matrix",
                                                        found: "\(a) at (\(i), \(j)) but \(b) at (\(j), \(i))")
                }
            }
        }
        return try compute(dist: distances, n: n, maxDimension: maxDimension, threshold: threshold, modulus: modulus)
    }

    /// min over points of the largest distance from that point: beyond it the Rips complex is a cone
    /// (contractible), so no bar is lost by stopping there.
    public static func enclosingRadius(distances: [Double], n: Int) -> Double {
        var best = Double.infinity
        for i in 0..<n {
            var m = 0.0
            for j in 0..<n { m = max(m, distances[i * n + j]) }
            best = min(best, m)
        }
        return n == 0 ? 0 : best
    }

    public static func isPrime(_ p: Int) -> Bool {
        if p < 2 { return false }
        var q = 2
        while q * q <= p { if p % q == 0 { return false }; q += 1 }
        return true
    }

    static func compute(dist: [Double], n: Int, maxDimension: Int, threshold: Double?, modulus: Int) throws -> Barcodes {
        guard (0...2).contains(maxDimension) else {
            throw GlassboxError.invalidArgument(name: "maxDimension", expected: "0, 1 or 2", found: "\(maxDimension)")
        }
        guard isPrime(modulus), modulus < 1 << 16 else {
            throw GlassboxError.invalidArgument(name: "modulus", expected: "a prime below 65536", found: "\(modulus)")
        }
        if let t = threshold, !(t >= 0 && t.isFinite) {
            throw GlassboxError.invalidArgument(name: "threshold", expected: "a finite non-negative number", found: "\(t)")
        }
        guard n > 0 else { return Barcodes(bars: Array(repeating: [], count: maxDimension + 1), threshold: threshold ?? 0,
                                           modulus: modulus, pointCount: 0) }
        // Simplex indices of the cofacets must fit in 47 bits (see CoboundaryEntry).
        var top = 1.0
        for i in 0..<(maxDimension + 2) { top = top * Double(n - i) / Double(i + 1) }
        guard top < Double(1 << 47) else {
            throw GlassboxError.invalidArgument(name: "points", expected: "fewer points for dimension \(maxDimension) (C(n, \(maxDimension + 2)) < 2⁴⁷)",
                                                found: "\(n)")
        }
        let t = threshold ?? enclosingRadius(distances: dist, n: n)
        let engine = RipsEngine(dist: dist, n: n, maxDimension: maxDimension, threshold: t, modulus: modulus)
        var bars = engine.run()
        for d in bars.indices {
            bars[d].sort { ($0.birth, $0.death) < ($1.birth, $1.death) }
        }
        return Barcodes(bars: bars, threshold: t, modulus: modulus, pointCount: n)
    }
}

/// A simplex of the filtration: its combinatorial index and its diameter.
struct RipsSimplex {
    var index: Int
    var diameter: Double
}

/// Heap entry of a working coboundary column: 16 bytes, the coefficient (< 2¹⁶) packed above the simplex index
/// (< 2⁴⁷), which halves the memory traffic of the heap compared with three words.
struct CoboundaryEntry {
    var diameter: Double
    var packed: Int

    @inline(__always) init(diameter: Double, index: Int, coef: Int) {
        self.diameter = diameter
        packed = index | coef << 47
    }

    @inline(__always) var index: Int { packed & (1 << 47 - 1) }
    @inline(__always) var coef: Int { packed >> 47 }
}

/// Binary min-heap in filtration order (smaller diameter first, ties: larger index first).
struct CoboundaryHeap {
    var items: [CoboundaryEntry] = []

    @inline(__always) static func before(_ a: CoboundaryEntry, _ b: CoboundaryEntry) -> Bool {
        a.diameter < b.diameter || (a.diameter == b.diameter && a.index > b.index)
    }

    var top: CoboundaryEntry? { items.first }
    var isEmpty: Bool { items.isEmpty }
    mutating func removeAll() { items.removeAll(keepingCapacity: true) }

    mutating func push(_ e: CoboundaryEntry) {
        items.append(e)
        var i = items.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            if Self.before(items[i], items[parent]) { items.swapAt(i, parent); i = parent } else { break }
        }
    }

    mutating func pop() -> CoboundaryEntry? {
        guard let first = items.first else { return nil }
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var i = 0
            let count = items.count
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < count && Self.before(items[l], items[m]) { m = l }
                if r < count && Self.before(items[r], items[m]) { m = r }
                if m == i { break }
                items.swapAt(i, m)
                i = m
            }
        }
        return first
    }
}

final class RipsEngine {
    let n: Int
    let maxDimension: Int
    let threshold: Double
    let p: Int
    let dist: UnsafeMutablePointer<Double>
    /// binom[k * (n + 1) + v] = C(v, k) for k ≤ maxDimension + 2.
    let binom: [Int]
    let inverse: [Int]

    init(dist d: [Double], n: Int, maxDimension: Int, threshold: Double, modulus: Int) {
        self.n = n
        self.maxDimension = maxDimension
        self.threshold = threshold
        self.p = modulus
        dist = .allocate(capacity: n * n)
        dist.initialize(from: d, count: n * n)
        let kmax = maxDimension + 2
        var b = [Int](repeating: 0, count: (kmax + 1) * (n + 1))
        for v in 0...n {
            b[v] = 1
            if v > 0 {
                for k in 1...kmax {
                    b[k * (n + 1) + v] = b[k * (n + 1) + v - 1] + b[(k - 1) * (n + 1) + v - 1]
                }
            }
        }
        binom = b
        var inv = [Int](repeating: 0, count: modulus)
        if modulus > 1 {
            inv[1] = 1
            // inv[a] = -(p / a) · inv[p mod a] (mod p)
            for a in stride(from: 2, to: modulus, by: 1) {
                inv[a] = (modulus - (modulus / a) * inv[modulus % a] % modulus) % modulus
            }
        }
        inverse = inv
    }

    deinit { dist.deallocate() }

    @inline(__always) func C(_ v: Int, _ k: Int) -> Int { binom[k * (n + 1) + v] }

    /// Vertices of the k-simplex `index`, largest first.
    func vertices(_ index: Int, dimension k: Int, into out: inout [Int]) {
        out.removeAll(keepingCapacity: true)
        var idx = index
        var top = n - 1
        for r in stride(from: k + 1, through: 1, by: -1) {
            // largest v ≤ top with C(v, r) ≤ idx
            var lo = r - 1, hi = top
            while lo < hi {
                let mid = (lo + hi + 1) / 2
                if C(mid, r) <= idx { lo = mid } else { hi = mid - 1 }
            }
            out.append(lo)
            idx -= C(lo, r)
            top = lo - 1
        }
    }

    func run() -> [[PersistenceBar]] {
        var bars = [[PersistenceBar]](repeating: [], count: maxDimension + 1)
        // Edges ≤ threshold in filtration order: diameter ascending, index descending.
        var edges: [RipsSimplex] = []
        for j in 1..<max(1, n) {
            for i in 0..<j {
                let d = dist[i * n + j]
                if d <= threshold { edges.append(RipsSimplex(index: j * (j - 1) / 2 + i, diameter: d)) }
            }
        }
        edges.sort { $0.diameter < $1.diameter || ($0.diameter == $1.diameter && $0.index > $1.index) }

        // H0: union–find (path halving, union by size).
        var parent = Array(0..<n)
        var size = [Int](repeating: 1, count: n)
        func find(_ x: Int) -> Int {
            var x = x
            while parent[x] != x { parent[x] = parent[parent[x]]; x = parent[x] }
            return x
        }
        var columns: [RipsSimplex] = []   // H1 columns: edges that do not merge components
        columns.reserveCapacity(max(0, edges.count - n + 1))
        for e in edges {
            let j = Int((1 + (1 + 8 * Double(e.index)).squareRoot()) / 2)
            var jj = j
            while jj * (jj - 1) / 2 > e.index { jj -= 1 }
            while (jj + 1) * jj / 2 <= e.index { jj += 1 }
            let i = e.index - jj * (jj - 1) / 2
            var a = find(i), b = find(jj)
            if a != b {
                if size[a] < size[b] { swap(&a, &b) }
                parent[b] = a
                size[a] += size[b]
                if e.diameter > 0 { bars[0].append(PersistenceBar(birth: 0, death: e.diameter)) }
            } else if maxDimension >= 1 {
                columns.append(e)
            }
        }
        for v in 0..<n where find(v) == v { bars[0].append(PersistenceBar(birth: 0, death: .infinity)) }
        guard maxDimension >= 1 else { return bars }

        var simplices = edges   // all 1-simplices ≤ threshold
        for k in 1...maxDimension {
            columns.reverse()   // reverse filtration order
            let pivots = reduce(columns: columns, dimension: k, bars: &bars[k])
            if k == maxDimension { break }
            // Next dimension: all (k+1)-simplices ≤ threshold, generated once each as "top cofacets" of a
            // k-simplex (new vertex above all its vertices), minus the pivots just found (clearing).
            var next: [RipsSimplex] = []
            var verts: [Int] = []
            for s in simplices {
                vertices(s.index, dimension: k, into: &verts)
                var v = n - 1
                while v > verts[0] {
                    var diam = s.diameter
                    for w in verts { diam = max(diam, dist[v * n + w]) }
                    if diam <= threshold {
                        next.append(RipsSimplex(index: s.index + C(v, k + 2), diameter: diam))
                    }
                    v -= 1
                }
            }
            next.sort { $0.diameter < $1.diameter || ($0.diameter == $1.diameter && $0.index > $1.index) }
            simplices = next
            columns = next.filter { pivots[$0.index] == nil }
        }
        return bars
    }

    /// Calls `body(cofacetIndex, cofacetDiameter, sign)` for each cofacet ≤ threshold of the k-simplex with
    /// vertices `verts` (largest first), in decreasing index order. `body` returns false to stop.
    @inline(__always)
    func forEachCofacet(index: Int, diameter: Double, verts: [Int], dimension k: Int,
                        _ body: (Int, Double, Bool) -> Bool) {
        var a = 0
        var idxAbove = 0
        var idxBelow = index
        var v = n - 1
        while v >= 0 {
            if a <= k && v == verts[a] {
                idxBelow -= C(v, k - a + 1)
                idxAbove += C(v, k - a + 2)
                a += 1
                v -= 1
                continue
            }
            var diam = diameter
            let row = dist + v * n
            for w in verts { let x = row[w]; if x > diam { diam = x } }
            if diam <= threshold {
                let idx = idxAbove + C(v, k + 2 - a) + idxBelow
                if !body(idx, diam, a & 1 == 1) { return }
            }
            v -= 1
        }
    }

    /// Reduces the coboundary columns of dimension k (given in reverse filtration order); appends bars; returns the
    /// pivots (cofacet index → column slot).
    func reduce(columns: [RipsSimplex], dimension k: Int, bars: inout [PersistenceBar]) -> [Int: Int] {
        var pivotOf: [Int: Int] = [:]
        pivotOf.reserveCapacity(columns.count)
        // Reduction combination of each stored column: flat entries with offsets; plus its pivot coefficient.
        var vIndex: [Int] = [], vDiam: [Double] = [], vCoef: [Int] = []
        var vStart: [Int] = [0]
        var pivotCoef: [Int] = []
        var heap = CoboundaryHeap()
        var verts: [Int] = []
        verts.reserveCapacity(k + 2)
        var work: [(Int, Double, Int)] = []

        func pushCoboundary(_ index: Int, _ diameter: Double, _ coef: Int) {
            vertices(index, dimension: k, into: &verts)
            forEachCofacet(index: index, diameter: diameter, verts: verts, dimension: k) { idx, d, negative in
                let c = negative ? (p - coef) % p : coef
                heap.push(CoboundaryEntry(diameter: d, index: idx, coef: c))
                return true
            }
        }
        func popPivot() -> CoboundaryEntry? {
            while let top = heap.pop() {
                var c = top.coef
                while let nxt = heap.top, nxt.index == top.index { c = (c + nxt.coef) % p; _ = heap.pop() }
                if c != 0 {
                    let e = CoboundaryEntry(diameter: top.diameter, index: top.index, coef: c)
                    heap.push(e)
                    return e
                }
            }
            return nil
        }
        func store(_ entries: [(Int, Double, Int)], pivot: CoboundaryEntry) {
            pivotOf[pivot.index] = pivotCoef.count
            pivotCoef.append(pivot.coef)
            if entries.count == 1 {
                vIndex.append(entries[0].0); vDiam.append(entries[0].1); vCoef.append(entries[0].2)
            } else {
                // Merge repeated simplices (sum their coefficients mod p, drop zeros): each stored entry costs a full
                // coboundary enumeration whenever this column is added to another.
                let sorted = entries.sorted { $0.0 < $1.0 }
                var i = 0
                while i < sorted.count {
                    var c = 0
                    var j = i
                    while j < sorted.count && sorted[j].0 == sorted[i].0 { c = (c + sorted[j].2) % p; j += 1 }
                    if c != 0 { vIndex.append(sorted[i].0); vDiam.append(sorted[i].1); vCoef.append(c) }
                    i = j
                }
            }
            vStart.append(vIndex.count)
        }

        for col in columns {
            // Emergent pair: the first cofacet of equal diameter is the pivot of the unreduced column.
            vertices(col.index, dimension: k, into: &verts)
            var emergent: CoboundaryEntry?
            var sawEqual = false
            forEachCofacet(index: col.index, diameter: col.diameter, verts: verts, dimension: k) { idx, d, negative in
                if d == col.diameter {
                    sawEqual = true
                    if pivotOf[idx] == nil { emergent = CoboundaryEntry(diameter: d, index: idx, coef: negative ? p - 1 : 1) }
                    return false
                }
                return true
            }
            _ = sawEqual
            if let e = emergent {
                store([(col.index, col.diameter, 1)], pivot: e)
                continue
            }
            heap.removeAll()
            work.removeAll(keepingCapacity: true)
            work.append((col.index, col.diameter, 1))
            pushCoboundary(col.index, col.diameter, 1)
            var pivot = popPivot()
            while let pv = pivot, let j = pivotOf[pv.index] {
                // column += factor · column_j, factor = −pv.coef / pivotCoef[j]
                let factor = (p - pv.coef * inverse[pivotCoef[j]] % p) % p
                for e in vStart[j]..<vStart[j + 1] {
                    let c = vCoef[e] * factor % p
                    if c == 0 { continue }
                    work.append((vIndex[e], vDiam[e], c))
                    pushCoboundary(vIndex[e], vDiam[e], c)
                }
                pivot = popPivot()
            }
            if let pv = pivot {
                if pv.diameter > col.diameter { bars.append(PersistenceBar(birth: col.diameter, death: pv.diameter)) }
                store(work, pivot: pv)
            } else {
                bars.append(PersistenceBar(birth: col.diameter, death: .infinity))
            }
        }
        return pivotOf
    }
}

public extension VietorisRips {
    /// Barcodes of a `PointCloud` (Euclidean distances).
    static func barcodes(_ cloud: PointCloud, maxDimension: Int = 1, threshold: Double? = nil,
                         modulus: Int = 2) throws -> Barcodes {
        try barcodes(points: cloud.values, dimension: cloud.dimension, maxDimension: maxDimension,
                     threshold: threshold, modulus: modulus)
    }
}
