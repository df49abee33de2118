import CBLAS
import Foundation

/// Thin, typed wrappers over OpenBLAS. All matrices are row-major.
///
/// OpenBLAS runs on one thread in Glassbox: a threaded GEMM gives results that differ in the last bits from a
/// single-threaded one (measured: an MLP trained with GLASSBOX_THREADS=1 and OpenBLAS on two threads ended with other
/// weights than with both on one), so the thread count would change the numbers. Glassbox parallelises itself with
/// splits that do not depend on the thread count (training shards, convolution workers), each calling BLAS on one
/// thread. Every wrapper below makes sure of it before its first call, whatever OPENBLAS_NUM_THREADS says.
public enum BLAS {
    /// Sets OpenBLAS to one thread, once per process (see the type's comment).
    static let singleThreaded: Void = { openblas_set_num_threads(1) }()

    /// `C = alpha · op(A) · op(B) + beta · C` with op(A) `[m, k]`, op(B) `[k, n]`, C `[m, n]`.
    /// `lda`, `ldb`, `ldc` default to the row lengths of the stored (untransposed) matrices.
    @inline(__always)
    public static func gemm(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
                            alpha: Float = 1, a: UnsafePointer<Float>, lda: Int? = nil,
                            b: UnsafePointer<Float>, ldb: Int? = nil,
                            beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int? = nil) {
        if m == 0 || n == 0 { return }
        _ = singleThreaded
        let la = lda ?? (transA ? m : k)
        let lb = ldb ?? (transB ? k : n)
        let lc = ldc ?? n
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(la), b, Int32(lb), beta, c, Int32(lc))
    }

    /// `y = alpha · op(A) · x + beta · y` for A `[m, n]` stored row-major.
    public static func gemv(trans: Bool = false, m: Int, n: Int, alpha: Float = 1, a: UnsafePointer<Float>,
                            x: UnsafePointer<Float>, beta: Float = 0, y: UnsafeMutablePointer<Float>) {
        _ = singleThreaded
        cblas_sgemv(CblasRowMajor, trans ? CblasTrans : CblasNoTrans, Int32(m), Int32(n), alpha, a, Int32(n),
                    x, 1, beta, y, 1)
    }

    /// `y += alpha · x`.
    public static func axpy(_ n: Int, alpha: Float, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>) {
        _ = singleThreaded
        cblas_saxpy(Int32(n), alpha, x, 1, y, 1)
    }

    public static func dot(_ n: Int, _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>) -> Float {
        _ = singleThreaded
        return cblas_sdot(Int32(n), x, 1, y, 1)
    }

    /// Number of threads OpenBLAS uses for one call (1 once any wrapper or `Runtime.configure` has run).
    public static var threads: Int {
        get { _ = singleThreaded; return Int(openblas_get_num_threads()) }
        set { openblas_set_num_threads(Int32(max(1, newValue))) }
    }

    /// Ends OpenBLAS's worker threads now; its next threaded call starts them again. At start-up they busy-wait
    /// (sched_yield) for about 0.1 s before they sleep, which takes a core from a short command that runs threads of
    /// its own (`glassbox topology mapper` clusters cover elements on two). Looked up at run time: a no-op when the
    /// OpenBLAS build has no thread server to shut down.
    public static func stopIdleThreads() {
        guard let symbol = dlsym(nil, "blas_thread_shutdown_") else { return }
        typealias Shutdown = @convention(c) () -> Int32
        _ = unsafeBitCast(symbol, to: Shutdown.self)()
    }

    /// OpenBLAS's build configuration and the kernel it picked for this CPU (e.g. "SkylakeX", "Zen").
    public static var configuration: String {
        let config = openblas_get_config().map { String(cString: $0) } ?? "unknown"
        let core = openblas_get_corename().map { String(cString: $0) } ?? "unknown"
        return "OpenBLAS \(config.trimmingCharacters(in: .whitespaces)) core=\(core)"
    }
}

public extension Tensor {
    /// Matrix product of two rank-2 tensors with optional transposes: `op(self) · op(other)`.
    func matmul(_ other: Tensor, transposeSelf: Bool = false, transposeOther: Bool = false) -> Tensor {
        precondition(rank == 2 && other.rank == 2, "matmul needs rank-2 tensors, got \(shape) and \(other.shape)")
        let m = transposeSelf ? shape[1] : shape[0]
        let k = transposeSelf ? shape[0] : shape[1]
        let k2 = transposeOther ? other.shape[1] : other.shape[0]
        let n = transposeOther ? other.shape[0] : other.shape[1]
        precondition(k == k2, "matmul inner dimensions differ: \(shape) × \(other.shape)")
        var out = Tensor(zeros: [m, n])
        withUnsafeBufferPointer { a in
            other.withUnsafeBufferPointer { b in
                out.withUnsafeMutableBufferPointer { c in
                    BLAS.gemm(transA: transposeSelf, transB: transposeOther, m: m, n: n, k: k,
                              a: a.baseAddress!, b: b.baseAddress!, c: c.baseAddress!)
                }
            }
        }
        return out
    }

    /// The transpose of a rank-2 tensor.
    func transposed() -> Tensor {
        precondition(rank == 2)
        let (r, c) = (shape[0], shape[1])
        return Tensor(uninitializedShape: [c, r]) { dst, _ in
            withUnsafeBufferPointer { src in
                for i in 0..<r { for j in 0..<c { dst[j * r + i] = src[i * c + j] } }
            }
        }
    }
}

/// Fork–join parallelism over index ranges with a fixed split, so results never depend on scheduling.
public enum Parallel {
    /// Number of worker threads Glassbox uses for its own loops (`GLASSBOX_THREADS`, default: the core count).
    nonisolated(unsafe) public static var threads: Int = {
        if let s = ProcessInfo.processInfo.environment["GLASSBOX_THREADS"], let n = Int(s), n > 0 { return n }
        return max(1, ProcessInfo.processInfo.activeProcessorCount)
    }()

    /// Runs `a` and `b` at the same time (one after the other with one thread) and returns both outcomes.
    public static func both<A, B>(_ a: () throws -> A, _ b: () throws -> B) -> (Result<A, Error>, Result<B, Error>) {
        let box = BothBox<A, B>()
        forChunks(2, parts: 2, concurrently: threads > 1) { p, _ in
            if p == 0 { box.first = Result { try a() } } else { box.second = Result { try b() } }
        }
        return (box.first!, box.second!)
    }

    /// Splits `0..<n` into `parts` contiguous chunks (the split depends only on n and parts) and runs `body`
    /// on each chunk, concurrently when `parts > 1`.
    /// With `concurrently: false` the chunks run one after another on the calling thread (same split, same
    /// results), which is how callers keep their numbers independent of the machine's thread count.
    public static func forChunks(_ n: Int, parts requested: Int = Parallel.threads, concurrently: Bool = true,
                                 _ body: (_ chunk: Int, _ range: Range<Int>) -> Void) {
        let parts = max(1, min(requested, n))
        if parts == 1 { body(0, 0..<n); return }
        let base = n / parts, extra = n % parts
        func range(_ p: Int) -> Range<Int> {
            let lo = p * base + min(p, extra)
            return lo..<(lo + base + (p < extra ? 1 : 0))
        }
        if concurrently {
            DispatchQueue.concurrentPerform(iterations: parts) { p in body(p, range(p)) }
        } else {
            for p in 0..<parts { body(p, range(p)) }
        }
    }
}

/// The two outcomes of `Parallel.both`, each written by one thread.
private final class BothBox<A, B>: @unchecked Sendable {
    var first: Result<A, Error>?
    var second: Result<B, Error>?
}
