import Foundation
import GlassboxCore

/// Persistent homology of the Vietoris–Rips filtration (closed balls: an edge {i, j} enters at d(i, j)).
///
/// Implementation after the ideas published for Ripser (U. Bauer, J. Appl. Comput. Topol. 5, 2021), written from
/// the paper's description:
/// - the filtration orders simplices by diameter; ties between simplices of one dimension are broken by
///   *descending* combinatorial index (any fixed tie-break gives the same barcode);
/// - diameters are handled as *ranks*: the distinct edge lengths ≤ threshold are sorted once and every pairwise
///   distance is replaced by its rank (a 32-bit integer; lengths above the threshold get a sentinel). The rank of a
///   simplex is the largest rank of its edges, equal ranks mean exactly equal Double diameters, so the filtration
///   and the barcode are those of the Double distances while the matrix takes half the memory;
/// - a k-simplex {v_k > … > v_0} is the integer Σ C(v_i, i + 1) (combinatorial number system), decoded on demand;
/// - H0 by union–find over the edges in filtration order (Kruskal); the edges that merge components are the
///   pivots of the 0-dimensional reduction and are *cleared* (never become H1 columns);
/// - H_d, d ≥ 1, by reducing the coboundary matrix (cohomology) with columns in reverse filtration order; the
///   coboundary is never stored: cofacets are enumerated from the simplex index, only the reduction
///   combination V of each reduced column is kept;
/// - clearing (Chen–Kerber twist): a (d+1)-simplex that is the pivot of a d-column is not a (d+1)-column;
/// - apparent pairs: a simplex s and its cofacet t with diam s = diam t, t the first cofacet of s in the filtration
///   and s the last facet of t. The coboundary column of s then has pivot t without any reduction, and no other
///   column meets row t before it. Such pairs are recognised locally (a scan of the cofacets of s, a look at the
///   facets of t) and never stored: when a reduction meets t as pivot it adds δs directly;
/// - emergent pairs: when the first cofacet of equal diameter (= the pivot of the unreduced column) is not yet a
///   pivot, the column is already reduced — no heap, no reduction (zero-length pair, not listed);
/// - a working column entry is one integer: (diameter rank, reversed index, coefficient) packed so that integer
///   order is filtration order (64 bits when they fit, else 128; no coefficient bits for Z/2);
/// - the working column is a radix heap, not a binary heap: while one column is reduced its pivot only moves up, and
///   when a column is added to cancel the pivot, its entries up to the pivot cancel among themselves and are dropped
///   (see `RadixColumn`). Pushes are appends; the many entries beyond the final pivot are never touched again;
/// - rank window: a reduction pushes only the entries up to a rank a little above the column's (most pivots lie
///   close); if they all cancel, the window widens eightfold and the column's simplices push their next entries;
/// - pivots are kept in an open-addressing hash table keyed by simplex index;
/// - the first equal-rank cofacet of an edge (the apparent/emergent test of an H1 column) is found by comparing its
///   two matrix rows eight entries at a time; the edges are bucket-sorted by length;
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
        try checkBudget(points: n, maxDimension: maxDimension)
        var dist = [Double](repeating: 0, count: n * n)
        points.withUnsafeBufferPointer { p in
            dist.withUnsafeMutableBufferPointer { out in
                for i in 0..<n {
                    for j in (i + 1)..<max(i + 1, n) {
                        var s = 0.0
                        for k in 0..<d { let t = p[i * d + k] - p[j * d + k]; s += t * t }
                        let r = s.squareRoot()
                        out[i * n + j] = r
                        out[j * n + i] = r
                    }
                }
            }
        }
        // Finite coordinates can still be too far apart for a Double (|x| ≈ 1e200 squares to infinity); an infinite
        // length would make the threshold infinite and the edge sort meaningless (found by the fuzzer).
        if let bad = dist.firstIndex(where: { !$0.isFinite }) {
            throw GlassboxError.invalidArgument(name: "points", expected: "coordinates whose distances are finite numbers",
                                                found: "an infinite distance between rows \(bad / max(1, n)) and \(bad % max(1, n))")
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

    /// The size budget, checked before the distance matrix or the filtration is allocated: at most
    /// `Limits.points` points (the matrices hold n² entries) and at most `Limits.simplices` simplices of dimension
    /// maxdim + 1, C(n, maxdim + 2) — the columns the last reduction could meet, which is what grows fastest (700
    /// points with maxdim 2 could build 9.9·10⁹ of them and took 1.7 GB). The threshold usually keeps far fewer,
    /// so this is a bound on the worst case, not an estimate of the memory a given cloud will use.
    public static func checkBudget(points n: Int, maxDimension: Int) throws {
        guard (0...2).contains(maxDimension) else {
            throw GlassboxError.invalidArgument(name: "maxDimension", expected: "0, 1 or 2", found: "\(maxDimension)")
        }
        try Limits.points.check(n, "persistent homology")
        var top = 1.0
        for i in 0..<(maxDimension + 2) { top = top * Double(max(0, n - i)) / Double(i + 1) }
        try Limits.simplices.check(Int(top.rounded()), "persistent homology of \(n) points up to dimension \(maxDimension)")
    }

    static func compute(dist: [Double], n: Int, maxDimension: Int, threshold: Double?, modulus: Int) throws -> Barcodes {
        try checkBudget(points: n, maxDimension: maxDimension)
        guard modulus < 1 << 16, isPrime(modulus) else {   // the bound first: trial division of a 63-bit prime takes minutes
            throw GlassboxError.invalidArgument(name: "modulus", expected: "a prime below 65536", found: "\(modulus)")
        }
        if let t = threshold, !(t >= 0 && t.isFinite) {
            throw GlassboxError.invalidArgument(name: "threshold", expected: "a finite non-negative number", found: "\(t)")
        }
        guard n > 0 else { return Barcodes(bars: Array(repeating: [], count: maxDimension + 1), threshold: threshold ?? 0,
                                           modulus: modulus, pointCount: 0) }
        // Simplex indices of the cofacets must fit in 62 bits (Int arithmetic on indices and binomials).
        var top = 1.0
        for i in 0..<(maxDimension + 2) { top = top * Double(n - i) / Double(i + 1) }
        guard top < Double(1 << 62) else {
            throw GlassboxError.invalidArgument(name: "points", expected: "fewer points for dimension \(maxDimension) (C(n, \(maxDimension + 2)) < 2⁶²)",
                                                found: "\(n)")
        }
        let t = threshold ?? enclosingRadius(distances: dist, n: n)
        let filtration = RipsFiltration(dist: dist, n: n, maxDimension: maxDimension, threshold: t, modulus: modulus)
        var bars: [[PersistenceBar]]
        if filtration.keyBits <= 63 {
            bars = RipsEngine<UInt64>(filtration).run()
        } else {
            bars = RipsEngine<UInt128>(filtration).run()
        }
        for d in bars.indices {
            bars[d].sort { ($0.birth, $0.death) < ($1.birth, $1.death) }
        }
        return Barcodes(bars: bars, threshold: t, modulus: modulus, pointCount: n)
    }
}

/// The filtration in integer form: edges ≤ threshold sorted, every distance replaced by the rank of its length, the
/// binomial table of the combinatorial number system, and the bit layout of heap keys.
final class RipsFiltration {
    let n: Int
    let maxDimension: Int
    let p: Int
    /// rank[i * n + j]: rank of d(i, j) among the distinct lengths ≤ threshold, `absent` above the threshold.
    let rank: UnsafeMutablePointer<UInt32>
    static let absent = UInt32.max
    /// rank → length.
    let values: [Double]
    /// Edges ≤ threshold in filtration order (length ascending, index descending): endpoints i < j and rank.
    let edgeI: [Int32], edgeJ: [Int32], edgeRank: [UInt32]
    /// binom[m * (n + 1) + v] = C(v, m) for m ≤ maxDimension + 2.
    let binom: UnsafeMutablePointer<Int>
    /// Heap key layout, low to high bits: coefficient (none for Z/2), indexMax − index, rank.
    let coefBits: Int, indexBits: Int, rankBits: Int
    let indexMax: Int
    var keyBits: Int { coefBits + indexBits + rankBits }

    init(dist: [Double], n: Int, maxDimension: Int, threshold: Double, modulus: Int) {
        self.n = n
        self.maxDimension = maxDimension
        p = modulus
        var edges: [RipsEdge] = []
        dist.withUnsafeBufferPointer { dist in
            for j in 1..<max(1, n) {
                let row = dist.baseAddress! + j * n
                for i in 0..<j where row[i] <= threshold { edges.append(RipsEdge(d: row[i], ji: j << 32 | i)) }
            }
        }
        RipsEdge.sort(&edges, upTo: threshold)
        rank = .allocate(capacity: n * n)
        rank.initialize(repeating: Self.absent, count: n * n)
        for v in 0..<n { rank[v * n + v] = 0 }
        var values: [Double] = []
        var ei = [Int32](), ej = [Int32](), er = [UInt32]()
        ei.reserveCapacity(edges.count); ej.reserveCapacity(edges.count); er.reserveCapacity(edges.count)
        for e in edges {
            if values.last != e.d { values.append(e.d) }
            let r = UInt32(values.count - 1)
            let i = e.ji & 0xffff_ffff, j = e.ji >> 32
            rank[i * n + j] = r
            rank[j * n + i] = r
            ei.append(Int32(i)); ej.append(Int32(j)); er.append(r)
        }
        self.values = values
        edgeI = ei; edgeJ = ej; edgeRank = er
        let kmax = maxDimension + 2
        binom = .allocate(capacity: (kmax + 1) * (n + 1))
        binom.initialize(repeating: 0, count: (kmax + 1) * (n + 1))
        for v in 0...n {
            binom[v] = 1
            if v > 0 {
                for k in 1...kmax { binom[k * (n + 1) + v] = binom[k * (n + 1) + v - 1] + binom[(k - 1) * (n + 1) + v - 1] }
            }
        }
        func bits(_ x: Int) -> Int { max(1, Int.bitWidth - x.leadingZeroBitCount) }
        // Largest simplex index: C(n, m) − 1 over the simplex sizes m used (C(n, 3) > C(n, 4) for n < 7).
        var simplexCount = 1
        for m in 2...kmax { simplexCount = max(simplexCount, binom[m * (n + 1) + n]) }
        indexMax = simplexCount - 1
        indexBits = bits(indexMax)
        rankBits = bits(max(0, values.count - 1))
        coefBits = modulus == 2 ? 0 : bits(modulus - 1)
    }

    deinit {
        rank.deallocate()
        binom.deallocate()
    }
}

/// An edge for sorting: its length and j << 32 | i (i < j), so that descending `ji` is descending index.
struct RipsEdge {
    var d: Double
    var ji: Int

    @inline(__always) static func before(_ a: RipsEdge, _ b: RipsEdge) -> Bool { a.d < b.d || (a.d == b.d && a.ji > b.ji) }

    /// Sorts into filtration order (length ascending, index descending). Lengths lie in [0, threshold], so one
    /// counting pass on ⌊d · B / threshold⌋ (monotone in d) spreads them over B ≈ count / 4 buckets, which are then
    /// sorted one by one — insertion sort for the usual handful, the standard sort for a crowded bucket.
    static func sort(_ edges: inout [RipsEdge], upTo threshold: Double) {
        let m = edges.count
        guard m > 64, threshold > 0, threshold.isFinite else { edges.sort(by: before); return }
        let buckets = m / 4
        let scale = Double(buckets) / threshold
        guard scale.isFinite else { edges.sort(by: before); return }
        var start = [Int](repeating: 0, count: buckets + 2)
        var sorted = edges
        edges.withUnsafeBufferPointer { e in
            start.withUnsafeMutableBufferPointer { start in
                for x in e { start[Swift.min(buckets, Int(x.d * scale)) + 1] += 1 }
                for b in 0...buckets { start[b + 1] += start[b] }
                var next = Array(start)
                sorted.withUnsafeMutableBufferPointer { out in
                    for x in e {
                        let b = Swift.min(buckets, Int(x.d * scale))
                        out[next[b]] = x
                        next[b] += 1
                    }
                    for b in 0...buckets {
                        let lo = start[b], hi = start[b + 1]
                        if hi - lo > 32 {
                            out[lo..<hi].sort(by: before)
                        } else if hi - lo > 1 {
                            for i in (lo + 1)..<hi {
                                let x = out[i]
                                var j = i - 1
                                while j >= lo && before(x, out[j]) { out[j + 1] = out[j]; j -= 1 }
                                out[j + 1] = x
                            }
                        }
                    }
                }
            }
        }
        edges = sorted
    }
}

/// Open-addressing hash table (linear probing) from simplex index to column slot; key and slot side by side, so a
/// probe costs one cache line.
struct PivotTable {
    private struct Entry { var key: Int; var slot: Int }
    private var entries: UnsafeMutablePointer<Entry>
    private var mask: Int
    private var shift: Int
    private(set) var count = 0

    init(capacity: Int) {
        var size = 16
        while size < 2 * capacity { size <<= 1 }
        mask = size - 1
        shift = Int.bitWidth - size.trailingZeroBitCount
        entries = .allocate(capacity: size)
        entries.initialize(repeating: Entry(key: -1, slot: 0), count: size)
    }

    func deallocate() { entries.deallocate() }

    /// Fibonacci hashing: the top bits of key · 2⁶⁴/φ.
    @inline(__always) private func home(_ key: Int) -> Int {
        Int(bitPattern: UInt(bitPattern: key &* -7_046_029_254_386_353_131) >> UInt(shift))
    }

    /// The column slot whose pivot is `key`, or −1.
    @inline(__always) func find(_ key: Int) -> Int {
        var h = home(key)
        while true {
            let e = entries[h]
            if e.key == key { return e.slot }
            if e.key == -1 { return -1 }
            h = (h + 1) & mask
        }
    }

    mutating func insert(_ key: Int, _ slot: Int) {
        if 2 * (count + 1) > mask + 1 { grow() }
        var h = home(key)
        while entries[h].key != -1 { h = (h + 1) & mask }
        entries[h] = Entry(key: key, slot: slot)
        count += 1
    }

    private mutating func grow() {
        let old = entries, oldSize = mask + 1
        let size = 2 * oldSize
        mask = size - 1
        shift -= 1
        entries = .allocate(capacity: size)
        entries.initialize(repeating: Entry(key: -1, slot: 0), count: size)
        count = 0
        for h in 0..<oldSize where old[h].key != -1 { insert(old[h].key, old[h].slot) }
        old.deallocate()
    }
}

/// The working coboundary column as a radix heap (Ahuja, Mehlhorn, Orlin & Tarjan 1990), a priority queue for
/// *monotone* use: no key pushed is smaller than the last minimum taken. The reduction of one column qualifies: its
/// pivot only moves up, and when a column is added to cancel the pivot t, the added entries at or below t cancel
/// exactly (the added column's reduced coboundary has pivot t; the working column has nothing below t), so they are
/// dropped instead of pushed.
///
/// Bucket 0 holds the keys whose simplex equals that of `last` (the current minimum); bucket b ≥ 1 the keys whose
/// simplex part first differs from last's in bit b − 1. A push appends to one bucket; taking the minimum when bucket 0
/// is empty scans the lowest non-empty bucket for its minimum and redistributes it into lower buckets. Keys beyond
/// the final pivot — most of them — are written once and never touched again, and all accesses are sequential: a
/// binary heap of the same 10⁷ keys (a long reduction in a noisy circle of 1000 points) pays a cache miss per level
/// for every pop.
struct RadixColumn<Key: FixedWidthInteger & UnsignedInteger> {
    /// A growable array of keys: [base, end) filled, [end, limit) free.
    struct Bucket {
        var base: UnsafeMutablePointer<Key>
        var end: UnsafeMutablePointer<Key>
        var limit: UnsafeMutablePointer<Key>
    }
    let buckets: UnsafeMutablePointer<Bucket>
    static var bucketCount: Int { Key.bitWidth + 1 }
    /// Low bits of a key that are not part of its simplex (the coefficient).
    let shift: Int
    /// The current minimum (meaningful once bucket 0 was filled).
    private(set) var last: Key = 0

    init(coefficientBits: Int) {
        shift = coefficientBits
        buckets = .allocate(capacity: Self.bucketCount)
        for b in 0..<Self.bucketCount {
            let base = malloc(64 * MemoryLayout<Key>.stride)!.assumingMemoryBound(to: Key.self)
            buckets[b] = Bucket(base: base, end: base, limit: base + 64)
        }
    }

    func deallocate() {
        for b in 0..<Self.bucketCount { free(buckets[b].base) }
        buckets.deallocate()
    }

    /// Empties the column; keys from 0 up may be pushed again.
    mutating func removeAll() {
        for b in 0..<Self.bucketCount { buckets[b].end = buckets[b].base }
        last = 0
    }

    /// Adds a key ≥ `last` to `buckets`. Static, with `last` and `shift` passed in, so that a loop of pushes keeps
    /// them in registers.
    @inline(__always) static func push(_ key: Key, into buckets: UnsafeMutablePointer<Bucket>, last: Key, shift: Int) {
        let d = (key ^ last) &>> shift
        let b = d == 0 ? 0 : Key.bitWidth - d.leadingZeroBitCount
        var e = buckets[b].end
        if e == buckets[b].limit { e = grow(buckets + b) }
        e.pointee = key
        buckets[b].end = e + 1
    }

    /// Doubles a full bucket; returns its new end. The buckets live in malloc'ed memory so that `realloc` can grow
    /// a large one in place (by remapping pages) instead of copying it.
    static func grow(_ bucket: UnsafeMutablePointer<Bucket>) -> UnsafeMutablePointer<Key> {
        let count = bucket.pointee.end - bucket.pointee.base
        guard let raw = realloc(bucket.pointee.base, 2 * count * MemoryLayout<Key>.stride) else {
            fatalError("VietorisRips: out of memory for a working column of \(2 * count) entries")
        }
        let bigger = raw.assumingMemoryBound(to: Key.self)
        bucket.pointee = Bucket(base: bigger, end: bigger + count, limit: bigger + 2 * count)
        return bigger + count
    }

    /// The keys of the smallest simplex (bucket 0), after `fillMinimum()` returned true.
    @inline(__always) var minimumEntries: UnsafeBufferPointer<Key> {
        UnsafeBufferPointer(start: buckets[0].base, count: buckets[0].end - buckets[0].base)
    }

    /// Drops the keys of the smallest simplex.
    @inline(__always) mutating func removeMinimum() { buckets[0].end = buckets[0].base }

    /// Makes bucket 0 non-empty if the column is not empty; returns false if it is.
    @inline(__always) mutating func fillMinimum() -> Bool {
        if buckets[0].end != buckets[0].base { return true }
        var i = 1
        while i < Self.bucketCount && buckets[i].end == buckets[i].base { i += 1 }
        if i == Self.bucketCount { return false }
        let a = buckets[i].base, c = buckets[i].end - a
        var m = a[0]
        for j in 1..<max(1, c) where a[j] < m { m = a[j] }
        last = m
        buckets[i].end = a
        // Every key of bucket i now differs from the new minimum in a lower bit: it moves to a lower bucket.
        let table = buckets, shift = shift
        for j in 0..<c { Self.push(a[j], into: table, last: m, shift: shift) }
        return true
    }
}

/// The reduction, generic over the width of heap keys (UInt64 when rank, index and coefficient fit, else UInt128).
final class RipsEngine<Key: FixedWidthInteger & UnsignedInteger> {
    let f: RipsFiltration
    let n: Int
    let p: Int
    let rank: UnsafeMutablePointer<UInt32>
    let binom: UnsafeMutablePointer<Int>
    let inverse: [Int]
    let coefBits: Int
    let rankShift: Int
    let coefMask: Key
    let indexMask: Key
    /// Scratch vertex lists (largest first), one per simplex being looked at simultaneously.
    let verts: UnsafeMutablePointer<Int>, facetVerts: UnsafeMutablePointer<Int>, rows: UnsafeMutablePointer<UnsafeMutablePointer<UInt32>>

    init(_ f: RipsFiltration) {
        self.f = f
        n = f.n
        p = f.p
        rank = f.rank
        binom = f.binom
        coefBits = f.coefBits
        rankShift = f.coefBits + f.indexBits
        coefMask = (Key(1) << f.coefBits) - 1
        indexMask = (Key(1) << f.indexBits) - 1
        var inv = [Int](repeating: 0, count: p)
        inv[1] = 1
        // inv[a] = -(p / a) · inv[p mod a] (mod p)
        for a in stride(from: 2, to: p, by: 1) { inv[a] = (p - (p / a) * inv[p % a] % p) % p }
        inverse = inv
        verts = .allocate(capacity: 8)
        facetVerts = .allocate(capacity: 8)
        rows = .allocate(capacity: 8)
    }

    deinit {
        verts.deallocate()
        facetVerts.deallocate()
        rows.deallocate()
    }

    @inline(__always) func C(_ v: Int, _ k: Int) -> Int { binom[k * (n + 1) + v] }

    // MARK: keys

    @inline(__always) func key(index: Int, rank r: UInt32, coef: Int) -> Key {
        let k = Key(truncatingIfNeeded: r) << rankShift | Key(truncatingIfNeeded: f.indexMax - index) << coefBits
        return coefBits == 0 ? k : k | Key(truncatingIfNeeded: coef)
    }
    @inline(__always) func indexOf(_ k: Key) -> Int { f.indexMax - Int(truncatingIfNeeded: (k >> coefBits) & indexMask) }
    @inline(__always) func rankOf(_ k: Key) -> UInt32 { UInt32(truncatingIfNeeded: k >> rankShift) }
    @inline(__always) func coefOf(_ k: Key) -> Int { coefBits == 0 ? 1 : Int(truncatingIfNeeded: k & coefMask) }

    /// Vertices of the k-simplex `index`, largest first.
    @inline(__always) func decode(_ index: Int, dimension k: Int, into out: UnsafeMutablePointer<Int>) {
        var idx = index
        var top = n - 1
        for r in stride(from: k + 1, through: 1, by: -1) {
            // largest v ≤ top with C(v, r) ≤ idx
            let row = binom + r * (n + 1)
            var lo = r - 1
            if r == 1 {
                lo = idx
            } else if r == 2 {
                // v(v − 1)/2 ≤ idx: v ≈ (1 + √(1 + 8·idx)) / 2, then corrected for rounding
                lo = Swift.min(top, Int((1 + (1 + 8 * Double(idx)).squareRoot()) / 2))
                while row[lo] > idx { lo -= 1 }
                while lo < top && row[lo + 1] <= idx { lo += 1 }
            } else {
                var hi = top
                while lo < hi {
                    let mid = (lo + hi + 1) >> 1
                    if row[mid] <= idx { lo = mid } else { hi = mid - 1 }
                }
            }
            out[k + 1 - r] = lo
            idx -= row[lo]
            top = lo - 1
        }
    }

    /// Calls `body(cofacetIndex, cofacetRank, above, v)` for each cofacet ≤ threshold of the k-simplex with vertices
    /// `vs` (largest first) and rank `r`, in decreasing index order (= filtration order among equal ranks): the
    /// cofacet adds vertex v, `above` of the simplex's vertices are larger than v, and its sign in the coboundary is
    /// (−1)^above. `body` returns false to stop.
    @inline(__always)
    func forEachCofacet(_ vs: UnsafeMutablePointer<Int>, dimension k: Int, index: Int, rank r: UInt32,
                        _ body: (Int, UInt32, Int, Int) -> Bool) {
        for q in 0...k { rows[q] = rank + vs[q] * n }
        let row0 = rows[0], row1 = rows[1]
        var idxAbove = 0, idxBelow = index
        var hi = n
        // Segment a: new vertices between vs[a] (exclusive, −1 for the last segment) and hi; a vertices lie above.
        for a in 0...(k + 1) {
            let lo = a <= k ? vs[a] : -1
            let b = binom + (k + 2 - a) * (n + 1)
            var v = hi - 1
            if k == 1 {
                while v > lo {
                    let d = max(r, max(row0[v], row1[v]))
                    if d != RipsFiltration.absent && !body(idxAbove &+ b[v] &+ idxBelow, d, a, v) { return }
                    v -= 1
                }
            } else {
                while v > lo {
                    var d = max(r, max(row0[v], row1[v]))
                    for q in 2...k { d = max(d, rows[q][v]) }
                    if d != RipsFiltration.absent && !body(idxAbove &+ b[v] &+ idxBelow, d, a, v) { return }
                    v -= 1
                }
            }
            if a <= k {
                idxBelow -= C(vs[a], k - a + 1)
                idxAbove += C(vs[a], k - a + 2)
                hi = vs[a]
            }
        }
    }

    /// The first cofacet of equal rank of a k-simplex (its zero pivot cofacet): (index, negative), or index −1.
    @inline(__always)
    func zeroPivotCofacet(_ vs: UnsafeMutablePointer<Int>, dimension k: Int, index: Int, rank r: UInt32) -> (Int, Bool) {
        var found = -1, sign = false
        forEachCofacet(vs, dimension: k, index: index, rank: r) { idx, d, above, _ in
            if d == r { found = idx; sign = above & 1 == 1; return false }
            return true
        }
        return (found, sign)
    }

    /// The first cofacet t = s ∪ {v} of equal rank of the k-simplex s (vertices `vs`, rank r, `edgesWithout[i]` = the
    /// largest rank among s's edges that avoid vs[i]), and whether (s, t) is an apparent pair, i.e. s is also t's last
    /// facet of equal rank. The facets of t before s in that order drop one of the `above` vertices of s larger than
    /// v; their ranks come from s's edges and the row entries at v the scan has just read, so t is never decoded.
    /// Returns (t, above, v, apparent), t = −1 if there is no such cofacet.
    @inline(__always)
    func firstEqualCofacet(_ vs: UnsafeMutablePointer<Int>, dimension k: Int, index: Int, rank r: UInt32,
                           edgesWithout: UnsafeMutablePointer<UInt32>) -> (Int, Int, Int, Bool) {
        if k == 1 {
            // An edge {x > y}: t adds the largest v with d(x, v) and d(y, v) both of rank ≤ r, found eight at a time.
            let x = vs[0], y = vs[1]
            let row0 = rank + x * n, row1 = rank + y * n
            var v = n
            repeat {
                v = Self.lastBothWithin(row0, row1, r, below: v)
            } while v == x || v == y   // x and y themselves pass (rank 0 to itself, r to the other)
            if v < 0 { return (-1, 0, 0, false) }
            let above = (v < x ? 1 : 0) + (v < y ? 1 : 0)
            let t: Int
            switch above {
            case 0: t = C(v, 3) + C(x, 2) + y
            case 1: t = C(x, 3) + C(v, 2) + y
            default: t = C(x, 3) + C(y, 2) + v
            }
            // Facets of t before s: without x ({y, v}), then without y ({x, v}).
            let apparent = !(above >= 1 && row1[v] == r) && !(above == 2 && row0[v] == r)
            return (t, above, v, apparent)
        }
        var result = (-1, 0, 0, false)
        forEachCofacet(vs, dimension: k, index: index, rank: r) { idx, d, above, v in
            if d != r { return true }
            var apparent = true
            for i in 0..<above {
                var facet = edgesWithout[i]
                for q in 0...k where q != i { facet = max(facet, rows[q][v]) }
                if facet == r { apparent = false; break }
            }
            result = (idx, above, v, apparent)
            return false
        }
        return result
    }

    /// The largest v < `below` with row0[v] ≤ r and row1[v] ≤ r, or −1; compares eight entries at a time.
    @inline(__always)
    static func lastBothWithin(_ row0: UnsafePointer<UInt32>, _ row1: UnsafePointer<UInt32>, _ r: UInt32,
                               below: Int) -> Int {
        var v = below
        let bound = SIMD8<UInt32>(repeating: r)
        while v >= 8 {
            let a = UnsafeRawPointer(row0 + v - 8).loadUnaligned(as: SIMD8<UInt32>.self)
            let b = UnsafeRawPointer(row1 + v - 8).loadUnaligned(as: SIMD8<UInt32>.self)
            if any((a .<= bound) .& (b .<= bound)) { break }
            v -= 8
        }
        while v > 0 {
            v -= 1
            if row0[v] <= r && row1[v] <= r { return v }
        }
        return -1
    }

    /// The last facet of equal rank of the m-simplex with vertices `vs` and rank `r` (its zero pivot facet):
    /// the facet without vs[i] for the smallest such i. Returns (facet index, i); writes the facet's vertices to `out`.
    @inline(__always)
    func zeroPivotFacet(_ vs: UnsafeMutablePointer<Int>, dimension m: Int, rank r: UInt32,
                        into out: UnsafeMutablePointer<Int>) -> (Int, Int) {
        for i in 0...m {
            var d: UInt32 = 0
            for a in 0..<m where a != i {
                for b in (a + 1)...m where b != i { d = max(d, rank[vs[a] * n + vs[b]]) }
            }
            if d == r {
                var idx = 0
                var w = 0
                for j in 0...m where j != i {
                    out[w] = vs[j]
                    idx += C(vs[j], m - w)
                    w += 1
                }
                return (idx, i)
            }
        }
        return (-1, 0)   // unreachable for m ≥ 2: some facet keeps the longest edge
    }

    /// If the m-simplex t (vertices `vs`, rank r) is the pivot of an apparent pair (e, t), returns e's index and the
    /// sign of t in δe; e's vertices are left in `out`. Index −1 otherwise.
    @inline(__always)
    func apparentFacet(_ vs: UnsafeMutablePointer<Int>, dimension m: Int, index t: Int, rank r: UInt32,
                       into out: UnsafeMutablePointer<Int>) -> (Int, Bool) {
        let (e, i) = zeroPivotFacet(vs, dimension: m, rank: r, into: out)
        if e < 0 { return (-1, false) }
        let (c, _) = zeroPivotCofacet(out, dimension: m - 1, index: e, rank: r)
        return c == t ? (e, i & 1 == 1) : (-1, false)
    }

    func run() -> [[PersistenceBar]] {
        let maxDimension = f.maxDimension
        var bars = [[PersistenceBar]](repeating: [], count: maxDimension + 1)
        let values = f.values

        // H0: union–find (path halving, union by size) over the edges in filtration order.
        var parent = Array(0..<n)
        var size = [Int](repeating: 1, count: n)
        func find(_ x: Int) -> Int {
            var x = x
            while parent[x] != x { parent[x] = parent[parent[x]]; x = parent[x] }
            return x
        }
        var columns: [(index: Int, rank: UInt32)] = []   // H1 columns: edges that do not merge components
        var simplices: [(index: Int, rank: UInt32)] = []  // all edges, for the next dimension
        if maxDimension >= 2 { simplices.reserveCapacity(f.edgeI.count) }
        for e in f.edgeI.indices {
            let i = Int(f.edgeI[e]), j = Int(f.edgeJ[e]), r = f.edgeRank[e]
            var a = find(i), b = find(j)
            if a != b {
                if size[a] < size[b] { swap(&a, &b) }
                parent[b] = a
                size[a] += size[b]
                if values[Int(r)] > 0 { bars[0].append(PersistenceBar(birth: 0, death: values[Int(r)])) }
            } else if maxDimension >= 1 {
                columns.append((j * (j - 1) / 2 + i, r))
            }
            if maxDimension >= 2 { simplices.append((j * (j - 1) / 2 + i, r)) }
        }
        for v in 0..<n where find(v) == v { bars[0].append(PersistenceBar(birth: 0, death: .infinity)) }
        guard maxDimension >= 1 else { return bars }

        for k in 1...maxDimension {
            columns.reverse()   // reverse filtration order
            let pivots = reduce(columns: columns, dimension: k, bars: &bars[k])
            defer { pivots.deallocate() }
            if k == maxDimension { break }
            // Next dimension: all (k+1)-simplices ≤ threshold, generated once each as "top cofacets" of a
            // k-simplex (new vertex above all its vertices). Columns: those that are not pivots (clearing), neither
            // of a stored column nor of an apparent pair.
            var next: [Key] = []
            var nextColumns: [Key] = []
            let vs = verts, ws = facetVerts
            for s in simplices {
                decode(s.index, dimension: k, into: vs)
                let r0 = s.rank
                var v = n - 1
                while v > vs[0] {
                    var d = r0
                    for q in 0...k { d = max(d, rank[vs[q] * n + v]) }
                    if d != RipsFiltration.absent {
                        let idx = s.index + C(v, k + 2)
                        next.append(key(index: idx, rank: d, coef: 0))
                        if pivots.find(idx) < 0 {
                            // vertices of the cofacet: v, then the simplex's
                            for q in stride(from: k, through: 0, by: -1) { vs[q + 1] = vs[q] }
                            vs[0] = v
                            let (e, _) = apparentFacet(vs, dimension: k + 1, index: idx, rank: d, into: ws)
                            for q in 0...k { vs[q] = vs[q + 1] }
                            if e < 0 { nextColumns.append(key(index: idx, rank: d, coef: 0)) }
                        }
                    }
                    v -= 1
                }
            }
            next.sort()
            nextColumns.sort()
            simplices = next.map { (indexOf($0), rankOf($0)) }
            columns = nextColumns.map { (indexOf($0), rankOf($0)) }
        }
        return bars
    }

    /// Reduces the coboundary columns of dimension k (given in reverse filtration order); appends bars; returns the
    /// pivots of stored columns (cofacet index → column slot). Apparent pairs are neither reduced nor stored.
    func reduce(columns: [(index: Int, rank: UInt32)], dimension k: Int, bars: inout [PersistenceBar]) -> PivotTable {
        let values = f.values
        var pivots = PivotTable(capacity: 1024)
        // Reduction combination of each stored column: flat entries with offsets; plus its pivot coefficient.
        var vIndex: [Int] = [], vRank: [UInt32] = [], vCoef: [Int] = []
        var vStart: [Int] = [0]
        var pivotCoef: [Int] = []
        var heap = RadixColumn<Key>(coefficientBits: coefBits)
        let maxRank = values.count - 1
        // Initial rank window of a reduction, 1/64 of all ranks: on the benchmark clouds 90 % of the pivots lie within
        // 1/80 of the ranks above the column, while an entry outside the window is only read, never pushed.
        let windowSpan = max(256, values.count / 64)
        defer { heap.deallocate() }
        let vs = verts, ts = facetVerts
        let es = UnsafeMutablePointer<Int>.allocate(capacity: 8)
        defer { es.deallocate() }
        var work: [(index: Int, rank: UInt32, coef: Int)] = []

        /// Pushes the entries of coef · δ(simplex) whose simplex part is at least `floor` and whose rank lies in
        /// `ranks` (`at` holds the simplex's vertices).
        func pushCoboundary(_ at: UnsafeMutablePointer<Int>, _ index: Int, _ r: UInt32, _ coef: Int, floor: Key,
                            ranks: ClosedRange<UInt32>) {
            let lowest = ranks.lowerBound, highest = ranks.upperBound
            // Everything the loop needs in locals: stores through the bucket pointers would otherwise force reloads.
            let plus = Key(truncatingIfNeeded: coefBits == 0 ? 0 : coef)
            let minus = Key(truncatingIfNeeded: coefBits == 0 ? 0 : p - coef)
            let table = heap.buckets, last = heap.last, shift = coefBits, rankShift = rankShift
            let top = f.indexMax
            forEachCofacet(at, dimension: k, index: index, rank: r) { idx, d, above, _ in
                let simplex = Key(truncatingIfNeeded: d) &<< (rankShift &- shift) | Key(truncatingIfNeeded: top &- idx)
                if d <= highest && d >= lowest && simplex >= floor {
                    let x = simplex &<< shift | (above & 1 == 1 ? minus : plus)
                    RadixColumn<Key>.push(x, into: table, last: last, shift: shift)
                }
                return true
            }
        }
        /// The pivot of the working column (entries of one simplex summed, cancelled ones dropped), left in bucket 0.
        func pivot() -> Key? {
            while heap.fillMinimum() {
                let entries = heap.minimumEntries
                var c: Int
                if coefBits == 0 {
                    c = entries.count & 1
                } else {
                    c = 0
                    for e in entries { c += coefOf(e) }
                    c %= p
                }
                if c != 0 { return (heap.last >> coefBits) << coefBits | Key(truncatingIfNeeded: coefBits == 0 ? 0 : c) }
                heap.removeMinimum()
            }
            return nil
        }
        func store(pivot: Int, coef: Int) {
            pivots.insert(pivot, pivotCoef.count)
            pivotCoef.append(coef)
            if work.count == 1 {
                vIndex.append(work[0].index); vRank.append(work[0].rank); vCoef.append(work[0].coef)
            } else {
                // Merge repeated simplices (sum their coefficients mod p, drop zeros): each stored entry costs a full
                // coboundary enumeration whenever this column is added to another.
                work.sort { $0.index < $1.index }
                var i = 0
                while i < work.count {
                    var c = 0
                    var j = i
                    while j < work.count && work[j].index == work[i].index { c = (c + work[j].coef) % p; j += 1 }
                    if c != 0 { vIndex.append(work[i].index); vRank.append(work[i].rank); vCoef.append(c) }
                    i = j
                }
            }
            vStart.append(vIndex.count)
        }

        let edgesWithout = UnsafeMutablePointer<UInt32>.allocate(capacity: 4)
        defer { edgesWithout.deallocate() }
        for col in columns {
            decode(col.index, dimension: k, into: vs)
            for i in 0...k {
                var m: UInt32 = 0
                for a in 0..<k where a != i {
                    for b in (a + 1)...k where b != i { m = max(m, rank[vs[a] * n + vs[b]]) }
                }
                edgesWithout[i] = m
            }
            // The pivot of the unreduced column is its first cofacet of equal rank, if any.
            let (t, above, v, apparent) = firstEqualCofacet(vs, dimension: k, index: col.index, rank: col.rank,
                                                            edgesWithout: edgesWithout)
            // Apparent pair (col, t): nothing to reduce, nothing to store.
            if apparent { continue }
            if t >= 0 {
                // Emergent pair: t is not the pivot of an earlier column (stored, or apparent with another facet).
                for q in 0..<above { ts[q] = vs[q] }
                ts[above] = v
                for q in stride(from: above, through: k, by: 1) { ts[q + 1] = vs[q] }
                if pivots.find(t) < 0 && apparentFacet(ts, dimension: k + 1, index: t, rank: col.rank, into: es).0 < 0 {
                    work.removeAll(keepingCapacity: true)
                    work.append((col.index, col.rank, 1))
                    store(pivot: t, coef: above & 1 == 1 ? p - 1 : 1)
                    continue
                }
            }
            heap.removeAll()
            work.removeAll(keepingCapacity: true)
            work.append((col.index, col.rank, 1))
            // Only entries up to rank `limit` enter the heap; when those have all cancelled, the window widens and
            // the sources of the column (the simplices of `work`) push their entries of the next ranks.
            var span = windowSpan
            var limit = UInt32(min(Int(col.rank) + span, maxRank))
            pushCoboundary(vs, col.index, col.rank, 1, floor: 0, ranks: 0...limit)
            while true {
                guard let pv = pivot() else {
                    if Int(limit) < maxRank {
                        span *= 8
                        let from = limit + 1
                        limit = UInt32(min(Int(col.rank) + span, maxRank))
                        for w in work {
                            decode(w.index, dimension: k, into: es)
                            pushCoboundary(es, w.index, w.rank, w.coef, floor: 0, ranks: from...limit)
                        }
                        continue
                    }
                    bars.append(PersistenceBar(birth: values[Int(col.rank)], death: .infinity))
                    break
                }
                let pIndex = indexOf(pv), pCoef = coefOf(pv)
                let j = pivots.find(pIndex)
                if j >= 0 {
                    // column += factor · column_j, factor = −pCoef / pivotCoef[j]
                    let factor = (p - pCoef * inverse[pivotCoef[j]] % p) % p
                    // The pivot cancels; entries up to it cancel among the added ones (see RadixColumn).
                    heap.removeMinimum()
                    let floor = (pv >> coefBits) + 1
                    for e in vStart[j]..<vStart[j + 1] {
                        let c = vCoef[e] * factor % p
                        if c == 0 { continue }
                        work.append((vIndex[e], vRank[e], c))
                        decode(vIndex[e], dimension: k, into: es)
                        pushCoboundary(es, vIndex[e], vRank[e], c, floor: floor, ranks: 0...limit)
                    }
                    continue
                }
                decode(pIndex, dimension: k + 1, into: ts)
                let (e, eNegative) = apparentFacet(ts, dimension: k + 1, index: pIndex, rank: rankOf(pv), into: es)
                if e >= 0 {
                    // The pivot belongs to an apparent pair (e, pivot): add factor · δe, factor = −pCoef / ±1.
                    let factor = eNegative ? pCoef : p - pCoef
                    work.append((e, rankOf(pv), factor))
                    heap.removeMinimum()
                    pushCoboundary(es, e, rankOf(pv), factor, floor: (pv >> coefBits) + 1, ranks: 0...limit)
                    continue
                }
                let death = rankOf(pv)
                if death > col.rank { bars.append(PersistenceBar(birth: values[Int(col.rank)], death: values[Int(death)])) }
                store(pivot: pIndex, coef: pCoef)
                break
            }
        }
        return pivots
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
