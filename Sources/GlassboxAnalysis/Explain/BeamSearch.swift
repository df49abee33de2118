import GlassboxCore

/// Settings of the formula search, shared by compositional and clustered explanations.
public struct SearchConfig: Codable, Equatable, Sendable {
    /// Formulas kept after each step (Mu & Andreas: 5).
    public var beamWidth: Int
    /// Maximum number of concepts in a formula (Mu & Andreas: 3; 1 is network dissection's best concept).
    public var maxLength: Int
    /// Skip candidates whose IoU upper bound (`PairBound`) is below the beam's current worst IoU. Never changes
    /// a result; only how many IoUs are computed.
    public var useBound: Bool
    /// Also find the best formula of length ≤ 2 over all of them (branch and bound with the same bound), to
    /// measure how often the beam misses it.
    public var exhaustiveLength2: Bool
    /// Diagnostic: compute every candidate's exact IoU as well and count candidates whose bound is below it
    /// (must stay 0). Slower; results unchanged.
    public var verifyBound: Bool

    public init(beamWidth: Int = 5, maxLength: Int = 3, useBound: Bool = true, exhaustiveLength2: Bool = true, verifyBound: Bool = false) {
        self.beamWidth = beamWidth; self.maxLength = maxLength; self.useBound = useBound
        self.exhaustiveLength2 = exhaustiveLength2; self.verifyBound = verifyBound
    }

    public func validate() throws {
        guard (1...100).contains(beamWidth) else { throw GlassboxError.invalidArgument(name: "beam-width", expected: "1…100", found: "\(beamWidth)") }
        guard (1...10).contains(maxLength) else { throw GlassboxError.invalidArgument(name: "max-length", expected: "1…10 concepts", found: "\(maxLength)") }
    }
}

/// How much work a search did. A candidate is one formula `G op C` from a beam formula G, a concept C not in G and
/// an operator; duplicates (equal up to commutativity and associativity) are counted once.
public struct SearchStats: Codable, Equatable, Sendable {
    /// Distinct candidates considered (primitives included).
    public var candidates = 0
    /// Candidates whose exact IoU was computed (one pass over the masks serves the three operators of a pair).
    public var evaluated = 0
    /// Candidates skipped by the O(1) global bound.
    public var skippedGlobal = 0
    /// Candidates skipped by the per-image bound.
    public var skippedPerImage = 0
    /// With `verifyBound`: candidates whose bound was checked against their exact IoU, and violations (must be 0).
    public var boundChecks = 0
    public var boundViolations = 0

    public init() {}

    public var skipped: Int { skippedGlobal + skippedPerImage }
    /// Share of candidates the bound skipped.
    public var skipShare: Double { candidates == 0 ? 0 : Double(skipped) / Double(candidates) }

    public static func + (a: SearchStats, b: SearchStats) -> SearchStats {
        var s = a
        s.candidates += b.candidates; s.evaluated += b.evaluated; s.skippedGlobal += b.skippedGlobal
        s.skippedPerImage += b.skippedPerImage; s.boundChecks += b.boundChecks; s.boundViolations += b.boundViolations
        return s
    }
}

/// The outcome of one search on one unit mask.
struct SearchOutcome {
    /// Best formula of length ≤ maxLength (nil when no concept overlaps the unit mask).
    var best: BeamFormula?
    /// Best single concept.
    var bestPrimitive: BeamFormula?
    /// Best formula in the beam after the length-2 step (when maxLength ≥ 2).
    var beamLength2: BeamFormula?
    /// The optimum over all formulas of length ≤ 2 (with `exhaustiveLength2`).
    var exhaustiveLength2: BeamFormula?
    var stats = SearchStats()
    /// Work of the exhaustive length-2 search (kept apart from the beam's).
    var exhaustiveStats = SearchStats()
}

/// Beam search over formulas (Mu & Andreas 2020, `compute_best_iou`): start from the `beamWidth` concepts with the
/// highest IoU > 0; at each of the `maxLength − 1` steps extend every beam formula G with every concept C not
/// already in G under OR, AND and AND NOT (new term on the right: left-deep formulas), merge the new formulas
/// with the old beam and keep the best `beamWidth` (`ranksBefore`: IoU, then fewer concepts, then canonical key).
/// Shorter formulas survive when nothing longer beats them. The result is the best beam formula.
///
/// With `useBound`, candidate pairs (G, C) are visited in order of their global bound, and a pair's operators are
/// skipped when their bound is below the IoU of the worst formula in the merged beam while the beam is full: such
/// a candidate's IoU is below every formula that stays, so the beam ends the same as without the bound.
struct BeamSearch {
    let config: SearchConfig

    func run(_ ctx: SearchContext) -> SearchOutcome {
        var out = SearchOutcome()
        let C = ctx.index.count
        // Step 1: every primitive, exactly (|C ∩ U| is already known).
        var prims: [BeamFormula] = []
        for c in 0..<C {
            let iou = ctx.primitive(c)
            if iou > .zero { prims.append(BeamFormula(formula: .concept(c), iou: iou, intersection: ctx.cu[c], area: ctx.index.masks[c].count)) }
        }
        out.stats.candidates += C
        out.stats.evaluated += C
        prims.sort { ranksBefore($0.rank, $1.rank) }
        out.bestPrimitive = prims.first
        var beam = Array(prims.prefix(config.beamWidth))
        if config.exhaustiveLength2 && config.maxLength >= 2 {
            out.exhaustiveLength2 = ExhaustiveLength2(verify: config.verifyBound).run(ctx, primitives: prims, stats: &out.exhaustiveStats)
        }
        guard !beam.isEmpty else { return out }
        if config.maxLength >= 2 {
            for step in 2...config.maxLength {
                beam = extend(beam, ctx, stats: &out.stats)
                if step == 2 { out.beamLength2 = beam.first }
            }
        }
        out.best = beam.first
        return out
    }

    /// A candidate pair: beam formula index, concept, the operators still to consider (bit i = `FormulaOp` i), and
    /// its global bounds.
    private struct Pair {
        let g: Int, c: Int
        var ops: UInt8
        var counts: PairCounts
        var global: [Fraction]
        var best: Fraction
    }

    /// One step: every beam formula × concept × operator, merged with the beam, best `beamWidth` kept.
    func extend(_ beam: [BeamFormula], _ ctx: SearchContext, stats: inout SearchStats) -> [BeamFormula] {
        let C = ctx.index.count, B = config.beamWidth
        for g in beam { g.materialise(ctx) }
        var keys = Set(beam.map(\.key))
        var pairs: [Pair] = []
        for (gi, g) in beam.enumerated() {
            let gu = g.intersection, ga = g.area
            for c in 0..<C where !g.concepts.contains(c) {
                var ops: UInt8 = 0
                for op in FormulaOp.allCases where keys.insert(op.apply(g.formula, c).canonicalKey).inserted { ops |= 1 << UInt8(op.rawValue) }
                guard ops != 0 else { continue }
                let k = PairCounts(n: ctx.n, gu: gu, cu: ctx.cu[c], g: ga, c: ctx.index.masks[c].count)
                let gb = PairBound.global(k, totalPixels: ctx.totalPixels).bounds(k)
                let best = FormulaOp.allCases.filter { ops & (1 << UInt8($0.rawValue)) != 0 }.map { gb[$0.rawValue] }.max()!
                pairs.append(Pair(g: gi, c: c, ops: ops, counts: k, global: gb, best: best))
                stats.candidates += ops.nonzeroBitCount
            }
        }
        if config.useBound {
            // Highest bound first, so the beam fills with strong formulas early; ties keep enumeration order.
            pairs = pairs.enumerated().sorted { a, b in a.element.best != b.element.best ? a.element.best > b.element.best : a.offset < b.offset }.map(\.element)
        }
        var merged = beam   // sorted best first, at most B
        func worst() -> Fraction? { merged.count >= B ? merged[B - 1].iou : nil }
        func insert(_ f: BeamFormula) {
            guard merged.count < B || ranksBefore(f.rank, merged[B - 1].rank) else { return }
            let at = merged.firstIndex { ranksBefore(f.rank, $0.rank) } ?? merged.count
            merged.insert(f, at: at)
            if merged.count > B { merged.removeLast() }
        }
        for (pi, p) in pairs.enumerated() {
            var alive = p.ops
            if config.useBound, let w = worst() {
                if p.best < w && !config.verifyBound {
                    // Sorted by bound: every later pair is below the worst too.
                    for q in pairs[pi...] { stats.skippedGlobal += q.ops.nonzeroBitCount }
                    break
                }
                for op in FormulaOp.allCases where alive & (1 << UInt8(op.rawValue)) != 0 && p.global[op.rawValue] < w {
                    alive &= ~(1 << UInt8(op.rawValue)); stats.skippedGlobal += 1
                }
                if alive != 0 {
                    let pb = PairBound.perImage(ctx, beam[p.g], p.c).bounds(p.counts)
                    for op in FormulaOp.allCases where alive & (1 << UInt8(op.rawValue)) != 0 && pb[op.rawValue] < w {
                        alive &= ~(1 << UInt8(op.rawValue)); stats.skippedPerImage += 1
                    }
                }
            }
            if config.verifyBound {
                let (x, y) = exactPair(ctx, beam[p.g], p.c)
                let exact = p.counts.exact(x: x, y: y)
                let pb = PairBound.perImage(ctx, beam[p.g], p.c).bounds(p.counts)
                for op in FormulaOp.allCases where p.ops & (1 << UInt8(op.rawValue)) != 0 {
                    stats.boundChecks += 1
                    if p.global[op.rawValue] < exact[op.rawValue].iou || pb[op.rawValue] < exact[op.rawValue].iou { stats.boundViolations += 1 }
                }
            }
            guard alive != 0 else { continue }
            let (x, y) = exactPair(ctx, beam[p.g], p.c)
            let exact = p.counts.exact(x: x, y: y)
            stats.evaluated += alive.nonzeroBitCount
            for op in FormulaOp.allCases where alive & (1 << UInt8(op.rawValue)) != 0 {
                let e = exact[op.rawValue]
                insert(BeamFormula(formula: op.apply(beam[p.g].formula, p.c), iou: e.iou, intersection: e.intersection, area: e.area))
            }
        }
        return merged
    }
}
