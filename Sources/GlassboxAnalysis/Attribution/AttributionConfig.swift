import GlassboxCore

/// The attribution methods. Every one takes an input batch `[N, C, H, W]` and one target class per image and
/// returns a map of the input's shape (Captum's call shape).
public enum AttributionMethod: String, Codable, Sendable, CaseIterable {
    /// |∂F/∂x| (Simonyan et al. 2014; Captum `Saliency(abs=True)`).
    case saliency
    /// The signed gradient ∂F/∂x.
    case gradient
    /// ∂F/∂x ⊙ x (Shrikumar et al. 2016; Captum `InputXGradient`).
    case gradientTimesInput = "gradient-x-input"
    /// (x − x′) ⊙ ∫₀¹ ∂F/∂x(x′ + α(x − x′)) dα by quadrature (Sundararajan et al. 2017).
    case integratedGradients = "integrated-gradients"
    /// F(x) − F(x with a window set to a value), averaged over the windows that cover each pixel (Zeiler & Fergus 2014).
    case occlusion
    /// DeepLIFT with the Rescale rule (Shrikumar et al. 2017), multipliers times (x − x′).
    case deepLift = "deeplift"
    /// ReLU(Σ_c α_c A_c) of a convolutional layer's activations A, α_c the spatial mean of ∂F/∂A_c, upsampled
    /// bilinearly to the input (Selvaraju et al. 2017).
    case gradCAM = "grad-cam"
}

/// What F is: the target class's logit, or its softmax probability.
public enum AttributionTarget: String, Codable, Sendable, CaseIterable {
    case logit
    case probability
}

/// Quadrature rules on [0, 1] for integrated gradients. The Riemann rules and Gauss–Legendre are Captum's;
/// Captum's trapezoid uses the nodes linspace(0, 1, n) with weights 1/n (ends halved), which sum to (n − 1)/n,
/// so its integrals are (n − 1)/n of the integral. Glassbox's trapezoid uses the weights 1/(n − 1) (ends halved),
/// which sum to 1: its maps are Captum's times n/(n − 1).
public enum QuadratureRule: String, Codable, Sendable, CaseIterable {
    case riemannLeft = "riemann-left"
    case riemannRight = "riemann-right"
    case riemannMiddle = "riemann-middle"
    case riemannTrapezoid = "riemann-trapezoid"
    case gaussLegendre = "gauss-legendre"
}

/// The reference input x′ of integrated gradients and DeepLIFT.
public enum BaselineKind: String, Codable, Sendable, CaseIterable {
    /// The black image.
    case zeros
    /// Every value `value`.
    case constant
    /// The input blurred by a Gaussian of `blurSigma` pixels (edges replicated).
    case blur
    /// Uniform noise in [`noiseLow`, `noiseHigh`), seeded.
    case uniformNoise = "uniform-noise"
    /// A tensor the caller passes (`baselines:`), one per image, of the input's shape.
    case given
}

public struct BaselineConfig: Codable, Equatable, Sendable {
    public var kind: BaselineKind
    public var value: Float
    public var blurSigma: Float
    public var noiseLow: Float
    public var noiseHigh: Float
    public var seed: UInt64

    public init(kind: BaselineKind = .zeros, value: Float = 0, blurSigma: Float = 5, noiseLow: Float = 0, noiseHigh: Float = 1,
                seed: UInt64 = 0) {
        self.kind = kind; self.value = value; self.blurSigma = blurSigma
        self.noiseLow = noiseLow; self.noiseHigh = noiseHigh; self.seed = seed
    }
}

/// How a noise tunnel combines the maps of noisy copies (Captum's `nt_type`).
public enum NoiseTunnelKind: String, Codable, Sendable, CaseIterable {
    /// Mean of the maps (Smilkov et al. 2017).
    case smoothGrad = "smoothgrad"
    /// Mean of the squared maps.
    case smoothGradSquared = "smoothgrad-sq"
    /// Variance of the maps (Adebayo et al. 2018's VarGrad).
    case varGrad = "vargrad"
}

/// SmoothGrad over any method: `samples` copies x + N(0, σ²) per image with σ = `noiseLevel` · (max x − min x)
/// of that image (the paper's "noise level"; Captum's `stdevs` is σ itself).
public struct NoiseTunnelConfig: Codable, Equatable, Sendable {
    public var kind: NoiseTunnelKind
    public var samples: Int
    public var noiseLevel: Float
    public var seed: UInt64

    public init(kind: NoiseTunnelKind = .smoothGrad, samples: Int = 25, noiseLevel: Float = 0.15, seed: UInt64 = 0) {
        self.kind = kind; self.samples = samples; self.noiseLevel = noiseLevel; self.seed = seed
    }
}

/// Every setting of an attribution; the defaults live in this initialiser only.
public struct AttributionConfig: Codable, Equatable, Sendable {
    public var method: AttributionMethod
    public var target: AttributionTarget
    /// x′ for integrated gradients and DeepLIFT.
    public var baseline: BaselineConfig
    /// Integrated gradients: quadrature nodes (Captum's `n_steps`, default 50).
    public var steps: Int
    public var quadrature: QuadratureRule
    /// Wraps the method in a noise tunnel when set.
    public var noiseTunnel: NoiseTunnelConfig?
    /// Occlusion: square window side and stride in pixels, and the value the window is set to.
    public var occlusionWindow: Int
    public var occlusionStride: Int
    public var occlusionValue: Float
    /// Grad-CAM: index of the layer whose activations are weighted; nil picks the last convolution's output
    /// after its activation function (the rectified feature maps of the paper) or the last convolution itself.
    public var gradCAMLayer: Int?
    /// Grad-CAM: apply the paper's ReLU to the weighted sum (Captum's `relu_attributions`, off there by default).
    public var gradCAMReLU: Bool
    /// DeepLIFT: |Δz| below this uses the gradient instead of Δy/Δz (Captum's eps).
    public var deepLiftEpsilon: Float
    /// Images per unit of work; work units run in parallel on model replicas. Results do not depend on it
    /// beyond float rounding in the BLAS calls, and never on the thread count.
    public var chunkSize: Int

    public init(method: AttributionMethod, target: AttributionTarget = .logit, baseline: BaselineConfig = BaselineConfig(),
                steps: Int = 50, quadrature: QuadratureRule = .gaussLegendre, noiseTunnel: NoiseTunnelConfig? = nil,
                occlusionWindow: Int = 4, occlusionStride: Int = 2, occlusionValue: Float = 0, gradCAMLayer: Int? = nil,
                gradCAMReLU: Bool = true, deepLiftEpsilon: Float = 1e-10, chunkSize: Int = 16) {
        self.method = method; self.target = target; self.baseline = baseline; self.steps = steps; self.quadrature = quadrature
        self.noiseTunnel = noiseTunnel; self.occlusionWindow = occlusionWindow; self.occlusionStride = occlusionStride
        self.occlusionValue = occlusionValue; self.gradCAMLayer = gradCAMLayer; self.gradCAMReLU = gradCAMReLU
        self.deepLiftEpsilon = deepLiftEpsilon; self.chunkSize = chunkSize
    }

    /// Checks the settings that do not depend on the model or the inputs.
    public func validate() throws {
        func bad(_ name: String, _ expected: String, _ found: Any) -> GlassboxError {
            .invalidArgument(name: name, expected: expected, found: "\(found)")
        }
        guard chunkSize >= 1 else { throw bad("chunk-size", "a whole number ≥ 1", chunkSize) }
        if method == .integratedGradients {
            let least = quadrature == .riemannTrapezoid ? 2 : 1
            guard steps >= least && steps <= 100_000 else { throw bad("steps", "a whole number in \(least)…100000 for \(quadrature.rawValue)", steps) }
        }
        if method == .integratedGradients || method == .deepLift {
            switch baseline.kind {
            case .constant: guard baseline.value.isFinite else { throw bad("baseline-value", "a finite number", baseline.value) }
            case .blur: guard baseline.blurSigma.isFinite && baseline.blurSigma > 0 else { throw bad("baseline-sigma", "a number > 0", baseline.blurSigma) }
            case .uniformNoise:
                guard baseline.noiseLow.isFinite && baseline.noiseHigh.isFinite && baseline.noiseLow < baseline.noiseHigh else {
                    throw bad("baseline-noise", "low < high, both finite", "\(baseline.noiseLow)…\(baseline.noiseHigh)")
                }
            case .zeros, .given: break
            }
        }
        if method == .occlusion {
            guard occlusionWindow >= 1 else { throw bad("window", "a whole number ≥ 1", occlusionWindow) }
            guard occlusionStride >= 1 else { throw bad("stride", "a whole number ≥ 1", occlusionStride) }
            guard occlusionValue.isFinite else { throw bad("occlusion-value", "a finite number", occlusionValue) }
        }
        if method == .deepLift {
            guard deepLiftEpsilon.isFinite && deepLiftEpsilon >= 0 else { throw bad("deeplift-eps", "a number ≥ 0", deepLiftEpsilon) }
        }
        if let nt = noiseTunnel {
            guard nt.samples >= 1 && nt.samples <= 10_000 else { throw bad("nt-samples", "a whole number in 1…10000", nt.samples) }
            guard nt.noiseLevel.isFinite && nt.noiseLevel >= 0 else { throw bad("nt-noise", "a number ≥ 0", nt.noiseLevel) }
        }
    }
}
