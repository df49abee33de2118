import Foundation
import GlassboxAnalysis
import GlassboxCore
import GlassboxFigures
import GlassboxNN
import GlassboxReport

/// `step: topology-sensitivity` — the pipeline over a small grid of k, p and cover settings; a table of kept points,
/// Mapper loops and dominant-bar ratios (METHODS.md §3.7: one pretty graph is not evidence).
public struct TopologySensitivityStep: DeclaredStep {
    public let name = "topology-sensitivity"
    public let summary = "the pipeline over a grid of k, p and cover settings: kept points, Mapper loops, dominant-bar ratio"

    public struct Options {
        public init() {}
        public var pool = PoolChoice()
        public var ks: [Int]?
        public var ps: [Double]?
        public var intervals: [Int]?
        public var overlap = 2.0 / 3.0
        public var maxPoints = 1000
    }

    public static let arguments = Arguments<Options>(defaults: { Options() }, PoolChoice.arguments(\Options.pool) + [
        .ints("k", \.ks, help: "density filter k values", default: "½×, 1× and 2× the scaled k"),
        .numbers("p", \.ps, 0, 1, openLow: true, help: "density fractions", default: "[0.1, 0.3, 0.5]"),
        .ints("intervals", \.intervals, help: "Mapper cover interval counts", default: "the scaled count and 1.5× it"),
        .number("overlap", \.overlap, 0, 1, openHigh: true, help: "Mapper cover overlap"),
        .int("max-points", \.maxPoints, min: 3, help: "most points persistent homology and Mapper see"),
    ])

    public init() {}
    public func initialOptions(_ ctx: CellContext) -> Options { Options() }

    public func inputs(_ ctx: CellContext, _ ws: Workspace) throws -> StepInputs {
        StepInputs(names: [WorkspaceName(.result, try options(ctx).pool.filters)])
    }

    public func run(_ ctx: CellContext, _ ws: Workspace) throws -> CellResult<Produced> {
        let o = try options(ctx)
        let (r, pool) = try o.pool.resolve(ws)
        let cloud = try r.cloud(pool)
        let base = FilterTopologySettings.scaledK(count: cloud.count)
        var rows: [[String]] = []
        for k in o.ks ?? Array(Set([max(3, base / 2), base, base * 2])).sorted() {
            for p in o.ps ?? [0.1, 0.3, 0.5] {
                let kept = max(1, Int((p * Double(cloud.count)).rounded()))
                let scaled = FilterTopologySettings.scaledIntervals(kept: kept)
                for n in o.intervals ?? Array(Set([scaled, min(30, scaled * 3 / 2)])).sorted() {
                    let t = try FilterTopology.analyse(cloud, settings: FilterTopologySettings(k: k, fraction: p, intervals: n, overlap: o.overlap,
                                                                                             maxPoints: o.maxPoints))
                    rows.append(["\(t.k)", formatNumber(Float(p)), "\(n)", t.landmarkRadius == nil ? "\(t.densityKept)" : "\(t.densityKept) (\(t.filtered.count) landmarks)", "\(t.barcodes[1].count)",
                                 String(format: "%.3f", t.dominantH1), ratioText(t.dominantRatio),
                                 "\(t.mapper.nodes.count)", "\(t.loopCount)", "\(t.cliqueLoopCount)",
                                 t.orientationLoop.map { $0 ? "yes" : "no" } ?? "–"])
                }
            }
        }
        let table = TableOutput(label: ctx.label(prefix: "tbl"),
                                caption: ctx.cell.options.caption ?? "Sensitivity of the filters at step \(pool.step) to k, p and the cover.",
                                columns: ["k", "p", "intervals", "kept", "H1 bars", "dominant H1", "ratio to 2nd", "Mapper nodes", "E − V + C",
                                          "β1 (triangles filled)", "orientation loop"],
                                rows: rows, numeric: Array(repeating: true, count: 10) + [false])
        return CellResult(outputs: [.table(table)])
    }
}

/// `step: topology-compare` — the pipeline on several pools of one filter experiment, side by side: a grid of Mapper
/// graphs and one of barcodes (rows = layers, columns = training steps) and a table of the numbers.
public struct TopologyCompareStep: DeclaredStep {
    public let name = "topology-compare"
    public let summary = "Mapper graphs and barcodes side by side across layers and training steps, and a table"

    public struct Options {
        public init() {}
        public var filters = ""
        public var layers: [String]?
        public var at = ["first", "final"]
        public var settings = FilterTopologySettings(maxPoints: 1000)
        public var layout = MapperLayout.lens
    }

    public static let arguments = Arguments<Options>(defaults: { Options() }, [
        .text("filters", \.filters, .name(.result), required: true, help: "a filter-experiment result"),
        .texts("layers", \.layers, .layers, help: "pooled layers (one row each)", default: "every pooled layer"),
        .texts("at", \.at, help: "pooled steps (one column each): final, first or step numbers"),
    ] + FilterTopologySettings.arguments.list.map { $0.lifted(\Options.settings) } + [
        .choice("layout", \.layout, help: "lens: node at its mean (PCA1, PCA2); spring: a force layout"),
    ])

    public init() {}
    public func initialOptions(_ ctx: CellContext) -> Options { Options() }

    public func inputs(_ ctx: CellContext, _ ws: Workspace) throws -> StepInputs {
        StepInputs(names: [WorkspaceName(.result, try options(ctx).filters)])
    }

    public func run(_ ctx: CellContext, _ ws: Workspace) throws -> CellResult<Produced> {
        let o = try options(ctx)
        let r = try ws.result(o.filters, FilterExperimentResult.self, argument: "filters")
        let pooled = r.layers ?? [r.layer]
        let layers = o.layers ?? pooled
        if let bad = layers.first(where: { !pooled.contains($0) }) {
            throw ctx.args.error("layers", expected: "pooled layers \(pooled)", found: "'\(bad)'")
        }
        var mappers: [Figure] = [], barcodes: [Figure] = [], rows: [[String]] = []
        for layer in layers {
            for at in o.at {
                let pool = try r.pool(layer: layer, at: at)
                let t = try FilterTopology.analyse(try r.cloud(pool), settings: o.settings)
                let figs = TopologyFigures.make(t, kernel: r.kernel, layout: o.layout, what: "\(layer), step \(pool.step)", compact: true)
                mappers.append(figs.mapper); barcodes.append(figs.barcode)
                rows.append([layer, "\(pool.step)", "\(t.inputCount)", t.landmarkRadius == nil ? "\(t.densityKept)" : "\(t.densityKept) (\(t.filtered.count) landmarks)",
                             String(format: "%.3f", t.dominantH1), String(format: "%.3f", t.secondH1), ratioText(t.dominantRatio),
                             "\(t.mapper.nodes.count)", "\(t.mapper.componentCount)", "\(t.cliqueLoopCount)",
                             t.orientationLoop.map { $0 ? "yes" : "no" } ?? "–"])
            }
        }
        let label = ctx.label(prefix: "fig")
        let caption = ctx.cell.options.caption
        let cols = o.at.count, nrows = layers.count
        let f1 = try FigureFile.save(.panels(PanelGrid(panels: mappers, columns: cols)), label: "\(label)-mapper",
                                     caption: caption.map { "\($0) Mapper graphs (rows: layers, columns: training steps)." }
                                         ?? "Mapper graphs side by side (rows: layers, columns: training steps).",
                                     width: 360 * cols, height: 330 * nrows, directory: ctx.directory)
        let f2 = try FigureFile.save(.panels(PanelGrid(panels: barcodes, columns: cols)), label: "\(label)-barcode",
                                     caption: caption.map { "\($0) Barcodes (rows: layers, columns: training steps)." }
                                         ?? "Barcodes side by side (rows: layers, columns: training steps).",
                                     width: 360 * cols, height: 320 * nrows, directory: ctx.directory)
        let table = TableOutput(label: "tbl-\(label.hasPrefix("fig-") ? String(label.dropFirst(4)) : label)", caption: caption.map { "\($0) The numbers." }
                                    ?? "Filter topology per layer and training step (p = \(formatNumber(Float(o.settings.fraction)))).",
                                columns: ["layer", "step", "filters", "kept", "dominant H1", "second H1", "ratio", "Mapper nodes", "components",
                                          "β1 (triangles filled)", "orientation loop"],
                                rows: rows, numeric: [false] + Array(repeating: true, count: 9) + [false])
        return CellResult(outputs: [f1, f2, .table(table)])
    }
}
