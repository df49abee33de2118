import Foundation
import GlassboxCore
import GlassboxData
import GlassboxNN

/// `--workload layers`: where one training shard's time goes, layer by layer. A shard replica (one worker, ReLU run
/// after the pooling it feeds, as the trainer's shards do) trains on batches of `batch` real images, and every
/// layer's forward and backward is timed on its own (a max pooling's backward is its lists of non-zero gradients,
/// which the convolution before it reads, as in a shard); the loss gradient and the optimiser step are timed too.
/// Prints µs per sample for each, best of `repeats` passes over `batches` batches (single thread, the FMA limit of
/// one core is the reference).
func profileLayers(spec: String, batch: Int, batches: Int, repeats: Int, data: Dataset) throws {
    let model = try Sequential(spec: ModelSpec.parse(spec), seed: 0).replica(singleWorker: true)
    let layers = model.layers
    // The order a training shard runs them in: a ReLU that feeds a max pooling runs after it.
    var order = Array(layers.indices)
    for i in 0..<(layers.count - 1) where layers[i] is ReLU && layers[i + 1] is MaxPool2d { order.swapAt(i, i + 1) }
    let names = layers.map { $0.specClause }
    var forward = [Double](repeating: .infinity, count: layers.count), backward = forward
    var lossTime = Double.infinity, stepTime = Double.infinity
    let optimizer = SGD(model.namedParameters.map(\.parameter), lr: 0.05, momentum: 0.9)
    for _ in 0..<repeats {
        var f = [Double](repeating: 0, count: layers.count), b = f
        var loss = 0.0, step = 0.0
        for k in 0..<batches {
            let rows = Array((k * batch)..<((k + 1) * batch)).map { $0 % data.count }
            var h = data.images.gatherRows(rows)
            for i in order {
                let t0 = DispatchTime.now().uptimeNanoseconds
                h = layers[i].forward(h, training: true)
                f[i] += Double(DispatchTime.now().uptimeNanoseconds - t0)
            }
            let t0 = DispatchTime.now().uptimeNanoseconds
            var g = Tensor(uninitializedShape: h.shape) { _, _ in }
            let labels = rows.map { data.labels[$0] }
            h.withUnsafeBufferPointer { l in labels.withUnsafeBufferPointer { y in g.withUnsafeMutableBufferPointer { gp in
                _ = Ops.softmaxCrossEntropy(logits: l.baseAddress!, labels: y.baseAddress!, n: batch, k: h.shape[1], grad: gp.baseAddress!)
            } } }
            loss += Double(DispatchTime.now().uptimeNanoseconds - t0)
            var grad: Tensor? = g
            var listed: PooledGradient?
            for (position, i) in order.enumerated().reversed() {
                let t1 = DispatchTime.now().uptimeNanoseconds
                // As a training shard does: a max pooling hands the convolution before it its gradient as lists.
                if position > 0, let (_, pool) = PooledGradient.fusable(layers[order[position - 1]], layers[i]), let cur = grad {
                    listed = pool.listedInputGradient(cur)
                } else if let conv = layers[i] as? Conv2d, let l = listed {
                    grad = conv.backward(listed: l, needInputGradient: i != order.first)
                    listed = nil
                } else if let cur = grad {
                    grad = layers[i].backward(cur, needInputGradient: i != order.first)
                }
                b[i] += Double(DispatchTime.now().uptimeNanoseconds - t1)
            }
            let t2 = DispatchTime.now().uptimeNanoseconds
            optimizer.step()
            step += Double(DispatchTime.now().uptimeNanoseconds - t2)
        }
        let perSample = 1e-3 / Double(batch * batches)
        for i in layers.indices { forward[i] = min(forward[i], f[i] * perSample); backward[i] = min(backward[i], b[i] * perSample) }
        lossTime = min(lossTime, loss * perSample); stepTime = min(stepTime, step * perSample)
    }
    func padded(_ s: String) -> String { s.padding(toLength: 30, withPad: " ", startingAt: 0) }
    print(padded("layer (training order)") + "  forward µs/sample  backward µs/sample")
    for i in order { print(padded(names[i]) + String(format: "  %17.2f  %18.2f", forward[i], backward[i])) }
    print(padded("loss (softmax cross-entropy)") + String(format: "  %17.2f", lossTime))
    print(padded("optimiser step") + String(format: "  %17s  %18.2f", "", stepTime))
    let total = forward.reduce(0, +) + backward.reduce(0, +) + lossTime + stepTime
    print(String(format: "total %.1f µs/sample (%.0f samples/s on one core), batch %d, best of %d × %d batches", total, 1e6 / total, batch, repeats, batches))
}
