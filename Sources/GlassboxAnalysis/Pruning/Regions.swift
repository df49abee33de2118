import GlassboxCore

// Region pruning (Takehana & Ozaki): connected regions of each unit's surviving weights, seen as an image,
// scored by mean |w| and pruned lowest-first.

/// Which neighbours touch: 4 (edges only) or 8 (edges and corners).
public enum Connectivity: Int, Codable, Sendable, CaseIterable {
    case four = 4
    case eight = 8

    public init(_ n: Int) throws {
        guard let c = Connectivity(rawValue: n) else {
            throw GlassboxError.invalidArgument(name: "connectivity", expected: "4 or 8", found: "\(n)")
        }
        self = c
    }
}

/// Labels of the connected components of a binary image: 0 = background, 1…count in the raster order of each
/// component's first pixel (top row first, left to right).
public struct ComponentLabels: Codable, Equatable, Sendable {
    public var height: Int
    public var width: Int
    public var count: Int
    public var labels: [Int32]
}

public enum ConnectedComponents {
    /// Two-pass labelling with union-find over provisional labels (no recursion, one pass to label and merge,
    /// one to resolve). `foreground(i)` says whether flat pixel `i` (row-major) belongs to the image.
    public static func label(height: Int, width: Int, connectivity: Connectivity, foreground: (Int) -> Bool) -> ComponentLabels {
        let n = height * width
        var labels = [Int32](repeating: 0, count: n)
        // parent[l] for provisional label l ≥ 1; roots are always the smallest label of their set.
        var parent: [Int32] = [0]
        parent.reserveCapacity(n / 2 + 2)
        func find(_ x: Int32) -> Int32 {
            var r = x
            while parent[Int(r)] != r { r = parent[Int(r)] }
            var y = x
            while parent[Int(y)] != r { let next = parent[Int(y)]; parent[Int(y)] = r; y = next }
            return r
        }
        func union(_ a: Int32, _ b: Int32) -> Int32 {
            let ra = find(a), rb = find(b)
            if ra == rb { return ra }
            if ra < rb { parent[Int(rb)] = ra; return ra }
            parent[Int(ra)] = rb
            return rb
        }
        let eight = connectivity == .eight
        for y in 0..<height {
            let row = y * width
            for x in 0..<width where foreground(row + x) {
                var l: Int32 = 0
                // Neighbours already visited: west, north (and north-west, north-east for 8-connectivity).
                if x > 0, labels[row + x - 1] != 0 { l = labels[row + x - 1] }
                if y > 0 {
                    let up = row - width + x
                    let n = labels[up]
                    if n != 0 { l = l == 0 ? n : union(l, n) }
                    if eight {
                        let nw: Int32 = x > 0 ? labels[up - 1] : 0
                        let ne: Int32 = x + 1 < width ? labels[up + 1] : 0
                        if nw != 0 { l = l == 0 ? nw : union(l, nw) }
                        if ne != 0 { l = l == 0 ? ne : union(l, ne) }
                    }
                }
                if l == 0 {
                    l = Int32(parent.count)
                    parent.append(l)
                }
                labels[row + x] = l
            }
        }
        // Resolve to roots and renumber in order of first appearance (= order of the roots, which are the
        // labels created at each component's first raster pixel).
        var final = [Int32](repeating: 0, count: parent.count)
        var count: Int32 = 0
        for i in 0..<n where labels[i] != 0 {
            let r = find(labels[i])
            if final[Int(r)] == 0 { count += 1; final[Int(r)] = count }
            labels[i] = final[Int(r)]
        }
        return ComponentLabels(height: height, width: width, count: Int(count), labels: labels)
    }

    /// Components of the non-zero entries of a mask.
    public static func label(mask: [Float], height: Int, width: Int, connectivity: Connectivity) throws -> ComponentLabels {
        guard height > 0, width > 0, mask.count == height * width else {
            throw GlassboxError.shapeMismatch(what: "mask as a \(height)×\(width) image", expected: [height, width], found: [mask.count])
        }
        return mask.withUnsafeBufferPointer { m in label(height: height, width: width, connectivity: connectivity) { m[$0] != 0 } }
    }
}

/// A connected region of one unit's surviving weights.
public struct WeightRegion: Codable, Equatable, Sendable {
    public var unit: Int
    /// Component label inside the unit (1-based, raster order of first pixel).
    public var label: Int
    public var size: Int
    /// Mean |w| over the region's pixels.
    public var score: Double

    public init(unit: Int, label: Int, size: Int, score: Double) {
        self.unit = unit; self.label = label; self.size = size; self.score = score
    }
}

/// Whether the lowest-scoring regions are chosen over all units together or within each unit.
public enum RegionRanking: String, Codable, Sendable, CaseIterable {
    case global, unit
}

public enum RegionPruning {
    /// Labels every unit's kept weights as an `height × width` image and scores each region by mean |w|.
    /// `weight` and `mask` are row-major `[units, height × width]`. Returns the regions (unit by unit, label
    /// order) and each unit's label image.
    public static func regions(weight: [Float], mask: [Float], units: Int, height: Int, width: Int,
                               connectivity: Connectivity) throws -> (regions: [WeightRegion], labels: [ComponentLabels]) {
        let n = height * width
        guard units > 0, n > 0, weight.count == units * n else {
            throw GlassboxError.shapeMismatch(what: "weights as \(units) images of \(height)×\(width)", expected: [units, n], found: [weight.count])
        }
        guard mask.count == weight.count else {
            throw GlassboxError.shapeMismatch(what: "weight mask", expected: [units, n], found: [mask.count])
        }
        var regions: [WeightRegion] = []
        var maps: [ComponentLabels] = []
        maps.reserveCapacity(units)
        weight.withUnsafeBufferPointer { w in
            mask.withUnsafeBufferPointer { m in
                for u in 0..<units {
                    let base = u * n
                    let cc = ConnectedComponents.label(height: height, width: width, connectivity: connectivity) { m[base + $0] != 0 }
                    var sums = [Double](repeating: 0, count: cc.count + 1)
                    var sizes = [Int](repeating: 0, count: cc.count + 1)
                    for p in 0..<n where cc.labels[p] != 0 {
                        let l = Int(cc.labels[p])
                        sums[l] += Double(abs(w[base + p])); sizes[l] += 1
                    }
                    for l in stride(from: 1, through: cc.count, by: 1) {
                        regions.append(WeightRegion(unit: u, label: l, size: sizes[l], score: sums[l] / Double(sizes[l])))
                    }
                    maps.append(cc)
                }
            }
        }
        return (regions, maps)
    }

    /// Indices into `regions` of the `fraction` lowest-scoring ones: round-half-even(fraction × count) of all
    /// regions (global) or of each unit's regions (unit). Equal scores: smaller unit, then smaller label first.
    public static func select(_ regions: [WeightRegion], fraction: Double, ranking: RegionRanking) throws -> [Int] {
        guard fraction.isFinite, fraction >= 0, fraction <= 1 else {
            throw GlassboxError.invalidArgument(name: "region fraction", expected: "a fraction in [0, 1] of the regions", found: "\(fraction)")
        }
        func lowest(_ idx: [Int]) -> [Int] {
            let k = min(idx.count, roundHalfEven(fraction * Double(idx.count)))
            let sorted = idx.sorted { a, b in
                let (ra, rb) = (regions[a], regions[b])
                if ra.score != rb.score { return ra.score < rb.score }
                if ra.unit != rb.unit { return ra.unit < rb.unit }
                return ra.label < rb.label
            }
            return Array(sorted.prefix(k))
        }
        switch ranking {
        case .global: return lowest(Array(regions.indices)).sorted()
        case .unit:
            var byUnit: [Int: [Int]] = [:]
            for (i, r) in regions.enumerated() { byUnit[r.unit, default: []].append(i) }
            return byUnit.keys.sorted().flatMap { lowest(byUnit[$0]!) }.sorted()
        }
    }

    /// One pass of steps 3–4: label, score, choose and remove regions. Returns the new mask and the pass record.
    public static func prunePass(weight: [Float], mask: [Float], units: Int, height: Int, width: Int, connectivity: Connectivity,
                                 fraction: Double, ranking: RegionRanking, pass: Int) throws -> (mask: [Float], record: RegionPass) {
        let (regions, maps) = try self.regions(weight: weight, mask: mask, units: units, height: height, width: width,
                                               connectivity: connectivity)
        let chosen = try select(regions, fraction: fraction, ranking: ranking)
        var out = mask
        let n = height * width
        var removed = 0
        for i in chosen {
            let r = regions[i]
            let labels = maps[r.unit].labels
            for p in 0..<n where labels[p] == Int32(r.label) { out[r.unit * n + p] = 0; removed += 1 }
        }
        let threshold = chosen.map { regions[$0].score }.max()
        return (out, RegionPass(pass: pass, regions: regions.count, regionsPruned: chosen.count, weightsPruned: removed,
                                scoreThreshold: threshold))
    }
}
