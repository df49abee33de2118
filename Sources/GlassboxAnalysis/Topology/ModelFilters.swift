import Foundation
import GlassboxCore
import GlassboxNN

/// The filters of given networks (trained elsewhere, loaded from a checkpoint) pooled as `FilterExperiment` pools the
/// filters of the nets it trains, so the topology pipeline runs on them unchanged.
public enum ModelFilters {
    /// One pool per layer: every `(out, in)` k×k slice of that conv weight of every model, models in order. `layers`
    /// empty: each model's first conv weight. All layers must share one kernel size. `step` labels the pools.
    public static func pool(_ models: [(name: String, model: Sequential)], layers requested: [String], spec: String, data: String, step: Int = 0) throws
        -> FilterExperimentResult {
        guard let first = models.first else { throw GlassboxError.invalidArgument(name: "models", expected: "at least one model", found: "none") }
        let layers = requested.isEmpty ? first.model.namedParameters.filter { $0.parameter.value.rank == 4 }.prefix(1).map(\.name) : requested
        guard !layers.isEmpty else { throw GlassboxError.invalidArgument(name: "models", expected: "models with a conv layer", found: "'\(first.name)' has none") }
        var pools: [FilterPool] = []
        var kernel: Int?
        for layer in layers {
            var values: [Float] = []
            for (name, model) in models {
                let p: Parameter
                do { p = try ModelAccess.parameter(model, layer) } catch let GlassboxError.invalidArgument(_, e, f) {
                    throw GlassboxError.invalidArgument(name: "layers", expected: e, found: "\(f) in '\(name)'")
                }
                let s = p.value.shape
                guard s.count == 4, s[2] == s[3] else {
                    throw GlassboxError.invalidArgument(name: "layers", expected: "a conv weight [out, in, k, k]", found: "'\(layer)' of shape \(s) in '\(name)'")
                }
                if let kernel, kernel != s[2] {
                    throw GlassboxError.invalidArgument(name: "layers", expected: "conv weights of one kernel size (\(kernel)×\(kernel))",
                                                        found: "\(s[2])×\(s[2]) in \(layer) of '\(name)'")
                }
                kernel = s[2]
                values += p.value.scalars
            }
            let k = kernel!
            pools.append(FilterPool(step: step, layer: layer, values: values, count: values.count / (k * k)))
        }
        return FilterExperimentResult(spec: spec, data: data, layer: layers[0], layers: layers, nets: models.count, kernel: kernel!, testAccuracies: [],
                                      pools: pools)
    }
}
