import Foundation
import GlassboxAnalysis
import GlassboxCore
import GlassboxFigures
import GlassboxNN
import GlassboxReport

extension CoClusterResult: WorkspaceResult { public static let kind = "co-clustering result" }

public extension CoClusterSettings {
    /// `step: cluster` and `glassbox cluster` read these.
    static let arguments = Arguments<CoClusterSettings>(defaults: { CoClusterSettings() }, [
        .text("layer", \.layer, .layer, help: "the Linear weight to co-cluster"),
        .int("k", \.k, min: 2, help: "number of co-clusters"),
        .choice("affinity", \.affinity, help: "|W|, mean |∂L/∂W| over training batches, or mean |W·∂L/∂W|"),
        .int("null", \.nullDraws, min: 0, help: "shuffled copies of W for the null distribution"),
        .int("batches", \.batches, help: "training batches the gradient affinities average over", default: "all"),
        .seed(\.seed, help: "seed of k-means and the shuffles"),
    ])
}

/// `step: cluster` — BSGC of one Linear layer, clusterability with its baseline and shuffle null, and the |W|
/// heat maps (stored order, and reordered by co-cluster).
public struct ClusterStep: DeclaredStep {
    public let name = "cluster"
    public let summary = "BSGC co-clusters of a Linear layer, clusterability with baseline and p-value, |W| heat maps"

    public typealias Options = ModelTask<CoClusterSettings>

    public static let arguments = Options.arguments(CoClusterSettings.arguments, defaults: { CoClusterSettings() }, model: "the model",
                                                    data: "data for the gradient affinities", name: "workspace name of the result",
                                                    nameDefault: "<model>.clusters")

    public init() {}

    public func initialOptions(_ ctx: CellContext) -> Options {
        var s = CoClusterSettings()
        s.seed = ctx.seed
        return Options(settings: s)
    }

    public func inputs(_ ctx: CellContext, _ ws: Workspace) throws -> StepInputs {
        let o = try options(ctx)
        return o.settings.affinity == .weight ? StepInputs(names: [WorkspaceName(.model, o.model)]) : o.inputs(ws)
    }

    public func run(_ ctx: CellContext, _ ws: Workspace) throws -> CellResult<Produced> {
        let o = try options(ctx)
        let (record, model) = try ws.model(o.model)
        let data = o.settings.affinity == .weight ? nil : try ws.dataPair(o.data ?? record.data).train
        let result = try CoClusterAnalysis.run(model, name: o.model, data: data, settings: o.settings)
        let resultName = o.name ?? "\(o.model).clusters"
        let stored = try ws.addResult(result, name: resultName)
        let w = try ModelAccess.linear(model, o.settings.layer).weight.value
        let label = ctx.label(prefix: "fig")
        let maps = ClusterFigures.heatMaps(weight: w, clusters: result.report.clusters, model: o.model, layer: o.settings.layer)
        let f1 = try FigureFile.save(maps.plain, label: "\(label)-unordered", caption: "|W| of \(o.model) \(o.settings.layer) in stored unit order, for comparison.",
                                     width: 360, height: 340, directory: ctx.directory)
        let f2 = try FigureFile.save(maps.sorted, label: label, caption: ctx.cell.options.caption, width: 360, height: 340, directory: ctx.directory)
        return CellResult(produced: [stored], outputs: [.metrics(Self.cards(result, name: resultName)), .text(Self.text(result, k: o.settings.k)), f1, f2])
    }

    static func cards(_ r: CoClusterResult, name: String) -> [MetricCard] {
        let report = r.report
        return [
            MetricCard(name: "\(name).clusterability", label: "\(r.model) \(r.layer) clusterability C", value: Double(report.clusterability),
                       direction: .higher, display: String(format: "%.3f", report.clusterability)),
            MetricCard(name: "\(name).baseline", label: "random baseline", value: Double(report.baseline), direction: .lower,
                       display: String(format: "%.3f", report.baseline)),
        ] + (report.pValue.map { [MetricCard(name: "\(name).p", label: "shuffle p (\(report.nullValues.count) draws)", value: Double($0),
                                             direction: .lower, display: String(format: "%.3f", $0))] } ?? [])
    }

    static func text(_ r: CoClusterResult, k: Int) -> String {
        let clusters = r.report.clusters
        let sizes = clusters.sizes.map { "\($0[0])×\($0[1])" }.joined(separator: ", ")
        var text = "Co-clusters of \(r.model) \(r.layer) (\(r.affinity.rawValue) affinity, k = \(k)): sizes \(sizes)"
        if !clusters.deadRows.isEmpty || !clusters.deadColumns.isEmpty {
            text += "; dead units left out: \(clusters.deadRows.count) rows, \(clusters.deadColumns.count) columns"
        }
        if !r.report.nullValues.isEmpty {
            let mean = r.report.nullValues.reduce(0, +) / Float(r.report.nullValues.count)
            text += String(format: "; shuffled C mean %.3f", mean)
        }
        return text + "."
    }
}

/// The |W| heat maps of a co-clustered layer.
enum ClusterFigures {
    static func heatMaps(weight w: Tensor, clusters: CoClustering, model: String, layer: String) -> (plain: Figure, sorted: Figure) {
        let m = w.shape[0], n = w.shape[1]
        let absW = w.scalars.map { Double(abs($0)) }
        let ro = clusters.rowOrder, co = clusters.columnOrder
        var ordered = [Double](repeating: 0, count: m * n)
        for (i, oi) in ro.enumerated() { for (j, oj) in co.enumerated() { ordered[i * n + j] = absW[oi * n + oj] } }
        func lab(_ order: [Int], _ labels: [Int]) -> [String]? {
            order.count > 32 ? nil : order.map { labels[$0] < 0 ? "–" : "\(labels[$0])" }
        }
        let plain = Figure.heatMap(HeatMap(values: Matrix(rows: m, columns: n, values: absW), rowTitle: "output unit",
                                           columnTitle: "input unit", title: "|W| of \(model) \(layer)", colorMap: .viridis, colorBarTitle: "|W|"))
        let sorted = Figure.heatMap(HeatMap(values: Matrix(rows: m, columns: n, values: ordered),
                                            rowLabels: lab(ro, clusters.rowLabels), columnLabels: lab(co, clusters.columnLabels),
                                            rowTitle: "output unit (by co-cluster)", columnTitle: "input unit (by co-cluster)",
                                            title: "|W| reordered by co-cluster", colorMap: .viridis, colorBarTitle: "|W|"))
        return (plain, sorted)
    }
}
