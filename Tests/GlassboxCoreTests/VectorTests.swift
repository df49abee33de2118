import Foundation
import XCTest
import GlassboxCore

final class VectorTests: XCTestCase {
    func testVectorExpAndSigmoidMatchLibm() {
        // A dense sweep over the whole useful range, including the lanes' scalar tail (n not a multiple of 8).
        let xs: [Float] = stride(from: -100.0, through: 100.0, by: 0.0137).map { Float($0) }
        var ys = [Float](repeating: 0, count: xs.count)
        xs.withUnsafeBufferPointer { x in ys.withUnsafeMutableBufferPointer { Vector.sigmoid(x.baseAddress!, $0.baseAddress!, xs.count) } }
        for (x, y) in zip(xs, ys) {
            let exact = 1 / (1 + Foundation.exp(-Double(x)))
            XCTAssertEqual(Double(y), exact, accuracy: 4e-7 * max(exact, 1e-30) + 1e-37, "sigmoid(\(x))")
        }
        for x in stride(from: -87.0 as Float, through: 88, by: 0.731) {
            let v = Vector.exp(SIMD8<Float>(repeating: x))[3]
            let exact = Foundation.exp(Double(x))
            XCTAssertEqual(Double(v) / exact, 1, accuracy: 3e-7, "exp(\(x))")
        }
    }

    func testReluSumAxpyAndAdd() {
        let x: [Float] = (0..<19).map { Float($0) - 9 }
        var y = [Float](repeating: -1, count: 19)
        x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { Vector.relu(xp.baseAddress!, $0.baseAddress!, 19) } }
        XCTAssertEqual(y, x.map { max(0, $0) })
        XCTAssertEqual(x.withUnsafeBufferPointer { Vector.sum($0.baseAddress!, 19) }, x.reduce(0, +))
        var z = [Float](repeating: 1, count: 19)
        x.withUnsafeBufferPointer { xp in z.withUnsafeMutableBufferPointer { Vector.axpy(2, xp.baseAddress!, $0.baseAddress!, 19) } }
        XCTAssertEqual(z, x.map { 1 + 2 * $0 })
        var dx = [Float](repeating: 7, count: 19)
        let dy = [Float](repeating: 3, count: 19)
        x.withUnsafeBufferPointer { yp in dy.withUnsafeBufferPointer { g in dx.withUnsafeMutableBufferPointer {
            Vector.reluBackward(y: yp.baseAddress!, dy: g.baseAddress!, dx: $0.baseAddress!, 19) } } }
        XCTAssertEqual(dx, x.map { $0 > 0 ? 3 : 0 })
    }
}
