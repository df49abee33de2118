import Foundation
import GlassboxCore
import GlassboxData
import GlassboxNN

/// Compositional explanations (Mu & Andreas 2020) and clustered compositional explanations (La Rosa et al. 2023)
/// of a layer's units. `ExplanationConfig.clusters` chooses between them.
public enum CompositionalExplanations {
    /// Explains the units of `activations` (over the probe images, in order) with the concepts of `probes`.
    public static func run(_ activations: UnitActivations, probes: ProbeSet, config: ExplanationConfig = ExplanationConfig()) throws -> ExplanationResult {
        try run(activations, index: try ConceptIndex(probes), config: config)
    }

    /// The model's layer `layer` (`ExplainLayers.resolve`), with label masking when `config.labelMaskingImages > 0`.
    public static func run(_ model: Sequential, layer: String, probes: ProbeSet, config: ExplanationConfig = ExplanationConfig(),
                           index: ConceptIndex? = nil) throws -> ExplanationResult {
        let li = try ExplainLayers.resolve(model, layer)
        let acts = try ExplainLayers.activations(model, images: probes.images, layer: li)
        let idx = try index ?? ConceptIndex(probes)
        var result = try run(acts, index: idx, config: config)
        if config.labelMaskingImages > 0 {
            try LabelMasking.fill(&result, model: model, layer: li, images: probes.images, activations: acts, index: idx)
        }
        return result
    }

    /// The same with a prepared concept index.
    public static func run(_ activations: UnitActivations, index: ConceptIndex, config: ExplanationConfig = ExplanationConfig()) throws -> ExplanationResult {
        try config.validate(unitCount: activations.units)
        try ExplainValidation.matches(activations, index.layout)
        let units = try ExplainValidation.units(config.units, count: activations.units)
        if config.search.maxLength >= 2 { index.preparePairs() }
        var out = [UnitExplanation?](repeating: nil, count: units.count)
        var failure: Error?
        let lock = NSLock()
        out.withUnsafeMutableBufferPointer { op in
            let o = op.baseAddress!
            Parallel.forChunks(units.count) { _, range in
                for k in range {
                    do { o[k] = try explainUnit(activations, unit: units[k], index: index, config: config) } catch {
                        lock.lock(); failure = failure ?? error; lock.unlock()
                    }
                }
            }
        }
        if let failure { throw failure }
        let done = out.map { $0! }
        let all = done.flatMap(\.ranges)
        let exhaustive = config.search.exhaustiveLength2 && config.search.maxLength >= 2
        return ExplanationResult(method: config.method, config: config, concepts: index.names, categories: index.categories, units: done,
                                 specialisation: specialisation(done, index: index), gap: exhaustive ? gapSummary(all) : nil,
                                 search: all.reduce(SearchStats()) { $0 + $1.search },
                                 exhaustiveSearch: exhaustive ? all.reduce(SearchStats()) { $0 + ($1.exhaustiveSearch ?? SearchStats()) } : nil)
    }

    /// The activation ranges of one unit: (T, ∞) with T the top-quantile threshold for one cluster (zeros kept, as
    /// the reference); otherwise [min, max] of each optimal 1-D k-means cluster of the unit's values, zeros left out
    /// when no value is negative (ReLU units). Ascending; fewer than k when there are fewer distinct values.
    public static func ranges(_ values: [Float], clusters k: Int, quantile q: Double) -> [ActivationRange] {
        guard !values.isEmpty else { return [] }
        if k == 1 { return [.above(UnitMasks.topQuantile(values, q: q))] }
        var v = values
        if !v.contains(where: { $0 < 0 }) { v.removeAll { $0 == 0 } }
        return OptimalKMeans1D.cluster(v, k: k).clusters.map { ActivationRange(lower: Double($0.min), lowerStrict: false, upper: Double($0.max)) }
    }

    static func explainUnit(_ acts: UnitActivations, unit u: Int, index: ConceptIndex, config: ExplanationConfig) throws -> UnitExplanation {
        let L = index.layout
        let values = acts.unitValues(u)
        let rs = ranges(values, clusters: config.clusters, quantile: config.quantile)
        let masks = try UnitMasks.masks(acts, unit: u, ranges: rs, layout: L, upsampler: config.upsampler)
        let (counts, peaks) = rangeStatistics(values, plane: acts.plane, ranges: rs)
        var out: [RangeExplanation] = []
        for (r, range) in rs.enumerated() {
            let um = SampleMask(masks[r], layout: L)
            let ctx = SearchContext(index: index, unit: um)
            let o = BeamSearch(config: config.search).run(ctx)
            func score(_ f: BeamFormula?) -> FormulaScore? {
                f.map { FormulaScore(formula: $0.formula, names: index.names, iou: $0.iou, intersection: $0.intersection, union: $0.area + um.count - $0.intersection) }
            }
            let fm = o.best.map { SampleMask($0.formula.mask(index), layout: L) }
            var gap: Double?, sub: Bool?
            if let b2 = o.beamLength2 ?? o.bestPrimitive, let e2 = o.exhaustiveLength2 {
                gap = max(0, e2.iou.value - b2.iou.value)
                sub = b2.iou < e2.iou
            }
            out.append(RangeExplanation(index: r, range: range, activations: counts[r],
                                        unitPixels: um.count, firingImages: um.images.count, best: score(o.best), bestConcept: score(o.bestPrimitive),
                                        beamLength2: score(o.beamLength2), exhaustiveLength2: score(o.exhaustiveLength2),
                                        gapLength2: gap, beamSuboptimalAtLength2: sub,
                                        metrics: fm.map { ExplanationMetrics.measureSameLayout(unit: um, formula: $0) },
                                        search: o.stats, exhaustiveSearch: config.search.exhaustiveLength2 && config.search.maxLength >= 2 ? o.exhaustiveStats : nil,
                                        examples: examples(peaks[r], count: config.examples, top: r == rs.count - 1, unit: um, formula: fm)))
        }
        return UnitExplanation(unit: u, ranges: out)
    }

    /// An image with values of a unit in a range: its largest such value and how many of its map's values are in it.
    struct RangePeak { var image: Int; var peak: Float; var inRange: Int }

    /// In one pass over a unit's raw values: how many fall in each range, and per range the images with a value in it,
    /// their largest such value and their number of such values.
    static func rangeStatistics(_ values: [Float], plane: Int, ranges: [ActivationRange]) -> (counts: [Int], peaks: [[RangePeak]]) {
        var counts = [Int](repeating: 0, count: ranges.count)
        var peaks = [[RangePeak]](repeating: [], count: ranges.count)
        let lo = ranges.map(\.lower), hi = ranges.map { $0.upper ?? .infinity }, strict = ranges.map(\.lowerStrict)
        var best = [Float](repeating: 0, count: ranges.count), inRange = [Int](repeating: 0, count: ranges.count)
        values.withUnsafeBufferPointer { v in
            for s in 0..<(v.count / plane) {
                for r in ranges.indices { inRange[r] = 0 }
                for k in (s * plane)..<((s + 1) * plane) {
                    let x = Double(v[k])
                    for r in ranges.indices where (strict[r] ? x > lo[r] : x >= lo[r]) && x <= hi[r] {
                        counts[r] += 1
                        if inRange[r] == 0 || v[k] > best[r] { best[r] = v[k] }
                        inRange[r] += 1
                    }
                }
                for r in ranges.indices where inRange[r] > 0 { peaks[r].append(RangePeak(image: s, peak: best[r], inRange: inRange[r])) }
            }
        }
        return (counts, peaks)
    }

    /// The `count` images that show the range best (ties to the lower index). The highest range (or the only one) takes
    /// the images with the largest activation in it, as network dissection does. Below it every active image reaches
    /// the range's upper end, so the largest value cannot tell them apart: those ranges take the images with the most
    /// map values in the range (then the largest value).
    static func examples(_ peaks: [RangePeak], count: Int, top: Bool, unit: SampleMask, formula: SampleMask?) -> [DatasetExample] {
        guard count > 0 else { return [] }
        let ranked = peaks.sorted { a, b in
            if top { return a.peak != b.peak ? a.peak > b.peak : a.image < b.image }
            return a.inRange != b.inRange ? a.inRange > b.inRange : (a.peak != b.peak ? a.peak > b.peak : a.image < b.image)
        }.prefix(count)
        return ranked.map { p in
            DatasetExample(image: p.image, activation: p.peak, valuesInRange: p.inRange, unitMask: unit.imageMask(p.image),
                           formulaMask: formula?.imageMask(p.image))
        }
    }

    static func specialisation(_ units: [UnitExplanation], index: ConceptIndex) -> [SpecialisationPoint] {
        let maxRanges = units.map(\.ranges.count).max() ?? 0
        return (0..<maxRanges).map { r in
            let rs = units.compactMap { $0.ranges.count > r ? $0.ranges[r] : nil }
            let ious = rs.map { $0.best?.iou ?? 0 }.sorted()
            let median = ious.isEmpty ? 0 : (ious.count % 2 == 1 ? ious[ious.count / 2] : (ious[ious.count / 2 - 1] + ious[ious.count / 2]) / 2)
            let texts = rs.compactMap { $0.best?.text }
            var freq: [String: Int] = [:]
            for t in texts { freq[t, default: 0] += 1 }
            let commonest = freq.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.first
            var cats: [ConceptCategory: Int] = [:]
            for x in rs { if let f = x.best?.formula.concepts.first { cats[index.categories[f], default: 0] += 1 } }
            let unitSizes = rs.compactMap { $0.metrics?.meanUnitSize }, formulaSizes = rs.compactMap { $0.metrics?.meanFormulaSize }
            return SpecialisationPoint(range: r, units: rs.count, meanIoU: ious.isEmpty ? 0 : ious.reduce(0, +) / Double(ious.count), medianIoU: median,
                                       meanUnitSize: unitSizes.isEmpty ? nil : unitSizes.reduce(0, +) / Double(unitSizes.count),
                                       meanFormulaSize: formulaSizes.isEmpty ? nil : formulaSizes.reduce(0, +) / Double(formulaSizes.count),
                                       meanLength: rs.isEmpty ? 0 : Double(rs.reduce(0) { $0 + ($1.best?.formula.length ?? 0) }) / Double(rs.count),
                                       distinctFormulas: Set(texts).count, commonestFormula: commonest?.key, commonestCount: commonest?.value ?? 0,
                                       categories: ConceptCategory.allCases.compactMap { c in cats[c].map { CategoryCount(category: c, count: $0) } },
                                       meanLabelMasking: nil)
        }
    }

    static func gapSummary(_ ranges: [RangeExplanation]) -> GapSummary {
        let gaps = ranges.compactMap(\.gapLength2)
        let sub = ranges.filter { $0.beamSuboptimalAtLength2 == true }.count
        return GapSummary(compared: gaps.count, suboptimal: sub, share: gaps.isEmpty ? 0 : Double(sub) / Double(gaps.count),
                          meanGap: gaps.isEmpty ? 0 : gaps.reduce(0, +) / Double(gaps.count), maxGap: gaps.max() ?? 0)
    }
}
