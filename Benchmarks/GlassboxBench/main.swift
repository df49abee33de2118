import Foundation
import GlassboxCore
import GlassboxData
import GlassboxNN
import GlassboxAnalysis

// Training-throughput benchmark (samples/s): forward + backward + optimiser step on data in memory.
// Usage: GlassboxBench [--json] [--workload mlp|cnn|both|bsgc|ecs|gemm|layers] [--samples N] [--epochs E] [--shards S] [--spec SPEC]
// layers: µs per sample of each layer's forward and backward in one training shard (batch 32, see Layers.swift).
// bsgc: co-clustering of a 784×100 layer (weight [100, 784]), k = 4, 10 restarts (ms per call, best of 20).
// ecs: effective circuit size of all 10 classes of a trained 784→64→64→10 MLP (seconds).
let args = CommandLine.arguments
let json = args.contains("--json")
func value(_ flag: String) -> String? { args.firstIndex(of: flag).flatMap { $0 + 1 < args.count ? args[$0 + 1] : nil } }
let workload = value("--workload") ?? "both"

func synthetic(_ n: Int) -> Dataset {
    var g = SeededGenerator(seed: 1)
    let x = Tensor.uniform([n, 1, 28, 28], low: 0, high: 1, using: &g)
    return Dataset(name: "synthetic", images: x, labels: (0..<n).map { _ in Int32(g.int(below: 10)) },
                   classNames: (0..<10).map(String.init))
}

func measure(spec: String, batch: Int, optimizer: OptimizerConfig, samples: Int, data: Dataset) throws -> Double {
    let model = try Sequential(spec: ModelSpec.parse(spec), seed: 0)
    // Warm-up: one pass over a few batches (allocations, BLAS buffers).
    let warm = data.subset(Array(0..<(batch * 20)))
    try Trainer(model: model, config: TrainConfig(epochs: 1, batchSize: batch, optimizer: optimizer, evaluateEachEpoch: false)).fit(train: warm)
    let sub = data.limit(samples)
    let epochs = Int(value("--epochs") ?? "") ?? 1
    let shards = Int(value("--shards") ?? "") ?? 2
    let t = Trainer(model: model, config: TrainConfig(epochs: epochs, batchSize: batch, optimizer: optimizer, evaluateEachEpoch: false,
                                                      shards: shards))
    let start = Date()
    try t.fit(train: sub)
    return Double(sub.count * epochs) / Date().timeIntervalSince(start)
}

ProgressBar.quiet = true
// gemm: single-threaded OpenBLAS SGEMM rate (GFLOP/s, best of several calls) for the CNN's convolution shapes and a
// large square product (the practical FMA limit of one core).
if workload == "gemm" {
    for (m, n, k, tb) in [(1024, 1024, 1024, false), (32, 196, 400, false), (32, 196, 400, true), (32, 784, 400, false),
                          (32, 6272, 400, false), (16, 784, 25, false), (16, 784, 25, true), (16, 25, 784, false)] {
        var g = SeededGenerator(seed: 4)
        let a = Tensor.uniform([m, k], low: -1, high: 1, using: &g), b = Tensor.uniform([k, n], low: -1, high: 1, using: &g)
        var c = Tensor(zeros: [m, n])
        let reps = max(3, 200_000_000 / (m * n * k))
        var best = Double.infinity
        a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in c.withUnsafeMutableBufferPointer { cp in
            for _ in 0..<5 {
                let t0 = Date()
                for _ in 0..<reps { BLAS.gemm(transB: tb, m: m, n: n, k: k, a: ap.baseAddress!, b: bp.baseAddress!, c: cp.baseAddress!) }
                best = min(best, Date().timeIntervalSince(t0) / Double(reps))
            }
        } } }
        print(String(format: "sgemm m %d n %d k %d%@: %.1f GFLOP/s", m, n, k, tb ? " (B transposed)" : "", 2 * Double(m * n * k) / best / 1e9))
    }
    exit(0)
}
if workload == "bsgc" || workload == "ecs" {
    if workload == "bsgc" {
        var g = SeededGenerator(seed: 3)
        let w = Tensor.normal([100, 784], std: 0.05, using: &g)
        var best = Double.infinity
        for _ in 0..<20 {
            let t0 = Date()
            _ = try BSGC.coCluster(weight: w, k: 4, seed: 0, restarts: 10)
            best = min(best, Date().timeIntervalSince(t0))
        }
        print(String(format: "bsgc_784x100_k4_ms: %.2f", best * 1000))
        if args.contains("--detail") {
            var bs = Double.infinity
            let a = w.scalars.map { abs($0) }
            for _ in 0..<20 { let t0 = Date(); _ = try LinearAlgebra.svd(a, m: 100, n: 784); bs = min(bs, Date().timeIntervalSince(t0)) }
            print(String(format: "  of which sgesdd: %.2f ms (BLAS threads %d)", bs * 1000, BLAS.threads))
            var pts = [Double](repeating: 0, count: 884 * 2)
            for q in pts.indices { pts[q] = Double(g.normal()) }
            var bk = Double.infinity
            for _ in 0..<20 { let t0 = Date(); _ = try KMeans.fit(points: pts, count: 884, dim: 2, k: 4, restarts: 10, seed: 0); bk = min(bk, Date().timeIntervalSince(t0)) }
            print(String(format: "  k-means (884 points, 2 dims, k 4, 10 restarts): %.2f ms", bk * 1000))
        }
    } else {
        let mnist = ((FileManager.default.currentDirectoryPath as NSString).deletingLastPathComponent as NSString)
            .appendingPathComponent("shared/datasets/mnist")
        let (train, test) = try DatasetRegistry.load(name: "mnist", split: .test, directory: value("--data-dir") ?? mnist)
            .split(trainCount: 8000, testCount: 2000, seed: 0)
        let model = try Sequential(spec: ModelSpec.parse("mlp 784-64-64-10 nobias"), seed: 0)
        try Trainer(model: model, config: TrainConfig(epochs: 3, batchSize: 64, optimizer: .adam(lr: 1e-3), evaluateEachEpoch: false)).fit(train: train)
        let t0 = Date()
        let r = try EffectiveCircuitSize.run(model, test: test)
        print(String(format: "ecs_all_classes_s: %.2f (test 2000 images, threads %d)", Date().timeIntervalSince(t0), Parallel.threads))
        for c in r.classes { print(String(format: "  class %@: ECS %.4f (%d of %d kept)", c.className, c.ecs, c.kept, c.total)) }
    }
    exit(0)
}
// Fashion-MNIST when installed (the issue's workload); random images of the same shape otherwise.
let data = (try? DatasetRegistry.load(name: "fashion-mnist", split: .train)) ?? synthetic(60000)
if workload == "layers" {
    try profileLayers(spec: value("--spec") ?? "input 1x28x28; conv 16 k5 p2; relu; maxpool 2; conv 32 k5 p2; relu; maxpool 2; flatten; linear 10",
                      batch: Int(value("--batch") ?? "") ?? 32, batches: 300, repeats: 3, data: data)
    exit(0)
}
var result: [String: Double] = [:]
if workload == "mlp" || workload == "both" {
    result["mlp_samples_per_s"] = try measure(spec: "mlp 784-100-50-10 sigmoid", batch: 100, optimizer: .sgd(lr: 0.1),
                                              samples: Int(value("--samples") ?? "") ?? 60000, data: data)
}
if workload == "cnn" || workload == "both" {
    // --spec swaps in another network with the same training settings (to profile one layer at a time).
    result["cnn_samples_per_s"] = try measure(spec: value("--spec") ?? "input 1x28x28; conv 16 k5 p2; relu; maxpool 2; conv 32 k5 p2; relu; maxpool 2; flatten; linear 10",
                                              batch: 64, optimizer: .sgd(lr: 0.05, momentum: 0.9),
                                              samples: Int(value("--samples") ?? "") ?? 20000, data: data)
}
if json {
    let body = result.keys.sorted().map { "\"\($0)\": \(String(format: "%.0f", result[$0]!))" }.joined(separator: ", ")
    print("{\"threads\": \(Parallel.threads), \"blas\": \"\(BLAS.configuration)\", \(body)}")
} else {
    for k in result.keys.sorted() { print("\(k): \(String(format: "%.0f", result[k]!))") }
    print(data.name, BLAS.configuration, "threads", Parallel.threads)
}
