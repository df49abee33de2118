import Foundation
import XCTest
import GlassboxCore
import GlassboxNN
@testable import GlassboxAnalysis

/// Attribution methods against closed forms on linear and one-hidden-layer models.
final class AttributionClosedFormTests: XCTestCase {
    /// F_t(x) = w_t · x + b_t on 1×3×3 images, 2 classes, chosen weights.
    func linearModel() throws -> Sequential {
        let m = try Sequential(spec: ModelSpec.parse("input 1x3x3; linear 2"), seed: 0)
        m.layers[0].parameters[0].value = Tensor(shape: [2, 9], scalars: [1, -2, 3, 0.5, 0, -1, 2, 1, -0.5,
                                                                             -1, 0.25, 0, 2, -3, 1, 0.5, 0, 4])
        m.layers[0].parameters[1].value = Tensor(shape: [2], scalars: [0.3, -0.7])
        return m
    }

    func images(_ n: Int, seed: UInt64 = 1, shape: [Int] = [1, 3, 3]) -> Tensor {
        var g = SeededGenerator(seed: seed)
        return Tensor.uniform([n] + shape, low: 0, high: 1, using: &g)
    }

    func weightsRow(_ m: Sequential, _ t: Int) -> [Float] {
        let w = m.layers[0].parameters[0].value
        return Array(w.scalars[(t * w.shape[1])..<((t + 1) * w.shape[1])])
    }

    func assertClose(_ a: [Float], _ b: [Float], _ tol: Float, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, what, file: file, line: line)
        let worst = zip(a, b).map { abs($0 - $1) }.max() ?? 0
        XCTAssertLessThanOrEqual(worst, tol, "\(what): max difference \(worst)", file: file, line: line)
    }

    func testSaliencyGradientAndGradientTimesInputOfALinearModel() throws {
        let m = try linearModel(), x = images(4), targets = [0, 1, 1, 0]
        let sal = try Attribution.compute(model: m, inputs: x, targets: targets, config: AttributionConfig(method: .saliency))
        let grad = try Attribution.compute(model: m, inputs: x, targets: targets, config: AttributionConfig(method: .gradient))
        let gxi = try Attribution.compute(model: m, inputs: x, targets: targets, config: AttributionConfig(method: .gradientTimesInput))
        XCTAssertEqual(sal.shape, [4, 1, 3, 3])
        for i in 0..<4 {
            let w = weightsRow(m, targets[i])
            assertClose(grad.map(i), w, 0, "gradient = w")
            assertClose(sal.map(i), w.map { abs($0) }, 0, "saliency = |w|")
            assertClose(gxi.map(i), zip(w, x.rows(i..<(i + 1)).scalars).map { $0 * $1 }, 1e-7, "gradient × input = w ⊙ x")
            let f = zip(w, x.rows(i..<(i + 1)).scalars).reduce(m.layers[0].parameters[1].value[flat: targets[i]]) { $0 + $1.0 * $1.1 }
            XCTAssertEqual(sal.outputs[i], f, accuracy: 1e-6)
        }
    }

    /// IG of a linear model is (x − x′) ⊙ w for every quadrature and baseline, with a zero completeness gap.
    func testIntegratedGradientsOfALinearModelIsExact() throws {
        let m = try linearModel(), x = images(5), targets = [0, 1, 0, 1, 1]
        let given = images(5, seed: 9)
        let baselines: [(BaselineConfig, Tensor)] = [
            (BaselineConfig(kind: .zeros), Tensor(zeros: x.shape)),
            (BaselineConfig(kind: .constant, value: 0.5), Tensor(repeating: 0.5, shape: x.shape)),
            (BaselineConfig(kind: .given), given),
        ]
        for rule in QuadratureRule.allCases {
            for (b, reference) in baselines {
                let c = AttributionConfig(method: .integratedGradients, baseline: b, steps: 7, quadrature: rule, chunkSize: 2)
                let a = try Attribution.compute(model: m, inputs: x, targets: targets, config: c, baselines: given)
                for i in 0..<5 {
                    let w = weightsRow(m, targets[i])
                    let dx = zip(x.rows(i..<(i + 1)).scalars, reference.rows(i..<(i + 1)).scalars).map { $0 - $1 }
                    assertClose(a.map(i), zip(w, dx).map { $0 * $1 }, 2e-6, "\(rule) \(b.kind) image \(i)")
                    XCTAssertEqual(a.completenessGap![i], 0, accuracy: 1e-5)
                }
            }
        }
    }

    /// Occlusion of a linear model with a 1-pixel window: F(x) − F(x with pixel i set to v) = (x_i − v) · w_i.
    func testOcclusionOfALinearModelWithOnePixelWindows() throws {
        let m = try linearModel(), x = images(3), targets = [1, 0, 1]
        let c = AttributionConfig(method: .occlusion, occlusionWindow: 1, occlusionStride: 1, occlusionValue: 0.25)
        let a = try Attribution.compute(model: m, inputs: x, targets: targets, config: c)
        for i in 0..<3 {
            let w = weightsRow(m, targets[i])
            assertClose(a.map(i), zip(w, x.rows(i..<(i + 1)).scalars).map { $0 * ($1 - 0.25) }, 1e-6, "occlusion image \(i)")
        }
    }

    /// Windows and strides: origins, counts, and the average over covering windows against a brute-force sum.
    func testOcclusionWindowCountsAndAveraging() throws {
        XCTAssertEqual(Occlusion.origins(size: 7, window: 3, stride: 2), [0, 2, 4])
        XCTAssertEqual(Occlusion.origins(size: 8, window: 3, stride: 2), [0, 2, 4])
        XCTAssertEqual(Occlusion.origins(size: 28, window: 4, stride: 2).count, 13)
        XCTAssertEqual(Occlusion.windowCount(height: 28, width: 28, window: 1, stride: 1), 784)
        XCTAssertEqual(Occlusion.windowCount(height: 6, width: 5, window: 2, stride: 3), 2 * 2)
        // A linear model on 1×5×4 images, window 2, stride 1 vertically and horizontally: each window changes F by
        // Σ_{j ∈ window} w_j x_j (value 0); a pixel's map is the mean of that over the windows covering it.
        let m = try Sequential(spec: ModelSpec.parse("input 1x5x4; linear 1"), seed: 3)
        let x = images(1, shape: [1, 5, 4])
        let a = try Attribution.compute(model: m, inputs: x, targets: [0],
                                        config: AttributionConfig(method: .occlusion, occlusionWindow: 2, occlusionStride: 1))
        let w = weightsRow(m, 0)
        var expected = [Float](repeating: 0, count: 20)
        for y in 0..<5 {
            for xx in 0..<4 {
                var sum: Float = 0, count: Float = 0
                for y0 in 0...3 where y0 <= y && y < y0 + 2 {
                    for x0 in 0...2 where x0 <= xx && xx < x0 + 2 {
                        var d: Float = 0
                        for yy in y0..<(y0 + 2) { for xw in x0..<(x0 + 2) { d += w[yy * 4 + xw] * x[flat: yy * 4 + xw] } }
                        sum += d; count += 1
                    }
                }
                expected[y * 4 + xx] = sum / count
            }
        }
        assertClose(a.map(0), expected, 1e-5, "occlusion average")
        // Stride 3 with window 2 on width 4: column 2 is covered by no window and gets 0.
        let b = try Attribution.compute(model: m, inputs: x, targets: [0],
                                        config: AttributionConfig(method: .occlusion, occlusionWindow: 2, occlusionStride: 3))
        for y in 0..<5 { XCTAssertEqual(b.map(0)[y * 4 + 2], 0) }
        XCTAssertNotEqual(b.map(0)[0], 0)
    }

    /// One hidden ReLU layer: F = v · relu(Wx + c) + d. Along the straight path each hidden unit is affine in α,
    /// so ∫ relu′ dα is the fraction of [0, 1] where it is positive: IG has a closed form. DeepLIFT's Rescale
    /// multiplier of unit j is (relu(z_j) − relu(z′_j)) / (z_j − z′_j).
    func testOneHiddenLayerClosedForms() throws {
        let m = try Sequential(spec: ModelSpec.parse("input 1x3x3; linear 6; relu; linear 3"), seed: 5)
        let W = m.layers[0].parameters[0].value, c = m.layers[0].parameters[1].value
        let V = m.layers[2].parameters[0].value
        let x = images(6, seed: 4), targets = [0, 1, 2, 2, 1, 0]
        let reference = Tensor(repeating: 0.3, shape: x.shape)
        func hidden(_ img: [Float]) -> [Float] {
            (0..<6).map { j in (0..<9).reduce(c[flat: j]) { $0 + W[flat: j * 9 + $1] * img[$1] } }
        }
        let ig = try Attribution.compute(model: m, inputs: x, targets: targets,
                                         config: AttributionConfig(method: .integratedGradients, baseline: BaselineConfig(kind: .constant, value: 0.3),
                                                                   steps: 4000, quadrature: .riemannMiddle))
        let dl = try Attribution.compute(model: m, inputs: x, targets: targets,
                                         config: AttributionConfig(method: .deepLift, baseline: BaselineConfig(kind: .constant, value: 0.3)))
        let sal = try Attribution.compute(model: m, inputs: x, targets: targets, config: AttributionConfig(method: .gradient))
        for i in 0..<6 {
            let xi = x.rows(i..<(i + 1)).scalars, bi = reference.rows(i..<(i + 1)).scalars
            let z = hidden(xi), zb = hidden(bi), t = targets[i]
            var fraction = [Float](repeating: 0, count: 6), rescale = [Float](repeating: 0, count: 6)
            for j in 0..<6 {
                // z(α) = zb + α (z − zb) > 0 on a sub-interval of [0, 1].
                let dz = z[j] - zb[j]
                if dz == 0 { fraction[j] = zb[j] > 0 ? 1 : 0 } else {
                    let root = -zb[j] / dz
                    fraction[j] = dz > 0 ? 1 - min(1, max(0, root)) : min(1, max(0, root))
                }
                rescale[j] = (max(0, z[j]) - max(0, zb[j])) / dz
            }
            var igExpected = [Float](repeating: 0, count: 9), dlExpected = igExpected, gradExpected = igExpected
            for p in 0..<9 {
                for j in 0..<6 {
                    let path = V[flat: t * 6 + j] * W[flat: j * 9 + p]
                    igExpected[p] += path * fraction[j] * (xi[p] - bi[p])
                    dlExpected[p] += path * rescale[j] * (xi[p] - bi[p])
                    gradExpected[p] += z[j] > 0 ? path : 0
                }
            }
            assertClose(ig.map(i), igExpected, 2e-4, "IG image \(i)")
            assertClose(dl.map(i), dlExpected, 1e-5, "DeepLIFT image \(i)")
            assertClose(sal.map(i), gradExpected, 1e-6, "gradient image \(i)")
            XCTAssertEqual(dl.completenessGap![i], 0, accuracy: 1e-5)
        }
    }

    /// Gauss–Legendre with n nodes integrates x^d on [0, 1] exactly for d ≤ 2n − 1 and not for d = 2n.
    func testGaussLegendreIsExactUpToDegree2nMinus1() {
        for n in [1, 2, 3, 5, 8, 20, 50] {
            let q = Quadrature.make(.gaussLegendre, n)
            XCTAssertEqual(q.nodes.count, n)
            XCTAssertEqual(q.weights.reduce(0, +), 1, accuracy: 1e-13)
            XCTAssertEqual(q.nodes, q.nodes.sorted())
            for d in 0...(2 * n - 1) {
                let s = zip(q.nodes, q.weights).reduce(0.0) { $0 + $1.1 * pow($1.0, Double(d)) }
                XCTAssertEqual(s, 1 / Double(d + 1), accuracy: 1e-12, "n \(n) degree \(d)")
            }
            // For x^{2n} the rule's error on [0, 1] is exactly (n!)⁴ / ((2n + 1) ((2n)!)²) (the remainder term with
            // f^{(2n)} = (2n)!): large enough to see in Double for small n.
            if n <= 5 {
                let s = zip(q.nodes, q.weights).reduce(0.0) { $0 + $1.1 * pow($1.0, Double(2 * n)) }
                let fact = { (k: Int) in (1...max(1, k)).reduce(1.0) { $0 * Double($1) } }
                let error = pow(fact(n), 4) / (Double(2 * n + 1) * pow(fact(2 * n), 2))
                XCTAssertEqual(1 / Double(2 * n + 1) - s, error, accuracy: 1e-14 + error * 1e-9, "n \(n): degree 2n error")
            }
        }
        // Known values: n = 2 nodes ½ ± 1/(2√3), weights ½; n = 3 nodes ½, ½ ± √(3/5)/2, weights 4/9, 5/18.
        let two = Quadrature.make(.gaussLegendre, 2)
        XCTAssertEqual(two.nodes[0], 0.5 - 0.5 / 3.0.squareRoot(), accuracy: 1e-15)
        let three = Quadrature.make(.gaussLegendre, 3)
        XCTAssertEqual(three.nodes[1], 0.5, accuracy: 1e-15)
        XCTAssertEqual(three.weights[1], 4.0 / 9, accuracy: 1e-15)
        XCTAssertEqual(three.nodes[2], 0.5 + 0.5 * (0.6).squareRoot(), accuracy: 1e-15)
        XCTAssertEqual(three.weights[0], 5.0 / 18, accuracy: 1e-15)
        // The Riemann rules: weights sum to 1 and integrate linear functions as their definitions say.
        for rule in [QuadratureRule.riemannLeft, .riemannRight, .riemannMiddle, .riemannTrapezoid] {
            let q = Quadrature.make(rule, 4)
            XCTAssertEqual(q.weights.reduce(0, +), 1, accuracy: 1e-15)
            let linear = zip(q.nodes, q.weights).reduce(0.0) { $0 + $1.1 * $1.0 }
            let expected = rule == .riemannLeft ? 0.375 : rule == .riemannRight ? 0.625 : 0.5
            XCTAssertEqual(linear, expected, accuracy: 1e-15, "\(rule)")
        }
    }

    /// The probability target: the gradient of softmax(z)_t against central differences.
    func testProbabilityTargetGradientMatchesFiniteDifferences() throws {
        let m = try Sequential(spec: ModelSpec.parse("input 1x3x3; linear 5; tanh; linear 4"), seed: 6)
        var x = images(1, seed: 2)
        let a = try Attribution.compute(model: m, inputs: x, targets: [2], config: AttributionConfig(method: .gradient, target: .probability))
        func p(_ input: Tensor) -> Double {
            let z = m.forward(input).scalars.map(Double.init)
            let mx = z.max()!
            let e = z.map { exp($0 - mx) }
            return e[2] / e.reduce(0, +)
        }
        XCTAssertEqual(Double(a.outputs[0]), p(x), accuracy: 1e-6)
        for i in 0..<9 {
            let v = x[flat: i], eps: Float = 1e-2
            x[flat: i] = v + eps; let hi = p(x)
            x[flat: i] = v - eps; let lo = p(x)
            x[flat: i] = v
            XCTAssertEqual(Double(a.map(0)[i]), (hi - lo) / Double(2 * eps), accuracy: 1e-4, "pixel \(i)")
        }
    }

    /// Bilinear resizing with PyTorch's align_corners=False sampling, worked by hand for 2×2 → 4×4, and the identity.
    func testBilinearResizeMatchesHandComputation() {
        let x = Tensor(shape: [1, 1, 2, 2], scalars: [0, 1, 2, 3])
        let y = ImageFilters.resizeBilinear(x, height: 4, width: 4)
        // Source coordinates 0, 0.25, 0.75, 1 (clamped) along each axis.
        XCTAssertEqual(y.scalars, [0, 0.25, 0.75, 1,
                                   0.5, 0.75, 1.25, 1.5,
                                   1.5, 1.75, 2.25, 2.5,
                                   2, 2.25, 2.75, 3])
        let z = images(2, shape: [2, 5, 3])
        XCTAssertEqual(ImageFilters.resizeBilinear(z, height: 5, width: 3), z)
    }

    /// Grad-CAM on conv → flatten → linear: ∂F/∂A is the linear weight reshaped, so α_c is its channel mean and the
    /// map is ReLU(Σ α_c A_c) at the input's size (the conv keeps the size, so no resampling).
    func testGradCAMClosedForm() throws {
        let m = try Sequential(spec: ModelSpec.parse("input 1x4x4; conv 2 k3 p1; flatten; linear 3"), seed: 8)
        let x = images(2, shape: [1, 4, 4])
        let a = try Attribution.compute(model: m, inputs: x, targets: [1, 2], config: AttributionConfig(method: .gradCAM))
        XCTAssertEqual(a.gradCAMLayer, 0)
        let acts = m.forward(x, through: 0)
        let V = m.layers[2].parameters[0].value
        for i in 0..<2 {
            let t = [1, 2][i]
            var expected = [Float](repeating: 0, count: 16)
            for ch in 0..<2 {
                let alpha = (0..<16).reduce(Float(0)) { $0 + V[flat: t * 32 + ch * 16 + $1] } / 16
                for p in 0..<16 { expected[p] += alpha * acts[flat: i * 32 + ch * 16 + p] }
            }
            assertClose(a.map(i), expected.map { max(0, $0) }, 1e-6, "Grad-CAM image \(i)")
        }
        XCTAssertThrowsError(try Attribution.compute(model: try linearModel(), inputs: images(1), targets: [0],
                                                     config: AttributionConfig(method: .gradCAM)))
    }

    /// SmoothGrad of a linear model's gradient is the gradient (it does not depend on x); VarGrad is 0. Same seed,
    /// same bytes, whatever the number of threads.
    func testNoiseTunnelOnALinearModelAndDeterminism() throws {
        let m = try linearModel(), x = images(7), targets = [0, 1, 0, 1, 0, 1, 1]
        let nt = NoiseTunnelConfig(kind: .smoothGrad, samples: 5, noiseLevel: 0.2, seed: 3)
        let sg = try Attribution.compute(model: m, inputs: x, targets: targets, config: AttributionConfig(method: .gradient, noiseTunnel: nt))
        var vg = nt; vg.kind = .varGrad
        let v = try Attribution.compute(model: m, inputs: x, targets: targets, config: AttributionConfig(method: .gradient, noiseTunnel: vg))
        for i in 0..<7 {
            assertClose(sg.map(i), weightsRow(m, targets[i]), 1e-6, "SmoothGrad of a constant gradient")
            assertClose(v.map(i), [Float](repeating: 0, count: 9), 1e-6, "VarGrad of a constant gradient")
        }
        // Gradient × input under noise does depend on the noise: repeatable with the seed, different with another.
        let model = try Sequential(spec: ModelSpec.parse("input 1x3x3; linear 8; relu; linear 3"), seed: 1)
        let saved = Parallel.threads
        defer { Parallel.threads = saved }
        var results: [[Float]] = []
        for threads in [1, 2, 3] {
            Parallel.threads = threads
            let c = AttributionConfig(method: .integratedGradients, steps: 5, noiseTunnel: NoiseTunnelConfig(samples: 3, seed: 4), chunkSize: 2)
            results.append(try Attribution.compute(model: model, inputs: x, targets: targets, config: c).values)
        }
        XCTAssertEqual(results[0], results[1])
        XCTAssertEqual(results[0], results[2])
        let other = try Attribution.compute(model: model, inputs: x, targets: targets,
                                            config: AttributionConfig(method: .integratedGradients, steps: 5,
                                                                      noiseTunnel: NoiseTunnelConfig(samples: 3, seed: 5), chunkSize: 2))
        XCTAssertNotEqual(other.values, results[0])
    }

    /// Bad settings and inputs throw before any work, naming the argument.
    func testValidation() throws {
        let m = try linearModel(), x = images(2)
        func name(_ c: AttributionConfig, targets: [Int] = [0, 1], inputs: Tensor? = nil) -> String? {
            do { _ = try Attribution.compute(model: m, inputs: inputs ?? x, targets: targets, config: c); return nil }
            catch let GlassboxError.invalidArgument(n, _, _) { return n } catch { return "\(error)" }
        }
        XCTAssertEqual(name(AttributionConfig(method: .integratedGradients, steps: 0)), "steps")
        XCTAssertEqual(name(AttributionConfig(method: .integratedGradients, steps: 1, quadrature: .riemannTrapezoid)), "steps")
        XCTAssertEqual(name(AttributionConfig(method: .occlusion, occlusionWindow: 4)), "window")
        XCTAssertEqual(name(AttributionConfig(method: .occlusion, occlusionStride: 0)), "stride")
        XCTAssertEqual(name(AttributionConfig(method: .saliency), targets: [0, 2]), "targets")
        XCTAssertEqual(name(AttributionConfig(method: .saliency), targets: [0]), "targets")
        XCTAssertEqual(name(AttributionConfig(method: .saliency), inputs: images(2, shape: [1, 4, 4])), "inputs")
        XCTAssertEqual(name(AttributionConfig(method: .integratedGradients, baseline: BaselineConfig(kind: .given))), "baseline")
        XCTAssertEqual(name(AttributionConfig(method: .deepLift, baseline: BaselineConfig(kind: .blur, blurSigma: 0))), "baseline-sigma")
        XCTAssertEqual(name(AttributionConfig(method: .saliency, noiseTunnel: NoiseTunnelConfig(samples: 0))), "nt-samples")
        XCTAssertEqual(name(AttributionConfig(method: .gradCAM, gradCAMLayer: 0)), "grad-cam-layer")
        XCTAssertEqual(name(AttributionConfig(method: .saliency, chunkSize: 0)), "chunk-size")
        XCTAssertNil(name(AttributionConfig(method: .saliency)))
    }
}
