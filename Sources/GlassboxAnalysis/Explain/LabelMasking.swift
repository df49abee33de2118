import GlassboxCore
import GlassboxNN

/// Label masking (La Rosa et al. 2023, `get_concept_masking`): does the unit's response in a range come from the
/// pixels its explanation names? See `ExplanationMetrics.labelMasking`.
enum LabelMasking {
    /// Fills `labelMasking` of every explained range (sequentially: the model object is not shared across threads).
    static func fill(_ result: inout ExplanationResult, model: Sequential, layer: Int, images: Tensor, activations: UnitActivations,
                     index: ConceptIndex) throws {
        for ui in result.units.indices {
            let u = result.units[ui].unit
            for ri in result.units[ui].ranges.indices {
                let r = result.units[ui].ranges[ri]
                guard let f = r.best?.formula else { continue }
                let fm = SampleMask(f.mask(index), layout: index.layout)
                var g = SeededGenerator.derived(seed: result.config.seed, stream: UInt64(u) &* 1000 &+ UInt64(ri))
                result.units[ui].ranges[ri].metrics?.labelMasking = try measure(model: model, layer: layer, images: images, activations: activations,
                                                                                unit: u, range: r.range, formula: fm,
                                                                                count: result.config.labelMaskingImages, using: &g)
            }
        }
        for r in result.specialisation.indices {
            let values = result.units.compactMap { $0.ranges.count > r ? $0.ranges[r].metrics?.labelMasking : nil }
            result.specialisation[r].meanLabelMasking = values.isEmpty ? nil : values.reduce(0, +) / Double(values.count)
        }
    }

    /// Mean over (a seeded sample of at most `count` of) the images where the formula is present of the cosine
    /// similarity between the unit's map before and after multiplying the input by m (m = 1 on the formula's pixels,
    /// uniform in [0, 1) elsewhere, the same for every channel), both maps zeroed where the original activation is
    /// outside the range. A zero map gives similarity 0 (as PyTorch's `cosine_similarity`).
    static func measure(model: Sequential, layer: Int, images: Tensor, activations: UnitActivations, unit u: Int,
                        range: ActivationRange, formula f: SampleMask, count: Int, using g: inout SeededGenerator) throws -> Double? {
        var chosen = f.images.map(Int.init)
        guard !chosen.isEmpty, count > 0 else { return nil }
        if chosen.count > count {
            g.shuffle(&chosen)
            chosen = Array(chosen.prefix(count)).sorted()
        }
        let L = f.layout, P = L.pixelsPerImage, C = images.shape[1], plane = activations.plane, stride = activations.units * plane
        var x = images.gatherRows(chosen)
        x.withUnsafeMutableBufferPointer { px in
            for (k, s) in chosen.enumerated() {
                for p in 0..<P {
                    let m: Float = f.mask[L.bit(image: s, pixel: p)] ? 1 : g.uniform()
                    for c in 0..<C { px[(k * C + c) * P + p] *= m }
                }
            }
        }
        let input = model.spec.input
        if input.count == 1 { x.reshape([chosen.count, input[0]]) }
        for l in model.layers[0...layer] { x = l.forward(x, training: false) }
        var total = 0.0
        activations.values.withUnsafeBufferPointer { before in
            x.withUnsafeBufferPointer { after in
                for (k, s) in chosen.enumerated() {
                    var dot = 0.0, na = 0.0, nb = 0.0
                    for j in 0..<plane {
                        let b = before[s * stride + u * plane + j]
                        guard range.contains(b) else { continue }
                        let a = Double(after[k * stride + u * plane + j])
                        dot += Double(b) * a; na += Double(b) * Double(b); nb += a * a
                    }
                    let den = (na * nb).squareRoot()
                    total += den > 1e-8 ? dot / den : 0
                }
            }
        }
        return total / Double(chosen.count)
    }
}
