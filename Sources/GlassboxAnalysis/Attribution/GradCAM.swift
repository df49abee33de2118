import GlassboxCore
import GlassboxNN

/// Grad-CAM (Selvaraju et al. 2017) on a layer with `[C, h, w]` activations A: weights α_c = the spatial mean of
/// ∂F/∂A_c, map = ReLU(Σ_c α_c A_c) (the ReLU can be switched off, as Captum's `LayerGradCam` has it off by default),
/// upsampled bilinearly to the input's H × W as Captum's `LayerAttribution.interpolate(..., "bilinear")` does
/// (PyTorch's align_corners=False sampling). The `[H, W]` map is repeated over the input's channels so every method
/// returns the input's shape.
enum GradCAM {
    /// The configured layer, checked, or the default: the last Conv2d, or the activation right after it.
    static func resolveLayer(_ model: Sequential, _ requested: Int?, setup: AttributionSetup) throws -> Int {
        let shapes = setup.layerShapes
        if let l = requested {
            guard l >= 0 && l < model.layers.count - 1, shapes[l].count == 3 else {
                let found = l >= 0 && l < shapes.count ? "layer \(l) with output \(shapes[l])" : "\(l)"
                throw GlassboxError.invalidArgument(name: "grad-cam-layer", expected: "a layer with [C, H, W] output before the last layer",
                                                    found: found)
            }
            return l
        }
        guard let conv = model.layers.lastIndex(where: { $0 is Conv2d }) else {
            throw GlassboxError.invalidArgument(name: "method grad-cam", expected: "a model with a convolution layer", found: "'\(model.spec)'")
        }
        if conv + 1 < model.layers.count - 1, ["relu", "sigmoid", "tanh"].contains(model.layers[conv + 1].kind) { return conv + 1 }
        return conv
    }

    static func run(_ workers: AttributionWorkers, _ inputs: Tensor, _ targets: [Int], _ config: AttributionConfig, layer: Int) -> MethodOutput {
        let (c, hIn, wIn) = (inputs.shape[1], inputs.shape[2], inputs.shape[3])
        let len = inputs.rowLength, n = inputs.rows
        let maps = SharedFloats(count: n * len), outs = SharedFloats(count: n)
        workers.forEachChunk(n, chunk: config.chunkSize) { net, range in
            let x = inputs.rows(range)
            let logits = net.forward(x)
            let a = net.activations[layer]
            let (seed, f) = TargetSeed.make(logits, kind: config.target) { targets[range.lowerBound + $0] }
            let da = net.backward(seed, from: net.layers.count - 1, downTo: layer + 1)!.reshaped(a.shape)
            let (rows, ch, h, w) = (a.shape[0], a.shape[1], a.shape[2], a.shape[3])
            var cam = Tensor(zeros: [rows, 1, h, w])
            a.withUnsafeBufferPointer { av in
                da.withUnsafeBufferPointer { gv in
                    cam.withUnsafeMutableBufferPointer { out in
                        for s in 0..<rows {
                            let dst = out.baseAddress! + s * h * w
                            for k in 0..<ch {
                                let base = (s * ch + k) * h * w
                                let alpha = Vector.sum(gv.baseAddress! + base, h * w) / Float(h * w)
                                Vector.axpy(alpha, av.baseAddress! + base, dst, h * w)
                            }
                            if config.gradCAMReLU { for p in 0..<(h * w) where dst[p] < 0 { dst[p] = 0 } }
                        }
                    }
                }
            }
            let up = ImageFilters.resizeBilinear(cam, height: hIn, width: wIn)
            let dst = maps.pointer + range.lowerBound * len
            up.withUnsafeBufferPointer { u in
                for s in 0..<rows { for k in 0..<c { (dst + s * len + k * hIn * wIn).update(from: u.baseAddress! + s * hIn * wIn, count: hIn * wIn) } }
            }
            outs.write(f, at: range.lowerBound)
        }
        return MethodOutput(maps: Tensor(shape: inputs.shape, scalars: maps.array), outputs: outs.array, baselineOutputs: nil)
    }
}
