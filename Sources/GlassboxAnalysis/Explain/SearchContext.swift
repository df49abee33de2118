import GlassboxCore

/// One unit mask U (a unit, or one activation range of it) prepared for the formula searches: |C ∩ U| for every
/// concept, in total and per image.
final class SearchContext {
    let index: ConceptIndex
    let unit: SampleMask
    /// |U|.
    let n: Int
    /// |C ∩ U| per concept.
    let cu: [Int]
    /// |C_s ∩ U_s|, concept-major: `cuImage[c · N + s]`.
    let cuImage: [Int32]
    /// N·H·W real pixels.
    let totalPixels: Int

    init(index: ConceptIndex, unit: SampleMask) {
        self.index = index
        self.unit = unit
        n = unit.count
        let L = index.layout, N = L.images, wpi = L.wordsPerImage
        totalPixels = L.pixelCount
        var per = [Int32](repeating: 0, count: index.count * N)
        var tot = [Int](repeating: 0, count: index.count)
        unit.mask.withWords { wu in
            for c in 0..<index.count {
                let m = index.masks[c]
                var t = 0
                m.mask.withWords { wc in
                    forCommonImages(m, unit) { s in
                        let x = BitMask.intersectionCount(wc + s * wpi, wu + s * wpi, wpi)
                        per[c * N + s] = Int32(x)
                        t += x
                    }
                }
                tot[c] = t
            }
        }
        cu = tot
        cuImage = per
    }

    /// |A ∩ B ∩ U| of two concepts, cached (the exhaustive search and the beam's length-2 step share them).
    func tripleCount(_ a: Int, _ b: Int) -> Int {
        let key = min(a, b) * index.count + max(a, b)
        if let v = triples[key] { return v }
        let ma = index.masks[a], mb = index.masks[b], u = unit
        let wpi = index.layout.wordsPerImage
        let lists = [ma, mb, u].sorted { $0.images.count < $1.images.count }
        var t = 0
        ma.mask.withWords { wa in
            mb.mask.withWords { wb in
                u.mask.withWords { wu in
                    lists[1].perImage.withUnsafeBufferPointer { p1 in
                        lists[2].perImage.withUnsafeBufferPointer { p2 in
                            for s32 in lists[0].images {
                                let s = Int(s32)
                                guard p1[s] > 0, p2[s] > 0 else { continue }
                                let o = s * wpi
                                for k in 0..<wpi { t &+= (wa[o + k] & wb[o + k] & wu[o + k]).nonzeroBitCount }
                            }
                        }
                    }
                }
            }
        }
        triples[key] = t
        return t
    }
    private var triples: [Int: Int] = [:]

    /// IoU of concept c alone.
    @inline(__always) func primitive(_ c: Int) -> Fraction { Fraction.iou(intersection: cu[c], area: index.masks[c].count, unit: n) }
}

/// A formula in a beam, with what extending it needs: its mask (per-image counts and boxes) and |G_s ∩ U_s|.
final class BeamFormula {
    let formula: Formula
    let key: String
    let length: Int
    let concepts: Set<Int>
    let iou: Fraction
    let intersection: Int
    let area: Int
    private(set) var mask: SampleMask?
    /// |G_s ∩ U_s| per image (dense, N entries) once materialised.
    private(set) var guImage: [Int32] = []
    /// Concept index when the formula is a single concept (its data then come from the concept index).
    let leaf: Int?

    init(formula: Formula, iou: Fraction, intersection: Int, area: Int) {
        self.formula = formula
        key = formula.canonicalKey
        length = formula.length
        concepts = Set(formula.concepts)
        self.iou = iou
        self.intersection = intersection
        self.area = area
        if case .concept(let c) = formula { leaf = c } else { leaf = nil }
    }

    var rank: (iou: Fraction, length: Int, key: String) { (iou, length, key) }

    /// Builds the mask and per-image intersections (concepts reuse the index's).
    func materialise(_ ctx: SearchContext) {
        guard mask == nil, leaf == nil else { return }
        let m = SampleMask(formula.mask(ctx.index), layout: ctx.index.layout, boxes: true)
        let N = ctx.index.layout.images, wpi = ctx.index.layout.wordsPerImage
        var gu = [Int32](repeating: 0, count: N)
        m.mask.withWords { wg in
            ctx.unit.mask.withWords { wu in
                forCommonImages(m, ctx.unit) { s in gu[s] = Int32(BitMask.intersectionCount(wg + s * wpi, wu + s * wpi, wpi)) }
            }
        }
        mask = m
        guImage = gu
    }

    /// The mask, per-image |G ∩ U| pointer base and boxes, for leaf or materialised formulas.
    func view(_ ctx: SearchContext) -> (mask: SampleMask, gu: [Int32], guOffset: Int) {
        if let c = leaf { return (ctx.index.masks[c], ctx.cuImage, c * ctx.index.layout.images) }
        return (mask!, guImage, 0)
    }
}
