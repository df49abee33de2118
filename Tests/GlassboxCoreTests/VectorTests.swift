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

    /// The two sparse-product kernels against the definition, over 11 segments (one register block of 8 and a tail
    /// of 3): `gatherAxpySegments` adds Σ a·x onto y, `gatherAxpyScattering` adds it onto scattered vectors of y.
    /// The scattering form must give y + s with s the same sum formed on its own (what a dense row and a fold give).
    func testGatherAxpyKernelsMatchTheDefinition() {
        var g = SeededGenerator(seed: 5)
        let segments = [0, 24, 8, 40, 56, 16, 80, 96, 120, 104, 136], count = 5, rowLength = 88
        let base = (0..<(count * rowLength + 160)).map { _ in g.uniform() - 0.5 }
        let a = (0..<count).map { _ in g.uniform() - 0.5 }
        let offsets = (0..<count).map { $0 * rowLength + $0 % 3 }
        func term(_ t: Int, _ lane: Int, from rowStart: (Int) -> Int) -> Double {
            (0..<count).reduce(0.0) { $0 + Double(a[$1]) * Double(base[rowStart($1) + lane]) }
        }
        // Gathering: y + 8t += Σ_i a_i · base[offsets_i + segments_t + lane].
        let y0 = (0..<(8 * segments.count)).map { _ in g.uniform() }
        var y = y0
        a.withUnsafeBufferPointer { ap in offsets.withUnsafeBufferPointer { op in base.withUnsafeBufferPointer { bp in
            segments.withUnsafeBufferPointer { sp in y.withUnsafeMutableBufferPointer {
                Vector.gatherAxpySegments(count: count, coefficients: ap.baseAddress!, offsets: op.baseAddress!, base: bp.baseAddress!,
                                          segments: sp.baseAddress!, segmentCount: segments.count, y: $0.baseAddress!)
            } } } } }
        for t in segments.indices { for lane in 0..<8 {
            let exact = Double(y0[8 * t + lane]) + term(t, lane) { offsets[$0] + segments[t] }
            XCTAssertEqual(Double(y[8 * t + lane]), exact, accuracy: 1e-5, "gather t \(t) lane \(lane)")
        } }
        // Scattering: y + segments_t += Σ_i a_i · base[offsets_i + 8t + lane], bit for bit y + (the sum on its own).
        let z0 = (0..<160).map { _ in g.uniform() }
        var z = z0, alone = [Float](repeating: 0, count: 8 * segments.count)
        let contiguous = segments.indices.map { 8 * $0 }
        a.withUnsafeBufferPointer { ap in offsets.withUnsafeBufferPointer { op in base.withUnsafeBufferPointer { bp in
            segments.withUnsafeBufferPointer { sp in z.withUnsafeMutableBufferPointer {
                Vector.gatherAxpyScattering(count: count, coefficients: ap.baseAddress!, offsets: op.baseAddress!, base: bp.baseAddress!,
                                            segments: sp.baseAddress!, segmentCount: segments.count, y: $0.baseAddress!)
            } }
            contiguous.withUnsafeBufferPointer { cp in alone.withUnsafeMutableBufferPointer {
                Vector.gatherAxpySegments(count: count, coefficients: ap.baseAddress!, offsets: op.baseAddress!, base: bp.baseAddress!,
                                          segments: cp.baseAddress!, segmentCount: segments.count, y: $0.baseAddress!)
            } }
        } } }
        var expected = z0
        for t in segments.indices { for lane in 0..<8 {
            let exact = Double(z0[segments[t] + lane]) + term(t, lane) { offsets[$0] + 8 * t }
            XCTAssertEqual(Double(z[segments[t] + lane]), exact, accuracy: 1e-5, "scatter t \(t) lane \(lane)")
            expected[segments[t] + lane] += alone[8 * t + lane]
        } }
        XCTAssertEqual(z, expected, "the scattered sum is y + the sum formed on its own, bit for bit")
    }
}
