import Foundation
import GlassboxCore
import GlassboxFigures
import GlassboxNN
import GlassboxReport

/// `kind: clusterability` — C per epoch of `train-modular` results (METHODS.md §1).
public struct ClusterabilityFigure: DeclaredFigureKind {
    public let name = "clusterability"
    public let summary = "clusterability C per epoch of train-modular results"
    public struct Options {
        public init() {}
        public var results: [String] = []
        public var layer = "2.weight"
    }
    public static let defaults = Options()
    public static let arguments = Arguments<Options>(defaults: { defaults }, [
        .texts("results", \.results, .names(.result), required: true, help: "train-modular results such as [modular.modularity]"),
        .text("layer", \.layer, .layer, help: "the regularised layer"),
    ])
    public init() {}

    public func inputs(_ ctx: CellContext, _ ws: Workspace) throws -> StepInputs {
        StepInputs(names: try options(ctx).results.map { WorkspaceName(.result, $0) })
    }

    public func make(_ ctx: CellContext, _ ws: Workspace, title: String?) throws -> MadeFigure {
        let o = try options(ctx)
        var series: [LineSeries] = []
        for n in o.results {
            let r = try ws.result(n, ModularStepResult.self, argument: "results")
            guard let c = r.training.clusterabilityPerEpoch[o.layer] else {
                throw ctx.args.error("layer", expected: "a layer regularised in '\(n)'", found: "'\(o.layer)'")
            }
            let offset = r.training.history.epochs.count - (c.count - 1)
            series.append(LineSeries(name: "\(r.model) (λ = \(formatNumber(r.lambda)))", x: c.indices.map { Double($0 + offset) },
                                     y: c.map(Double.init)))
        }
        return MadeFigure(.linePlot(LinePlot(series: series, title: title, xTitle: "epoch",
                                             yTitle: "clusterability C of \(o.layer)", markers: true)))
    }
}
