import GlassboxCore

/// SmoothGrad's noise tunnel over any method (Smilkov et al. 2017; Captum's `NoiseTunnel`): the method's maps of
/// `samples` noisy copies x + ε, ε ~ N(0, σ²) with σ = noiseLevel · (max x − min x) per image, combined as their mean
/// (SmoothGrad), mean square (SmoothGrad²) or variance (VarGrad). The noise is drawn from one seeded stream in a fixed
/// order (sample, image, pixel), so the maps repeat exactly. Baselines stay those of the clean images.
enum NoiseTunnel {
    static func run(_ inputs: Tensor, _ config: NoiseTunnelConfig, _ method: (Tensor) -> MethodOutput) -> MethodOutput {
        let n = inputs.rows, len = inputs.rowLength
        let sigmas: [Float] = inputs.withUnsafeBufferPointer { x in
            (0..<n).map { i in
                var lo = Float.infinity, hi = -Float.infinity
                for j in 0..<len { lo = min(lo, x[i * len + j]); hi = max(hi, x[i * len + j]) }
                return config.noiseLevel * (len > 0 ? hi - lo : 0)
            }
        }
        var g = SeededGenerator(seed: config.seed)
        var sum = [Double](repeating: 0, count: inputs.count), squares = sum
        for _ in 0..<config.samples {
            let noisy = Tensor(uninitializedShape: inputs.shape) { dst, count in
                inputs.withUnsafeBufferPointer { x in
                    for j in 0..<count { dst[j] = x[j] + sigmas[j / len] * g.normal() }
                }
            }
            let out = method(noisy)
            out.maps.withUnsafeBufferPointer { m in
                for j in 0..<m.count { let v = Double(m[j]); sum[j] += v; squares[j] += v * v }
            }
        }
        let s = Double(config.samples)
        let combined: [Float] = (0..<sum.count).map { j in
            let mean = sum[j] / s, meanSquare = squares[j] / s
            switch config.kind {
            case .smoothGrad: return Float(mean)
            case .smoothGradSquared: return Float(meanSquare)
            case .varGrad: return Float(max(0, meanSquare - mean * mean))
            }
        }
        return MethodOutput(maps: Tensor(shape: inputs.shape, scalars: combined), outputs: [], baselineOutputs: nil)
    }
}
