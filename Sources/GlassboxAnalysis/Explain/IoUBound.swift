import GlassboxCore

/// What is known exactly about a candidate pair (G, C) before its masks are intersected: the sizes of G and C and
/// of their parts inside the unit mask U. Writing x = |G ∩ C| and y = |G ∩ C ∩ U| (both unknown), every operator's
/// IoU follows from x and y:
///
/// - G OR C:      I = |G∩U| + |C∩U| − y,  area = |G| + |C| − x
/// - G AND C:     I = y,                  area = x
/// - G AND NOT C: I = |G∩U| − y,          area = |G| − x
///
/// and IoU = I / (|U| + D) with D = area − I = |F ∖ U| the formula's pixels outside U. With z = x − y (the overlap
/// outside U), D is |G∖U| + |C∖U| − z, z and |G∖U| − z for the three operators.
///
/// `PairBound` bounds y from below and above and z from above and below, and so bounds I from above and D from
/// below — which bounds the IoU from above. Two tiers:
/// - global, O(1): y ≥ max(0, |G∩U| + |C∩U| − |U|), y ≤ min(|G∩U|, |C∩U|), z ≤ min(|G∖U|, |C∖U|),
///   z ≥ max(0, |G∖U| + |C∖U| − (N·H·W − |U|));
/// - per image, over the images both G and C touch (elsewhere x_s = y_s = 0 exactly): the same four inequalities
///   with the image's counts, plus x_s ≤ area of the intersection of the two masks' bounding boxes in image s
///   (so y_s ≤ that area and z_s ≤ that area − the lower bound of y_s).
///
/// Each tier is a sum of valid per-image (or global) inequalities, so the resulting fraction is ≥ the true IoU, in
/// exact integer arithmetic (no rounding, unlike the reference code's 4-decimal estimate).
struct PairBound {
    /// Sums of the per-image bounds on y and z (or their global versions).
    var yLow = 0, yHigh = 0, zLow = 0, zHigh = 0

    /// Upper bounds of the three operators' IoUs, in `FormulaOp` order.
    func bounds(_ k: PairCounts) -> [Fraction] {
        [Fraction(k.gu + k.cu - yLow, k.n + k.gOut + k.cOut - zHigh),
         Fraction(yHigh, k.n + zLow),
         Fraction(k.gu - yLow, k.n + k.gOut - zHigh)]
    }

    /// The O(1) tier.
    static func global(_ k: PairCounts, totalPixels: Int) -> PairBound {
        PairBound(yLow: max(0, k.gu + k.cu - k.n), yHigh: min(k.gu, k.cu),
                  zLow: max(0, k.gOut + k.cOut - (totalPixels - k.n)), zHigh: min(k.gOut, k.cOut))
    }

    /// The per-image tier for formula `g` and concept `c`.
    static func perImage(_ ctx: SearchContext, _ g: BeamFormula, _ c: Int) -> PairBound {
        let (gm, gu, guOff) = g.view(ctx)
        let cm = ctx.index.masks[c]
        let N = ctx.index.layout.images, P = ctx.index.layout.pixelsPerImage
        var b = PairBound()
        gu.withUnsafeBufferPointer { gup in
            ctx.cuImage.withUnsafeBufferPointer { cup in
                ctx.unit.perImage.withUnsafeBufferPointer { np in
                    gm.perImage.withUnsafeBufferPointer { gp in
                        cm.perImage.withUnsafeBufferPointer { cp in
                            gm.boxes.withUnsafeBufferPointer { gb in
                                cm.boxes.withUnsafeBufferPointer { cb in
                                    forCommonImages(gm, cm) { s in
                                        let ns = Int(np[s]), gs = Int(gp[s]), cs = Int(cp[s])
                                        let gus = Int(gup[guOff + s]), cus = Int(cup[c * N + s])
                                        let gOut = gs - gus, cOut = cs - cus
                                        let o = PixelBox.overlap(gb[s], cb[s])
                                        let yl = max(0, gus + cus - ns)
                                        b.yLow += yl
                                        b.yHigh += min(gus, cus, o)
                                        b.zLow += max(0, gOut + cOut - (P - ns))
                                        b.zHigh += min(gOut, cOut, max(0, o - yl))
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return b
    }
}

/// The exact totals a pair's bounds and IoUs start from.
struct PairCounts {
    /// |U|, |G ∩ U|, |C ∩ U|, |G|, |C|, |G ∖ U|, |C ∖ U|.
    let n: Int, gu: Int, cu: Int, g: Int, c: Int
    var gOut: Int { g - gu }
    var cOut: Int { c - cu }

    /// The exact IoUs of the three operators from x = |G ∩ C| and y = |G ∩ C ∩ U|, with their intersections and areas.
    func exact(x: Int, y: Int) -> [(iou: Fraction, intersection: Int, area: Int)] {
        let i = [gu + cu - y, y, gu - y], a = [g + c - x, x, g - x]
        return (0..<3).map { (Fraction.iou(intersection: i[$0], area: a[$0], unit: n), i[$0], a[$0]) }
    }
}

/// x = |G ∩ C| and y = |G ∩ C ∩ U|: for a single concept G from the pairwise table and a pass over the images G, C
/// and U all touch; otherwise by one pass over the images both G and C touch.
func exactPair(_ ctx: SearchContext, _ g: BeamFormula, _ c: Int) -> (x: Int, y: Int) {
    if let a = g.leaf, ctx.index.hasPairs { return (ctx.index.pair(a, c), ctx.tripleCount(a, c)) }
    let (gm, _, _) = g.view(ctx)
    let cm = ctx.index.masks[c]
    let wpi = ctx.index.layout.wordsPerImage
    var x = 0, y = 0
    gm.mask.withWords { wg in
        cm.mask.withWords { wc in
            ctx.unit.mask.withWords { wu in
                ctx.unit.perImage.withUnsafeBufferPointer { np in
                    forCommonImages(gm, cm) { s in
                        let o = s * wpi
                        if np[s] > 0 {
                            for k in 0..<wpi {
                                let both = wg[o + k] & wc[o + k]
                                x &+= both.nonzeroBitCount
                                y &+= (both & wu[o + k]).nonzeroBitCount
                            }
                        } else {
                            x &+= BitMask.intersectionCount(wg + o, wc + o, wpi)
                        }
                    }
                }
            }
        }
    }
    return (x, y)
}
