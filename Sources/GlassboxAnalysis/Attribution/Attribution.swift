import Foundation
import GlassboxCore
import GlassboxNN

/// Attribution maps for a batch of images: one map of the input's shape per image, with the target class, F(x)
/// and, for the path methods, F(x′) and the completeness gap of every image.
public struct Attribution: Codable, Equatable, Sendable {
    public var config: AttributionConfig
    /// `[N, C, H, W]`, the inputs' shape.
    public var shape: [Int]
    /// The maps, row-major in `shape`.
    public var values: [Float]
    public var targets: [Int]
    /// F(x) per image (the target's logit or probability).
    public var outputs: [Float]
    /// F(x′) per image for integrated gradients and DeepLIFT.
    public var baselineOutputs: [Float]?
    /// Σ attr − (F(x) − F(x′)) per image for integrated gradients and DeepLIFT (0 for an exact method).
    public var completenessGap: [Float]?
    /// The layer Grad-CAM used (resolved when the config left it open).
    public var gradCAMLayer: Int?

    public var maps: Tensor { Tensor(shape: shape, scalars: values) }

    /// Image i's map as a flat array.
    public func map(_ i: Int) -> [Float] {
        let len = values.count / max(1, shape[0])
        return Array(values[(i * len)..<((i + 1) * len)])
    }

    /// |gap| / |F(x) − F(x′)| per image (the completeness gap relative to the change it should explain).
    public var relativeCompletenessGap: [Float]? {
        guard let gap = completenessGap, let base = baselineOutputs else { return nil }
        return (0..<gap.count).map { i in abs(gap[i]) / max(abs(outputs[i] - base[i]), Float.leastNormalMagnitude) }
    }

    /// Computes the maps of `config.method` for `inputs` (`[N, C, H, W]`, or whatever per-sample shape the model
    /// takes) and one target class per image. `baselines` supplies x′ when `config.baseline.kind` is `.given`.
    /// Throws `GlassboxError` for settings, shapes or targets that do not fit the model, before any work.
    public static func compute(model: Sequential, inputs: Tensor, targets: [Int], config: AttributionConfig,
                               baselines: Tensor? = nil) throws -> Attribution {
        Runtime.configure()
        try config.validate()
        let setup = try AttributionSetup.check(model: model, inputs: inputs, targets: targets)
        let needsBaseline = config.method == .integratedGradients || config.method == .deepLift
        let reference = needsBaseline ? try Baselines.make(config.baseline, inputs: inputs, given: baselines) : nil
        let camLayer = config.method == .gradCAM ? try GradCAM.resolveLayer(model, config.gradCAMLayer, setup: setup) : nil
        if config.method == .occlusion { try Occlusion.check(config, setup: setup) }
        if config.method == .deepLift { try DeepLift.check(model) }
        let workers = try AttributionWorkers(model: model, images: setup.count, chunk: config.chunkSize)

        func run(_ x: Tensor) -> MethodOutput {
            switch config.method {
            case .saliency, .gradient, .gradientTimesInput:
                return GradientMethods.run(workers, x, targets, config)
            case .integratedGradients:
                return IntegratedGradients.run(workers, x, reference!, targets, config)
            case .occlusion:
                return Occlusion.run(workers, x, targets, config)
            case .deepLift:
                return DeepLift.run(workers, x, reference!, targets, config)
            case .gradCAM:
                return GradCAM.run(workers, x, targets, config, layer: camLayer!)
            }
        }
        var out: MethodOutput
        if let nt = config.noiseTunnel {
            out = NoiseTunnel.run(inputs, nt) { run($0) }
            out.outputs = GradientMethods.outputs(workers, inputs, targets, config)
        } else {
            out = run(inputs)
        }
        var gap: [Float]? = nil
        if let fb = out.baselineOutputs {
            let len = setup.sampleSize
            gap = out.maps.withUnsafeBufferPointer { m in
                (0..<setup.count).map { i in
                    var s = 0.0
                    for j in 0..<len { s += Double(m[i * len + j]) }
                    return Float(s - Double(out.outputs[i] - fb[i]))
                }
            }
        }
        return Attribution(config: config, shape: inputs.shape, values: out.maps.scalars, targets: targets, outputs: out.outputs,
                           baselineOutputs: out.baselineOutputs, completenessGap: gap, gradCAMLayer: camLayer)
    }
}

/// What one method returns for the whole batch.
struct MethodOutput {
    var maps: Tensor
    var outputs: [Float]
    var baselineOutputs: [Float]?
}

/// Saliency, the signed gradient and gradient × input.
enum GradientMethods {
    /// dF/dx for a chunk of images and F per image.
    static func inputGradient(_ net: Sequential, _ x: Tensor, _ targets: ArraySlice<Int>, _ kind: AttributionTarget) -> (Tensor, [Float]) {
        let logits = net.forward(x)
        let base = targets.startIndex
        let (seed, values) = TargetSeed.make(logits, kind: kind) { targets[base + $0] }
        let g = net.backward(seed, needInputGradient: true)!
        return (g.reshaped(x.shape), values)
    }

    static func run(_ workers: AttributionWorkers, _ inputs: Tensor, _ targets: [Int], _ config: AttributionConfig) -> MethodOutput {
        let len = inputs.rowLength, n = inputs.rows
        let maps = SharedFloats(count: n * len), outs = SharedFloats(count: n)
        workers.forEachChunk(n, chunk: config.chunkSize) { net, range in
            let x = inputs.rows(range)
            let (g, f) = inputGradient(net, x, targets[range], config.target)
            let dst = maps.pointer + range.lowerBound * len
            g.withUnsafeBufferPointer { gs in
                x.withUnsafeBufferPointer { xs in
                    for j in 0..<gs.count {
                        switch config.method {
                        case .saliency: dst[j] = abs(gs[j])
                        case .gradientTimesInput: dst[j] = gs[j] * xs[j]
                        default: dst[j] = gs[j]
                        }
                    }
                }
            }
            outs.write(f, at: range.lowerBound)
        }
        return MethodOutput(maps: Tensor(shape: inputs.shape, scalars: maps.array), outputs: outs.array, baselineOutputs: nil)
    }

    /// F(x) per image, forward passes only.
    static func outputs(_ workers: AttributionWorkers, _ inputs: Tensor, _ targets: [Int], _ config: AttributionConfig) -> [Float] {
        let outs = SharedFloats(count: inputs.rows)
        workers.forEachChunk(inputs.rows, chunk: config.chunkSize) { net, range in
            let logits = net.forward(inputs.rows(range))
            outs.write(TargetSeed.values(logits, kind: config.target) { targets[range.lowerBound + $0] }, at: range.lowerBound)
        }
        return outs.array
    }
}
