import XCTest
import GlassboxCore
import GlassboxNN

/// Finite-difference checks of every layer's backward pass: for a random input x and a random projection R,
/// the scalar L = Σ R ⊙ layer(x) has analytic gradients (from `backward(R)`) that must match central
/// differences of L computed in Double from repeated Float forward passes.
final class GradientCheckTests: XCTestCase {
    /// Compares analytic and numeric gradients; returns the worst relative error.
    func check(_ layer: Layer, inputShape: [Int], seed: UInt64 = 1, eps: Float = 1e-2, tolerance: Float = 2e-2,
               checkInput: Bool = true, file: StaticString = #filePath, line: UInt = #line) {
        var g = SeededGenerator(seed: seed)
        var x = Tensor.normal(inputShape, using: &g)
        let y0 = layer.forward(x, training: false)
        let r = Tensor.normal(y0.shape, using: &g)
        func loss(_ input: Tensor) -> Double {
            let y = layer.forward(input, training: false)
            return zip(y.scalars, r.scalars).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        }
        _ = layer.forward(x, training: false)
        let dx = layer.backward(r, needInputGradient: checkInput)
        let paramGrads = layer.parameters.map(\.grad)
        func compare(_ analytic: Float, _ numeric: Double, _ what: String) {
            let err = abs(Double(analytic) - numeric) / max(1, abs(numeric))
            XCTAssertLessThan(err, Double(tolerance), "\(layer.specClause) \(what): analytic \(analytic) vs numeric \(numeric)",
                              file: file, line: line)
        }
        if checkInput, let dx {
            XCTAssertEqual(dx.shape, x.shape, file: file, line: line)
            for i in stride(from: 0, to: x.count, by: max(1, x.count / 60)) {
                let v = x[flat: i]
                x[flat: i] = v + eps; let lp = loss(x)
                x[flat: i] = v - eps; let lm = loss(x)
                x[flat: i] = v
                compare(dx[flat: i], (lp - lm) / Double(2 * eps), "input[\(i)]")
            }
        }
        for (p, grad) in zip(layer.parameters, paramGrads) {
            for i in stride(from: 0, to: p.value.count, by: max(1, p.value.count / 60)) {
                let v = p.value[flat: i]
                p.value[flat: i] = v + eps; let lp = loss(x)
                p.value[flat: i] = v - eps; let lm = loss(x)
                p.value[flat: i] = v
                compare(grad[flat: i], (lp - lm) / Double(2 * eps), "\(p.name)[\(i)]")
            }
        }
    }

    func testLinear() {
        var g = SeededGenerator(seed: 3)
        check(Linear(7, 5, using: &g), inputShape: [4, 7])
        check(Linear(7, 5, bias: false, using: &g), inputShape: [3, 7])
        // Image input is flattened implicitly.
        check(Linear(12, 3, using: &g), inputShape: [2, 1, 3, 4])
    }

    func testConvPaddedFastPath() {
        var g = SeededGenerator(seed: 4)
        // stride 1, output rows ≥ 8 wide: the padded, vectorised unfolding.
        check(Conv2d(2, 3, kernel: 5, padding: 2, using: &g), inputShape: [2, 2, 9, 10])
        check(Conv2d(3, 2, kernel: 3, padding: 0, using: &g), inputShape: [2, 3, 10, 11])
    }

    func testConvGeneralPath() {
        var g = SeededGenerator(seed: 5)
        // stride 2 with padding, and narrow outputs: the general im2col/col2im.
        check(Conv2d(2, 3, kernel: 3, stride: 2, padding: 1, using: &g), inputShape: [2, 2, 7, 6])
        check(Conv2d(1, 2, kernel: 3, padding: 1, bias: false, using: &g), inputShape: [3, 1, 5, 5])
    }

    func testConvMultiWorkerMatchesSingleWorker() {
        var g = SeededGenerator(seed: 6)
        let a = Conv2d(3, 4, kernel: 3, padding: 1, using: &g)
        let x = Tensor.normal([5, 3, 9, 9], using: &g)
        let dy = Tensor.normal([5, 4, 9, 9], using: &g)
        _ = a.forward(x, training: true)
        let dx1 = a.backward(dy, needInputGradient: true)!
        let gw1 = a.weight.grad
        a.maxWorkers = 1
        _ = a.forward(x, training: true)
        let dx2 = a.backward(dy, needInputGradient: true)!
        XCTAssertLessThan(dx1.maxAbsDifference(dx2), 1e-5)
        XCTAssertLessThan(gw1.maxAbsDifference(a.weight.grad), 1e-4)
    }

    func testActivationsAndPooling() {
        check(Sigmoid(), inputShape: [3, 6])
        check(Tanh(), inputShape: [3, 6])
        // ReLU and max pooling are piecewise linear: random normal inputs sit away from the kinks with
        // overwhelming probability at this eps.
        check(ReLU(), inputShape: [3, 6], eps: 1e-3)
        check(MaxPool2d(2), inputShape: [2, 3, 6, 6], eps: 1e-3)
        check(MaxPool2d(3, stride: 2), inputShape: [1, 2, 7, 7], eps: 1e-3)
        check(Flatten(), inputShape: [2, 2, 3, 3])
    }

    func testSoftmaxCrossEntropyGradient() {
        var g = SeededGenerator(seed: 7)
        let (n, k) = (4, 5)
        var logits = Tensor.normal([n, k], std: 3, using: &g)
        let labels: [Int32] = [0, 3, 4, 1]
        func loss(_ l: Tensor) -> Double {
            Double(l.withUnsafeBufferPointer { lp in labels.withUnsafeBufferPointer { Ops.softmaxCrossEntropy(logits: lp.baseAddress!, labels: $0.baseAddress!, n: n, k: k, grad: nil) } })
        }
        var grad = [Float](repeating: 0, count: n * k)
        _ = logits.withUnsafeBufferPointer { lp in labels.withUnsafeBufferPointer { yp in grad.withUnsafeMutableBufferPointer {
            Ops.softmaxCrossEntropy(logits: lp.baseAddress!, labels: yp.baseAddress!, n: n, k: k, grad: $0.baseAddress!) } } }
        let eps: Float = 1e-2
        for i in 0..<(n * k) {
            let v = logits[flat: i]
            logits[flat: i] = v + eps; let lp = loss(logits)
            logits[flat: i] = v - eps; let lm = loss(logits)
            logits[flat: i] = v
            XCTAssertEqual(Double(grad[i]), (lp - lm) / Double(2 * eps), accuracy: 2e-3)
        }
        // Stability: huge logits give a finite loss equal to the closed form.
        let big = Tensor(shape: [1, 3], scalars: [1000, 0, -1000])
        let l = big.withUnsafeBufferPointer { bp in [Int32(1)].withUnsafeBufferPointer { Ops.softmaxCrossEntropy(logits: bp.baseAddress!, labels: $0.baseAddress!, n: 1, k: 3, grad: nil) } }
        XCTAssertEqual(l, 1000, accuracy: 1e-3)
    }

    /// The input gradient of a whole network (what attribution needs) against finite differences of the loss.
    func testSequentialInputGradient() throws {
        let model = try Sequential(spec: ModelSpec.parse("input 1x8x8; conv 3 k3 p1; tanh; maxpool 2; flatten; linear 6; sigmoid; linear 4"), seed: 11)
        var g = SeededGenerator(seed: 12)
        var x = Tensor.normal([2, 1, 8, 8], using: &g)
        let labels: [Int32] = [1, 3]
        func loss(_ input: Tensor) -> (Double, Tensor) {
            let logits = model.forward(input)
            var grad = Tensor(zeros: logits.shape)
            let l = logits.withUnsafeBufferPointer { lp in labels.withUnsafeBufferPointer { yp in grad.withUnsafeMutableBufferPointer {
                Ops.softmaxCrossEntropy(logits: lp.baseAddress!, labels: yp.baseAddress!, n: 2, k: 4, grad: $0.baseAddress!) } } }
            return (Double(l), grad)
        }
        let (_, grad) = loss(x)
        let dx = try XCTUnwrap(model.backward(grad, needInputGradient: true))
        XCTAssertEqual(dx.shape, x.shape)
        let eps: Float = 1e-2
        for i in stride(from: 0, to: x.count, by: 5) {
            let v = x[flat: i]
            x[flat: i] = v + eps; let lp = loss(x).0
            x[flat: i] = v - eps; let lm = loss(x).0
            x[flat: i] = v
            XCTAssertEqual(Double(dx[flat: i]), (lp - lm) / Double(2 * eps), accuracy: 2e-3, "input[\(i)]")
        }
        // Activations of every layer are readable after forward.
        _ = model.forward(x)
        XCTAssertEqual(model.activations.count, model.layers.count)
        XCTAssertEqual(model.activations[0].shape, [2, 3, 8, 8])
        XCTAssertEqual(model.activations.last!.shape, [2, 4])
    }
}
