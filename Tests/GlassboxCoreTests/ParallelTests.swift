import XCTest
@testable import GlassboxCore

final class ParallelTests: XCTestCase {
    /// The split depends only on n and parts: contiguous, covering, sizes differing by at most one.
    func testForChunksSplitsContiguouslyWhateverTheThreads() {
        for (n, parts) in [(10, 3), (2, 5), (64, 2), (7, 7)] {
            var seen = [Range<Int>](repeating: 0..<0, count: min(n, parts))
            seen.withUnsafeMutableBufferPointer { out in
                Parallel.forChunks(n, parts: parts) { p, r in out[p] = r }
            }
            var serial = [Range<Int>](repeating: 0..<0, count: min(n, parts))
            Parallel.forChunks(n, parts: parts, concurrently: false) { p, r in serial[p] = r }
            XCTAssertEqual(seen, serial)
            XCTAssertEqual(seen.first?.lowerBound, 0)
            XCTAssertEqual(seen.last?.upperBound, n)
            for (a, b) in zip(seen, seen.dropFirst()) { XCTAssertEqual(a.upperBound, b.lowerBound) }
            XCTAssertLessThanOrEqual(seen.map(\.count).max()! - seen.map(\.count).min()!, 1)
        }
    }

    struct Failure: Error, Equatable { var side: String }

    /// Both closures run (also when one throws) and each outcome comes back on its own side.
    func testBothReturnsEachOutcome() {
        let (a, b) = Parallel.both({ (1...1000).reduce(0, +) }, { () throws -> String in throw Failure(side: "b") })
        XCTAssertEqual(try a.get(), 500_500)
        XCTAssertThrowsError(try b.get()) { XCTAssertEqual($0 as? Failure, Failure(side: "b")) }
        let (c, d) = Parallel.both({ () throws -> Int in throw Failure(side: "a") }, { "ok" })
        XCTAssertThrowsError(try c.get()) { XCTAssertEqual($0 as? Failure, Failure(side: "a")) }
        XCTAssertEqual(try d.get(), "ok")
    }
}
