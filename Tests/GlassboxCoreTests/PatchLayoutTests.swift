import XCTest
import GlassboxCore

/// The channel-last layout of the sparse conv backward: every value lands where the definition puts it, the
/// padding and the lanes past the channels are zero, and each rearrangement is undone by its inverse.
final class ChannelsLastTests: XCTestCase {
    func testPaddedImageLayoutAndRoundTrip() {
        var g = SeededGenerator(seed: 3)
        for (c, h, w, p) in [(3, 4, 5, 2), (8, 3, 3, 1), (16, 2, 7, 0), (9, 5, 1, 3)] {
            let pitch = Ops.channelPitch(c), ph = h + 2 * p, pw = w + 2 * p
            XCTAssertTrue(pitch % 8 == 0 && pitch >= c && pitch < c + 8)
            let x = (0..<(c * h * w)).map { _ in g.uniform() + 1 }   // never 0, so a 0 below means "not written"
            var padded = [Float](repeating: .nan, count: ph * pw * pitch)
            var back = [Float](repeating: .nan, count: x.count)
            x.withUnsafeBufferPointer { xp in padded.withUnsafeMutableBufferPointer {
                Ops.padChannelsLast(xp.baseAddress!, c: c, h: h, w: w, padding: p, pitch: pitch, dst: $0.baseAddress!) } }
            for y in 0..<ph { for xx in 0..<pw { for lane in 0..<pitch {
                let inside = y >= p && y < p + h && xx >= p && xx < p + w && lane < c
                let expected = inside ? x[(lane * h + y - p) * w + xx - p] : 0
                XCTAssertEqual(padded[(y * pw + xx) * pitch + lane], expected, "c \(c) (\(y), \(xx), \(lane))")
            } } }
            padded.withUnsafeBufferPointer { pp in back.withUnsafeMutableBufferPointer {
                Ops.unpadChannelsLast(pp.baseAddress!, c: c, h: h, w: w, padding: p, pitch: pitch, dst: $0.baseAddress!) } }
            XCTAssertEqual(back, x)
        }
    }

    func testKernelRearrangementAndItsInverse() {
        var g = SeededGenerator(seed: 4)
        let (out, cin, kh, kw) = (3, 5, 2, 3), pitch = Ops.channelPitch(5)
        let w = (0..<(out * cin * kh * kw)).map { _ in g.uniform() - 0.5 }
        var last = [Float](repeating: .nan, count: out * kh * kw * pitch)
        w.withUnsafeBufferPointer { wp in last.withUnsafeMutableBufferPointer {
            Ops.kernelsChannelsLast(wp.baseAddress!, out: out, in: cin, kh: kh, kw: kw, pitch: pitch, dst: $0.baseAddress!) } }
        for o in 0..<out { for ky in 0..<kh { for kx in 0..<kw { for lane in 0..<pitch {
            let expected = lane < cin ? w[((o * cin + lane) * kh + ky) * kw + kx] : 0
            XCTAssertEqual(last[((o * kh + ky) * kw + kx) * pitch + lane], expected)
        } } } }
        // Adding back onto ones: 1 + w everywhere, the zero lanes dropped.
        var sum = [Float](repeating: 1, count: w.count)
        last.withUnsafeBufferPointer { lp in sum.withUnsafeMutableBufferPointer {
            Ops.addKernelsChannelsFirst(lp.baseAddress!, out: out, in: cin, kh: kh, kw: kw, pitch: pitch, into: $0.baseAddress!) } }
        XCTAssertEqual(sum, w.map { 1 + $0 })
        // The patch's vectors, in [kh, kw, pitch] order, each at its (ky·pw + kx)·pitch + 8v.
        XCTAssertEqual(Ops.patchVectorOffsets(kh: 2, kw: 2, pw: 6, pitch: 16), [0, 8, 16, 24, 96, 104, 112, 120])
    }
}
