import Foundation
import GlassboxAnalysis
import GlassboxCore
import GlassboxData
import GlassboxNN

// Attribution maps and timings for the comparison with Captum (Benchmarks/attribution/compare.py).
//
// Usage: AttributionBench --checkpoint M.safetensors --out DIR [--data-dir D] [--maps N] [--time-images T] [--repeats R]
//
// Images: the MNIST test set re-split 8000:2000 with seed 0 (as `glassbox train --data mnist --resplit 8000:2000`
// trains on); the first N test images get maps, the first T are timed. Writes to DIR: images.npy (float32
// [max(N, T), 1, 28, 28]), targets.npy (int64, the model's predicted classes), one <method>.npy per method (float32,
// [N, 1, 28, 28]), baseline-blur.npy (the blurred-input baseline of the -blur methods), pool-input-<i>.npy (the
// input of each max-pooling layer i for the map images), and prints one JSON object with the timings (seconds,
// best of R) and the completeness gaps.
let args = CommandLine.arguments
func value(_ flag: String) -> String? { args.firstIndex(of: flag).flatMap { $0 + 1 < args.count ? args[$0 + 1] : nil } }

/// A little-endian NumPy .npy (format 1.0) of a C-order array.
func npy(_ descr: String, shape: [Int], bytes: Data) -> Data {
    let dims = shape.map(String.init).joined(separator: ", ") + (shape.count == 1 ? "," : "")
    var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': (\(dims)), }"
    let total = 10 + header.utf8.count + 1
    header += String(repeating: " ", count: (64 - total % 64) % 64) + "\n"
    var d = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
    let n = UInt16(header.utf8.count)
    d.append(contentsOf: [UInt8(n & 0xFF), UInt8(n >> 8)])
    d.append(contentsOf: Array(header.utf8))
    d.append(bytes)
    return d
}

func write(_ t: Tensor, _ path: String) throws {
    let bytes = t.scalars.withUnsafeBufferPointer { Data(buffer: $0) }
    try Files.writeAtomically(npy("<f4", shape: t.shape, bytes: bytes), to: path)
}

func time(_ repeats: Int, _ body: () throws -> Void) rethrows -> Double {
    var best = Double.infinity
    for _ in 0..<repeats {
        let start = Date()
        try body()
        best = min(best, Date().timeIntervalSince(start))
    }
    return best
}

do {
    guard let checkpoint = value("--checkpoint"), let out = value("--out") else {
        FileHandle.standardError.write(Data("usage: AttributionBench --checkpoint M.safetensors --out DIR [--data-dir D] [--maps N] [--time-images T] [--repeats R]\n".utf8))
        exit(2)
    }
    ProgressBar.quiet = true
    let model = try Checkpoint.load(checkpoint).model
    let all = try DatasetRegistry.load(name: "mnist", split: .test, directory: value("--data-dir"))
    let test = try all.split(trainCount: 8000, testCount: 2000, seed: 0).test
    let n = Int(value("--maps") ?? "") ?? 100, timed = Int(value("--time-images") ?? "") ?? 1000
    let repeats = Int(value("--repeats") ?? "") ?? 3
    guard n >= 1 && n <= test.count && timed >= 1 && timed <= test.count && repeats >= 1 else {
        throw GlassboxError.invalidArgument(name: "--maps/--time-images/--repeats", expected: "counts in 1…\(test.count)", found: "\(n), \(timed), \(repeats)")
    }
    // images.npy and targets.npy hold the timed images; maps are computed for the first n.
    let xt = test.images.rows(0..<max(n, timed))
    let tt = model.predict(xt)
    let x = xt.rows(0..<n), targets = Array(tt.prefix(n))
    try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
    try write(xt, out + "/images.npy")
    let t64 = tt.map { Int64($0) }.withUnsafeBufferPointer { Data(buffer: $0) }
    try Files.writeAtomically(npy("<i8", shape: [tt.count], bytes: t64), to: out + "/targets.npy")

    // A blurred-input baseline (not a constant image: a constant image ties every max-pooling window, where the
    // routed gradient is not unique and each implementation's float rounding picks a different winner).
    let blur = BaselineConfig(kind: .blur, blurSigma: 3)
    try write(try Baselines.make(blur, inputs: x, given: nil), out + "/baseline-blur.npy")
    // Each max-pooling layer's input for the map images, so the comparison can see where float rounding made the
    // two implementations pick different winners of a window.
    _ = model.forward(x)
    for (i, layer) in model.layers.enumerated() where layer is MaxPool2d && i > 0 {
        try write(model.activations[i - 1], out + "/pool-input-\(i).npy")
    }
    let hasConv = model.layers.contains { $0 is Conv2d }
    var methods: [(String, AttributionConfig)] = [
        ("saliency", AttributionConfig(method: .saliency)),
        ("gradient", AttributionConfig(method: .gradient)),
        ("gradient-prob", AttributionConfig(method: .gradient, target: .probability)),
        ("gradient-x-input", AttributionConfig(method: .gradientTimesInput)),
        ("ig-gausslegendre", AttributionConfig(method: .integratedGradients)),
        ("ig-riemann_left", AttributionConfig(method: .integratedGradients, quadrature: .riemannLeft)),
        ("ig-riemann_right", AttributionConfig(method: .integratedGradients, quadrature: .riemannRight)),
        ("ig-riemann_middle", AttributionConfig(method: .integratedGradients, quadrature: .riemannMiddle)),
        ("ig-riemann_trapezoid", AttributionConfig(method: .integratedGradients, quadrature: .riemannTrapezoid)),
        ("ig-blur", AttributionConfig(method: .integratedGradients, baseline: blur)),
        ("occlusion-w4s2", AttributionConfig(method: .occlusion, occlusionWindow: 4, occlusionStride: 2)),
        ("occlusion-w1s1", AttributionConfig(method: .occlusion, occlusionWindow: 1, occlusionStride: 1)),
        ("deeplift", AttributionConfig(method: .deepLift)),
        ("deeplift-blur", AttributionConfig(method: .deepLift, baseline: blur)),
    ]
    if hasConv { methods.append(("grad-cam", AttributionConfig(method: .gradCAM))) }
    var gaps: [String: Float] = [:]
    var gradCAMLayer: Int?
    for (name, config) in methods {
        let a = try Attribution.compute(model: model, inputs: x, targets: targets, config: config)
        try write(a.maps, out + "/\(name).npy")
        if let rel = a.relativeCompletenessGap { gaps[name] = rel.max() }
        if let l = a.gradCAMLayer { gradCAMLayer = l }
    }

    // Timing: integrated gradients, 50 Gauss–Legendre steps, zero baseline, `timed` images.
    let xs = xt.rows(0..<timed), ts = Array(tt.prefix(timed))
    let ig = AttributionConfig(method: .integratedGradients)
    _ = try Attribution.compute(model: model, inputs: xs.rows(0..<min(64, timed)), targets: Array(ts.prefix(64)), config: ig)
    let seconds = try time(repeats) { _ = try Attribution.compute(model: model, inputs: xs, targets: ts, config: ig) }
    let dl = AttributionConfig(method: .deepLift)
    let dlSeconds = try time(repeats) { _ = try Attribution.compute(model: model, inputs: xs, targets: ts, config: dl) }
    var report: [String: Any] = [
        "model": model.spec.description, "maps": n, "timed_images": timed, "threads": Parallel.threads,
        "ig_seconds": seconds, "deeplift_seconds": dlSeconds, "max_relative_completeness_gap": gaps,
    ]
    if let gradCAMLayer { report["grad_cam_layer"] = gradCAMLayer }
    let json = try JSONSerialization.data(withJSONObject: report, options: [.sortedKeys])
    print(String(decoding: json, as: UTF8.self))
} catch {
    FileHandle.standardError.write(Data("AttributionBench: \(error)\n".utf8))
    exit(1)
}
