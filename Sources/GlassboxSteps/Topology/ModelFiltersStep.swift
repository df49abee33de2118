import Foundation
import GlassboxAnalysis
import GlassboxCore
import GlassboxNN
import GlassboxReport

/// `step: filters` — the k×k filters of conv layers of workspace models (trained, pruned or loaded), pooled as
/// `filter-experiment` pools them, so `topology`, `topology-sensitivity` and `topology-compare` analyse a given network:
/// each `(out, in)` slice of a conv weight is one point.
public struct ModelFiltersStep: DeclaredStep {
    public let name = "filters"
    public let summary = "pools the k×k conv filters of workspace models (e.g. a loaded one) into a filter result for topology"

    public struct Options {
        public init() {}
        public var models: [String] = []
        public var layers: [String] = []
        public var layer: String?
        public var name = "filters"
    }

    public static let arguments = Arguments<Options>(defaults: { Options() }, [
        .texts("models", \.models, .names(.model), required: true, help: "the models whose filters are pooled"),
        .text("layer", \.layer, .layer, help: "one conv weight (instead of layers)"),
        .texts("layers", \.layers, .layers, help: "conv weights whose filters are pooled, each its own pool", default: "the first conv weight"),
        .text("name", \.name, help: "workspace name of the result"),
    ])

    public init() {}
    public func initialOptions(_ ctx: CellContext) -> Options { Options() }

    public func inputs(_ ctx: CellContext, _ ws: Workspace) throws -> StepInputs {
        StepInputs(names: try options(ctx).models.map { WorkspaceName(.model, $0) })
    }

    public func run(_ ctx: CellContext, _ ws: Workspace) throws -> CellResult<Produced> {
        let o = try options(ctx)
        if o.layer != nil, ctx.args.keys.contains("layers") { throw ctx.args.error("layers", expected: "either 'layer' or 'layers', not both", found: "both") }
        let models = try o.models.map { try ws.model($0) }
        let layers = o.layer.map { [$0] } ?? o.layers
        let result: FilterExperimentResult
        do {
            result = try ModelFilters.pool(zip(o.models, models).map { ($0, $1.model) }, layers: layers, spec: models[0].record.spec,
                                           data: models[0].record.data, step: models[0].record.history.steps)
        } catch let GlassboxError.invalidArgument(n, e, f) where n == "layers" && o.layer != nil {
            throw ctx.args.error("layer", expected: e, found: f)
        }
        let kernel = result.kernel
        let stored = try ws.addResult(result, name: o.name)
        let text = "Filters of " + o.models.map { "'\($0)'" }.joined(separator: ", ") + ": "
            + result.pools.map { "\($0.count) \(kernel)×\(kernel) filters of \($0.layer ?? result.layer)" }.joined(separator: "; ") + "."
        return CellResult(produced: [stored], outputs: [.text(text)])
    }
}
