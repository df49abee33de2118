import XCTest
import GlassboxCore
import GlassboxNN

/// The conv layer's backward pass has a dense (GEMM) path and a sparse path used when most output gradients
/// are zero (as behind ReLU + max pooling). Both must equal the textbook definition computed by direct loops.
final class ConvSparseTests: XCTestCase {
    /// dW[o][i][a][b] = Σ_{y,x} dY[o][y][x] · xpad[i][y+a][x+b];  dX = the adjoint. Stride 1.
    func naiveBackward(x: Tensor, dy: Tensor, w: Tensor, padding p: Int) -> (dw: Tensor, dx: Tensor, db: Tensor) {
        let (n, cin, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (cout, k) = (w.shape[0], w.shape[2])
        let (oh, ow) = (dy.shape[2], dy.shape[3])
        var dw = Tensor(zeros: w.shape), dx = Tensor(zeros: x.shape), db = Tensor(zeros: [cout])
        for s in 0..<n { for o in 0..<cout { for y in 0..<oh { for xo in 0..<ow {
            let g = dy[s, o, y, xo]
            if g == 0 { continue }
            db[o] += g
            for i in 0..<cin { for a in 0..<k { for b in 0..<k {
                let iy = y + a - p, ix = xo + b - p
                guard iy >= 0, iy < h, ix >= 0, ix < wd else { continue }
                dw[o, i, a, b] += g * x[s, i, iy, ix]
                dx[s, i, iy, ix] += g * w[o, i, a, b]
            } } }
        } } } }
        return (dw, dx, db)
    }

    /// Runs `conv.backward(dy)` (after its forward on `x`) and compares dW and dX with the definition within `tolerance`,
    /// db within a tenth of it.
    func assertBackwardMatchesDefinition(_ conv: Conv2d, _ x: Tensor, _ dy: Tensor, padding: Int, tolerance: Float, _ what: String,
                                         file: StaticString = #filePath, line: UInt = #line) {
        let dx = conv.backward(dy, needInputGradient: true)!
        let ref = naiveBackward(x: x, dy: dy, w: conv.weight.value, padding: padding)
        XCTAssertLessThan(conv.weight.grad.maxAbsDifference(ref.dw), tolerance, what, file: file, line: line)
        XCTAssertLessThan(dx.maxAbsDifference(ref.dx), tolerance, what, file: file, line: line)
        XCTAssertLessThan(conv.bias!.grad.maxAbsDifference(ref.db), tolerance / 10, what, file: file, line: line)
    }

    func testSparseAndDenseBackwardMatchTheDefinition() {
        var g = SeededGenerator(seed: 21)
        for (density, kernel, padding, width) in [(0.1, 5, 2, 12), (0.9, 5, 2, 12), (0.2, 3, 1, 6), (0.25, 9, 4, 10)] {
            let conv = Conv2d(3, 4, kernel: kernel, padding: padding, using: &g)
            let x = Tensor.normal([3, 3, 7, width], using: &g)
            let y = conv.forward(x, training: true)
            var dy = Tensor.normal(y.shape, using: &g)
            for i in 0..<dy.count where g.uniform() > Float(density) { dy[flat: i] = 0 }
            assertBackwardMatchesDefinition(conv, x, dy, padding: padding, tolerance: 1e-3, "density \(density) k\(kernel)")
        }
    }

    /// The sparse path works on channel-last images whose pixels hold the channels rounded up to 8 lanes: with 3, 8,
    /// 16 and 6 channels, kernels 2…9 wide (9 is wider than a vector) and images narrower than the kernel's vectors,
    /// the lanes past the channels must not leak into dW or dX. Every sample takes the sparse path (≥ 64 taps, a
    /// quarter non-zero), and the issue-17 CNN's second conv shape (16 channels, 5×5, padding 2) is among them.
    func testPatchPathOnNarrowImagesMatchesTheDefinition() {
        var g = SeededGenerator(seed: 22)
        for (cin, kernel, padding, h, w) in [(8, 3, 1, 3, 3), (16, 2, 0, 4, 5), (3, 5, 2, 6, 9), (16, 5, 2, 6, 7), (6, 4, 1, 5, 3), (1, 9, 4, 10, 11)] {
            let conv = Conv2d(cin, 5, kernel: kernel, padding: padding, using: &g)
            let x = Tensor.normal([3, cin, h, w], using: &g)
            let y = conv.forward(x, training: true)
            var dy = Tensor(zeros: y.shape)
            for i in stride(from: 0, to: dy.count, by: 4) { dy[flat: i] = g.uniform() - 0.5 }
            assertBackwardMatchesDefinition(conv, x, dy, padding: padding, tolerance: 1e-4, "in \(cin) k\(kernel) \(h)x\(w)")
        }
    }
}
