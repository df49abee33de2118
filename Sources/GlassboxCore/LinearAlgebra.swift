import CLAPACKE

/// The LAPACK decompositions Glassbox uses, wrapped once: a thin SVD (`sgesdd`) and the top eigenpairs of a
/// symmetric matrix (`dsyevr`). Inputs and outputs are row-major; results come sorted in a documented order.
public enum LinearAlgebra {
    /// Singular value decomposition of a row-major `m × n` matrix with LAPACK `sgesdd`: `U` is `m × p`,
    /// `S` has `p = min(m, n)` values in descending order (sorted here, whatever the routine returns),
    /// `V` is `n × p` (the right vectors as columns), all row-major.
    ///
    /// The row-major matrix is handed to LAPACK as its column-major transpose (`Aᵀ = V S Uᵀ`), which spares
    /// LAPACKE's transposing copies, and BLAS runs single-threaded inside: at this size (784 × 100) two BLAS
    /// threads made the SVD three times slower, not faster.
    public static func svd(_ a: [Float], m: Int, n: Int) throws -> (u: [Float], s: [Float], v: [Float]) {
        guard m >= 1, n >= 1, a.count == m * n, m <= Int(Int32.max), n <= Int(Int32.max) else {
            throw GlassboxError.shapeMismatch(what: "SVD input", expected: [m, n], found: [a.count])
        }
        let p = min(m, n)
        var work = a
        var s = [Float](repeating: 0, count: p)
        var vCols = [Float](repeating: 0, count: n * p)   // left vectors of Aᵀ: n × p, column-major
        var uRows = [Float](repeating: 0, count: p * m)   // Uᵀ: p × m, column-major
        let savedThreads = BLAS.threads
        BLAS.threads = 1
        defer { BLAS.threads = savedThreads }
        let info = work.withUnsafeMutableBufferPointer { w in
            s.withUnsafeMutableBufferPointer { sp in
                vCols.withUnsafeMutableBufferPointer { vp in
                    uRows.withUnsafeMutableBufferPointer { up in
                        LAPACKE_sgesdd(LAPACK_COL_MAJOR, Int8(UInt8(ascii: "S")), Int32(n), Int32(m), w.baseAddress!,
                                       Int32(n), sp.baseAddress!, vp.baseAddress!, Int32(n), up.baseAddress!, Int32(p))
                    }
                }
            }
        }
        guard info == 0 else { throw GlassboxError.message("SVD (LAPACK sgesdd) of a \(m)×\(n) matrix failed with info \(info)") }
        // Descending order, explicitly (ARPACK-style ascending output is a known trap).
        let order = (0..<p).sorted { s[$0] != s[$1] ? s[$0] > s[$1] : $0 < $1 }
        var us = [Float](repeating: 0, count: m * p), vs = [Float](repeating: 0, count: n * p)
        for (newI, oldI) in order.enumerated() {
            for r in 0..<m { us[r * p + newI] = uRows[oldI + r * p] }
            for c in 0..<n { vs[c * p + newI] = vCols[c + oldI * n] }
        }
        return (us, order.map { s[$0] }, vs)
    }

    /// The `count` largest eigenvalues of a symmetric row-major `n × n` matrix (only its upper triangle is read)
    /// and their eigenvectors, with LAPACK `dsyevr`. Values come in **ascending** order (LAPACK's), vectors as the
    /// columns of a row-major `n × count` matrix in the same order.
    public static func topEigen(symmetric a: [Double], n: Int, count: Int) throws -> (values: [Double], vectors: [Double]) {
        guard n >= 1, a.count == n * n, n <= Int(Int32.max) else {
            throw GlassboxError.shapeMismatch(what: "eigen-decomposition input", expected: [n, n], found: [a.count])
        }
        guard count >= 1, count <= n else {
            throw GlassboxError.invalidArgument(name: "eigenvectors", expected: "1…\(n)", found: "\(count)")
        }
        var mat = a
        var w = [Double](repeating: 0, count: n)
        var z = [Double](repeating: 0, count: n * count)
        var isuppz = [Int32](repeating: 0, count: 2 * n)
        var found: Int32 = 0
        // Eigenvalues il…iu (1-based, ascending) = the `count` largest.
        let info = LAPACKE_dsyevr(LAPACK_ROW_MAJOR, Int8(UInt8(ascii: "V")), Int8(UInt8(ascii: "I")), Int8(UInt8(ascii: "U")),
                                  Int32(n), &mat, Int32(n), 0, 0, Int32(n - count + 1), Int32(n), 0, &found, &w, &z,
                                  Int32(count), &isuppz)
        guard info == 0, found == Int32(count) else {
            throw GlassboxError.message("eigen-decomposition (LAPACK dsyevr) of a \(n)×\(n) matrix failed (info \(info), \(found) of \(count) eigenvalues)")
        }
        return (Array(w[0..<count]), z)
    }
}
