import Foundation
import XCTest
import GlassboxCore
import GlassboxData
import GlassboxNN
@testable import GlassboxAnalysis

/// Masks, formulas, IoU and the geometry of unit masks against brute force and known values.
final class ExplainMaskTests: XCTestCase {
    /// BitMask counts and the IoU of random masks equal direct counts over booleans.
    func testCountsAndIoUMatchBruteForce() throws {
        var g = SeededGenerator(seed: 5)
        for trial in 0..<50 {
            let n = 1 + g.int(below: 300)
            let pa = g.uniform(), pb = g.uniform(), pc = g.uniform()
            let a = (0..<n).map { _ in g.uniform() < pa }, b = (0..<n).map { _ in g.uniform() < pb }, c = (0..<n).map { _ in g.uniform() < pc }
            let A = BitMask(a), B = BitMask(b), C = BitMask(c)
            let i = zip(a, b).filter { $0 && $1 }.count, u = zip(a, b).filter { $0 || $1 }.count
            XCTAssertEqual(BitMask.intersectionCount(A, B), i, "trial \(trial)")
            XCTAssertEqual(BitMask.unionCount(A, B), u)
            XCTAssertEqual(BitMask.differenceCount(A, B), zip(a, b).filter { $0 && !$1 }.count)
            XCTAssertEqual(BitMask.intersectionCount(A, B, C), (0..<n).filter { a[$0] && b[$0] && c[$0] }.count)
            XCTAssertEqual(A.complement().bools, a.map { !$0 })
            XCTAssertEqual((A | B).bools, zip(a, b).map { $0 || $1 })
            XCTAssertEqual(BitMask.andNot(A, B).bools, zip(a, b).map { $0 && !$1 })
            XCTAssertEqual(A.setIndices, a.indices.filter { a[$0] })
            XCTAssertEqual(Fraction.iou(intersection: i, area: B.popcount, unit: A.popcount).value, bruteIoU(a, b), accuracy: 1e-15)
        }
        XCTAssertThrowsError(try BitMask(count: 3, words: [0b1000]))
        XCTAssertThrowsError(try BitMask(count: 65, words: [0]))
        XCTAssertEqual(try JSONDecoder().decode(BitMask.self, from: JSONEncoder().encode(BitMask([true, false, true]))), BitMask([true, false, true]))
    }

    /// Dissection's IoUs (global and per-category denominators) on a probe set against boolean brute force.
    func testDissectionIoUsMatchBruteForce() throws {
        let probes = try rectangleProbes(images: 40, concepts: 6)
        let index = try ConceptIndex(probes)
        let L = probes.layout
        var g = SeededGenerator(seed: 9)
        let unit = (0..<L.pixelCount).map { _ in g.uniform() < 0.1 }
        var um = L.emptyMask()
        for (k, b) in unit.enumerated() where b { um[L.bit(image: k / L.pixelsPerImage, pixel: k % L.pixelsPerImage)] = true }
        let sm = SampleMask(um, layout: L)
        let global = Dissection.conceptIoUs(sm, index: index, denominator: .global)
        let perCat = Dissection.conceptIoUs(sm, index: index, denominator: .perCategory)
        for (c, concept) in probes.concepts.enumerated() {
            let cb = realPixels(concept.mask, L)
            XCTAssertEqual(global[c].value, bruteIoU(unit, cb), accuracy: 1e-15)
            // Per category: unit pixels only in images where some concept of that category is present.
            let cat = concept.category
            let annotated = (0..<L.images).map { s in
                probes.concepts.contains { other in other.category == cat && (0..<L.pixelsPerImage).contains { other.mask[L.bit(image: s, pixel: $0)] } }
            }
            let inter = zip(unit, cb).filter { $0 && $1 }.count
            let unitIn = unit.indices.filter { unit[$0] && annotated[$0 / L.pixelsPerImage] }.count
            XCTAssertEqual(perCat[c].value, Double(inter) / Double(unitIn + cb.filter { $0 }.count - inter), accuracy: 1e-15)
        }
    }

    /// Formula masks (with NOT in the universe of real pixels) against direct evaluation on booleans.
    func testFormulaMasksMatchDirectEvaluation() throws {
        let probes = try rectangleProbes(images: 30, concepts: 5)
        let index = try ConceptIndex(probes)
        let L = probes.layout
        let bools = probes.concepts.map { realPixels($0.mask, L) }
        var g = SeededGenerator(seed: 2)
        func random(_ depth: Int) -> Formula {
            if depth == 0 || g.uniform() < 0.3 { return .concept(g.int(below: bools.count)) }
            switch g.int(below: 4) {
            case 0: return .not(random(depth - 1))
            case 1: return .and(random(depth - 1), random(depth - 1))
            case 2: return .or(random(depth - 1), random(depth - 1))
            default: return .and(random(depth - 1), .not(.concept(g.int(below: bools.count))))
            }
        }
        for _ in 0..<60 {
            let f = random(3)
            let m = f.mask(index)
            XCTAssertEqual(realPixels(m, L), bruteFormula(f, bools), f.description(index.names))
            XCTAssertNoThrow(try L.validate(m, name: "formula"), "no padding bits set")
            XCTAssertEqual(try JSONDecoder().decode(Formula.self, from: JSONEncoder().encode(f)), f)
        }
    }

    func testFormulaTextAndCanonicalKeys() throws {
        let names = ["disc", "ring", "top-left", "red"]
        let f = FormulaOp.andNot.apply(FormulaOp.or.apply(.concept(0), 1), 2)
        XCTAssertEqual(f.description(names), "(disc OR ring) AND NOT top-left")
        XCTAssertEqual(f.length, 3)
        XCTAssertEqual(FormulaOp.and.apply(FormulaOp.or.apply(.concept(0), 1), 3).description(names), "(disc OR ring) AND red")
        XCTAssertEqual(Formula.or(.concept(0), .concept(1)).canonicalKey, Formula.or(.concept(1), .concept(0)).canonicalKey)
        XCTAssertEqual(Formula.or(.or(.concept(0), .concept(1)), .concept(2)).canonicalKey,
                       Formula.or(.or(.concept(2), .concept(0)), .concept(1)).canonicalKey)
        XCTAssertNotEqual(Formula.and(.concept(0), .not(.concept(1))).canonicalKey, Formula.and(.concept(1), .not(.concept(0))).canonicalKey)
        XCTAssertNotEqual(Formula.or(.and(.concept(0), .concept(1)), .concept(2)).canonicalKey,
                          Formula.and(.or(.concept(0), .concept(2)), .concept(1)).canonicalKey)
        XCTAssertLessThan(Formula.concept(2).canonicalKey, Formula.concept(10).canonicalKey, "keys sort like indices")
        let json = String(decoding: try JSONEncoder().encode(Formula.and(.concept(1), .not(.concept(2)))), as: UTF8.self)
        XCTAssertEqual(json, #"{"and":[{"concept":1},{"not":{"concept":2}}]}"#)
    }

    /// Bilinear upsampling follows PyTorch's `interpolate(..., mode="bilinear", align_corners=False)`.
    func testBilinearMatchesPyTorchConvention() throws {
        let up = try MapUpsampler(height: 2, width: 2, toHeight: 4, toWidth: 4, method: .bilinear, field: nil)
        let map: [Float] = [1, 2, 3, 4]
        var out = [Float](repeating: 0, count: 16), row = [Float](repeating: 0, count: 2)
        map.withUnsafeBufferPointer { m in out.withUnsafeMutableBufferPointer { o in row.withUnsafeMutableBufferPointer { r in up.apply(m.baseAddress!, o.baseAddress!, r.baseAddress!) } } }
        // torch.nn.functional.interpolate(torch.tensor([[[[1., 2.], [3., 4.]]]]), size=4, mode="bilinear", align_corners=False)
        XCTAssertEqual(out, [1, 1.25, 1.75, 2, 1.5, 1.75, 2.25, 2.5, 2.5, 2.75, 3.25, 3.5, 3, 3.25, 3.75, 4])
        // Same size: the identity.
        let same = try MapUpsampler(height: 3, width: 3, toHeight: 3, toWidth: 3, method: .bilinear, field: nil)
        let m9: [Float] = (0..<9).map { Float($0 * $0) }
        var o9 = [Float](repeating: 0, count: 9), r3 = [Float](repeating: 0, count: 3)
        m9.withUnsafeBufferPointer { m in o9.withUnsafeMutableBufferPointer { o in r3.withUnsafeMutableBufferPointer { r in same.apply(m.baseAddress!, o.baseAddress!, r.baseAddress!) } } }
        XCTAssertEqual(o9, m9)
    }

    /// Receptive fields of the tour CNN and the receptive-field upsampler: after one 2×2 pooling the centres sit on
    /// the half-pixel grid, where it coincides with bilinear resizing.
    func testReceptiveFieldsAndUpsampler() throws {
        let model = try Sequential(spec: ModelSpec.parse("input 1x28x28; conv 16 k5 p2; relu; maxpool 2; conv 32 k5 p2; relu; maxpool 2; flatten; linear 10"), seed: 0)
        XCTAssertEqual(ExplainLayers.receptiveField(model, layer: 1), ReceptiveField(offset: 0, step: 1, size: 5))
        XCTAssertEqual(ExplainLayers.receptiveField(model, layer: 2), ReceptiveField(offset: 0.5, step: 2, size: 6))
        XCTAssertEqual(ExplainLayers.receptiveField(model, layer: 4), ReceptiveField(offset: 0.5, step: 2, size: 14))
        XCTAssertEqual(ExplainLayers.receptiveField(model, layer: 5), ReceptiveField(offset: 1.5, step: 4, size: 16))
        XCTAssertNil(ExplainLayers.receptiveField(model, layer: 7))
        let f = ReceptiveField(offset: 0.5, step: 2, size: 14)
        let rf = try MapUpsampler(height: 14, width: 14, toHeight: 28, toWidth: 28, method: .receptiveField, field: f)
        let bl = try MapUpsampler(height: 14, width: 14, toHeight: 28, toWidth: 28, method: .bilinear, field: nil)
        var g = SeededGenerator(seed: 4)
        let map = (0..<196).map { _ in g.uniform() }
        var a = [Float](repeating: 0, count: 784), b = a, row = [Float](repeating: 0, count: 14)
        map.withUnsafeBufferPointer { m in
            row.withUnsafeMutableBufferPointer { r in
                a.withUnsafeMutableBufferPointer { rf.apply(m.baseAddress!, $0.baseAddress!, r.baseAddress!) }
                b.withUnsafeMutableBufferPointer { bl.apply(m.baseAddress!, $0.baseAddress!, r.baseAddress!) }
            }
        }
        XCTAssertEqual(a, b)
        // At 7×7 with centres 1.5 + 4i the two differ; values at the centres are the units' own.
        let r7 = AxisInterpolation.receptiveField(source: 7, target: 28, field: ReceptiveField(offset: 1.5, step: 4))
        XCTAssertEqual(r7.i0[0], 0); XCTAssertEqual(r7.w[0], 0)   // before the first centre: clamped
        XCTAssertEqual(r7.i0[27], 6); XCTAssertEqual(r7.w[27], 0)  // after the last (25.5)
        XCTAssertEqual(r7.i0[11], 2); XCTAssertEqual(r7.w[11], 0.375) // pixel 11 is 1.5 of 4 past centre 9.5
        XCTAssertThrowsError(try MapUpsampler(height: 7, width: 7, toHeight: 28, toWidth: 28, method: .receptiveField, field: nil))
    }

    func testLayerResolverAndActivations() throws {
        let cnn = try Sequential(spec: ModelSpec.parse("input 1x28x28; conv 4 k5 p2; relu; maxpool 2; flatten; linear 10"), seed: 0)
        XCTAssertEqual(try ExplainLayers.resolve(cnn, "0.weight"), 1)
        XCTAssertEqual(try ExplainLayers.resolve(cnn, "0.bias"), 1)
        XCTAssertEqual(try ExplainLayers.resolve(cnn, "2"), 2)
        XCTAssertEqual(try ExplainLayers.resolve(cnn, "4.weight"), 4)
        for bad in ["9", "1.weight", "x", "0.grad", "-1"] { XCTAssertThrowsError(try ExplainLayers.resolve(cnn, bad), bad) }
        let mlp = try Sequential(spec: ModelSpec.parse("mlp 784-20-10"), seed: 0)
        XCTAssertEqual(try ExplainLayers.resolve(mlp, "0.weight"), 1)
        var g = SeededGenerator(seed: 1)
        let images = Tensor.uniform([7, 1, 28, 28], low: 0, high: 1, using: &g)
        let a = try ExplainLayers.activations(cnn, images: images, layer: 1, batchSize: 3)
        XCTAssertEqual(a.values.shape, [7, 4, 28, 28])
        XCTAssertEqual(a.field, ReceptiveField(offset: 0, step: 1, size: 5))
        _ = cnn.forward(images)
        XCTAssertEqual(a.values, cnn.activations[1])
        let m = try ExplainLayers.activations(mlp, images: images, layer: 1)
        XCTAssertEqual(m.values.shape, [7, 20])
        XCTAssertFalse(m.spatial)
        XCTAssertNil(m.field)
        XCTAssertThrowsError(try ExplainLayers.activations(cnn, images: Tensor(zeros: [2, 1, 20, 20]), layer: 1))
    }

    /// The threshold is numpy's linear-interpolation percentile; masks are strict above it.
    func testTopQuantileAndUnitMasks() throws {
        let v = (0..<1000).map { Float($0) }
        XCTAssertEqual(UnitMasks.topQuantile(v, q: 0.005), 994.005, accuracy: 1e-9)   // numpy.percentile(range(1000), 99.5)
        XCTAssertEqual(UnitMasks.topQuantile([3, 1, 2], q: 0.5), 2)
        // Linear units: whole images above the threshold.
        let L = MaskLayout(images: 4, height: 2, width: 3)
        let acts = try UnitActivations(values: Tensor(shape: [4, 2], scalars: [0, 5, 1, 6, 2, 7, 3, 8]))
        let masks = try UnitMasks.masks(acts, unit: 1, ranges: [.above(6.5), ActivationRange(lower: 6, lowerStrict: false, upper: 7)], layout: L, upsampler: .bilinear)
        XCTAssertEqual(SampleMask(masks[0], layout: L).perImage, [0, 0, 6, 6])
        XCTAssertEqual(SampleMask(masks[1], layout: L).perImage, [0, 6, 6, 0])
        XCTAssertThrowsError(try UnitMasks.masks(acts, unit: 2, ranges: [.above(0)], layout: L, upsampler: .bilinear))
        XCTAssertThrowsError(try UnitActivations(values: Tensor(shape: [1, 1], scalars: [.nan])))
    }

    /// Per-image counts and bounding boxes of sample masks.
    func testSampleMaskStatistics() {
        let L = MaskLayout(images: 3, height: 5, width: 70)   // rows wider than a word
        var m = L.emptyMask()
        for (y, x) in [(1, 3), (3, 66), (2, 40)] { m[L.bit(image: 1, pixel: y * 70 + x)] = true }
        m[L.bit(image: 2, pixel: 0)] = true
        let s = SampleMask(m, layout: L, boxes: true)
        XCTAssertEqual(s.perImage, [0, 3, 1])
        XCTAssertEqual(s.images, [1, 2])
        XCTAssertEqual(s.count, 4)
        XCTAssertEqual(s.boxes[1], PixelBox(y0: 1, x0: 3, y1: 4, x1: 67))
        XCTAssertEqual(s.boxes[2], PixelBox(y0: 0, x0: 0, y1: 1, x1: 1))
        XCTAssertEqual(s.boxes[0], .empty)
        XCTAssertEqual(PixelBox.overlap(s.boxes[1], PixelBox(y0: 0, x0: 60, y1: 2, x1: 80)), 7)
        XCTAssertEqual(s.imageMask(2).setIndices, [0])
    }
}
