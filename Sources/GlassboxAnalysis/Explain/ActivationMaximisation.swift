import GlassboxCore
import GlassboxNN

/// How the optimised image is parameterised.
public enum ImageParameterisation: String, Codable, Sendable, CaseIterable {
    /// One free value per pixel.
    case pixel
    /// Real 2-D Fourier coefficients scaled by 1/frequency (Olah et al. 2017's decorrelated space): gradient steps
    /// change low frequencies more, which keeps the image from filling with high-frequency patterns.
    case fourier
}

/// How the image is kept in the data's range [0, 1].
public enum ImageRange: String, Codable, Sendable, CaseIterable {
    /// x = sigmoid(u).
    case sigmoid
    /// x = clamp(0.5 + u, 0, 1) (pixel parameters are clipped after every step; the Fourier image is clamped with
    /// the gradient passed straight through).
    case clip
    /// x = 0.5 + u, unconstrained.
    case none
}

public enum AscentOptimizer: String, Codable, Sendable, CaseIterable {
    case adam
    /// Plain gradient ascent p += lr · ∂objective/∂p (with an L2 projection, the projected-gradient method, whose
    /// fixed point is the constrained optimum; Adam's per-coordinate scaling moves that fixed point).
    case gradientAscent = "gradient-ascent"
}

/// What of a convolutional layer's `[C, h, w]` output is maximised for unit (channel) c.
public enum ChannelObjective: String, Codable, Sendable, CaseIterable {
    /// The channel's mean over positions.
    case mean
    /// The channel at the centre position (one "neuron").
    case centre
}

/// Every setting of activation maximisation (Erhan et al. 2009; Olah et al. 2017); the defaults live here only.
public struct ActivationMaximisationConfig: Codable, Equatable, Sendable {
    /// The layer whose unit (Linear unit, conv channel, class logit of the last layer) is maximised.
    public var layer: Int
    /// Units to visualise; nil: every unit of the layer.
    public var units: [Int]?
    /// Optimised images per unit, each from its own seeded start and transforms (diversity).
    public var seedsPerUnit: Int
    public var seed: UInt64
    public var steps: Int
    public var learningRate: Float
    public var optimizer: AscentOptimizer
    public var parameterisation: ImageParameterisation
    public var range: ImageRange
    public var channelObjective: ChannelObjective
    /// Standard deviation of the start: pixel parameters N(0, σ) (around grey 0.5), Fourier coefficients N(0, σ).
    public var initialNoise: Float
    /// Robustness transforms, drawn anew every step: shifts of up to `jitter` pixels, a scale factor uniform in
    /// [1 − scale, 1 + scale], a rotation uniform in ±`rotationDegrees`; bilinear resampling, `fill` outside.
    public var jitter: Int
    public var scale: Float
    public var rotationDegrees: Float
    public var fill: Float
    /// Weight λ of the total-variation penalty λ Σ (Δx)² over neighbouring pixels (Mahendran & Vedaldi's β = 2).
    public var totalVariation: Float
    /// Blur the pixel parameters with a Gaussian of `blurSigma` every `blurEvery` steps (0: never; pixel only).
    public var blurEvery: Int
    public var blurSigma: Float
    /// Keep ‖x − l2Center‖ ≤ l2Radius by projection after every step (Erhan et al.'s norm bound; pixel only).
    public var l2Radius: Float?
    public var l2Center: Float
    /// Dead-ReLU trap: when the layer is an activation, optimise its input (the pre-activation) instead, which has a
    /// gradient even where the unit is off. The result still reports the requested layer's value.
    public var preActivation: Bool
    /// Dead-ReLU trap, deeper: at a ReLU whose true gradient for an image is zero everywhere, pass the gradient where
    /// it pushes a negative input up (lucid #68's redirected ReLU); a no-op once the true gradient is non-zero.
    public var redirectDeadReLUs: Bool
    /// Record the objective every this many steps.
    public var traceEvery: Int

    public init(layer: Int, units: [Int]? = nil, seedsPerUnit: Int = 3, seed: UInt64 = 0, steps: Int = 256, learningRate: Float = 0.05,
                optimizer: AscentOptimizer = .adam, parameterisation: ImageParameterisation = .fourier, range: ImageRange = .sigmoid,
                channelObjective: ChannelObjective = .mean, initialNoise: Float = 0.01, jitter: Int = 2, scale: Float = 0.05,
                rotationDegrees: Float = 5, fill: Float = 0, totalVariation: Float = 0, blurEvery: Int = 0, blurSigma: Float = 0.5,
                l2Radius: Float? = nil, l2Center: Float = 0, preActivation: Bool = true, redirectDeadReLUs: Bool = true, traceEvery: Int = 16) {
        self.layer = layer; self.units = units; self.seedsPerUnit = seedsPerUnit; self.seed = seed; self.steps = steps
        self.learningRate = learningRate; self.optimizer = optimizer; self.parameterisation = parameterisation; self.range = range
        self.channelObjective = channelObjective; self.initialNoise = initialNoise; self.jitter = jitter; self.scale = scale
        self.rotationDegrees = rotationDegrees; self.fill = fill; self.totalVariation = totalVariation; self.blurEvery = blurEvery
        self.blurSigma = blurSigma; self.l2Radius = l2Radius; self.l2Center = l2Center; self.preActivation = preActivation
        self.redirectDeadReLUs = redirectDeadReLUs; self.traceEvery = traceEvery
    }

    func validate() throws {
        func bad(_ n: String, _ e: String, _ f: Any) -> GlassboxError { .invalidArgument(name: n, expected: e, found: "\(f)") }
        guard seedsPerUnit >= 1 && seedsPerUnit <= 1000 else { throw bad("seeds", "a whole number in 1…1000", seedsPerUnit) }
        guard steps >= 0 && steps <= 1_000_000 else { throw bad("steps", "a whole number in 0…1000000", steps) }
        guard learningRate.isFinite && learningRate > 0 else { throw bad("lr", "a number > 0", learningRate) }
        guard initialNoise.isFinite && initialNoise >= 0 else { throw bad("init-noise", "a number ≥ 0", initialNoise) }
        guard jitter >= 0 && jitter <= 64 else { throw bad("jitter", "a whole number in 0…64", jitter) }
        guard scale.isFinite && scale >= 0 && scale < 1 else { throw bad("scale", "a number in [0, 1)", scale) }
        guard rotationDegrees.isFinite && rotationDegrees >= 0 && rotationDegrees <= 180 else { throw bad("rotation", "degrees in 0…180", rotationDegrees) }
        guard fill.isFinite else { throw bad("fill", "a finite number", fill) }
        guard totalVariation.isFinite && totalVariation >= 0 else { throw bad("tv", "a number ≥ 0", totalVariation) }
        guard blurEvery >= 0 else { throw bad("blur-every", "a whole number ≥ 0", blurEvery) }
        if blurEvery > 0 {
            guard parameterisation == .pixel else { throw bad("blur-every", "0 with the fourier parameterisation (blur acts on pixels)", blurEvery) }
            guard blurSigma.isFinite && blurSigma > 0 else { throw bad("blur-sigma", "a number > 0", blurSigma) }
        }
        if let r = l2Radius {
            guard r.isFinite && r > 0 else { throw bad("l2-radius", "a number > 0", r) }
            guard parameterisation == .pixel && range != .sigmoid else {
                throw bad("l2-radius", "the pixel parameterisation with range clip or none", "\(parameterisation.rawValue), \(range.rawValue)")
            }
        }
        guard l2Center.isFinite else { throw bad("l2-center", "a finite number", l2Center) }
        guard traceEvery >= 1 else { throw bad("trace-every", "a whole number ≥ 1", traceEvery) }
    }
}

/// One optimised image.
public struct OptimisedImage: Codable, Equatable, Sendable {
    public var unit: Int
    /// Which of the unit's seeds (0-based).
    public var seedIndex: Int
    /// `[C, H, W]` in the data's range.
    public var pixels: [Float]
    /// The requested layer's value for the unit on the final image (channel mean or centre for conv layers).
    public var activation: Float
    /// The same on the start image (≤ 0 for a ReLU unit that was dead at the start).
    public var startActivation: Float
    /// The optimised quantity (the pre-activation when `preActivation` applied) on the final image.
    public var objective: Float
    /// The optimised quantity (under that step's transforms) every `traceEvery` steps.
    public var trace: [Float]
}

public struct ActivationMaximisationResult: Codable, Equatable, Sendable {
    /// Every setting used.
    public var config: ActivationMaximisationConfig
    /// The layer whose value was optimised (the requested one, or the one before it for `preActivation`).
    public var objectiveLayer: Int
    public var imageShape: [Int]
    /// Grouped by unit, then by seed.
    public var images: [OptimisedImage]
}

/// Activation maximisation: gradient ascent on the input for a unit, a channel or a class logit.
public enum ActivationMaximisation {
    public static func run(model: Sequential, config: ActivationMaximisationConfig) throws -> ActivationMaximisationResult {
        Runtime.configure()
        try config.validate()
        let shapes = try model.spec.shapes()
        guard shapes.count == model.layers.count, config.layer >= 0 && config.layer < model.layers.count else {
            throw GlassboxError.invalidArgument(name: "layer", expected: "a layer index in 0..<\(model.layers.count)", found: "\(config.layer)")
        }
        let input = model.spec.input
        let imageShape: [Int]
        if input.count == 3 { imageShape = input } else {
            // A flat input: a square grey image if it is one (784 → 1×28×28), else one row.
            let side = Int(Double(input[0]).squareRoot().rounded())
            imageShape = side * side == input[0] ? [1, side, side] : [1, 1, input[0]]
        }
        let unitCount = shapes[config.layer][0]
        let units = config.units ?? Array(0..<unitCount)
        if let bad = units.first(where: { $0 < 0 || $0 >= unitCount }) {
            throw GlassboxError.invalidArgument(name: "units", expected: "units in 0..<\(unitCount)", found: "\(bad)")
        }
        let activations = ["relu", "sigmoid", "tanh"]
        let objectiveLayer = config.preActivation && config.layer > 0 && activations.contains(model.layers[config.layer].kind)
            ? config.layer - 1 : config.layer
        let net = try model.replica(singleWorker: false)
        net.setParameterGradients(false)
        let optimiser = AscentLoop(net: net, config: config, imageShape: imageShape, modelInput: input, layerShapes: shapes,
                                   objectiveLayer: objectiveLayer, units: units)
        return ActivationMaximisationResult(config: config, objectiveLayer: objectiveLayer, imageShape: imageShape, images: optimiser.run())
    }

    /// The optimised images of units `0..<count` of `layer` (all its units when nil), `config`'s other settings kept,
    /// for a grid figure of a whole layer (conv channels or Linear units).
    public static func grid(model: Sequential, layer: Int, count: Int? = nil, config: ActivationMaximisationConfig) throws -> ActivationMaximisationResult {
        var c = config
        c.layer = layer
        let shapes = try model.spec.shapes()
        guard layer >= 0 && layer < shapes.count else {
            throw GlassboxError.invalidArgument(name: "layer", expected: "a layer index in 0..<\(shapes.count)", found: "\(layer)")
        }
        let available = shapes[layer][0]
        guard (count ?? available) >= 1 && (count ?? available) <= available else {
            throw GlassboxError.invalidArgument(name: "units", expected: "a count in 1…\(available)", found: "\(count ?? available)")
        }
        c.units = Array(0..<(count ?? available))
        return try run(model: model, config: c)
    }
}
