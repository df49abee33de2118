import GlassboxCore

/// Builds the reference inputs x′ of integrated gradients and DeepLIFT.
public enum Baselines {
    /// One baseline per image, of the inputs' shape. `given` must be passed for `.given` (checked here).
    public static func make(_ config: BaselineConfig, inputs: Tensor, given: Tensor?) throws -> Tensor {
        switch config.kind {
        case .zeros: return Tensor(zeros: inputs.shape)
        case .constant: return Tensor(repeating: config.value, shape: inputs.shape)
        case .blur:
            let images = inputs.rank == 4 ? inputs : inputs.reshaped([inputs.shape[0], 1, 1, inputs.rowLength])
            return ImageFilters.blur(images, sigma: config.blurSigma).reshaped(inputs.shape)
        case .uniformNoise:
            var g = SeededGenerator(seed: config.seed)
            return Tensor.uniform(inputs.shape, low: config.noiseLow, high: config.noiseHigh, using: &g)
        case .given:
            guard let given else {
                throw GlassboxError.invalidArgument(name: "baseline", expected: "baseline images for 'given'", found: "none")
            }
            guard given.shape == inputs.shape else {
                throw GlassboxError.shapeMismatch(what: "baseline images", expected: inputs.shape, found: given.shape)
            }
            guard given.scalars.allSatisfy({ $0.isFinite }) else {
                throw GlassboxError.invalidArgument(name: "baseline", expected: "finite values", found: "NaN or infinity")
            }
            return given
        }
    }
}
