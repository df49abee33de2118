import GlassboxCore

/// The best formula of length ≤ 2 over all of them — every concept and every `A OR B`, `A AND B`, `A AND NOT B` —
/// found exactly by branch and bound, to measure how often the beam misses it (La Rosa & Gilpin report 10–40 %).
///
/// With the pairwise table x = |A ∩ B| known, only y = |A ∩ B ∩ U| is unknown, and each operator's IoU is monotone
/// in y (OR and AND NOT fall as y grows, AND rises), so evaluating it at y's bounds
/// max(0, |A∩U| + |B∩U| − |U|, x − (N·H·W − |U|)) ≤ y ≤ min(|A∩U|, |B∩U|, x) gives a true upper bound. Candidates
/// are visited by decreasing bound until the bound falls below the best IoU found (candidates tying it are still
/// evaluated, so ties resolve by `ranksBefore` as in the beam).
///
/// Left out, because they can never be the optimum: OR and AND of two concepts of which one misses U (IoU no better
/// than the other concept alone, or 0), and AND NOT whose first concept misses U (IoU 0).
struct ExhaustiveLength2 {
    var verify = false

    private struct Candidate {
        let a: Int, b: Int, op: FormulaOp
        let bound: Fraction
    }

    func run(_ ctx: SearchContext, primitives: [BeamFormula], stats: inout SearchStats) -> BeamFormula? {
        let idx = ctx.index
        idx.preparePairs()
        let C = idx.count, n = ctx.n, T = ctx.totalPixels
        var best = primitives.first
        let hits = (0..<C).filter { ctx.cu[$0] > 0 }
        var cands: [Candidate] = []
        func add(_ a: Int, _ b: Int, _ op: FormulaOp) {
            let x = idx.pair(a, b), ca = ctx.cu[a], cb = ctx.cu[b]
            let yLow = max(0, ca + cb - n, x - (T - n)), yHigh = min(ca, cb, x)
            let area = [idx.masks[a].count + idx.masks[b].count - x, x, idx.masks[a].count - x]
            let i: Int
            switch op {
            case .or: i = ca + cb - yLow
            case .and: i = yHigh
            case .andNot: i = ca - yLow
            }
            cands.append(Candidate(a: a, b: b, op: op, bound: Fraction.iou(intersection: i, area: area[op.rawValue], unit: n)))
        }
        for (k, a) in hits.enumerated() {
            for b in hits[(k + 1)...] { add(a, b, .or); add(a, b, .and) }
            for b in 0..<C where b != a { add(a, b, .andNot) }
        }
        stats.candidates += cands.count
        cands.sort { $0.bound > $1.bound }
        for (ci, cand) in cands.enumerated() {
            if !verify, let b = best, cand.bound < b.iou {
                stats.skippedGlobal += cands.count - ci
                break
            }
            let x = idx.pair(cand.a, cand.b), yy = ctx.tripleCount(cand.a, cand.b)
            let k = PairCounts(n: n, gu: ctx.cu[cand.a], cu: ctx.cu[cand.b], g: idx.masks[cand.a].count, c: idx.masks[cand.b].count)
            let e = k.exact(x: x, y: yy)[cand.op.rawValue]
            if verify {
                stats.boundChecks += 1
                if cand.bound < e.iou { stats.boundViolations += 1 }
                if let b = best, cand.bound < b.iou { stats.skippedGlobal += 1; continue }
            }
            stats.evaluated += 1
            let f = BeamFormula(formula: cand.op.apply(.concept(cand.a), cand.b), iou: e.iou, intersection: e.intersection, area: e.area)
            if best == nil || ranksBefore(f.rank, best!.rank) { best = f }
        }
        return best
    }
}
