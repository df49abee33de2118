import Foundation
import GlassboxCore
import GlassboxFigures
import GlassboxReport

// The steps of a sweep's aggregate report (`glassbox sweep` writes a recipe of them; any recipe may use them): they
// read run folders (their run.json and figure values), never re-run anything.

/// Run folders named by a cell, relative to the recipe's folder.
struct RunList {
    var paths: [String]

    init(_ ctx: CellContext, _ runs: [String]) {
        let base = (ctx.recipe.path as NSString).deletingLastPathComponent
        paths = runs.map { $0.hasPrefix("/") ? $0 : (base as NSString).appendingPathComponent($0) }
    }

    /// What the cache key needs of the runs: what each computed, not how long it took (so the aggregate's keys are
    /// the same whichever engine ran the runs).
    func digests() throws -> [String] { try load().map(\.manifest.contentDigest) }

    func load() throws -> [RunFolder] { try paths.map { try RunFolder.load($0) } }

    /// The aggregate with these settings (grouping, metrics).
    func aggregate(_ s: RunAggregateSettings) throws -> (folders: [RunFolder], result: RunAggregateResult) {
        let folders = try load()
        return (folders, try RunAggregate.run(s, runs: folders.map(\.manifest)))
    }

    static func arguments<O>(_ runs: WritableKeyPath<O, [String]>, _ settings: WritableKeyPath<O, RunAggregateSettings>) -> [StepArgument<O>] {
        [
            .texts("runs", runs, required: true, help: "run folders, relative to the recipe (e.g. [runs/seed-0, runs/seed-1])"),
            .texts("group-by", settings.appending(path: \.groupBy), help: "parameters whose values make a setting",
                   default: "the parameters that differ between the runs"),
        ]
    }
}

/// `step: sweep-summary` — every metric of several runs per setting: mean ± standard deviation, min, max and n.
public struct SweepSummaryStep: DeclaredStep {
    public let name = "sweep-summary"
    public let summary = "metrics of several run folders per setting: mean ± sd (n − 1), min, max, n; a table and cards"

    public struct Options {
        public init() {}
        public var runs: [String] = []
        public var settings = RunAggregateSettings()
    }

    public static let arguments = Arguments<Options>(defaults: { Options() }, RunList.arguments(\Options.runs, \Options.settings) + [
        .texts("metrics", \.settings.metrics, help: "metrics to summarise", default: "every metric of the runs"),
    ])

    public init() {}
    public func initialOptions(_ ctx: CellContext) -> Options { Options() }

    public func inputs(_ ctx: CellContext, _ ws: Workspace) throws -> StepInputs {
        StepInputs(fingerprints: try RunList(ctx, try options(ctx).runs).digests())
    }

    public func run(_ ctx: CellContext, _ ws: Workspace) throws -> CellResult<Produced> {
        let o = try options(ctx)
        let (_, a) = try RunList(ctx, o.runs).aggregate(o.settings)
        var cards: [MetricCard] = [], rows: [[String]] = []
        for m in a.metrics {
            for (setting, stats) in zip(a.settings, m.statistics) {
                guard let s = stats else { continue }
                let suffix = a.swept.isEmpty ? "" : "[\(setting.values.joined(separator: ","))]"
                let spread = s.sd.map { " ± " + RunAggregate.format($0, percent: m.percent) } ?? ""
                cards.append(MetricCard(name: "\(m.name).mean\(suffix)", label: "\(m.label), mean" + (a.swept.isEmpty ? "" : " (\(setting.label))"),
                                        value: s.mean, direction: m.direction,
                                        display: RunAggregate.format(s.mean, percent: m.percent) + spread + " (n = \(s.n))"))
                rows.append([m.name, setting.label, RunAggregate.tableNumber(s.mean), s.sd.map(RunAggregate.tableNumber) ?? "–",
                             RunAggregate.tableNumber(s.min), RunAggregate.tableNumber(s.max), "\(s.n)"])
            }
        }
        let table = TableOutput(label: ctx.label(prefix: "tbl"),
                                caption: ctx.cell.options.caption ?? "Every metric per setting over its runs: mean, sample standard deviation, min, max, n.",
                                columns: ["metric", "setting", "mean", "sd", "min", "max", "n"], rows: rows,
                                numeric: [false, false, true, true, true, true, true])
        return CellResult(outputs: [.metrics(cards), .table(table)])
    }
}

/// `step: sweep-plot` — each metric's mean against a swept parameter, with ± one standard deviation as error bars.
public struct SweepPlotStep: DeclaredStep {
    public let name = "sweep-plot"
    public let summary = "metrics of several run folders against a swept parameter: mean with ± sd error bars, one panel per metric"

    public struct Options {
        public init() {}
        public var runs: [String] = []
        public var settings = RunAggregateSettings()
        public var x: String?
        public var columns = 3
    }

    public static let arguments = Arguments<Options>(defaults: { Options() }, RunList.arguments(\Options.runs, \Options.settings) + [
        .texts("metrics", \.settings.metrics, help: "metrics to plot", default: "every metric of the runs"),
        .text("x", \.x, help: "the parameter on the x axis (the others make one line each)", default: "the first swept parameter"),
        .int("columns", \.columns, help: "panels per row"),
    ])

    public init() {}
    public func initialOptions(_ ctx: CellContext) -> Options { Options() }

    public func inputs(_ ctx: CellContext, _ ws: Workspace) throws -> StepInputs {
        StepInputs(fingerprints: try RunList(ctx, try options(ctx).runs).digests())
    }

    public func run(_ ctx: CellContext, _ ws: Workspace) throws -> CellResult<Produced> {
        let o = try options(ctx)
        let (_, a) = try RunList(ctx, o.runs).aggregate(o.settings)
        guard let x = o.x ?? a.swept.first else {
            throw ctx.args.argumentError("runs", expected: "runs that differ in some parameter (to plot against)", found: "runs that differ only in seed")
        }
        guard a.swept.contains(x) else { throw ctx.args.argumentError("x", expected: "one of the swept parameters \(a.swept)", found: "'\(x)'") }
        let plots = a.metrics.map { Self.plot($0, a, x: x) }
        let figure = plots.count == 1 ? plots[0] : .panels(PanelGrid(panels: plots, columns: min(o.columns, plots.count)))
        let cols = min(o.columns, plots.count), rows = (plots.count + cols - 1) / cols
        let out = try FigureFile.save(figure, label: ctx.label(prefix: "fig"),
                                      caption: ctx.cell.options.caption ?? "Each metric against \(x): mean over the seeds with ± one standard deviation.",
                                      width: 340 * cols, height: 260 * rows, directory: ctx.directory)
        return CellResult(outputs: [out])
    }

    /// One metric: a line per combination of the other swept parameters; x is the parameter's value when every value
    /// is a number, else its position (1, 2, …) among the values in run order.
    static func plot(_ m: RunAggregateResult.Metric, _ a: RunAggregateResult, x: String) -> Figure {
        var xValues: [String] = []
        for s in a.settings { let v = a.parameterValues[s.runs[0]][x] ?? ""; if !xValues.contains(v) { xValues.append(v) } }
        let numeric = xValues.allSatisfy { Double($0) != nil }
        func position(_ v: String) -> Double { numeric ? Double(v)! : Double(xValues.firstIndex(of: v)! + 1) }
        let others = a.swept.filter { $0 != x }
        var lines: [(name: String, points: [(x: Double, y: Double, e: Double)])] = []
        for (s, stats) in zip(a.settings, m.statistics) {
            guard let st = stats else { continue }
            let v = a.parameterValues[s.runs[0]]
            let name = others.map { "\($0) = \(v[$0] ?? "")" }.joined(separator: ", ")
            let point = (x: position(v[x] ?? ""), y: st.mean, e: st.sd ?? .nan)
            if let k = lines.firstIndex(where: { $0.name == name }) { lines[k].points.append(point) } else { lines.append((name, [point])) }
        }
        let series = lines.map { l -> LineSeries in
            let p = l.points.sorted { $0.x < $1.x }
            return LineSeries(name: l.name, x: p.map(\.x), y: p.map(\.y), errors: p.map(\.e))
        }
        let xTitle = numeric ? x : "\(x): " + xValues.enumerated().map { "\($0.offset + 1) = \($0.element)" }.joined(separator: ", ")
        return .linePlot(LinePlot(series: series, title: m.label, xTitle: xTitle, yTitle: "mean ± sd", markers: true))
    }
}

/// `step: sweep-figures` — one figure of every run side by side: a row per setting, a column per seed.
public struct SweepFiguresStep: DeclaredStep {
    public let name = "sweep-figures"
    public let summary = "one figure of several run folders side by side (rows: settings, columns: seeds), redrawn from their values"

    public struct Options {
        public init() {}
        public var runs: [String] = []
        public var settings = RunAggregateSettings()
        public var figure = ""
    }

    public static let arguments = Arguments<Options>(defaults: { Options() }, RunList.arguments(\Options.runs, \Options.settings) + [
        .text("figure", \.figure, required: true, help: "the figure's label in the runs (e.g. fig-curves)"),
    ])

    public init() {}
    public func initialOptions(_ ctx: CellContext) -> Options { Options() }

    public func inputs(_ ctx: CellContext, _ ws: Workspace) throws -> StepInputs {
        let o = try options(ctx)
        let runs = RunList(ctx, o.runs)
        return StepInputs(files: runs.paths.map { ($0 as NSString).appendingPathComponent("figures/\(o.figure).json") }, fingerprints: try runs.digests())
    }

    public func run(_ ctx: CellContext, _ ws: Workspace) throws -> CellResult<Produced> {
        let o = try options(ctx)
        let (folders, a) = try RunList(ctx, o.runs).aggregate(o.settings)
        var panels: [Figure] = []
        var size: (width: Int, height: Int)?
        let columns = a.settings.map(\.runs.count).max() ?? 1
        for s in a.settings {
            for r in s.runs {
                let f = folders[r]
                guard let entry = f.manifest.figures.first(where: { $0.label == o.figure }) else {
                    throw ctx.args.argumentError("figure", expected: "a figure label of every run", found: "'\(o.figure)', missing in \(f.path)")
                }
                let figure = try ReportJSON.decode(Figure.self, from: try Files.read(f.file(entry.json)), path: f.file(entry.json))
                if case .panels = figure {
                    throw ctx.args.argumentError("figure", expected: "a figure that is not itself a panel grid", found: "'\(o.figure)'")
                }
                panels.append(figure)
                size = size ?? (entry.width, entry.height)
            }
            // Short rows (a setting with fewer runs) are padded so each row stays one setting.
            for _ in s.runs.count..<columns { panels.append(.linePlot(LinePlot(series: [LineSeries(name: "", x: [], y: [])], title: "(no run)"))) }
        }
        let (w, h) = size ?? (400, 300)
        let cell = min(Double(min(w, 360)), 2400 / Double(columns))
        let scale = cell / Double(w)
        let rows = a.settings.count
        let seeds = a.settings.first.map { $0.seeds.map(String.init).joined(separator: ", ") } ?? ""
        let layout = a.swept.isEmpty ? "seeds \(seeds) from left to right" : "rows: \(a.settings.map(\.label).joined(separator: "; ")); columns: seeds \(seeds)"
        let out = try FigureFile.save(.panels(PanelGrid(panels: panels, columns: columns)), label: ctx.label(prefix: "fig"),
                                      caption: (ctx.cell.options.caption ?? "\(o.figure) of every run") + " (\(layout)).",
                                      width: Int(cell * Double(columns)), height: Int((Double(h) * scale * Double(rows)).rounded()),
                                      directory: ctx.directory)
        return CellResult(outputs: [out])
    }
}
