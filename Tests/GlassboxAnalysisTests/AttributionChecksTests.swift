import Foundation
import XCTest
import GlassboxCore
import GlassboxNN
@testable import GlassboxAnalysis

/// The statistics and checks around attribution maps, on hand-computed cases.
final class AttributionChecksTests: XCTestCase {
    func testRanksAndSpearman() {
        XCTAssertEqual(MapComparison.ranks([3, 1, 2, 2]), [4, 1, 2.5, 2.5])
        XCTAssertEqual(MapComparison.spearman([1, 2, 3, 4], [10, 20, 30, 400]), 1, accuracy: 1e-12)
        XCTAssertEqual(MapComparison.spearman([1, 2, 3, 4], [4, 3, 2, 1]), -1, accuracy: 1e-12)
        // Ranks of b = [1, 2, 3.5, 5, 3.5]: ρ = 8 / √(10 · 9.5) (scipy.stats.spearmanr gives 0.8207826816681233).
        XCTAssertEqual(MapComparison.spearman([1, 2, 3, 4, 5], [5, 6, 7, 8, 7]), 8 / (95.0).squareRoot(), accuracy: 1e-12)
        XCTAssertEqual(MapComparison.spearman([1, 1, 1], [1, 2, 3]), 0)
    }

    func testSSIM() {
        var g = SeededGenerator(seed: 1)
        let a = (0..<100).map { _ in g.uniform() }
        XCTAssertEqual(MapComparison.ssim(a, a, height: 10, width: 10, dataRange: 1), 1, accuracy: 1e-9)
        XCTAssertLessThan(MapComparison.ssim(a, a.map { 1 - $0 }, height: 10, width: 10, dataRange: 1), 0)
        // One 3×3 window: means 0.5 and 0.5 + 0.1, equal variances, covariance = variance: SSIM = luminance term.
        let x: [Float] = [0, 1, 0, 1, 0, 1, 0, 1, 0.5], y = x.map { $0 + 0.1 }
        let mx = x.reduce(0, +) / 9, my = mx + 0.1
        let c1 = 0.0001
        let expected = (2 * Double(mx) * Double(my) + c1) / (Double(mx * mx) + Double(my * my) + c1)
        XCTAssertEqual(MapComparison.ssim(x, y, height: 3, width: 3, dataRange: 1, window: 3), expected, accuracy: 1e-6)
    }

    func testClassMeanMaps() throws {
        let a = Attribution(config: AttributionConfig(method: .gradient), shape: [4, 1, 1, 2], values: [1, 2, 3, 4, 5, 6, 7, 8],
                            targets: [0, 2, 0, 2], outputs: [0, 0, 0, 0], baselineOutputs: nil, completenessGap: nil, gradCAMLayer: nil)
        let m = try ClassMeanMaps.compute(a, classCount: 3)
        XCTAssertEqual(m.counts, [2, 0, 2])
        XCTAssertEqual(m.means, [[3, 4], [], [5, 6]])
        XCTAssertEqual(m.mapShape, [1, 1, 2])
        let byLabel = try ClassMeanMaps.compute(a, labels: [1, 1, 1, 0], classCount: 2)
        XCTAssertEqual(byLabel.means, [[7, 8], [3, 4]])
        XCTAssertThrowsError(try ClassMeanMaps.compute(a, labels: [0, 1], classCount: 2))
        XCTAssertThrowsError(try ClassMeanMaps.compute(a, classCount: 2))
    }

    /// Deletion and insertion on a 2×2 linear model, one pixel per step: 5 evaluations, the probabilities worked out
    /// from the softmax of the known logits, and the trapezoid AUC.
    func testDeletionInsertionByHand() throws {
        let m = try Sequential(spec: ModelSpec.parse("input 1x2x2; linear 2"), seed: 0)
        m.layers[0].parameters[0].value = Tensor(shape: [2, 4], scalars: [4, 3, 2, 1, 0, 0, 0, 0])
        m.layers[0].parameters[1].value = Tensor(zeros: [2])
        let x = Tensor(shape: [1, 1, 2, 2], scalars: [1, 1, 1, 1])
        let map = Tensor(shape: [1, 1, 2, 2], scalars: [0.1, 0.4, 0.3, 0.2])  // order: pixels 1, 2, 3, 0
        let r = try DeletionInsertion.evaluate(model: m, inputs: x, targets: [0], maps: map,
                                               config: DeletionInsertionConfig(pixelsPerStep: 1, insertionBlurSigma: 100, seed: 3))
        func p(_ logit: Float) -> Float { 1 / (1 + expf(-logit)) }  // two classes, the other logit 0
        XCTAssertEqual(r.fractions, [0, 0.25, 0.5, 0.75, 1])
        // Deletion removes weights 3, 2, 1, 4 in turn: logits 10, 7, 5, 4, 0.
        let expected = [10, 7, 5, 4, 0].map { p(Float($0)) }
        for (a, b) in zip(r.attribution.deletion[0], expected) { XCTAssertEqual(a, b, accuracy: 1e-6) }
        // Insertion starts from the blur of a constant image (itself) and ends at x: the same image, so flat.
        for v in r.attribution.insertion[0] { XCTAssertEqual(v, p(10), accuracy: 1e-6) }
        var auc: Float = 0
        for k in 1..<5 { auc += 0.25 * (expected[k] + expected[k - 1]) / 2 }
        XCTAssertEqual(r.attribution.deletionAUC[0], auc, accuracy: 1e-6)
        // The random ordering shares the end points.
        XCTAssertEqual(r.random.deletion[0].first!, expected.first!, accuracy: 1e-6)
        XCTAssertEqual(r.random.deletion[0].last!, expected.last!, accuracy: 1e-6)
        XCTAssertThrowsError(try DeletionInsertion.evaluate(model: m, inputs: x, targets: [0], maps: map, config: DeletionInsertionConfig(pixelsPerStep: 5)))
        XCTAssertThrowsError(try DeletionInsertion.evaluate(model: m, inputs: x, targets: [0], maps: Tensor(zeros: [1, 1, 2, 3])))
    }

    /// The randomisation test's stages, and that it leaves the caller's model alone.
    func testRandomisationStagesLeaveTheModelUntouched() throws {
        let m = try Sequential(spec: ModelSpec.parse("input 1x4x4; conv 2 k3 p1; relu; flatten; linear 5; relu; linear 3"), seed: 2)
        let before = m.namedParameters.map(\.parameter.value)
        var g = SeededGenerator(seed: 5)
        let x = Tensor.uniform([6, 1, 4, 4], low: 0, high: 1, using: &g)
        let r = try RandomisationTest.run(model: m, inputs: x, targets: [0, 1, 2, 0, 1, 2],
                                          config: RandomisationTestConfig(attribution: AttributionConfig(method: .gradient), seed: 9))
        XCTAssertEqual(r.layers, [5, 3, 0])
        XCTAssertEqual(r.cascading.map(\.randomised), [["5.weight"], ["5.weight", "3.weight"], ["5.weight", "3.weight", "0.weight"]])
        XCTAssertEqual(r.independent.map(\.randomised), [["5.weight"], ["3.weight"], ["0.weight"]])
        // The first stages of both modes randomise the same layer with the same stream: identical numbers.
        XCTAssertEqual(r.cascading[0], RandomisationStage(mode: .cascading, randomised: r.independent[0].randomised,
                                                          spearmanAbsolute: r.independent[0].spearmanAbsolute,
                                                          spearmanSigned: r.independent[0].spearmanSigned, ssim: r.independent[0].ssim,
                                                          meanSpearmanAbsolute: r.independent[0].meanSpearmanAbsolute,
                                                          meanSpearmanSigned: r.independent[0].meanSpearmanSigned,
                                                          meanSSIM: r.independent[0].meanSSIM))
        XCTAssertEqual(m.namedParameters.map(\.parameter.value), before)
        XCTAssertNotNil(r.passes)
        XCTAssertThrowsError(try RandomisationTest.run(model: m, inputs: x, targets: [0, 1, 2, 0, 1, 2],
                                                       config: RandomisationTestConfig(attribution: AttributionConfig(method: .gradient), failThreshold: 2)))
    }

    /// Foreground-only comparison: the pixels kept are those with a non-zero input in some channel, in every channel;
    /// gradient × input maps, 0 off the foreground, are compared on the foreground only.
    func testForegroundPixels() throws {
        let x = Tensor(shape: [2, 2, 1, 3], scalars: [0, 1, 0, 0, 0, 2,  0, 0, 0, 0, 0, 0])
        XCTAssertEqual(RandomisationTest.foreground(x), [[1, 2, 4, 5], []])
        let m = try Sequential(spec: ModelSpec.parse("input 1x4x4; linear 6; relu; linear 3"), seed: 2)
        var g = SeededGenerator(seed: 5)
        var images = Tensor.uniform([5, 1, 4, 4], low: 0, high: 1, using: &g)
        for i in 0..<images.count where i % 3 == 0 { images[flat: i] = 0 }
        let config = RandomisationTestConfig(attribution: AttributionConfig(method: .gradientTimesInput), modes: [.cascading], seed: 1)
        var fg = config; fg.pixels = .foreground
        let all = try RandomisationTest.run(model: m, inputs: images, targets: [0, 1, 2, 0, 1], config: config)
        let some = try RandomisationTest.run(model: m, inputs: images, targets: [0, 1, 2, 0, 1], config: fg)
        let a = try Attribution.compute(model: m, inputs: images, targets: [0, 1, 2, 0, 1], config: config.attribution)
        let keep = RandomisationTest.foreground(images)
        XCTAssertEqual(keep[0].count, 16 - (0..<16).filter { $0 % 3 == 0 }.count)
        for (i, k) in keep.enumerated() {
            XCTAssertEqual(k, (0..<16).filter { images[flat: i * 16 + $0] != 0 })
        }
        XCTAssertEqual(some.cascading.count, 2)
        XCTAssertNotEqual(all.cascading[1].spearmanAbsolute, some.cascading[1].spearmanAbsolute)
        XCTAssertEqual(a.values.count, 80)
    }

    /// Activation maximisation and attribution on 32×32 colour inputs: shapes and a channel map per colour.
    func testColourImages() throws {
        let m = try Sequential(spec: ModelSpec.parse("input 3x32x32; conv 4 k3 p1; relu; maxpool 2; flatten; linear 10"), seed: 3)
        let am = try ActivationMaximisation.run(model: m, config: ActivationMaximisationConfig(layer: 1, units: [2], seedsPerUnit: 1, steps: 10))
        XCTAssertEqual(am.imageShape, [3, 32, 32])
        XCTAssertEqual(am.images[0].pixels.count, 3 * 32 * 32)
        var g = SeededGenerator(seed: 1)
        let x = Tensor.uniform([2, 3, 32, 32], low: 0, high: 1, using: &g)
        for method in AttributionMethod.allCases {
            let a = try Attribution.compute(model: m, inputs: x, targets: [1, 7], config: AttributionConfig(method: method, steps: 8))
            XCTAssertEqual(a.shape, [2, 3, 32, 32], "\(method)")
            XCTAssertTrue(a.values.allSatisfy { $0.isFinite }, "\(method)")
        }
    }
}
