import Foundation
import GlassboxAnalysis
import GlassboxCore
import GlassboxFigures
import GlassboxNN
import GlassboxReport

// Figure kinds of pruned models and pruning results (METHODS.md §2).

/// `kind: regions` — each unit's kept weights as a binary image (white = kept) with its number of regions.
public struct RegionsFigure: DeclaredFigureKind {
    public let name = "regions"
    public let summary = "each unit's kept weights as a white-on-black image, with its number of connected regions"
    public struct Options {
        public init() {}
        public var target = LayerChoice()
        public var count = 20
        public var columns = 10
        public var connectivity = Connectivity.four
    }
    public static let defaults = Options()
    public static let arguments = Arguments<Options>(defaults: { defaults }, [
        .text("model", \.target.model, .name(.model), required: true, help: "the (pruned) model"),
        .text("layer", \.target.layer, .layer, help: "the linear weight", default: "the first linear layer"),
        .int("count", \.count, help: "units shown"),
        .int("columns", \.columns, help: "images per row"),
        .custom("connectivity", \.connectivity, .choice(["4", "8"]), help: "pixel neighbourhood of a region",
                show: { "\($0.rawValue)" }, parse: { try Connectivity(Int($0) ?? 0) }),
    ])
    public init() {}

    public func inputs(_ ctx: CellContext, _ ws: Workspace) throws -> StepInputs {
        StepInputs(names: [WorkspaceName(.model, try options(ctx).target.model)])
    }

    public func make(_ ctx: CellContext, _ ws: Workspace, title: String?) throws -> MadeFigure {
        let o = try options(ctx)
        let (_, lin, name) = try o.target.resolve(ws, Linear.self, what: "a linear layer")
        let side = try squareSide(lin, name)
        let count = min(o.count, lin.outFeatures)
        let n = side * side
        let mask = lin.weight.mask?.scalars ?? [Float](repeating: 1, count: lin.weight.value.count)
        var images: [FigureImage] = [], labels: [String] = []
        for u in 0..<count {
            let m = Array(mask[(u * n)..<((u + 1) * n)])
            let cc = try ConnectedComponents.label(mask: m, height: side, width: side, connectivity: o.connectivity)
            images.append(FigureImage(channels: 1, height: side, width: side, values: m))
            labels.append("\(u): \(cc.count) reg.")
        }
        return MadeFigure(.imageGrid(ImageGrid(images: images, labels: labels, columns: o.columns, title: title)),
                          height: 40 + ((count + o.columns - 1) / o.columns) * 86)
    }
}

/// `kind: sparsity` — per input pixel, the share of units keeping its weight (Han et al.'s LeNet figure).
public struct SparsityFigure: DeclaredFigureKind {
    public let name = "sparsity"
    public let summary = "per input pixel, the share of units that keep its weight"
    public struct Options { public var target = LayerChoice() }
    public static let defaults = Options()
    public static let arguments = Arguments<Options>(defaults: { defaults }, [
        .text("model", \.target.model, .name(.model), required: true, help: "the (pruned) model"),
        .text("layer", \.target.layer, .layer, help: "the linear weight", default: "the first linear layer"),
    ])
    public init() {}

    public func inputs(_ ctx: CellContext, _ ws: Workspace) throws -> StepInputs {
        StepInputs(names: [WorkspaceName(.model, try options(ctx).target.model)])
    }

    public func make(_ ctx: CellContext, _ ws: Workspace, title: String?) throws -> MadeFigure {
        let (_, lin, name) = try options(ctx).target.resolve(ws, Linear.self, what: "a linear layer")
        let side = try squareSide(lin, name)
        let share = PruningMeasure.inputSurvival(lin.weight).map { $0 * 100 }
        return MadeFigure(.heatMap(HeatMap(values: Matrix(rows: side, columns: side, values: share), rowTitle: "pixel row",
                                           columnTitle: "pixel column", title: title, colorMap: .viridis,
                                           limits: .fixed(low: 0, high: max(1, share.max() ?? 100)),
                                           colorBarTitle: "units keeping the pixel (%)")), width: 460, height: 400)
    }
}

/// Names of pruning results a kind reads.
public struct ResultList {
    public init() {}
    public var results: [String] = []
    func inputs() -> StepInputs { StepInputs(names: results.map { WorkspaceName(.result, $0) }) }
    func load(_ ws: Workspace) throws -> [PruningResult] { try results.map { try ws.result($0, PruningResult.self, argument: "results") } }
}

/// `kind: prune-accuracy` — test accuracy against weights kept over the rounds of pruning results.
public struct PruneAccuracyFigure: DeclaredFigureKind {
    public let name = "prune-accuracy"
    public let summary = "test accuracy against weights kept over the rounds, after retraining and right after pruning"
    public static let defaults = ResultList()
    public static let arguments = Arguments<ResultList>(defaults: { defaults }, [
        .texts("results", \.results, .names(.result), required: true, help: "pruning results (a prune cell's name)"),
    ])
    public init() {}

    public func inputs(_ ctx: CellContext, _ ws: Workspace) throws -> StepInputs { try options(ctx).inputs() }

    public func make(_ ctx: CellContext, _ ws: Workspace, title: String?) throws -> MadeFigure {
        let o = try options(ctx)
        var series: [LineSeries] = []
        for (n, r) in zip(o.results, try o.load(ws)) {
            series.append(LineSeries(name: "\(n) after retraining", x: r.rounds.map(\.keptPercent), y: r.rounds.map { Double($0.testAccuracy) * 100 }))
            let pruned = r.rounds.filter { $0.accuracyAfterPruning != nil }
            if !pruned.isEmpty {
                series.append(LineSeries(name: "\(n) right after pruning", x: pruned.map(\.keptPercent),
                                         y: pruned.map { Double($0.accuracyAfterPruning!) * 100 }))
            }
        }
        return MadeFigure(.linePlot(LinePlot(series: series, title: title, xTitle: "weights kept (%)", yTitle: "test accuracy (%)", markers: true)))
    }
}

/// `kind: weight-histogram` — the kept weights' values of a linear layer, one series per model.
public struct WeightHistogramFigure: DeclaredFigureKind {
    public let name = "weight-histogram"
    public let summary = "histogram of a linear layer's kept weights, one series per model"
    public struct Options {
        public init() {}
        public var models: [String] = []
        public var layer: String?
        public var bins = 80
    }
    public static let defaults = Options()
    public static let arguments = Arguments<Options>(defaults: { defaults }, [
        .texts("models", \.models, .names(.model), required: true, help: "the models"),
        .text("layer", \.layer, .layer, help: "the linear weight", default: "the first linear layer"),
        .int("bins", \.bins, help: "bins over ±(99.5th percentile of |w|)"),
    ])
    public init() {}

    public func inputs(_ ctx: CellContext, _ ws: Workspace) throws -> StepInputs {
        StepInputs(names: try options(ctx).models.map { WorkspaceName(.model, $0) })
    }

    public func make(_ ctx: CellContext, _ ws: Workspace, title: String?) throws -> MadeFigure {
        let o = try options(ctx)
        var series: [HistogramSeries] = []
        for n in o.models {
            let (_, lin, _) = try LayerChoice(model: n, layer: o.layer).resolve(ws, Linear.self, what: "a linear layer")
            let v = lin.weight.value.scalars, m = lin.weight.mask?.scalars
            series.append(HistogramSeries(name: n, values: v.indices.compactMap { i in (m?[i] ?? 1) != 0 ? Double(v[i]) : nil }))
        }
        // Symmetric bins over ±(99.5th percentile of |w|) so a few outliers do not squeeze the bulk into a few bars.
        let mags = series.flatMap(\.values).map(abs).filter(\.isFinite).sorted()
        let limit = mags.isEmpty ? 1 : max(mags[min(mags.count - 1, Int(Double(mags.count) * 0.995))], 1e-6)
        let edges = (0...o.bins).map { -limit + 2 * limit * Double($0) / Double(o.bins) }
        return MadeFigure(.histogram(Histogram(series: series, bins: .edges(edges), title: title,
                                               xTitle: "weight value (kept weights; outside ±99.5th percentile of |w| not shown)", yTitle: "count")))
    }
}

/// `kind: unit-pruned` — histogram of the share of each first-layer unit's weights that pruning removed.
public struct UnitPrunedFigure: DeclaredFigureKind {
    public let name = "unit-pruned"
    public let summary = "histogram of the pruned share of each first-layer unit"
    public static let defaults = ResultList()
    public static let arguments = PruneAccuracyFigure.arguments
    public init() {}

    public func inputs(_ ctx: CellContext, _ ws: Workspace) throws -> StepInputs { try options(ctx).inputs() }

    public func make(_ ctx: CellContext, _ ws: Workspace, title: String?) throws -> MadeFigure {
        let o = try options(ctx)
        let series = zip(o.results, try o.load(ws)).map { n, r in
            HistogramSeries(name: "\(n) (\(r.firstLayer))", values: r.unitPrunedFractions.map { $0 * 100 })
        }
        return MadeFigure(.histogram(Histogram(series: series, bins: .edges(stride(from: 0.0, through: 100, by: 5).map { $0 }), title: title,
                                               xTitle: "weights pruned per unit (%)", yTitle: "units")))
    }
}

extension PruningResult: WorkspaceResult { public static let kind = "pruning result" }
