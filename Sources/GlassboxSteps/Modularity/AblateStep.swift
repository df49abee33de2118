import Foundation
import GlassboxAnalysis
import GlassboxCore
import GlassboxFigures
import GlassboxNN
import GlassboxReport

extension AblationResult: WorkspaceResult { public static let kind = "cluster ablation result" }
extension ECSResult: WorkspaceResult { public static let kind = "effective circuit size result" }
extension NCutResult: WorkspaceResult { public static let kind = "n-cut result" }

/// The co-clusters of `layer` held by a result: a `cluster` result, or a `train-modular` result's clusters.
func coClusters(in ws: Workspace, _ name: String, layer: String) throws -> CoClustering {
    func norm(_ l: String) -> String { l.hasSuffix(".weight") ? l : "\(l).weight" }
    switch ws.resultKind(name) {
    case CoClusterResult.kind:
        let r = try ws.result(name, CoClusterResult.self, argument: "clusters")
        guard norm(r.layer) == norm(layer) else {
            throw GlassboxError.invalidArgument(name: "clusters", expected: "co-clusters of layer \(layer)", found: "'\(name)' is for \(r.layer)")
        }
        return r.report.clusters
    case ModularStepResult.kind:
        let r = try ws.result(name, ModularStepResult.self, argument: "clusters")
        guard let c = r.training.clusters[norm(layer)] else {
            throw GlassboxError.invalidArgument(name: "clusters", expected: "co-clusters of layer \(layer)", found: "'\(name)' has \(r.training.clusters.keys.sorted())")
        }
        return c
    case let other:
        throw GlassboxError.invalidArgument(name: "clusters", expected: "the result of a cluster or train-modular cell",
                                            found: other.map { "'\(name)', a \($0)" } ?? "no result named '\(name)'")
    }
}

/// `step: ablate` — per-class test accuracy with each co-cluster removed; bar chart (Δ accuracy per class, one group
/// per cluster), heat map (clusters × classes) and a table with each cluster's specialisation.
public struct AblateStep: DeclaredStep {
    public let name = "ablate"
    public let summary = "Δ per-class accuracy with each co-cluster ablated: bar chart, heat map, specialisation"

    public struct Options {
        public init() {}
        public var model = ""
        public var clusters = ""
        public var layer = "2.weight"
        public var mode = AblationMode.block
        public var data: String?
        public var name: String?
    }

    public static let arguments = Arguments<Options>(defaults: { Options() }, [
        .text("model", \.model, .name(.model), required: true, help: "the model"),
        .text("clusters", \.clusters, .name(.result), required: true, help: "a cluster result (<model>.clusters) or a train-modular result (<model>.modularity)"),
        .text("layer", \.layer, .layer, help: "the clustered Linear weight"),
        .choice("mode", \.mode, help: "block: zero W[U_c, V_c]; unit: zero the rows U_c"),
        .text("data", \.data, .name(.data), help: "the test data", default: "the model's data"),
        .text("name", \.name, help: "workspace name of the result", default: "<model>.ablation-<mode>"),
    ])

    public init() {}
    public func initialOptions(_ ctx: CellContext) -> Options { Options() }

    public func inputs(_ ctx: CellContext, _ ws: Workspace) throws -> StepInputs {
        let o = try options(ctx)
        var i = StepInputs.model(o.model, data: o.data, ws)
        i.names.append(WorkspaceName(.result, o.clusters))
        return i
    }

    public func run(_ ctx: CellContext, _ ws: Workspace) throws -> CellResult<Produced> {
        let o = try options(ctx)
        let (model, test) = try ws.modelWithTestData(o.model, data: o.data)
        let cl = try coClusters(in: ws, o.clusters, layer: o.layer)
        let r: AblationResult
        do { r = try ClusterAblation.run(model, layer: o.layer, clusters: cl, test: test, mode: o.mode) } catch let e as GlassboxError {
            if case .shapeMismatch = e { throw GlassboxError.invalidArgument(name: "clusters", expected: "co-clusters of \(o.layer) of '\(o.model)'", found: "\(e)") }
            throw e
        }
        let stored = try ws.addResult(r, name: o.name ?? "\(o.model).ablation-\(o.mode.rawValue)")
        let label = ctx.label(prefix: "fig")
        let pct = r.delta.map { $0.map { $0.isNaN ? 0 : Double($0) * 100 } }
        let bars = Figure.barChart(BarChart(categories: r.classNames, groups: pct.enumerated().map { BarGroup(name: "cluster \($0.offset)", values: $0.element) },
                                            title: "\(o.model): accuracy drop per class, \(o.mode.rawValue) ablation", xTitle: "class",
                                            yTitle: "Δ test accuracy", unit: "points"))
        let heat = Figure.heatMap(HeatMap(values: Matrix(pct), rowLabels: (0..<cl.k).map { "cluster \($0)" }, columnLabels: r.classNames,
                                          rowTitle: "ablated cluster", columnTitle: "class", title: "Δ accuracy (points)",
                                          colorMap: .rdBu, limits: .symmetric, annotation: .decimals(1), colorBarTitle: "points"))
        let f1 = try FigureFile.save(bars, label: label, caption: ctx.cell.options.caption, width: 720, height: 380, directory: ctx.directory)
        let f2 = try FigureFile.save(heat, label: "\(label)-heat", caption: nil, width: 720, height: 300, directory: ctx.directory)
        let rows = (0..<cl.k).map { c -> [String] in
            let s = cl.sizes[c]
            return ["\(c)", "\(s[0])×\(s[1])", String(format: "%.2f", r.ablatedAccuracy[c] * 100), r.classNames[r.topClass[c]],
                    String(format: "%.2f", r.specialisation[c])]
        }
        let table = TableOutput(label: "\(label)-table", caption: "Cluster ablation of \(o.model) \(o.layer) (\(o.mode.rawValue)); intact accuracy "
                                + String(format: "%.2f %%.", r.accuracy * 100),
                                columns: ["Cluster", "Size", "Accuracy after (%)", "Most affected class", "Specialisation"],
                                rows: rows, numeric: [true, false, true, false, true])
        return CellResult(produced: [stored], outputs: [f1, f2, .table(table)])
    }
}

/// `step: ecs` — effective circuit size per class of one or more models (bar chart, one group per model, and a table).
public struct ECSStep: DeclaredStep {
    public let name = "ecs"
    public let summary = "effective circuit size per class: bar chart and table"

    public struct Options {
        public init() {}
        public var models: [String] = []
        public var data: String?
    }

    public static let arguments = Arguments<Options>(defaults: { Options() }, [
        .texts("models", \.models, .names(.model), required: true, help: "the models; results <model>.ecs"),
        .text("data", \.data, .name(.data), help: "the test data", default: "the first model's data"),
    ])

    public init() {}
    public func initialOptions(_ ctx: CellContext) -> Options { Options() }

    public func inputs(_ ctx: CellContext, _ ws: Workspace) throws -> StepInputs {
        let o = try options(ctx)
        var names = o.models.map { WorkspaceName(.model, $0) }
        if let d = o.data ?? ws.models[o.models[0]]?.record.data { names.append(WorkspaceName(.data, d)) }
        return StepInputs(names: names)
    }

    public func run(_ ctx: CellContext, _ ws: Workspace) throws -> CellResult<Produced> {
        let o = try options(ctx)
        let test = try ws.dataPair(o.data ?? ws.modelRecord(o.models[0]).data).test
        var produced: [Produced] = [], results: [ECSResult] = []
        for n in o.models {
            let r = try EffectiveCircuitSize.run(try ws.model(n).model, test: test)
            produced.append(try ws.addResult(r, name: "\(n).ecs"))
            results.append(r)
        }
        let label = ctx.label(prefix: "fig")
        let classes = results[0].classes.map(\.className)
        let chart = Figure.barChart(BarChart(categories: classes,
                                             groups: zip(o.models, results).map { BarGroup(name: $0, values: $1.classes.map { $0.ecs * 100 }) },
                                             title: "Effective circuit size per class", xTitle: "class",
                                             yTitle: "Linear weights in the circuit", unit: "%"))
        let fig = try FigureFile.save(chart, label: label, caption: ctx.cell.options.caption, width: 720, height: 380, directory: ctx.directory)
        let rows = classes.indices.map { c in [classes[c]] + results.map { String(format: "%.4f", $0.classes[c].ecs) } }
            + [["mean"] + results.map { String(format: "%.4f", $0.meanECS) }]
        let table = TableOutput(label: "\(label)-table", caption: "ECS per class (fraction of the \(results[0].totalWeights) Linear weights left non-zero).",
                                columns: ["Class"] + o.models, rows: rows, numeric: [false] + o.models.map { _ in true })
        let cards = zip(o.models, results).map { n, r in
            MetricCard(name: "\(n).ecs", label: "\(n) mean ECS", value: r.meanECS, direction: .lower, display: String(format: "%.4f", r.meanECS))
        }
        return CellResult(produced: produced, outputs: [.metrics(cards), fig, .table(table)])
    }
}

/// `step: ncut` — normalised cut of the whole-network |W| graph (Filan et al.) with a layer-shuffle null.
public struct NCutStep: DeclaredStep {
    public let name = "ncut"
    public let summary = "n-cut of the whole network's |W| graph with a layer-shuffle null"

    public struct Options {
        public init() {}
        public var models: [String] = []
        public var k = 12
        public var null = 20
        public var seed: UInt64 = 0
    }

    public static let arguments = Arguments<Options>(defaults: { Options() }, [
        .texts("models", \.models, .names(.model), required: true, help: "the models; results <model>.ncut"),
        .int("k", \.k, min: 2, help: "clusters of the spectral clustering"),
        .int("null", \.null, min: 0, help: "layer shuffles for the null"),
        .seed(\.seed),
    ])

    public init() {}
    public func initialOptions(_ ctx: CellContext) -> Options { var o = Options(); o.seed = ctx.seed; return o }

    public func inputs(_ ctx: CellContext, _ ws: Workspace) throws -> StepInputs {
        StepInputs(names: try options(ctx).models.map { WorkspaceName(.model, $0) })
    }

    public func run(_ ctx: CellContext, _ ws: Workspace) throws -> CellResult<Produced> {
        let o = try options(ctx)
        var rows: [[String]] = [], produced: [Produced] = [], cards: [MetricCard] = []
        for n in o.models {
            let r = try NCut.assess(try ws.model(n).model, k: o.k, seed: o.seed, nullDraws: o.null)
            produced.append(try ws.addResult(r, name: "\(n).ncut"))
            let mean = r.nullValues.isEmpty ? Double.nan : r.nullValues.reduce(0, +) / Double(r.nullValues.count)
            rows.append([n, String(format: "%.3f", r.ncut), String(format: "%.3f", mean), r.pValue.map { String(format: "%.3f", $0) } ?? "–",
                         "\(r.nodes - r.isolated)", "\(r.isolated)"])
            cards.append(MetricCard(name: "\(n).ncut", label: "\(n) n-cut (k = \(o.k))", value: r.ncut, direction: .lower,
                                    display: String(format: "%.3f", r.ncut)))
        }
        let table = TableOutput(label: ctx.label(prefix: "tbl"), caption: ctx.cell.options.caption,
                                columns: ["Model", "n-cut", "Shuffled mean", "p (left-tailed)", "Nodes", "Isolated"],
                                rows: rows, numeric: [false, true, true, true, true, true])
        return CellResult(produced: produced, outputs: [.metrics(cards), .table(table)])
    }
}
