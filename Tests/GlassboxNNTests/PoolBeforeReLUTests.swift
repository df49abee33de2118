import XCTest
import GlassboxCore
import GlassboxNN

/// `Sequential.poolsBeforeReLU` runs a ReLU that feeds a max pooling after the pooling in training passes, and the
/// pooling then hands the convolution before it its input gradient as lists of non-zeros. The forward pass changes no
/// bit (same logits); the gradients are the same numbers summed in another order (the listed convolution backward
/// takes the sparse path, in window order), so they agree to rounding — a gradient routed to a wrong place, or lost at
/// a tie or a window whose maximum is ≤ 0, would differ by O(1).
final class PoolBeforeReLUTests: XCTestCase {
    private func pass(_ net: Sequential, _ x: Tensor, _ dy: Tensor) -> (out: Tensor, dx: Tensor, grads: [Tensor]) {
        let out = net.forward(x, training: true)
        let dx = net.backward(dy, needInputGradient: true)!
        return (out, dx, net.namedParameters.map(\.parameter.grad))
    }

    func testReorderedPassMatchesThePlainPass() throws {
        let spec = try ModelSpec.parse("input 2x12x12; conv 6 k3 p1; relu; maxpool 2; conv 8 k5 p2; relu; maxpool 2; flatten; linear 5")
        let plain = try Sequential(spec: spec, seed: 7), reordered = try Sequential(spec: spec, seed: 7)
        reordered.poolsBeforeReLU = true
        var g = SeededGenerator(seed: 3)
        var x = Tensor.normal([5, 2, 12, 12], using: &g)
        // Whole windows ≤ 0 (the pooled ReLU is 0 and no gradient may pass) and exact ties among positive values.
        for i in 0..<x.count where i % 7 == 0 { x[flat: i] = -1 }
        for i in 0..<(12 * 12) where i % 5 == 0 { x[flat: i] = 0.5; x[flat: 144 + i] = 0.5 }
        // A zero block: inside it every conv output equals the channel's bias, so windows tie exactly.
        for c in 0..<2 { for r in 0..<6 { for col in 0..<6 { x[flat: 2 * 144 + c * 144 + r * 12 + col] = 0 } } }
        let dy = Tensor.normal([5, 5], using: &g)
        let a = pass(plain, x, dy), b = pass(reordered, x, dy)
        XCTAssertEqual(a.out.scalars.map(\.bitPattern), b.out.scalars.map(\.bitPattern))
        func assertClose(_ p: Tensor, _ q: Tensor, _ what: String) {
            let scale = p.scalars.map(abs).max() ?? 0
            XCTAssertGreaterThan(scale, 0, what)
            XCTAssertLessThanOrEqual(p.maxAbsDifference(q), 1e-5 * max(1, scale), what)
        }
        assertClose(a.dx, b.dx, "input gradient")
        XCTAssertEqual(a.grads.count, b.grads.count)
        for (i, (p, q)) in zip(a.grads, b.grads).enumerated() { assertClose(p, q, "parameter \(i)") }
        // Windows whose maximum is ≤ 0 exist, so the zero-gradient case was exercised.
        let conv1 = plain.activations[0]
        var nonPositiveWindows = 0
        for s in 0..<5 { for c in 0..<6 { for wy in 0..<6 { for wx in 0..<6 {
            let m = [conv1[s, c, 2 * wy, 2 * wx], conv1[s, c, 2 * wy, 2 * wx + 1], conv1[s, c, 2 * wy + 1, 2 * wx], conv1[s, c, 2 * wy + 1, 2 * wx + 1]].max()!
            if m <= 0 { nonPositiveWindows += 1 }
        } } } }
        XCTAssertGreaterThan(nonPositiveWindows, 0)
        // The reordered ReLU's full-size output is never formed.
        XCTAssertEqual(reordered.activations[1].count, 0)
        XCTAssertEqual(plain.activations[2].scalars.map(\.bitPattern), reordered.activations[2].scalars.map(\.bitPattern))
    }

    func testEvaluationPassesAreNotReordered() throws {
        let spec = try ModelSpec.parse("input 1x8x8; conv 3 k3 p1; relu; maxpool 2; flatten; linear 4")
        let net = try Sequential(spec: spec, seed: 1)
        net.poolsBeforeReLU = true
        var g = SeededGenerator(seed: 2)
        _ = net.forward(Tensor.normal([2, 1, 8, 8], using: &g), training: false)
        XCTAssertEqual(net.activations[1].shape, [2, 3, 8, 8])
    }
}
