import GlassboxAnalysis
import GlassboxCore
import GlassboxData
import GlassboxNN

/// The settings of attribution methods as a recipe or a command gives them, flat (one value per argument). Every
/// default comes from `AttributionConfig`'s initialiser; `config(_:)` makes the method's configuration.
public struct AttributionSettings: Sendable {
    public var target: AttributionTarget
    public var baseline: BaselineKind
    public var baselineValue: Float
    public var baselineSigma: Float
    public var steps: Int
    public var quadrature: QuadratureRule
    /// A noise tunnel around every method (nil: none).
    public var noiseTunnel: NoiseTunnelKind?
    public var noiseSamples: Int
    public var noiseLevel: Float
    public var window: Int
    public var stride: Int
    public var occlusionValue: Float
    public var gradCAMReLU: Bool
    public var seed: UInt64

    public init() {
        let d = AttributionConfig(method: .saliency), b = d.baseline, nt = NoiseTunnelConfig()
        target = d.target; baseline = b.kind; baselineValue = b.value; baselineSigma = b.blurSigma; steps = d.steps
        quadrature = d.quadrature; noiseTunnel = nil; noiseSamples = nt.samples; noiseLevel = nt.noiseLevel
        window = d.occlusionWindow; stride = d.occlusionStride; occlusionValue = d.occlusionValue; gradCAMReLU = d.gradCAMReLU
        seed = b.seed
    }

    public func config(_ method: AttributionMethod) -> AttributionConfig {
        AttributionConfig(method: method, target: target,
                          baseline: BaselineConfig(kind: baseline, value: baselineValue, blurSigma: baselineSigma, seed: seed),
                          steps: steps, quadrature: quadrature,
                          noiseTunnel: noiseTunnel.map { NoiseTunnelConfig(kind: $0, samples: noiseSamples, noiseLevel: noiseLevel, seed: seed) },
                          occlusionWindow: window, occlusionStride: stride, occlusionValue: occlusionValue, gradCAMReLU: gradCAMReLU)
    }

    /// `step: attribute`, `step: attribution-check` and `glassbox attribute` read these.
    public static let arguments = Arguments<AttributionSettings>(defaults: { AttributionSettings() }, [
        .choice("target", \.target, help: "F: the target class's logit or its softmax probability"),
        .choice("baseline", \.baseline, help: "x′ of integrated gradients and DeepLIFT"),
        .number("baseline-value", \.baselineValue, help: "baseline constant: its value"),
        .number("baseline-sigma", \.baselineSigma, 0, openLow: true, help: "baseline blur: the Gaussian's σ in pixels"),
        .int("steps", \.steps, help: "integrated gradients: quadrature nodes"),
        .choice("quadrature", \.quadrature, help: "integrated gradients: the rule"),
        .choice("noise-tunnel", \.noiseTunnel, help: "SmoothGrad (mean), its square, or VarGrad around every method", default: "none"),
        .int("noise-samples", \.noiseSamples, help: "noise tunnel: noisy copies per image"),
        .number("noise-level", \.noiseLevel, 0, help: "noise tunnel: σ as a fraction of the image's value range"),
        .int("window", \.window, help: "occlusion: window side in pixels"),
        .int("stride", \.stride, help: "occlusion: window step in pixels"),
        .number("occlusion-value", \.occlusionValue, help: "occlusion: the value the window is set to"),
        .flag("grad-cam-relu", \.gradCAMReLU, help: "Grad-CAM: keep only the positive part of the weighted sum (the paper's ReLU)"),
        .seed(\.seed, help: "seed of noisy baselines and the noise tunnel"),
    ])
}

/// Which class each map explains.
public enum TargetClass: String, Codable, CaseIterable, Sendable {
    /// The model's prediction.
    case predicted
    /// The image's label.
    case label
}

/// The images and targets an attribution cell explains: the first `count` test images (or `images`), with the
/// predicted or true class.
public struct ImageChoice: Sendable {
    public var images: [Int]?
    public var count = 8
    public var targetClass = TargetClass.predicted

    public init() {}

    static func arguments<O>(_ kp: WritableKeyPath<O, ImageChoice>, count: Int) -> [StepArgument<O>] {
        [
            .ints("images", kp.appending(path: \.images), min: 0, help: "test images (indices)", default: "the first count"),
            .int("count", kp.appending(path: \.count), help: "test images when images is not given", default: "\(count)"),
            .choice("class", kp.appending(path: \.targetClass), help: "the class each map explains"),
        ]
    }

    /// The chosen test images, their labels and the target of each.
    public func select(_ model: Sequential, _ test: Dataset) throws -> (inputs: Tensor, indices: [Int], labels: [Int], targets: [Int]) {
        let idx = images ?? Array(0..<min(count, test.count))
        guard !idx.isEmpty else { throw GlassboxError.invalidArgument(name: "images", expected: "at least one test image", found: "none") }
        if let bad = idx.first(where: { $0 < 0 || $0 >= test.count }) {
            throw GlassboxError.invalidArgument(name: "images", expected: "indices in 0..<\(test.count)", found: "\(bad)")
        }
        try Trainer.checkCompatible(model, test)
        let inputs = test.images.gatherRows(idx)
        let labels = idx.map { Int(test.labels[$0]) }
        let targets = targetClass == .label ? labels : model.predict(inputs)
        return (inputs, idx, labels, targets)
    }
}
