import XCTest
import GlassboxCore
@testable import GlassboxAnalysis

/// Optimal 1-D k-means against brute force over every split of the sorted values.
final class ExplainKMeansTests: XCTestCase {
    /// Sum of squared deviations from the mean, computed directly.
    func sse(_ v: ArraySlice<Double>) -> Double {
        let m = v.reduce(0, +) / Double(v.count)
        return v.reduce(0) { $0 + ($1 - m) * ($1 - m) }
    }

    /// Least cost over all ways to cut sorted `x` into exactly k non-empty runs (ties may be split), and its cuts.
    func bruteForce(_ x: [Double], k: Int) -> Double {
        var best = Double.infinity
        func go(_ start: Int, _ left: Int, _ acc: Double) {
            if left == 1 { best = min(best, acc + sse(x[start...])); return }
            guard start + left <= x.count else { return }
            for end in (start + 1)...(x.count - left + 1) { go(end, left - 1, acc + sse(x[start..<end])) }
        }
        go(0, k, 0)
        return best
    }

    func testEqualsBruteForceWithTies() {
        var g = SeededGenerator(seed: 21)
        for trial in 0..<300 {
            let n = 1 + g.int(below: 11)
            let levels = 1 + g.int(below: 8)   // few levels → many ties
            let values = (0..<n).map { _ in Float(g.int(below: levels)) * 0.37 + (g.uniform() < 0.3 ? Float(g.int(below: 3)) : 0) }
            let k = 1 + g.int(below: 5)
            let r = OptimalKMeans1D.cluster(values, k: k)
            let distinct = Set(values).count
            XCTAssertEqual(r.clusters.count, min(k, distinct), "trial \(trial)")
            let sorted = values.map(Double.init).sorted()
            let brute = bruteForce(sorted, k: min(k, distinct))
            XCTAssertEqual(r.cost, brute, accuracy: 1e-9 * max(1, brute), "trial \(trial): \(values), k = \(k)")
            // The clusters are contiguous, ascending, cover every value once, and never split equal values.
            XCTAssertEqual(r.clusters.reduce(0) { $0 + $1.count }, n)
            for (a, b) in zip(r.clusters, r.clusters.dropFirst()) { XCTAssertLessThan(a.max, b.min) }
            // Their cost is the cost they report.
            let direct = r.clusters.reduce(0.0) { acc, c in acc + sse(ArraySlice(sorted.filter { $0 >= Double(c.min) && $0 <= Double(c.max) })) }
            XCTAssertEqual(direct, r.cost, accuracy: 1e-9 * max(1, direct))
        }
    }

    /// Larger inputs against the plain O(k·n²) dynamic programme (no divide and conquer).
    func testEqualsQuadraticProgramme() {
        var g = SeededGenerator(seed: 8)
        for _ in 0..<10 {
            let n = 50 + g.int(below: 150)
            let values = (0..<n).map { _ in g.normal() * 2 + (g.uniform() < 0.5 ? 5 : 0) }
            let k = 2 + g.int(below: 5)
            let x = values.map(Double.init).sorted()
            var d = [[Double]](repeating: [Double](repeating: .infinity, count: n), count: k)
            for j in 0..<n { d[0][j] = sse(x[0...j]) }
            for q in 1..<k { for j in q..<n { for i in q...j { d[q][j] = min(d[q][j], d[q - 1][i - 1] + sse(x[i...j])) } } }
            XCTAssertEqual(OptimalKMeans1D.cluster(values, k: k).cost, d[k - 1][n - 1], accuracy: 1e-7 * d[k - 1][n - 1])
        }
    }

    func testRadixSortEqualsSort() {
        var g = SeededGenerator(seed: 4)
        for n in [0, 5, 65, 1000, 20_000] {
            let v = (0..<n).map { _ -> Float in
                switch g.int(below: 4) {
                case 0: return 0
                case 1: return Float(g.int(below: 5))
                case 2: return g.normal() * 1e-20
                default: return g.normal() * 1e6
                }
            }
            XCTAssertEqual(OptimalKMeans1D.sortedFloats(v), v.sorted(), "n = \(n)")
        }
    }

    func testSmallCases() {
        XCTAssertEqual(OptimalKMeans1D.cluster([], k: 3).clusters, [])
        let one = OptimalKMeans1D.cluster([4, 1, 3], k: 1)
        XCTAssertEqual(one.clusters.map(\.min), [1]); XCTAssertEqual(one.clusters.map(\.max), [4])
        XCTAssertEqual(one.cost, 14.0 / 3, accuracy: 1e-12)
        let two = OptimalKMeans1D.cluster([1, 1, 1, 10, 11], k: 2)
        XCTAssertEqual(two.clusters.map(\.min), [1, 10]); XCTAssertEqual(two.clusters.map(\.count), [3, 2])
        XCTAssertEqual(two.cost, 0.5, accuracy: 1e-12)
        let few = OptimalKMeans1D.cluster([2, 2, 5], k: 5)
        XCTAssertEqual(few.clusters.count, 2)
        XCTAssertEqual(few.cost, 0)
    }
}
