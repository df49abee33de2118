import Foundation
import XCTest
import GlassboxCore
import GlassboxNN
@testable import GlassboxAnalysis

final class ActivationMaxTests: XCTestCase {
    /// Maximising a first-layer Linear unit w·x + b under ‖x‖ ≤ ρ has the solution x = ρ w/‖w‖ (Cauchy–Schwarz);
    /// projected gradient ascent reaches it (cosine ≥ 0.999, norm ρ).
    func testFirstLayerUnitUnderL2BoundConvergesToScaledWeights() throws {
        let model = try Sequential(spec: ModelSpec.parse("input 1x28x28; linear 10"), seed: 4)
        let config = ActivationMaximisationConfig(layer: 0, units: [3, 7], seedsPerUnit: 2, steps: 200, learningRate: 1, optimizer: .gradientAscent,
                                                  parameterisation: .pixel, range: .none, jitter: 0, scale: 0, rotationDegrees: 0,
                                                  l2Radius: 4, l2Center: 0)
        let r = try ActivationMaximisation.run(model: model, config: config)
        XCTAssertEqual(r.images.count, 4)
        XCTAssertEqual(r.imageShape, [1, 28, 28])
        let W = model.layers[0].parameters[0].value
        for img in r.images {
            let w = Array(W.scalars[(img.unit * 784)..<((img.unit + 1) * 784)])
            let dot = zip(w, img.pixels).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            let nx = img.pixels.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
            let nw = w.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
            XCTAssertGreaterThanOrEqual(dot / (nx * nw), 0.999, "unit \(img.unit) seed \(img.seedIndex)")
            XCTAssertEqual(nx, 4, accuracy: 1e-3)
            // The unit's value is then b + ρ‖w‖, its maximum on the ball.
            XCTAssertEqual(Double(img.activation), Double(model.layers[0].parameters[1].value[flat: img.unit]) + 4 * nw, accuracy: 1e-3)
        }
    }

    /// A model whose hidden ReLU units are all off for every image near grey: weights ±0.25 alternating (so w·0.5 = 0;
    /// unit 1 has the opposite signs of units 0 and 2) and bias −0.5. Reachable: x = 1 on the positive weights gives
    /// −0.5 + 8·0.25 = 1.5 > 0.
    func deadModel() throws -> Sequential {
        let m = try Sequential(spec: ModelSpec.parse("input 1x4x4; linear 3; relu; linear 2"), seed: 1)
        var w = [Float]()
        for j in 0..<3 { for p in 0..<16 { w.append((p + j) % 2 == 0 ? 0.25 : -0.25) } }
        m.layers[0].parameters[0].value = Tensor(shape: [3, 16], scalars: w)
        m.layers[0].parameters[1].value = Tensor(repeating: -0.5, shape: [3])
        m.layers[2].parameters[0].value = Tensor(shape: [2, 3], scalars: [1, 0.5, 0.25, -1, 1, 0])
        m.layers[2].parameters[1].value = Tensor(zeros: [2])
        return m
    }

    func pixelStd(_ p: [Float]) -> Float {
        let mean = p.reduce(0, +) / Float(p.count)
        return (p.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Float(p.count)).squareRoot()
    }

    /// The dead-ReLU trap: a ReLU unit that is off at the grey start has zero gradient everywhere, so plain ascent on
    /// its output leaves a blank grey image. Optimising the pre-activation (the default) brings it out and on.
    func testDeadUnitComesOutWithPreActivation() throws {
        let m = try deadModel()
        var config = ActivationMaximisationConfig(layer: 1, units: [0, 1, 2], seedsPerUnit: 2, steps: 150, parameterisation: .pixel, range: .clip,
                                                  jitter: 0, scale: 0, rotationDegrees: 0, redirectDeadReLUs: false)
        let r = try ActivationMaximisation.run(model: m, config: config)
        XCTAssertEqual(r.objectiveLayer, 0)
        for img in r.images {
            XCTAssertEqual(img.startActivation, 0, "unit \(img.unit) should start dead")
            XCTAssertGreaterThan(img.activation, 0.5, "unit \(img.unit)")
            XCTAssertGreaterThan(pixelStd(img.pixels), 0.2, "unit \(img.unit): blank image")
        }
        // The trap itself: without either remedy nothing moves.
        config.preActivation = false
        let stuck = try ActivationMaximisation.run(model: m, config: config)
        XCTAssertEqual(stuck.objectiveLayer, 1)
        for img in stuck.images {
            XCTAssertEqual(img.activation, 0)
            XCTAssertLessThan(pixelStd(img.pixels), 0.05)
        }
    }

    /// Deeper: an output unit all of whose inputs are dead ReLUs at the start. The redirected ReLU gradient (the default)
    /// wakes them; without it the image stays blank.
    func testDeadReLUsBelowADeeperUnitAreRedirected() throws {
        let m = try deadModel()
        var config = ActivationMaximisationConfig(layer: 2, units: [0], seedsPerUnit: 3, steps: 150, learningRate: 0.1,
                                                  parameterisation: .fourier, range: .sigmoid, jitter: 0, scale: 0, rotationDegrees: 0)
        let r = try ActivationMaximisation.run(model: m, config: config)
        for img in r.images {
            XCTAssertEqual(img.startActivation, 0, accuracy: 1e-6)
            XCTAssertGreaterThan(img.activation, 0.5)
            XCTAssertGreaterThan(pixelStd(img.pixels), 0.2)
        }
        config.redirectDeadReLUs = false
        let stuck = try ActivationMaximisation.run(model: m, config: config)
        for img in stuck.images { XCTAssertEqual(img.activation, 0) }
    }

    /// The Fourier basis is a tight frame (Σ_k b_k b_kᵀ = I before scaling), and synthesis and its adjoint agree.
    func testFourierBasisIsATightFrameAndAdjointMatches() {
        for (h, w) in [(6, 6), (5, 7), (4, 8)] {
            let f = FourierBasis(height: h, width: w)
            XCTAssertEqual(f.count, 2 * h * (w / 2 + 1))
            let n = h * w
            var gram = [Double](repeating: 0, count: n * n)
            for k in 0..<f.count {
                let s = Double(f.scales[k])
                for i in 0..<n { for j in 0..<n { gram[i * n + j] += Double(f.rows[k * n + i]) * Double(f.rows[k * n + j]) / (s * s) } }
            }
            for i in 0..<n { for j in 0..<n { XCTAssertEqual(gram[i * n + j], i == j ? 1 : 0, accuracy: 1e-5, "\(h)×\(w) (\(i), \(j))") } }
            var g = SeededGenerator(seed: 2)
            let c = (0..<(2 * f.count)).map { _ in g.normal() }, v = (0..<(2 * n)).map { _ in g.normal() }
            var u = [Float](repeating: 0, count: 2 * n), dc = [Float](repeating: 0, count: 2 * f.count)
            c.withUnsafeBufferPointer { cp in u.withUnsafeMutableBufferPointer { f.synthesise(cp.baseAddress!, m: 2, into: $0.baseAddress!) } }
            v.withUnsafeBufferPointer { vp in dc.withUnsafeMutableBufferPointer { f.adjoint(vp.baseAddress!, m: 2, into: $0.baseAddress!) } }
            let lhs = zip(u, v).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            let rhs = zip(c, dc).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            XCTAssertEqual(lhs, rhs, accuracy: 1e-3 * max(1, abs(lhs)))
        }
        // The DC basis image is constant and the (0, 1) cosine is a horizontal cosine wave.
        let f = FourierBasis(height: 4, width: 4)
        let dc = Array(f.rows[0..<16]).map { $0 / f.scales[0] }
        for v in dc { XCTAssertEqual(v, 0.25, accuracy: 1e-6) }
        let wave = Array(f.rows[32..<48]).map { $0 / f.scales[2] }
        for x in 0..<4 { XCTAssertEqual(wave[x], Float(2.0.squareRoot() / 4 * cos(2 * Double.pi * Double(x) / 4)), accuracy: 1e-6) }
    }

    /// The resampling of the robustness transforms and its adjoint: ⟨T x, y⟩ = ⟨x, Tᵀ y⟩ (fill 0), and the identity.
    func testTransformAdjoint() throws {
        let model = try Sequential(spec: ModelSpec.parse("input 2x9x7; conv 2 k3; flatten; linear 2"), seed: 0)
        let loop = AscentLoop(net: model, config: ActivationMaximisationConfig(layer: 0, units: [0], seedsPerUnit: 2, fill: 0),
                              imageShape: [2, 9, 7], modelInput: [2, 9, 7], layerShapes: try model.spec.shapes(), objectiveLayer: 0, units: [0])
        var g = SeededGenerator(seed: 3)
        let x = (0..<(2 * 2 * 63)).map { _ in g.normal() }, y = (0..<(2 * 2 * 63)).map { _ in g.normal() }
        let t = [ImageTransform(dy: 1, dx: -2, scale: 1.07, angle: 0.1).taps(h: 9, w: 7), ImageTransform.random(jitter: 2, scale: 0.1, rotationDegrees: 10, using: &g).taps(h: 9, w: 7)]
        let tx = loop.transform(x, t.map { $0 }), aty = loop.adjoint(y, t.map { $0 })
        let lhs = zip(tx, y).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }, rhs = zip(x, aty).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        XCTAssertEqual(lhs, rhs, accuracy: 1e-4)
        XCTAssertNotEqual(tx, x)
        let id = ImageTransform.identity.taps(h: 9, w: 7)
        XCTAssertEqual(loop.transform(x, [id, id]), x)
        // A pure shift by one pixel moves the image by one pixel.
        let shift = ImageTransform(dy: 0, dx: 1, scale: 1, angle: 0).taps(h: 9, w: 7)
        let sx = loop.transform(x, [shift, shift])
        XCTAssertEqual(sx[3], x[2], accuracy: 1e-6)
        XCTAssertEqual(sx[0], 0)
    }

    /// Grids: units 0..<n of a conv layer, n × seeds images; the same settings give the same bytes; bad arguments throw.
    func testGridOfAConvLayerAndValidation() throws {
        let model = try Sequential(spec: ModelSpec.parse("input 1x10x10; conv 4 k3 p1; relu; maxpool 2; flatten; linear 3"), seed: 6)
        let config = ActivationMaximisationConfig(layer: 0, seedsPerUnit: 2, steps: 20)
        let a = try ActivationMaximisation.grid(model: model, layer: 1, count: 3, config: config)
        let b = try ActivationMaximisation.grid(model: model, layer: 1, count: 3, config: config)
        XCTAssertEqual(a, b)
        XCTAssertEqual(a.images.map(\.unit), [0, 0, 1, 1, 2, 2])
        XCTAssertEqual(a.objectiveLayer, 0)
        XCTAssertEqual(a.config.layer, 1)
        XCTAssertEqual(a.images[0].pixels.count, 100)
        XCTAssertNotEqual(a.images[0].pixels, a.images[1].pixels, "seeds should differ")
        for img in a.images { XCTAssertGreaterThan(img.objective, img.trace[0]) }
        func name(_ c: ActivationMaximisationConfig) -> String? {
            do { _ = try ActivationMaximisation.run(model: model, config: c); return nil }
            catch let GlassboxError.invalidArgument(n, _, _) { return n } catch { return "\(error)" }
        }
        XCTAssertEqual(name(ActivationMaximisationConfig(layer: 6)), "layer")
        XCTAssertEqual(name(ActivationMaximisationConfig(layer: 0, units: [4])), "units")
        XCTAssertEqual(name(ActivationMaximisationConfig(layer: 0, l2Radius: 3)), "l2-radius")
        XCTAssertEqual(name(ActivationMaximisationConfig(layer: 0, blurEvery: 4)), "blur-every")
        XCTAssertEqual(name(ActivationMaximisationConfig(layer: 0, learningRate: 0)), "lr")
        XCTAssertEqual(name(ActivationMaximisationConfig(layer: 0, scale: 1)), "scale")
        XCTAssertThrowsError(try ActivationMaximisation.grid(model: model, layer: 0, count: 5, config: config))
    }
}

/// On the trained MNIST MLP: the optimised image of a deeper unit activates it more than its best test image.
final class ActivationMaxMNISTTests: XCTestCase {
    override func setUpWithError() throws {
        #if DEBUG
        try XCTSkipUnless(ProcessInfo.processInfo.environment["GLASSBOX_SLOW_TESTS"] == "1", "training test: run in release or with GLASSBOX_SLOW_TESTS=1")
        #endif
        try XCTSkipUnless(AttributionFixture.available, "MNIST test set not found at \(AttributionFixture.mnist)")
    }

    func testOptimisedImageBeatsBestDatasetExample() throws {
        let model = try XCTUnwrap(AttributionFixture.mlp)
        let units = Array(0..<8)
        // Layer 3 is the ReLU after the second Linear (50 units); images stay in (0, 1) through the sigmoid range.
        let am = try ActivationMaximisation.run(model: model, config: ActivationMaximisationConfig(layer: 3, units: units))
        let ex = try DatasetExamples.find(model: model, images: AttributionFixture.data!.test.images,
                                          config: DatasetExamplesConfig(layer: 3, units: units, count: 1))
        for (u, examples) in zip(units, ex.units) {
            let best = am.images.filter { $0.unit == u }.map(\.activation).max()!
            print(String(format: "unit %d: optimised %.2f, best of 2000 test images %.2f (image %d)", u, best, examples.top[0].value, examples.top[0].index))
            XCTAssertGreaterThan(best, examples.top[0].value, "unit \(u)")
            for img in am.images where img.unit == u { XCTAssertTrue(img.pixels.allSatisfy { $0 > 0 && $0 < 1 }) }
        }
    }
}
