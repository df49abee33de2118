import Foundation
import XCTest
import GlassboxCore
import GlassboxData
import GlassboxNN
@testable import GlassboxAnalysis

/// Dissection and the formula searches on planted units, against brute-force references, and bounded against
/// unbounded on a trained layer.
final class ExplainSearchTests: XCTestCase {
    override func setUp() { ProgressBar.quiet = true }

    /// A unit whose 14×14 map is a concept's mask averaged over 2×2 blocks is dissected as that concept with IoU ≥ 0.8.
    func testPlantedConceptIsExplainedFirst() throws {
        let probes = try rectangleProbes(images: 200, concepts: 10)
        let L = probes.layout
        var maps = [Float](repeating: 0, count: L.images * 10 * 196)
        for c in 0..<10 {
            let m = probes.concepts[c].mask
            for s in 0..<L.images { for i in 0..<14 { for j in 0..<14 {
                var v: Float = 0
                for dy in 0..<2 { for dx in 0..<2 where m[L.bit(image: s, pixel: (2 * i + dy) * 28 + 2 * j + dx)] { v += 0.25 } }
                maps[(s * 10 + c) * 196 + i * 14 + j] = v
            } } }
        }
        let acts = try UnitActivations(values: Tensor(shape: [L.images, 10, 14, 14], scalars: maps))
        for c in 0..<10 {
            let q = Double(probes.concepts[c].mask.popcount) / Double(L.pixelCount)
            let d = try Dissection.run(acts, probes: probes, config: DissectionConfig(quantile: q, units: [c]))
            let u = d.units[0]
            XCTAssertEqual(u.best?.name, "r\(c)")
            XCTAssertGreaterThanOrEqual(u.best?.iou ?? 0, 0.8, "unit \(c)")
            XCTAssertTrue(u.isDetector)
            XCTAssertTrue(u.beatsShuffle, "a planted detector beats masks shuffled across images")
            // CoEx at length 1 names the same concept.
            var cfg = ExplanationConfig.coex(quantile: q, search: SearchConfig(maxLength: 1, exhaustiveLength2: false))
            cfg.units = [c]
            let e = try CompositionalExplanations.run(acts, probes: probes, config: cfg)
            XCTAssertEqual(e.units[0].ranges[0].best?.text, "r\(c)")
        }
    }

    /// Units planted as A OR B, A AND NOT B and (A OR B) AND C are recovered exactly by the beam search.
    func testPlantedFormulasAreRecovered() throws {
        let probes = try rectangleProbes(images: 200, concepts: 10)
        let index = try ConceptIndex(probes)
        let L = probes.layout
        let planted: [Formula] = [
            FormulaOp.or.apply(.concept(0), 1),
            FormulaOp.andNot.apply(.concept(2), 3),
            FormulaOp.and.apply(FormulaOp.or.apply(.concept(4), 5), 10),
        ]
        for f in planted {
            let mask = f.mask(index)
            let acts = try plantedActivations(mask, L)
            let e = try CompositionalExplanations.run(acts, index: index, config: .coex(quantile: plantedQuantile(mask.popcount, L.pixelCount)))
            let r = e.units[0].ranges[0]
            let best = try XCTUnwrap(r.best)
            XCTAssertEqual(best.iou, 1, "\(f.description(index.names)) explained as \(best.text)")
            XCTAssertEqual(best.formula.canonicalKey, f.canonicalKey, "\(best.text)")
            XCTAssertEqual(r.unitPixels, mask.popcount)
            XCTAssertEqual(r.metrics?.activationCoverage, 1)
            XCTAssertEqual(r.metrics?.detectionAccuracy, 1)
        }
    }

    /// The beam of compositional explanations equals a direct implementation of Mu & Andreas' procedure over boolean
    /// masks (same candidates and tie rules), and the exhaustive length-2 optimum equals brute force over every
    /// formula of length ≤ 2.
    func testSearchesEqualBruteForceReferences() throws {
        let probes = try rectangleProbes(images: 60, concepts: 8, seed: 3)
        let index = try ConceptIndex(probes)
        let L = probes.layout
        let bools = probes.concepts.map { realPixels($0.mask, L) }
        var g = SeededGenerator(seed: 12)
        // Units: random 7×7 maps upsampled, thresholds at several quantiles.
        let maps = Tensor.uniform([L.images, 6, 7, 7], low: -1, high: 1, using: &g)
        let acts = try UnitActivations(values: maps)
        for q in [0.3, 0.1] {
            let cfg = ExplanationConfig(clusters: 1, quantile: q, search: SearchConfig(beamWidth: 3, maxLength: 3))
            let e = try CompositionalExplanations.run(acts, index: index, config: cfg)
            for u in 0..<6 {
                let t = UnitMasks.topQuantile(acts.unitValues(u), q: q)
                let um = try UnitMasks.masks(acts, unit: u, ranges: [.above(t)], layout: L, upsampler: .bilinear)[0]
                let unit = realPixels(um, L)
                let ref = referenceBeam(unit: unit, concepts: bools, beam: 3, length: 3)
                let r = e.units[u].ranges[0]
                XCTAssertEqual(r.best?.formula.canonicalKey, ref.best?.key, "unit \(u) q \(q)")
                XCTAssertEqual(r.best?.iou ?? 0, ref.best?.iou.value ?? 0, accuracy: 1e-15)
                XCTAssertEqual(r.beamLength2?.formula.canonicalKey, ref.length2?.key)
                let ex = exhaustive2(unit: unit, concepts: bools)
                XCTAssertEqual(r.exhaustiveLength2?.formula.canonicalKey, ex?.key, "unit \(u) q \(q)")
                XCTAssertEqual(r.exhaustiveLength2?.iou ?? 0, ex?.iou.value ?? 0, accuracy: 1e-15)
                XCTAssertGreaterThanOrEqual(r.gapLength2 ?? 0, 0)
            }
        }
    }

    /// Bounded and unbounded searches return the same formulas and IoUs on every unit and range of a trained layer,
    /// the bound is never below a candidate's IoU, and it skips candidates. With one range and formulas of length 1
    /// the clustered method is network dissection; the results do not depend on the thread count.
    func testBoundedSearchEqualsUnboundedOnTrainedLayer() throws {
        let data = try mnistOrSkip()
        let (train, test) = try data.split(trainCount: 3000, testCount: 600, seed: 0)
        let model = try Sequential(spec: ModelSpec.parse("input 1x28x28; conv 8 k5 p2; relu; maxpool 2; flatten; linear 10"), seed: 0)
        try Trainer(model: model, config: TrainConfig(epochs: 1, batchSize: 50, optimizer: .sgd(lr: 0.05, momentum: 0.9), evaluateEachEpoch: false)).fit(train: train)
        let probes = try ProbeSets.fromImages(test)
        let index = try ConceptIndex(probes)
        let acts = try ExplainLayers.activations(model, images: probes.images, layer: 2)
        XCTAssertEqual(acts.values.shape, [600, 8, 14, 14])
        var cfg = ExplanationConfig(clusters: 5, examples: 2)
        let bounded = try CompositionalExplanations.run(acts, index: index, config: cfg)
        cfg.search.useBound = false
        let unbounded = try CompositionalExplanations.run(acts, index: index, config: cfg)
        cfg.search.useBound = true
        cfg.search.verifyBound = true
        let verified = try CompositionalExplanations.run(acts, index: index, config: cfg)
        func strip(_ r: ExplanationResult) -> [[String]] {
            r.units.map { $0.ranges.map { "\($0.range.text) \($0.best?.formula.canonicalKey ?? "-") \($0.best?.iou ?? -1) \($0.beamLength2?.iou ?? -1) \($0.exhaustiveLength2?.iou ?? -1)" } }
        }
        XCTAssertEqual(strip(bounded), strip(unbounded))
        XCTAssertEqual(strip(bounded), strip(verified))
        XCTAssertEqual(bounded.units.map { $0.ranges.map(\.examples) }, unbounded.units.map { $0.ranges.map(\.examples) })
        XCTAssertEqual(bounded.units.flatMap(\.ranges).count, 40, "5 ranges for each of the 8 units")
        XCTAssertEqual(unbounded.search.skipped, 0)
        XCTAssertGreaterThan(bounded.search.skipped, 0)
        XCTAssertEqual(bounded.search.candidates, unbounded.search.candidates)
        XCTAssertEqual(bounded.search.evaluated + bounded.search.skipped, bounded.search.candidates)
        XCTAssertGreaterThan(verified.search.boundChecks, 1000)
        XCTAssertEqual(verified.search.boundViolations, 0)
        XCTAssertEqual(verified.exhaustiveSearch?.boundViolations, 0)
        XCTAssertEqual(verified.search.skipped, bounded.search.skipped)
        print(String(format: "bound skipped %d of %d candidates (%.1f %%); exhaustive length 2 evaluated %d of %d",
                     bounded.search.skipped, bounded.search.candidates, 100 * bounded.search.skipShare,
                     bounded.exhaustiveSearch!.evaluated, bounded.exhaustiveSearch!.candidates))

        // k = 1, length 1: dissection.
        let d = try Dissection.run(acts, index: index)
        let k1 = try CompositionalExplanations.run(acts, index: index, config: ExplanationConfig(clusters: 1, search: SearchConfig(maxLength: 1)))
        for (du, eu) in zip(d.units, k1.units) {
            XCTAssertEqual(eu.ranges[0].best?.formula, du.best.map { .concept($0.concept) }, "unit \(du.unit)")
            XCTAssertEqual(eu.ranges[0].best?.iou ?? 0, du.best?.iou ?? 0)
            XCTAssertEqual(eu.ranges[0].range.lower, du.threshold)
        }
        // k = 1, length 3: compositional explanations, checked against the direct reference.
        let k1l3 = try CompositionalExplanations.run(acts, index: index, config: ExplanationConfig(clusters: 1))
        XCTAssertEqual(k1l3.method, "coex")
        // The reference is slow: compare on the first 150 probe images.
        let few = Array(0..<150)
        let small = try probes.subset(few), smallActs = try acts.subset(few)
        let k1l3Small = try CompositionalExplanations.run(smallActs, probes: small, config: ExplanationConfig(clusters: 1))
        let bools = small.concepts.map { realPixels($0.mask, small.layout) }
        for u in 0..<4 {
            let t = UnitMasks.topQuantile(smallActs.unitValues(u), q: 0.005)
            let unit = realPixels(try UnitMasks.masks(smallActs, unit: u, ranges: [.above(t)], layout: small.layout, upsampler: .bilinear)[0], small.layout)
            let ref = referenceBeam(unit: unit, concepts: bools, beam: 5, length: 3)
            XCTAssertEqual(k1l3Small.units[u].ranges[0].best?.formula.canonicalKey, ref.best?.key, "unit \(u)")
            XCTAssertEqual(k1l3Small.units[u].ranges[0].best?.iou ?? 0, ref.best?.iou.value ?? 0, accuracy: 1e-15)
        }

        // Threads.
        let saved = Parallel.threads
        defer { Parallel.threads = saved }
        Parallel.threads = 1
        let one = try CompositionalExplanations.run(acts, index: index, config: ExplanationConfig(clusters: 3, search: SearchConfig(maxLength: 2)))
        let dOne = try Dissection.run(acts, index: index)
        Parallel.threads = 3
        XCTAssertEqual(try CompositionalExplanations.run(acts, index: index, config: ExplanationConfig(clusters: 3, search: SearchConfig(maxLength: 2))), one)
        XCTAssertEqual(try Dissection.run(acts, index: index), dOne)
    }

    /// Shuffled-mask and random-initialisation nulls: planted detectors beat both; noise units detect nothing.
    func testNulls() throws {
        let probes = try rectangleProbes(images: 150, concepts: 6)
        let L = probes.layout
        // Unit 0 = concept r1 at full resolution, unit 1 = noise.
        var g = SeededGenerator(seed: 3)
        let r1 = realPixels(probes.concepts[1].mask, L)
        var v = [Float](repeating: 0, count: L.images * 2 * 784)
        for s in 0..<L.images { for p in 0..<784 { v[(s * 2) * 784 + p] = r1[s * 784 + p] ? 1 : 0; v[(s * 2 + 1) * 784 + p] = g.uniform() } }
        let acts = try UnitActivations(values: Tensor(shape: [L.images, 2, 28, 28], scalars: v))
        // The null: unit 0 is unit 1's noise (so unit 1 cannot beat it), unit 1 other noise.
        let other = Tensor.uniform([L.images, 784], low: 0, high: 1, using: &g)
        var nv = [Float](repeating: 0, count: L.images * 2 * 784)
        for s in 0..<L.images { for p in 0..<784 { nv[(s * 2) * 784 + p] = v[(s * 2 + 1) * 784 + p]; nv[(s * 2 + 1) * 784 + p] = other.scalars[s * 784 + p] } }
        let noise = try UnitActivations(values: Tensor(shape: [L.images, 2, 28, 28], scalars: nv))
        let q = plantedQuantile(probes.concepts[1].mask.popcount, L.pixelCount)
        let d = try Dissection.run(acts, probes: probes, config: DissectionConfig(quantile: q, shuffleDraws: 3), nullActivations: noise)
        XCTAssertEqual(d.units[0].best?.iou, 1)
        XCTAssertTrue(d.units[0].beatsShuffle)
        XCTAssertEqual(d.units[0].beatsRandomInit, true)
        XCTAssertEqual(d.units[0].shuffledBestIoU.count, 3)
        XCTAssertTrue(d.units[0].shuffledBestIoU.allSatisfy { $0 < 0.5 })
        XCTAssertLessThan(d.units[1].best?.iou ?? 0, 0.2)
        XCTAssertEqual(d.detectorsBeatingShuffle, 1)
        XCTAssertEqual(d.detectorsBeatingRandomInit, 1)
        XCTAssertEqual(d.randomInit?.bestIoU.count, 2)
        XCTAssertEqual(d.iou.count, 2)
        XCTAssertEqual(d.iou[0].count, probes.concepts.count)
        XCTAssertEqual(d.detectorsByCategory, [CategoryCount(category: .shape, count: d.units.filter { $0.isDetector && $0.best?.category == .shape }.count)].filter { $0.count > 0 })
        XCTAssertNoThrow(try JSONEncoder().encode(d))
    }

    /// Clustered explanations of a unit whose activation levels are two concepts: the low range is one concept,
    /// the high range the other; metrics and examples follow.
    func testClusteredRangesSeparateLevels() throws {
        let probes = try rectangleProbes(images: 120, concepts: 6, p: 0.4)
        let L = probes.layout
        let a = realPixels(probes.concepts[0].mask, L), b = realPixels(probes.concepts[3].mask, L)
        let v = (0..<L.pixelCount).map { k -> Float in b[k] ? 2 : (a[k] ? 1 : 0) }
        let acts = try UnitActivations(values: Tensor(shape: [L.images, 1, 28, 28], scalars: v))
        let e = try CompositionalExplanations.run(acts, probes: probes, config: ExplanationConfig(clusters: 2, examples: 3))
        let rs = e.units[0].ranges
        XCTAssertEqual(rs.map(\.range), [ActivationRange(lower: 1, lowerStrict: false, upper: 1), ActivationRange(lower: 2, lowerStrict: false, upper: 2)])
        XCTAssertEqual(rs[0].best?.text, "r0 AND NOT r3")
        XCTAssertEqual(rs[0].best?.iou, 1)
        XCTAssertEqual(rs[1].best?.text, "r3")
        XCTAssertEqual(rs[1].activations, b.filter { $0 }.count)
        XCTAssertEqual(rs[1].examples.count, 3)
        XCTAssertEqual(rs[1].examples[0].activation, 2)
        let ex = rs[1].examples[0]
        XCTAssertEqual(ex.unitMask, ex.formulaMask)
        XCTAssertEqual(ex.unitMask.popcount, (0..<784).filter { b[ex.image * 784 + $0] }.count)
        XCTAssertEqual(e.specialisation.count, 2)
        XCTAssertEqual(e.specialisation[1].meanIoU, 1)
        XCTAssertEqual(e.method, "clustered")
        XCTAssertNoThrow(try JSONEncoder().encode(e))
    }

    /// Metrics on a hand-made pair of masks.
    func testMetricsByHand() throws {
        let L = MaskLayout(images: 3, height: 2, width: 2)
        func mask(_ bits: [(Int, Int)]) -> SampleMask {
            var m = L.emptyMask()
            for (s, p) in bits { m[L.bit(image: s, pixel: p)] = true }
            return SampleMask(m, layout: L)
        }
        // U: image 0 pixels 0,1; image 1 pixel 0. F: image 0 pixel 1; image 2 pixels 0–3.
        let u = mask([(0, 0), (0, 1), (1, 0)]), f = mask([(0, 1), (2, 0), (2, 1), (2, 2), (2, 3)])
        let m = try ExplanationMetrics.measure(unit: u, formula: f)
        XCTAssertEqual(m.iou, 1.0 / 7, accuracy: 1e-15)
        XCTAssertEqual(m.activationCoverage!, 1.0 / 3, accuracy: 1e-15)
        XCTAssertEqual(m.detectionAccuracy!, 1.0 / 5, accuracy: 1e-15)
        XCTAssertEqual(m.sampleCoverage!, 0.5)
        XCTAssertEqual(m.explanationCoverage!, 0.5)
        XCTAssertEqual(m.meanUnitSize!, (0.5 + 0.25) / 2, accuracy: 1e-15)
        XCTAssertEqual(m.meanFormulaSize!, (0.25 + 1) / 2, accuracy: 1e-15)
        let empty = try ExplanationMetrics.measure(unit: mask([]), formula: f)
        XCTAssertNil(empty.activationCoverage)
        XCTAssertNil(empty.explanationCoverage)
        let other = SampleMask(MaskLayout(images: 1, height: 2, width: 2).emptyMask(), layout: MaskLayout(images: 1, height: 2, width: 2))
        XCTAssertThrowsError(try ExplanationMetrics.measure(unit: u, formula: other))
        XCTAssertThrowsError(try SampleMask(checking: BitMask(count: 64), layout: L))
        XCTAssertThrowsError(try Formula.or(.concept(0), .concept(7)).validate(conceptCount: 7))
    }

    /// Label masking is 1 when the formula covers every pixel (the input is unchanged) and drops when it covers none
    /// of what drives the unit.
    func testLabelMasking() throws {
        let probes = try rectangleProbes(images: 20, concepts: 3)
        let L = probes.layout
        let model = try Sequential(spec: ModelSpec.parse("input 1x28x28; conv 2 k3 p1; relu"), seed: 1)
        let acts = try ExplainLayers.activations(model, images: probes.images, layer: 1)
        var g = SeededGenerator(seed: 1)
        let everything = SampleMask(L.fullMask(), layout: L)
        let all = ActivationRange(lower: 1e-6, lowerStrict: true, upper: nil)
        let one = try XCTUnwrap(LabelMasking.measure(model: model, layer: 1, images: probes.images, activations: acts, unit: 0, range: all,
                                                     formula: everything, count: 20, using: &g))
        let firing = (0..<20).filter { s in (0..<784).contains { acts.values.scalars[(s * 2) * 784 + $0] > 1e-6 } }.count
        XCTAssertEqual(one, Double(firing) / 20, accuracy: 1e-5, "cosine 1 on every image where the unit fires in range")
        let corner = SampleMask(probes.concepts[0].mask, layout: L)
        let some = try XCTUnwrap(LabelMasking.measure(model: model, layer: 1, images: probes.images, activations: acts, unit: 0, range: all,
                                                      formula: corner, count: 10, using: &g))
        XCTAssertLessThan(some, 0.999)
        // Through the model entry point every explained range gets a value.
        var cfg = ExplanationConfig(clusters: 2, search: SearchConfig(maxLength: 2), labelMaskingImages: 5)
        cfg.units = [0]
        let e = try CompositionalExplanations.run(model, layer: "0.weight", probes: probes, config: cfg)
        XCTAssertTrue(e.units[0].ranges.allSatisfy { $0.best == nil || $0.metrics?.labelMasking != nil })
    }

    /// The model entry points: the random-initialisation null built from the architecture and a seed.
    func testModelEntryPoints() throws {
        let probes = try rectangleProbes(images: 30, concepts: 4)
        let spec = try ModelSpec.parse("input 1x28x28; conv 3 k3 p1; relu; maxpool 2")
        let model = try Sequential(spec: spec, seed: 1)
        let d = try Dissection.run(model, layer: "0.weight", probes: probes, config: DissectionConfig(randomInitSeed: 5))
        XCTAssertEqual(d.units.count, 3)
        XCTAssertEqual(d.randomInit?.bestIoU.count, 3)
        let explicit = try Dissection.run(model, layer: "0.weight", probes: probes, nullModel: try Sequential(spec: spec, seed: 5))
        XCTAssertEqual(explicit.randomInit, d.randomInit)
        let other = try Sequential(spec: ModelSpec.parse("input 1x28x28; conv 4 k3 p1; relu"), seed: 5)
        XCTAssertThrowsError(try Dissection.run(model, layer: "0.weight", probes: probes, nullModel: other))
        let pooled = try Dissection.run(model, layer: "2", probes: probes, config: DissectionConfig(upsampler: .receptiveField))
        XCTAssertEqual(pooled.units.count, 3)
        XCTAssertThrowsError(try UnitActivations(values: Tensor(zeros: [1, 1, 2, 2]), field: ReceptiveField(offset: 0, step: 0)))
    }

    func testInvalidSettingsThrow() throws {
        let probes = try rectangleProbes(images: 5, concepts: 2)
        let acts = try UnitActivations(values: Tensor(zeros: [5, 2, 7, 7]))
        func name(_ body: @autoclosure () throws -> Any) -> String? {
            do { _ = try body(); return nil } catch let GlassboxError.invalidArgument(n, _, _) { return n } catch { return "\(error)" }
        }
        XCTAssertEqual(name(try Dissection.run(acts, probes: probes, config: DissectionConfig(quantile: 0))), "quantile")
        XCTAssertEqual(name(try Dissection.run(acts, probes: probes, config: DissectionConfig(units: [2]))), "units")
        XCTAssertEqual(name(try Dissection.run(acts, probes: probes, config: DissectionConfig(detectorThreshold: 1.5))), "detector-threshold")
        XCTAssertEqual(name(try CompositionalExplanations.run(acts, probes: probes, config: ExplanationConfig(clusters: 0))), "clusters")
        XCTAssertEqual(name(try CompositionalExplanations.run(acts, probes: probes, config: ExplanationConfig(search: SearchConfig(beamWidth: 0)))), "beam-width")
        XCTAssertEqual(name(try CompositionalExplanations.run(acts, probes: probes, config: ExplanationConfig(search: SearchConfig(maxLength: 0)))), "max-length")
        let wrongCount = try UnitActivations(values: Tensor(zeros: [4, 2, 7, 7]))
        XCTAssertEqual(name(try Dissection.run(wrongCount, probes: probes)), "activations")
        let live = try UnitActivations(values: Tensor(repeating: 1, shape: [5, 2, 7, 7]))
        XCTAssertEqual(name(try CompositionalExplanations.run(live, probes: probes, config: ExplanationConfig(upsampler: .receptiveField))), "upsampler")
        // A dead unit (all zeros) has no ranges and no explanation, without failing.
        let e = try CompositionalExplanations.run(acts, probes: probes, config: ExplanationConfig(clusters: 3))
        XCTAssertTrue(e.units.allSatisfy { $0.ranges.isEmpty })
        let d = try Dissection.run(acts, probes: probes)
        XCTAssertTrue(d.units.allSatisfy { $0.best == nil && !$0.isDetector })
    }
}

// MARK: - References

struct RefFormula { let formula: Formula; let key: String; let iou: Fraction; var rank: (iou: Fraction, length: Int, key: String) { (iou, formula.length, key) } }

/// Mu & Andreas' beam search written directly over boolean masks, with Glassbox's candidate and tie rules.
func referenceBeam(unit: [Bool], concepts: [[Bool]], beam B: Int, length: Int) -> (best: RefFormula?, length2: RefFormula?) {
    func score(_ f: Formula) -> RefFormula {
        let m = bruteFormula(f, concepts)
        var i = 0, u = 0
        for k in m.indices { if m[k] && unit[k] { i += 1 }; if m[k] || unit[k] { u += 1 } }
        return RefFormula(formula: f, key: f.canonicalKey, iou: Fraction(i, u))
    }
    var beam = (0..<concepts.count).map { score(.concept($0)) }.filter { $0.iou > .zero }.sorted { ranksBefore($0.rank, $1.rank) }
    beam = Array(beam.prefix(B))
    var l2: RefFormula?
    guard !beam.isEmpty else { return (nil, nil) }
    if length >= 2 {
        for step in 2...length {
            var seen = Set(beam.map(\.key))
            var cands: [RefFormula] = []
            for f in beam {
                for c in concepts.indices where !f.formula.concepts.contains(c) {
                    for op in FormulaOp.allCases {
                        let g = op.apply(f.formula, c)
                        if seen.insert(g.canonicalKey).inserted { cands.append(score(g)) }
                    }
                }
            }
            beam = Array((beam + cands).sorted { ranksBefore($0.rank, $1.rank) }.prefix(B))
            if step == 2 { l2 = beam.first }
        }
    }
    return (beam.first, l2)
}

/// The best formula of length ≤ 2 by brute force over every concept and ordered pair.
func exhaustive2(unit: [Bool], concepts: [[Bool]]) -> RefFormula? {
    var all: [Formula] = concepts.indices.map { .concept($0) }
    for a in concepts.indices { for b in concepts.indices where a != b { for op in FormulaOp.allCases { all.append(op.apply(.concept(a), b)) } } }
    let scored = all.map { f -> RefFormula in
        let m = bruteFormula(f, concepts)
        var i = 0, u = 0
        for k in m.indices { if m[k] && unit[k] { i += 1 }; if m[k] || unit[k] { u += 1 } }
        return RefFormula(formula: f, key: f.canonicalKey, iou: Fraction(i, u))
    }.filter { $0.iou > .zero }
    return scored.min { ranksBefore($0.rank, $1.rank) }
}
