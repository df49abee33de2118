import Foundation
import GlassboxCore
import GlassboxNN

/// The model parameter randomisation test of Adebayo et al. (2018), "Sanity checks for saliency maps".
public enum RandomisationMode: String, Codable, Sendable, CaseIterable {
    /// Stage k re-initialises the top k layers with parameters (output layer first), keeping earlier stages'.
    case cascading
    /// Stage k re-initialises only the k-th layer from the top.
    case independent
}

/// Which pixels the map comparisons use.
public enum ComparedPixels: String, Codable, Sendable, CaseIterable {
    case all
    /// Only pixels whose input is non-zero in some channel. Maps multiplied by x − x′ (gradient × input, integrated
    /// gradients, DeepLIFT with a zero baseline) are 0 on a black background whatever the model, and on MNIST that
    /// shared block of zeros alone keeps their rank correlation near 1.
    case foreground
}

public struct RandomisationTestConfig: Codable, Equatable, Sendable {
    /// The method under test, with all its settings.
    public var attribution: AttributionConfig
    public var modes: [RandomisationMode]
    /// Layer L's new parameters come from stream L of this seed: the same in both modes.
    public var seed: UInt64
    /// The initialiser the model was built with (its weights are redrawn from it; biases U(±1/√fan-in) as the layers do).
    public var initializer: Initializer
    /// A method fails when the mean over images of |ρ| (Spearman, of the absolute maps) between the original model's
    /// maps and those of the fully randomised model (last cascading stage) exceeds this: its maps barely depend on
    /// what the model learned.
    public var failThreshold: Float
    /// The pixels compared (SSIM always uses the whole map).
    public var pixels: ComparedPixels

    public init(attribution: AttributionConfig, modes: [RandomisationMode] = [.cascading, .independent], seed: UInt64 = 0,
                initializer: Initializer = .pytorchDefault, failThreshold: Float = 0.5, pixels: ComparedPixels = .all) {
        self.attribution = attribution; self.modes = modes; self.seed = seed; self.initializer = initializer
        self.failThreshold = failThreshold; self.pixels = pixels
    }
}

/// One randomised model compared with the original.
public struct RandomisationStage: Codable, Equatable, Sendable {
    public var mode: RandomisationMode
    /// Parameter names of the re-initialised layers' weights (e.g. `4.weight`), top first.
    public var randomised: [String]
    /// Per image: Spearman ρ of the absolute maps, of the signed maps, and SSIM of the absolute maps (each map scaled
    /// to [0, 1] by its own maximum, data range 1, averaged over channels).
    public var spearmanAbsolute: [Float]
    public var spearmanSigned: [Float]
    public var ssim: [Float]
    public var meanSpearmanAbsolute: Float
    public var meanSpearmanSigned: Float
    public var meanSSIM: Float
}

public struct RandomisationTestResult: Codable, Equatable, Sendable {
    public var config: RandomisationTestConfig
    /// Indices of the layers with parameters, top (output) first: the order of the stages.
    public var layers: [Int]
    public var cascading: [RandomisationStage]
    public var independent: [RandomisationStage]
    /// Mean |ρ| (absolute maps) of the fully randomised model, the number the verdict uses (nil without cascading).
    public var fullyRandomisedMeanAbsoluteSpearman: Float?
    /// True when the maps changed enough (see `RandomisationTestConfig.failThreshold`).
    public var passes: Bool?
    public var verdict: String
}

public enum RandomisationTest {
    public static func run(model: Sequential, inputs: Tensor, targets: [Int], config: RandomisationTestConfig,
                           baselines: Tensor? = nil) throws -> RandomisationTestResult {
        guard config.failThreshold.isFinite && config.failThreshold >= 0 && config.failThreshold <= 1 else {
            throw GlassboxError.invalidArgument(name: "fail-threshold", expected: "a number in [0, 1]", found: "\(config.failThreshold)")
        }
        guard !config.modes.isEmpty else { throw GlassboxError.invalidArgument(name: "modes", expected: "cascading, independent or both", found: "none") }
        let original = try Attribution.compute(model: model, inputs: inputs, targets: targets, config: config.attribution, baselines: baselines)
        let layers = model.layers.indices.reversed().filter { model.layers[$0] is Linear || model.layers[$0] is Conv2d }
        let names = layers.map { "\($0).weight" }
        let mapShape = Array(inputs.shape.dropFirst())
        let keep = config.pixels == .all ? nil : foreground(inputs)
        var cascading: [RandomisationStage] = [], independent: [RandomisationStage] = []
        for mode in RandomisationMode.allCases where config.modes.contains(mode) {
            for k in 0..<layers.count {
                let chosen = mode == .cascading ? Array(layers[0...k]) : [layers[k]]
                let randomModel = try model.replica(singleWorker: false)
                for l in chosen { reinitialise(randomModel.layers[l], index: l, config: config) }
                let maps = try Attribution.compute(model: randomModel, inputs: inputs, targets: targets, config: config.attribution,
                                                   baselines: baselines)
                let stage = compare(original, maps, mapShape: mapShape, mode: mode,
                                    randomised: mode == .cascading ? Array(names[0...k]) : [names[k]], keep: keep)
                if mode == .cascading { cascading.append(stage) } else { independent.append(stage) }
            }
        }
        let full = cascading.last.map { s in s.spearmanAbsolute.reduce(Float(0)) { $0 + abs($1) } / Float(max(1, s.spearmanAbsolute.count)) }
        let passes = full.map { $0 <= config.failThreshold }
        let verdict: String
        if let full, let passes {
            verdict = String(format: "%@: mean |ρ| of the fully randomised model's maps with the original's is %.3f, %@ the threshold %.2f — %@",
                             config.attribution.method.rawValue, full, passes ? "within" : "above", config.failThreshold,
                             passes ? "passes (the maps depend on the learned parameters)" : "fails (the maps barely change when the model is randomised)")
        } else {
            verdict = "no cascading stage run: no verdict"
        }
        return RandomisationTestResult(config: config, layers: layers, cascading: cascading, independent: independent,
                                       fullyRandomisedMeanAbsoluteSpearman: full, passes: passes, verdict: verdict)
    }

    /// New weights from the initialiser and a bias from U(±1/√fan-in), from stream `index` of the seed.
    static func reinitialise(_ layer: Layer, index: Int, config: RandomisationTestConfig) {
        var g = SeededGenerator.derived(seed: config.seed, stream: UInt64(index))
        guard let weight = layer.parameter(named: "weight") else { return }
        let shape = weight.value.shape
        weight.value = config.initializer.make(shape, using: &g)
        weight.applyMask()
        if let bias = layer.parameter(named: "bias") {
            let b = 1 / Float(Initializer.fans(shape).fanIn).squareRoot()
            bias.value = .uniform(bias.value.shape, low: -b, high: b, using: &g)
            bias.applyMask()
        }
    }

    /// Per image, the flat map indices (all channels) of the pixels whose input is non-zero in some channel.
    static func foreground(_ inputs: Tensor) -> [[Int]] {
        let n = inputs.rows, len = inputs.rowLength
        let planes = inputs.rank == 4 ? inputs.shape[1] : 1, plane = len / planes
        return (0..<n).map { i in
            let on = (0..<plane).filter { p in (0..<planes).contains { inputs.scalars[i * len + $0 * plane + p] != 0 } }
            return (0..<planes).flatMap { c in on.map { c * plane + $0 } }
        }
    }

    static func compare(_ a: Attribution, _ b: Attribution, mapShape: [Int], mode: RandomisationMode, randomised: [String],
                        keep: [[Int]]? = nil) -> RandomisationStage {
        let n = a.targets.count
        var rAbs = [Float](), rSigned = [Float](), ssims = [Float]()
        let planes = mapShape.count == 3 ? mapShape[0] : 1
        let h = mapShape.count == 3 ? mapShape[1] : 1, w = mapShape.count == 3 ? mapShape[2] : mapShape.reduce(1, *)
        for i in 0..<n {
            let x = a.map(i), y = b.map(i)
            let ax = x.map { abs($0) }, ay = y.map { abs($0) }
            if let k = keep?[i] {
                rAbs.append(Float(MapComparison.spearman(k.map { ax[$0] }, k.map { ay[$0] })))
                rSigned.append(Float(MapComparison.spearman(k.map { x[$0] }, k.map { y[$0] })))
            } else {
                rAbs.append(Float(MapComparison.spearman(ax, ay)))
                rSigned.append(Float(MapComparison.spearman(x, y)))
            }
            let mx = max(ax.max() ?? 0, Float.leastNormalMagnitude), my = max(ay.max() ?? 0, Float.leastNormalMagnitude)
            var s = 0.0
            for p in 0..<planes {
                let range = (p * h * w)..<((p + 1) * h * w)
                s += MapComparison.ssim(ax[range].map { $0 / mx }, ay[range].map { $0 / my }, height: h, width: w, dataRange: 1)
            }
            ssims.append(Float(s / Double(planes)))
        }
        func mean(_ v: [Float]) -> Float { v.reduce(0, +) / Float(max(1, v.count)) }
        return RandomisationStage(mode: mode, randomised: randomised, spearmanAbsolute: rAbs, spearmanSigned: rSigned, ssim: ssims,
                                  meanSpearmanAbsolute: mean(rAbs), meanSpearmanSigned: mean(rSigned), meanSSIM: mean(ssims))
    }
}
