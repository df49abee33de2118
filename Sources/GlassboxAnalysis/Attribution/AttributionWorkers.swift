import Foundation
import GlassboxCore
import GlassboxNN

/// What every attribution checks before its hot loop: the batch fits the model, the model ends in class scores,
/// every target is one of its classes.
struct AttributionSetup {
    let count: Int
    /// One sample's input shape as given (e.g. `[1, 28, 28]`).
    let sampleShape: [Int]
    let sampleSize: Int
    let classCount: Int
    /// One sample's output shape after each layer.
    let layerShapes: [[Int]]

    static func check(model: Sequential, inputs: Tensor, targets: [Int]) throws -> AttributionSetup {
        guard inputs.rank >= 2 else {
            throw GlassboxError.invalidArgument(name: "inputs", expected: "a batch [N, C, H, W]", found: "shape \(inputs.shape)")
        }
        let sample = Array(inputs.shape.dropFirst())
        let size = sample.reduce(1, *)
        let spec = model.spec.input
        guard spec == sample || (spec.count == 1 && spec[0] == size) else {
            throw GlassboxError.invalidArgument(name: "inputs", expected: "samples of shape \(spec) for model '\(model.spec)'",
                                                found: "\(sample)")
        }
        let shapes = try model.spec.shapes()
        guard shapes.count == model.layers.count, let last = shapes.last, last.count == 1 else {
            throw GlassboxError.invalidArgument(name: "model", expected: "layers ending in class scores [K]", found: "\(shapes.last ?? [])")
        }
        guard targets.count == inputs.shape[0] else {
            throw GlassboxError.invalidArgument(name: "targets", expected: "one target per image (\(inputs.shape[0]))", found: "\(targets.count)")
        }
        if let bad = targets.first(where: { $0 < 0 || $0 >= last[0] }) {
            throw GlassboxError.invalidArgument(name: "targets", expected: "classes in 0..<\(last[0])", found: "\(bad)")
        }
        guard inputs.scalars.allSatisfy({ $0.isFinite }) else {
            throw GlassboxError.invalidArgument(name: "inputs", expected: "finite values", found: "NaN or infinity")
        }
        return AttributionSetup(count: inputs.shape[0], sampleShape: sample, sampleSize: size, classCount: last[0], layerShapes: shapes)
    }
}

/// A float buffer that parallel workers write at disjoint offsets.
final class SharedFloats: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Float>
    let count: Int

    init(count: Int, value: Float = 0) {
        self.count = count
        pointer = .allocate(capacity: max(1, count))
        pointer.initialize(repeating: value, count: max(1, count))
    }

    deinit { pointer.deallocate() }

    var array: [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }

    func write(_ values: [Float], at offset: Int) {
        values.withUnsafeBufferPointer { (pointer + offset).update(from: $0.baseAddress!, count: values.count) }
    }

    func write(_ t: Tensor, at offset: Int) {
        t.withUnsafeBufferPointer { (pointer + offset).update(from: $0.baseAddress!, count: t.count) }
    }
}

/// Model replicas (one per worker, without parameter gradients) and a fixed split of the images into chunks.
///
/// Chunk boundaries depend only on the image count and the chunk size, and every chunk is computed the same way
/// whichever replica runs it, so results do not depend on the number of threads.
final class AttributionWorkers {
    let replicas: [Sequential]

    init(model: Sequential, images: Int, chunk: Int) throws {
        let chunks = (images + chunk - 1) / max(1, chunk)
        let workers = max(1, min(Parallel.threads, chunks))
        replicas = try (0..<workers).map { _ in
            let r = try model.replica()
            r.setParameterGradients(false)
            return r
        }
    }

    /// Calls `body(replica, images)` for consecutive chunks of `chunk` images, chunks shared out over the replicas
    /// (in parallel, each with single-threaded BLAS, when there is more than one).
    func forEachChunk(_ n: Int, chunk: Int, _ body: (Sequential, Range<Int>) -> Void) {
        guard n > 0 else { return }
        let chunks = (n + chunk - 1) / chunk
        let parts = min(replicas.count, chunks)
        let saved = BLAS.threads
        if parts > 1 { BLAS.threads = 1 }
        Parallel.forChunks(chunks, parts: parts) { worker, range in
            for c in range { body(self.replicas[worker], (c * chunk)..<min(n, (c + 1) * chunk)) }
        }
        if parts > 1 { BLAS.threads = saved }
    }
}

/// F and dF/d(logits) for each row of a logit matrix `[R, K]`.
enum TargetSeed {
    /// `target(r)` is row r's class. For `.logit`, F = z_t and the seed is one-hot; for `.probability`,
    /// F = softmax(z)_t and dF/dz_j = p_t (δ_tj − p_j).
    static func make(_ logits: Tensor, kind: AttributionTarget, target: (Int) -> Int) -> (seed: Tensor, values: [Float]) {
        let rows = logits.rows, k = logits.rowLength
        var values = [Float](repeating: 0, count: rows)
        var seed = Tensor(zeros: [rows, k])
        logits.withUnsafeBufferPointer { z in
            seed.withUnsafeMutableBufferPointer { s in
                for r in 0..<rows {
                    let t = target(r), row = z.baseAddress! + r * k, out = s.baseAddress! + r * k
                    switch kind {
                    case .logit:
                        values[r] = row[t]
                        out[t] = 1
                    case .probability:
                        let p = softmax(row, k)
                        values[r] = p[t]
                        for j in 0..<k { out[j] = -p[t] * p[j] }
                        out[t] += p[t]
                    }
                }
            }
        }
        return (seed, values)
    }

    /// Softmax of one row, computed with the row maximum subtracted.
    static func softmax(_ z: UnsafePointer<Float>, _ k: Int) -> [Float] {
        var m = z[0]
        for j in 1..<k where z[j] > m { m = z[j] }
        var e = (0..<k).map { expf(z[$0] - m) }
        let s = e.reduce(0, +)
        for j in 0..<k { e[j] /= s }
        return e
    }

    /// F alone for each row.
    static func values(_ logits: Tensor, kind: AttributionTarget, target: (Int) -> Int) -> [Float] {
        let k = logits.rowLength
        return logits.withUnsafeBufferPointer { z in
            (0..<logits.rows).map { r in
                let row = z.baseAddress! + r * k, t = target(r)
                return kind == .logit ? row[t] : softmax(row, k)[t]
            }
        }
    }
}
