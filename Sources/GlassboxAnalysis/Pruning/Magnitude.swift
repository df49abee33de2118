import GlassboxCore
import GlassboxNN

// Magnitude pruning (Han et al. 2015) with torch.nn.utils.prune's amount semantics.
// Pure functions over weights and masks; `MagnitudePruner` applies them to a model and retrains.

/// Which weights one pruning pass removes.
public enum PruningCriterion: Codable, Equatable, Sendable {
    /// A fraction of the weights that are still kept: round(amount × remaining), rounded half-to-even like
    /// Python's `round`, so 20 % then 20 % of 100 weights prunes 20 + 16 = 36 and 50 % of 5 prunes 2.
    case amount(Double)
    /// Every kept weight with |w| < q × std, std over the kept weights (population std, divisor n) of the layer
    /// (scope layer) or of all chosen layers together (scope global). Han et al.'s quality parameter.
    case stdMultiple(Double)
}

/// Whether each layer is ranked on its own or all chosen layers together (one threshold, as
/// `torch.nn.utils.prune.global_unstructured`).
public enum PruningScope: String, Codable, Sendable, CaseIterable {
    case layer, global
}

/// Unstructured (single weights) or structured: whole rows (`units`: output units, output channels of a
/// convolution; `torch.nn.utils.prune.ln_structured(n=2, dim=0)`) or whole columns (`inputs`: every weight from
/// one input, e.g. one pixel of a first layer; `ln_structured(n=2, dim=1)` on a linear weight), ranked by the L2
/// norm of their kept weights.
public enum PruningGranularity: String, Codable, Sendable, CaseIterable {
    case weights, units, inputs
}

/// Rounds half to even, as Python's `round` and so `torch.nn.utils.prune` do (Swift's `.rounded()` rounds half away).
@inlinable public func roundHalfEven(_ x: Double) -> Int { Int(x.rounded(.toNearestOrEven)) }

/// One weight tensor to prune: its values and its current mask (1 keep, 0 pruned), both flat row-major.
public struct PruningTarget: Sendable {
    public var name: String
    public var values: [Float]
    public var mask: [Float]
    /// Number of rows (units) the flat arrays hold; each row has `values.count / rows` entries.
    public var rows: Int

    public init(name: String, values: [Float], mask: [Float]? = nil, rows: Int) throws {
        guard rows > 0, values.count % rows == 0 else {
            throw GlassboxError.invalidArgument(name: "\(name) rows", expected: "a divisor of \(values.count) weights", found: "\(rows)")
        }
        if let mask, mask.count != values.count {
            throw GlassboxError.shapeMismatch(what: "\(name) mask", expected: [values.count], found: [mask.count])
        }
        self.name = name; self.values = values; self.rows = rows
        self.mask = mask ?? [Float](repeating: 1, count: values.count)
    }

    public var keptCount: Int { mask.reduce(0) { $0 + ($1 != 0 ? 1 : 0) } }
}

public enum MagnitudePruning {
    /// Checks an amount or q before any work, naming the argument.
    public static func validate(_ c: PruningCriterion) throws {
        switch c {
        case let .amount(a):
            guard a.isFinite, a >= 0, a <= 1 else {
                throw GlassboxError.invalidArgument(name: "amount", expected: "a fraction in [0, 1] of the remaining weights", found: "\(a)")
            }
        case let .stdMultiple(q):
            guard q.isFinite, q >= 0 else {
                throw GlassboxError.invalidArgument(name: "q", expected: "a number ≥ 0 (threshold = q × std of the kept weights)", found: "\(q)")
            }
        }
    }

    /// New masks after one pruning pass over `targets` (already-pruned entries stay pruned).
    ///
    /// Ties in |w| (or in row norm) are broken by position: the earlier entry (lower layer, then lower flat
    /// index) is pruned first, so results never depend on sort stability.
    public static func prune(_ targets: [PruningTarget], criterion: PruningCriterion, scope: PruningScope,
                             granularity: PruningGranularity = .weights) throws -> [[Float]] {
        try validate(criterion)
        guard !targets.isEmpty else {
            throw GlassboxError.invalidArgument(name: "layers", expected: "at least one weight tensor to prune", found: "none")
        }
        if granularity != .weights {
            guard scope == .layer else {
                throw GlassboxError.invalidArgument(name: "scope", expected: "layer for structured (\(granularity.rawValue)) pruning — rows and columns of different layers have different lengths",
                                                    found: "global")
            }
            return targets.map { granularity == .units ? pruneUnits($0, criterion: criterion) : pruneInputs($0, criterion: criterion) }
        }
        switch scope {
        case .layer: return targets.map { pruneWeights([$0], criterion: criterion)[0] }
        case .global: return pruneWeights(targets, criterion: criterion)
        }
    }

    /// Unstructured pass with one ranking (and one threshold) over all `targets`.
    static func pruneWeights(_ targets: [PruningTarget], criterion: PruningCriterion) -> [[Float]] {
        var masks = targets.map(\.mask)
        // Kept entries as (|w|, layer, index); the order of this array already is (layer, index).
        var kept: [(mag: Float, t: Int32, i: Int32)] = []
        kept.reserveCapacity(targets.reduce(0) { $0 + $1.values.count })
        for (t, target) in targets.enumerated() {
            target.values.withUnsafeBufferPointer { v in
                target.mask.withUnsafeBufferPointer { m in
                    for i in 0..<v.count where m[i] != 0 { kept.append((abs(v[i]), Int32(t), Int32(i))) }
                }
            }
        }
        switch criterion {
        case let .amount(a):
            let k = min(kept.count, roundHalfEven(a * Double(kept.count)))
            guard k > 0 else { return masks }
            kept.sort { $0.mag != $1.mag ? $0.mag < $1.mag : ($0.t != $1.t ? $0.t < $1.t : $0.i < $1.i) }
            for e in kept[0..<k] { masks[Int(e.t)][Int(e.i)] = 0 }
        case let .stdMultiple(q):
            guard !kept.isEmpty else { return masks }
            // std over the kept weights themselves (signed values, mean removed), in Double for stability.
            var sum = 0.0, sumSq = 0.0
            for e in kept {
                let w = Double(targets[Int(e.t)].values[Int(e.i)])
                sum += w; sumSq += w * w
            }
            let n = Double(kept.count)
            let mean = sum / n
            let std = max(0, sumSq / n - mean * mean).squareRoot()
            let threshold = q * std
            for e in kept where Double(e.mag) < threshold { masks[Int(e.t)][Int(e.i)] = 0 }
        }
        return masks
    }

    /// L2 norm of each row over its kept weights.
    public static func rowNorms(_ t: PruningTarget) -> [Double] {
        let len = t.values.count / t.rows
        return (0..<t.rows).map { r in
            var s = 0.0
            for i in (r * len)..<((r + 1) * len) where t.mask[i] != 0 { s += Double(t.values[i]) * Double(t.values[i]) }
            return s.squareRoot()
        }
    }

    /// Structured pass: whole rows whose kept weights have the smallest L2 norm. A row counts as remaining
    /// while any of its weights is kept. `amount` is a fraction of the remaining rows (half-to-even);
    /// `q` prunes rows with norm < q × std of the remaining rows' norms.
    static func pruneUnits(_ t: PruningTarget, criterion: PruningCriterion) -> [Float] {
        var mask = t.mask
        let len = t.values.count / t.rows
        let norms = rowNorms(t)
        let alive = (0..<t.rows).filter { r in (r * len..<(r + 1) * len).contains { t.mask[$0] != 0 } }
        var chosen: [Int] = []
        switch criterion {
        case let .amount(a):
            let k = min(alive.count, roundHalfEven(a * Double(alive.count)))
            chosen = Array(alive.sorted { norms[$0] != norms[$1] ? norms[$0] < norms[$1] : $0 < $1 }.prefix(k))
        case let .stdMultiple(q):
            guard !alive.isEmpty else { return mask }
            let n = Double(alive.count)
            let mean = alive.reduce(0.0) { $0 + norms[$1] } / n
            let std = (alive.reduce(0.0) { $0 + (norms[$1] - mean) * (norms[$1] - mean) } / n).squareRoot()
            chosen = alive.filter { norms[$0] < q * std }
        }
        for r in chosen { for i in (r * len)..<((r + 1) * len) { mask[i] = 0 } }
        return mask
    }

    /// L2 norm of each column (input) over its kept weights.
    public static func columnNorms(_ t: PruningTarget) -> [Double] {
        let len = t.values.count / t.rows
        var sq = [Double](repeating: 0, count: len)
        for r in 0..<t.rows {
            for c in 0..<len where t.mask[r * len + c] != 0 { let w = Double(t.values[r * len + c]); sq[c] += w * w }
        }
        return sq.map { $0.squareRoot() }
    }

    /// Structured pass over columns: the same rule as `pruneUnits` with inputs in place of units.
    static func pruneInputs(_ t: PruningTarget, criterion: PruningCriterion) -> [Float] {
        let len = t.values.count / t.rows
        // Transpose, prune rows, transpose back.
        var tv = [Float](repeating: 0, count: t.values.count), tm = tv
        for r in 0..<t.rows {
            for c in 0..<len { tv[c * t.rows + r] = t.values[r * len + c]; tm[c * t.rows + r] = t.mask[r * len + c] }
        }
        let transposed = try! PruningTarget(name: t.name, values: tv, mask: tm, rows: len)
        let pruned = pruneUnits(transposed, criterion: criterion)
        var mask = t.mask
        for r in 0..<t.rows { for c in 0..<len { mask[r * len + c] = pruned[c * t.rows + r] } }
        return mask
    }
}
