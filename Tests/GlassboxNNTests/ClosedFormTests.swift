import XCTest
import GlassboxCore
import GlassboxNN

final class ClosedFormTests: XCTestCase {
    func testLinearWithChosenWeights() {
        var g = SeededGenerator(seed: 0)
        let l = Linear(3, 2, using: &g)
        l.weight.value = Tensor(shape: [2, 3], scalars: [1, 2, 3, -1, 0, 1])
        l.bias!.value = Tensor(shape: [2], scalars: [0.5, -2])
        let y = l.forward(Tensor(shape: [2, 3], scalars: [1, 1, 1, 2, 0, -1]), training: false)
        // Row 1: [1+2+3+0.5, -1+0+1-2] ; row 2: [2+0-3+0.5, -2+0-1-2]
        XCTAssertEqual(y.scalars, [6.5, -2, -0.5, -5])
        let dx = l.backward(Tensor(shape: [2, 2], scalars: [1, 0, 0, 1]), needInputGradient: true)!
        XCTAssertEqual(dx.scalars, [1, 2, 3, -1, 0, 1])
        XCTAssertEqual(l.weight.grad.scalars, [1, 1, 1, 2, 0, -1])
        XCTAssertEqual(l.bias!.grad.scalars, [1, 1])
    }

    func testConvWithKnownKernel() {
        var g = SeededGenerator(seed: 0)
        // A 3×3 Laplacian-like kernel on a 4×4 ramp, padding 1: interior outputs are exact hand computations.
        let c = Conv2d(1, 1, kernel: 3, padding: 1, bias: false, using: &g)
        c.weight.value = Tensor(shape: [1, 1, 3, 3], scalars: [0, 1, 0, 1, -4, 1, 0, 1, 0])
        let img = Tensor(shape: [1, 1, 4, 4], scalars: (0..<16).map { Float($0) })
        let y = c.forward(img, training: false)
        // Interior pixels of a linear ramp have zero Laplacian.
        XCTAssertEqual(y[0, 0, 1, 1], 0); XCTAssertEqual(y[0, 0, 2, 2], 0)
        // Corner (0,0): neighbours right=1, down=4, centre 0 → 1 + 4 − 0 = 5.
        XCTAssertEqual(y[0, 0, 0, 0], 5)
        // Corner (3,3) = 15: up 11, left 14 → 11 + 14 − 60 = −35.
        XCTAssertEqual(y[0, 0, 3, 3], -35)
        // A shift kernel with stride 2: picks the top-left of each 2×2 block.
        let s = Conv2d(1, 1, kernel: 1, stride: 2, bias: false, using: &g)
        s.weight.value = Tensor(shape: [1, 1, 1, 1], scalars: [1])
        XCTAssertEqual(s.forward(img, training: false).scalars, [0, 2, 8, 10])
        // Two input channels summed with a bias.
        let two = Conv2d(2, 1, kernel: 1, using: &g)
        two.weight.value = Tensor(shape: [1, 2, 1, 1], scalars: [1, 10])
        two.bias!.value = Tensor(shape: [1], scalars: [0.5])
        let x2 = Tensor(shape: [1, 2, 1, 2], scalars: [1, 2, 3, 4])
        XCTAssertEqual(two.forward(x2, training: false).scalars, [31.5, 42.5])
    }

    func testMaxPoolTiesGoToFirstMaximum() {
        let p = MaxPool2d(2)
        // Every window is constant: the gradient must go to the window's first (top-left) element only.
        let x = Tensor(shape: [1, 1, 2, 4], scalars: [5, 5, 7, 7, 5, 5, 7, 7])
        XCTAssertEqual(p.forward(x, training: false).scalars, [5, 7])
        let dx = p.backward(Tensor(shape: [1, 1, 1, 2], scalars: [1, 2]), needInputGradient: true)!
        XCTAssertEqual(dx.scalars, [1, 0, 2, 0, 0, 0, 0, 0])
        // A tie between bottom-left and bottom-right: the earlier one in row-major order wins.
        let y = Tensor(shape: [1, 1, 2, 2], scalars: [1, 2, 9, 9])
        _ = p.forward(y, training: false)
        XCTAssertEqual(p.backward(Tensor(shape: [1, 1, 1, 1], scalars: [1]), needInputGradient: true)!.scalars, [0, 0, 1, 0])
    }

    /// The 2×2 pooling path works 8 or 4 outputs at a time with overlapping last blocks; for every row width
    /// (each block case, odd widths, several planes) it must give the brute-force maxima and first-maximum indices.
    /// Values come from a set of 3, so ties in every position of the window are common.
    func testMaxPool2x2MatchesBruteForceForEveryWidth() {
        var g = SeededGenerator(seed: 5)
        for w in 2...21 {
            let (planes, h) = (3, 4)
            let x = (0..<(planes * h * w)).map { _ in Float(g.int(below: 3)) - 1 }
            let (oh, ow) = (h / 2, w / 2)
            var y = [Float](repeating: .nan, count: planes * oh * ow), a = [Int32](repeating: -1, count: y.count)
            Ops.maxPool(x, planes: planes, h: h, w: w, kernel: 2, stride: 2, dst: &y, argmax: &a)
            for p in 0..<planes { for oy in 0..<oh { for ox in 0..<ow {
                var best = -Float.infinity, bi = -1
                for (dy, dx) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
                    let i = (2 * oy + dy) * w + 2 * ox + dx
                    if x[p * h * w + i] > best { best = x[p * h * w + i]; bi = i }
                }
                let o = (p * oh + oy) * ow + ox
                XCTAssertEqual(y[o], best, "w \(w) plane \(p) (\(oy), \(ox))")
                XCTAssertEqual(Int(a[o]), bi, "w \(w) plane \(p) (\(oy), \(ox))")
            } } }
        }
    }

    func testAvgPoolAndReductions() {
        let x = Tensor(shape: [1, 1, 2, 2], scalars: [1, 2, 3, 6])
        var out = [Float](repeating: 0, count: 1)
        x.withUnsafeBufferPointer { xs in out.withUnsafeMutableBufferPointer { Ops.avgPool(xs.baseAddress!, planes: 1, h: 2, w: 2, kernel: 2, stride: 2, dst: $0.baseAddress!) } }
        XCTAssertEqual(out, [3])
        let m = Tensor(shape: [2, 3], scalars: [1, 5, 2, 7, 0, 7])
        XCTAssertEqual(m.argmaxRows(), [1, 0])
        XCTAssertEqual(m.sum(axis: 0).scalars, [8, 5, 9])
        XCTAssertEqual(m.sum(axis: 1).scalars, [8, 14])
        XCTAssertEqual(m.sum, 22)
    }

    func testGemmAllTransposeCombinations() {
        var g = SeededGenerator(seed: 9)
        let a = Tensor.normal([3, 4], using: &g), b = Tensor.normal([4, 5], using: &g)
        func naive(_ x: Tensor, _ y: Tensor) -> Tensor {
            var out = Tensor(zeros: [x.shape[0], y.shape[1]])
            for i in 0..<x.shape[0] { for j in 0..<y.shape[1] { for k in 0..<x.shape[1] { out[i, j] += x[i, k] * y[k, j] } } }
            return out
        }
        let expected = naive(a, b)
        XCTAssertLessThan(a.matmul(b).maxAbsDifference(expected), 1e-5)
        XCTAssertLessThan(a.transposed().matmul(b, transposeSelf: true).maxAbsDifference(expected), 1e-5)
        XCTAssertLessThan(a.matmul(b.transposed(), transposeOther: true).maxAbsDifference(expected), 1e-5)
        XCTAssertLessThan(a.transposed().matmul(b.transposed(), transposeSelf: true, transposeOther: true).maxAbsDifference(expected), 1e-5)
    }

    func testIm2colCol2imAreAdjoint() {
        // <im2col(x), c> == <x, col2im(c)> for random x and c: the defining property of an adjoint pair.
        var g = SeededGenerator(seed: 10)
        for (k, s, p) in [(3, 1, 1), (3, 2, 1), (2, 2, 0), (5, 1, 2)] {
            let (c, h, w) = (2, 7, 6)
            let oh = Ops.outSize(h, kernel: k, stride: s, padding: p), ow = Ops.outSize(w, kernel: k, stride: s, padding: p)
            let x = Tensor.normal([c, h, w], using: &g), cols = Tensor.normal([c * k * k, oh * ow], using: &g)
            var unfolded = Tensor(zeros: [c * k * k, oh * ow]), folded = Tensor(zeros: [c, h, w])
            x.withUnsafeBufferPointer { xs in unfolded.withUnsafeMutableBufferPointer {
                Ops.im2col(xs.baseAddress!, c: c, h: h, w: w, kh: k, kw: k, stride: s, padding: p, dst: $0.baseAddress!, ld: oh * ow) } }
            cols.withUnsafeBufferPointer { cs in folded.withUnsafeMutableBufferPointer {
                Ops.col2im(cs.baseAddress!, ld: oh * ow, c: c, h: h, w: w, kh: k, kw: k, stride: s, padding: p, dst: $0.baseAddress!) } }
            let lhs = zip(unfolded.scalars, cols.scalars).reduce(0.0) { $0 + Double($1.0 * $1.1) }
            let rhs = zip(x.scalars, folded.scalars).reduce(0.0) { $0 + Double($1.0 * $1.1) }
            XCTAssertEqual(lhs, rhs, accuracy: 1e-3, "k\(k) s\(s) p\(p)")
        }
    }

    func testOptimizersFollowPyTorchUpdateRules() {
        // SGD with momentum 0.9 and weight decay 0.1 on w = 1 with constant gradient 0.5, lr 0.1:
        // v1 = 0.5 + 0.1 = 0.6, w1 = 0.94; v2 = 0.9·0.6 + 0.5 + 0.094 = 1.134, w2 = 0.94 − 0.1134 = 0.8266.
        let p = Parameter(name: "weight", value: Tensor(shape: [1], scalars: [1]))
        p.grad = Tensor(shape: [1], scalars: [0.5])
        let sgd = SGD([p], lr: 0.1, momentum: 0.9, weightDecay: 0.1)
        sgd.step(); XCTAssertEqual(p.value[flat: 0], 0.94, accuracy: 1e-6)
        sgd.step(); XCTAssertEqual(p.value[flat: 0], 0.8266, accuracy: 1e-6)
        // Adam's first step moves every coordinate by lr·sign(g) (bias correction makes m̂/√v̂ = ±1).
        let q = Parameter(name: "weight", value: Tensor(shape: [2], scalars: [1, 1]))
        q.grad = Tensor(shape: [2], scalars: [3, -0.01])
        let adam = Adam([q], lr: 0.01)
        adam.step()
        XCTAssertEqual(q.value[flat: 0], 0.99, accuracy: 1e-6)
        XCTAssertEqual(q.value[flat: 1], 1.01, accuracy: 1e-6)
    }

    func testMasksSurviveMomentumAndAdam() throws {
        for config in [OptimizerConfig.sgd(lr: 0.1, momentum: 0.9, weightDecay: 1e-3), .adam(lr: 0.01)] {
            let model = try Sequential(spec: ModelSpec.parse("mlp 6-5-3"), seed: 1)
            let opt = config.make(for: model.namedParameters.map(\.parameter))
            let w = model.parameter(named: "0.weight")!
            var g = SeededGenerator(seed: 2)
            // Build up optimiser state first, then mask: the state must not revive the pruned weights.
            for _ in 0..<5 { w.grad = .normal(w.value.shape, using: &g); opt.step() }
            let mask = Tensor(shape: w.value.shape, scalars: (0..<w.value.count).map { $0 % 3 == 0 ? 0 : 1 })
            w.setMask(mask)
            for _ in 0..<100 {
                let x = Tensor.normal([4, 6], using: &g)
                let y = model.forward(x, training: true)
                model.backward(Tensor.normal(y.shape, using: &g))
                opt.step()
            }
            for i in 0..<mask.count where mask[flat: i] == 0 { XCTAssertEqual(w.value[flat: i], 0, "\(config)") }
            XCTAssertEqual(w.keptCount, mask.count - (mask.count + 2) / 3)
        }
    }

    func testLearningRateSchedules() throws {
        XCTAssertEqual(LRSchedule.step(every: 2, gamma: 0.1).rate(base: 1, epoch: 3, epochs: 10), 0.1, accuracy: 1e-7)
        XCTAssertEqual(LRSchedule.cosine(minimum: 0).rate(base: 1, epoch: 0, epochs: 5), 1)
        XCTAssertEqual(LRSchedule.cosine(minimum: 0).rate(base: 1, epoch: 4, epochs: 5), 0, accuracy: 1e-7)
        XCTAssertEqual(try LRSchedule.parse("step:3:0.5"), .step(every: 3, gamma: 0.5))
        XCTAssertThrowsError(try LRSchedule.parse("exp"))
    }

    func testInitialisersHaveTheirVariances() {
        var g = SeededGenerator(seed: 3)
        let shape = [400, 300]
        let kn = Initializer.kaimingNormal.make(shape, using: &g)
        XCTAssertEqual(kn.standardDeviation, (2 / 300 as Float).squareRoot(), accuracy: 0.002)
        let xu = Initializer.xavierUniform.make(shape, using: &g)
        XCTAssertEqual(xu.max, (6 / 700 as Float).squareRoot(), accuracy: 0.002)
        XCTAssertEqual(xu.standardDeviation, (2 / 700 as Float).squareRoot(), accuracy: 0.002)
        XCTAssertEqual(Initializer.fans([16, 3, 5, 5]).fanIn, 75)
    }
}

final class MaskEdgeCaseTests: XCTestCase {
    /// An infinite or NaN gradient must not turn a pruned weight into NaN (0 · ∞ = NaN if masks multiply).
    func testMaskedWeightsStayZeroUnderNonFiniteGradients() {
        let p = Parameter(name: "weight", value: Tensor(shape: [3], scalars: [1, 2, 3]))
        p.setMask(Tensor(shape: [3], scalars: [1, 0, 1]))
        p.grad = Tensor(shape: [3], scalars: [0.5, .infinity, .nan])
        for opt in [SGD([p], lr: 0.1, momentum: 0.9) as Optimizer, Adam([p], lr: 0.1)] {
            opt.step()
            XCTAssertEqual(p.value[flat: 1], 0)
            XCTAssertEqual(p.value[flat: 1].sign, .plus)
        }
    }
}
