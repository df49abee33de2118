import XCTest
@testable import GlassboxCore

final class LinearAlgebraTests: XCTestCase {
    /// A symmetric matrix with known eigenpairs: Q·diag(λ)·Qᵀ for a rotation Q, so every eigenvector is known.
    func testTopEigenMatchesAKnownDecomposition() throws {
        let c = cos(0.3), s = sin(0.3)
        // Columns of Q: a rotation in the (0,1) plane plus the third axis.
        let q: [[Double]] = [[c, -s, 0], [s, c, 0], [0, 0, 1]]
        let lambda: [Double] = [5, 1, 3]
        var a = [Double](repeating: 0, count: 9)
        for i in 0..<3 { for j in 0..<3 { for t in 0..<3 { a[i * 3 + j] += q[i][t] * lambda[t] * q[j][t] } } }
        let (values, vectors) = try LinearAlgebra.topEigen(symmetric: a, n: 3, count: 2)
        XCTAssertEqual(values[0], 3, accuracy: 1e-12)   // ascending: the second largest first
        XCTAssertEqual(values[1], 5, accuracy: 1e-12)
        // Column 1 is ±(c, s, 0), column 0 is ±(0, 0, 1).
        let v5 = (0..<3).map { vectors[$0 * 2 + 1] }, v3 = (0..<3).map { vectors[$0 * 2] }
        XCTAssertEqual(abs(v5[0] * c + v5[1] * s), 1, accuracy: 1e-12)
        XCTAssertEqual(abs(v3[2]), 1, accuracy: 1e-12)
        XCTAssertThrowsError(try LinearAlgebra.topEigen(symmetric: a, n: 3, count: 4))
        XCTAssertThrowsError(try LinearAlgebra.topEigen(symmetric: [1, 2], n: 3, count: 1))
    }

    func testSVDRejectsAMismatchedShape() {
        XCTAssertThrowsError(try LinearAlgebra.svd([1, 2, 3], m: 2, n: 2))
    }
}
