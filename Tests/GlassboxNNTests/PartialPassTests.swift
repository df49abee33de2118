import XCTest
import GlassboxCore
import GlassboxNN

/// The engine hooks attribution and feature visualisation build on: partial forward and backward passes,
/// backward without parameter gradients, and replicas.
final class PartialPassTests: XCTestCase {
    let cnnSpec = "input 1x8x8; conv 3 k3 p1; relu; maxpool 2; conv 4 k3 p1; tanh; flatten; linear 5; sigmoid; linear 3"

    /// Gradient of one unit (or the sum of a channel's plane) of an intermediate layer with respect to the input,
    /// from `backward(_:from:downTo:)`, against central differences of that unit computed in Double. Smooth
    /// activations (a ReLU kink inside ±eps makes the difference quotient wrong, not the gradient); pixels where a
    /// max-pooling window switches its winner inside ±eps are recognised by unequal one-sided slopes and skipped.
    func testIntermediateUnitGradientMatchesFiniteDifferences() throws {
        let smooth = cnnSpec.replacingOccurrences(of: "relu", with: "tanh")
        let model = try Sequential(spec: ModelSpec.parse(smooth), seed: 2)
        var g = SeededGenerator(seed: 7)
        var x = Tensor.uniform([2, 1, 8, 8], low: 0, high: 1, using: &g)
        // (layer, unit): a conv channel before and after its activation, a pooled channel, the second conv's
        // channel, a Linear unit, a sigmoid unit, an output.
        let cases: [(Int, Int)] = [(0, 1), (1, 2), (2, 0), (4, 3), (6, 4), (7, 2), (8, 1)]
        for (layer, unit) in cases {
            let out = model.forward(x, through: layer)
            let perSample = out.rowLength
            let plane = out.rank == 4 ? out.shape[2] * out.shape[3] : 1
            var seed = Tensor(zeros: out.shape)
            for s in 0..<2 { for q in 0..<plane { seed[flat: s * perSample + unit * plane + q] = 1 } }
            let dx = model.backward(seed, from: layer)!
            XCTAssertEqual(dx.shape, x.shape)
            func value(_ input: Tensor) -> Double {
                let y = model.forward(input, through: layer)
                var total = 0.0
                for s in 0..<2 { for q in 0..<plane { total += Double(y[flat: s * perSample + unit * plane + q]) } }
                return total
            }
            let eps: Float = 1e-3
            var worst = 0.0, kinks = 0, checked = 0
            let base = value(x)
            for i in stride(from: 0, to: x.count, by: 3) {
                let v = x[flat: i]
                x[flat: i] = v + eps; let lp = value(x)
                x[flat: i] = v - eps; let lm = value(x)
                x[flat: i] = v
                // A max-pooling switch inside ±eps shows as one-sided slopes that disagree: no derivative to compare.
                let right = (lp - base) / Double(eps), left = (base - lm) / Double(eps)
                checked += 1
                if abs(right - left) > 1e-2 * max(1, abs(right) + abs(left)) { kinks += 1; continue }
                let numeric = (lp - lm) / Double(2 * eps)
                worst = max(worst, abs(numeric - Double(dx[flat: i])) / max(1, abs(numeric)))
            }
            XCTAssertLessThanOrEqual(kinks * 20, checked, "layer \(layer): too many pixels at a kink")
            XCTAssertLessThan(worst, 5e-3, "layer \(layer) unit \(unit)")
        }
    }

    /// Running the layers in two pieces equals one whole pass, and a backward pass split at a layer composes.
    func testSplitPassesCompose() throws {
        let model = try Sequential(spec: ModelSpec.parse(cnnSpec), seed: 3)
        var g = SeededGenerator(seed: 8)
        let x = Tensor.uniform([3, 1, 8, 8], low: 0, high: 1, using: &g)
        let whole = model.forward(x)
        let seed = Tensor.normal(whole.shape, using: &g)
        let dxWhole = model.backward(seed, needInputGradient: true)!
        let mid = model.forward(x, through: 3)
        let rest = model.forward(mid, layers: 4...8)
        XCTAssertEqual(rest, whole)
        XCTAssertEqual(model.activations.count, 9)
        XCTAssertEqual(model.activations[3], mid)
        let gMid = model.backward(seed, from: 8, downTo: 4)!
        XCTAssertEqual(gMid.shape, mid.shape)
        let dx = model.backward(gMid, from: 3)!
        XCTAssertEqual(dx, dxWhole)
    }

    /// Without parameter gradients the input gradient is the same and the stored parameter gradients stay as they were.
    func testBackwardWithoutParameterGradients() throws {
        let model = try Sequential(spec: ModelSpec.parse(cnnSpec), seed: 4)
        var g = SeededGenerator(seed: 9)
        let x = Tensor.uniform([4, 1, 8, 8], low: 0, high: 1, using: &g)
        let y = model.forward(x)
        let seed = Tensor.normal(y.shape, using: &g)
        let dx = model.backward(seed, needInputGradient: true)!
        let grads = model.namedParameters.map(\.parameter.grad)
        XCTAssertTrue(grads.contains { $0.scalars.contains { $0 != 0 } })
        for p in model.namedParameters { p.parameter.grad = Tensor(repeating: 7, shape: p.parameter.grad.shape) }
        model.setParameterGradients(false)
        _ = model.forward(x)
        let dx2 = model.backward(seed, needInputGradient: true)!
        XCTAssertEqual(dx2.maxAbsDifference(dx), 0, accuracy: 1e-6)
        for p in model.namedParameters { XCTAssertTrue(p.parameter.grad.scalars.allSatisfy { $0 == 7 }, p.name) }
        model.setParameterGradients(true)
        _ = model.forward(x)
        model.backward(seed)
        for (p, g0) in zip(model.namedParameters, grads) { XCTAssertEqual(p.parameter.grad.maxAbsDifference(g0), 0, accuracy: 1e-6) }
    }

    /// The same on a ReLU/max-pooling CNN with mostly-zero images, where the convolutions take their sparse
    /// backward path (most output gradients are zero behind ReLU and max pooling).
    func testSparseBackwardWithoutParameterGradients() throws {
        let model = try Sequential(spec: ModelSpec.parse("input 1x28x28; conv 8 k5 p2; relu; maxpool 2; conv 16 k5 p2; relu; maxpool 2; flatten; linear 10"), seed: 4)
        var g = SeededGenerator(seed: 11)
        var x = Tensor(zeros: [3, 1, 28, 28])
        for i in 0..<x.count where (i / 28) % 28 > 8 && (i / 28) % 28 < 20 && i % 28 > 10 && i % 28 < 18 { x[flat: i] = g.uniform() }
        let y = model.forward(x)
        var seed = Tensor(zeros: y.shape)
        for s in 0..<3 { seed[flat: s * 10 + s] = 1 }
        let dx = model.backward(seed, needInputGradient: true)!
        model.setParameterGradients(false)
        _ = model.forward(x)
        let dx2 = model.backward(seed, needInputGradient: true)!
        XCTAssertEqual(dx2.maxAbsDifference(dx), 0, accuracy: 1e-6)
    }

    /// A replica computes the same outputs and keeps its own caches.
    func testReplicaMatchesAndIsIndependent() throws {
        let model = try Sequential(spec: ModelSpec.parse(cnnSpec), seed: 5)
        let mask = Tensor(shape: [5, 64], scalars: (0..<320).map { Float($0 % 3 == 0 ? 0 : 1) })
        model.parameter(named: "6.weight")!.setMask(mask)
        let copy = try model.replica()
        var g = SeededGenerator(seed: 10)
        let a = Tensor.uniform([2, 1, 8, 8], low: 0, high: 1, using: &g)
        let b = Tensor.uniform([5, 1, 8, 8], low: 0, high: 1, using: &g)
        let ya = model.forward(a)
        XCTAssertEqual(copy.forward(b).shape, [5, 3])
        XCTAssertEqual(copy.forward(a), ya)
        XCTAssertEqual(model.activations.last, ya)
        XCTAssertEqual(copy.parameter(named: "6.weight")!.mask, mask)
        XCTAssertEqual((copy.layers[0] as! Conv2d).maxWorkers, 1)
    }
}
