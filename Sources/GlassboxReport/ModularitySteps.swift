import Foundation
import GlassboxAnalysis
import GlassboxCore
import GlassboxData
import GlassboxFigures
import GlassboxNN

// Modularity steps (METHODS.md §1): train-modular, cluster, ablate, ecs, modularity-figure.
// The analysis lives in GlassboxAnalysis; these steps only wire workspace names to it and build figures.

/// What `train-modular` stores as a result (`<name>.modularity`).
public struct ModularStepResult: Codable, Sendable {
    public var model: String
    public var lambda: Float
    public var mode: String
    public var training: ModularTrainingResult
}

/// What `cluster` stores as a result.
public struct ClusterStepResult: Codable, Sendable {
    public var model: String
    public var layer: String
    public var affinity: Affinity
    public var report: ClusterabilityReport
    public init(model: String, layer: String, affinity: Affinity, report: ClusterabilityReport) {
        self.model = model; self.layer = layer; self.affinity = affinity; self.report = report
    }
}

func decodeResult<T: Decodable>(_ ws: Workspace, _ name: String, _ type: T.Type) -> T? {
    guard let json = ws.results[name] else { return nil }
    return try? ReportJSON.decoder().decode(type, from: Data(json.utf8))
}

func encodeResult<T: Encodable>(_ v: T) throws -> String { String(decoding: try ReportJSON.encode(v), as: UTF8.self) }

func seedArg(_ a: CellArgs, _ ctx: CellContext) throws -> UInt64 {
    try a.string("seed").map { s -> UInt64 in
        guard let v = UInt64(s) else { throw a.error("seed", expected: "a whole number ≥ 0", found: "'\(s)'") }
        return v
    } ?? ctx.seed
}

/// `step: train-modular` — trains a model with the enmeshment loss `CE + λ·(1 − C)` on chosen Linear layers.
///
/// Arguments: `model` (spec), `data`, `name`, `epochs` (6), `batch` (64), `lr` (Adam, 0.001), `seed`, `lambda` (0.7;
/// 0 trains normally but still logs C), `k` (4), `layers` (list of Linear weights, default [2.weight]),
/// `mode` (from-scratch | fine-tune), `pretrain` (fine-tune epochs without the loss, default half the epochs).
/// Produces the model and the result `<name>.modularity` (clusters, C per epoch).
public struct TrainModularStep: Step {
    public let name = "train-modular"
    static let allowed = ["model", "data", "name", "epochs", "batch", "lr", "seed", "lambda", "k", "layers", "mode", "pretrain"]

    public func inputs(_ ctx: CellContext, _ ws: Workspace) throws -> StepInputs {
        try ctx.args.allowOnly(Self.allowed)
        return StepInputs(names: [WorkspaceName(.data, try ctx.args.requireString("data"))])
    }

    public func run(_ ctx: CellContext, _ ws: Workspace) throws -> CellResult {
        let a = ctx.args
        let spec: ModelSpec
        do { spec = try ModelSpec.parse(try a.requireString("model")) } catch let e as GlassboxError {
            throw a.error("model", expected: "a model spec", found: "\(e)")
        }
        let dataName = try a.requireString("data")
        let modelName = try a.string("name") ?? "modular"
        let epochs = try a.positiveInt("epochs") ?? 6
        let seed = try seedArg(a, ctx)
        let lambda = try a.float("lambda") ?? 0.7
        guard lambda >= 0 else { throw a.error("lambda", expected: "a value ≥ 0", found: "\(lambda)") }
        let k = try a.positiveInt("k") ?? 4
        let layers = try a.strings("layers") ?? ["2.weight"]
        let modeName = try a.oneOf("mode", ["from-scratch", "fine-tune"], default: "from-scratch")
        let mode: ModularMode = modeName == "fine-tune" ? .fineTune(pretrainEpochs: try a.int("pretrain") ?? epochs / 2) : .fromScratch
        let train = TrainConfig(epochs: epochs, batchSize: try a.positiveInt("batch") ?? 64,
                                optimizer: .adam(lr: try a.float("lr") ?? 0.001), seed: seed)
        let pair = try ws.dataPair(dataName)
        let model = try Sequential(spec: spec, seed: seed)
        for l in layers {
            do { _ = try ModelAccess.linear(model, l) } catch let e as GlassboxError { throw a.error("layers", expected: "Linear weights of the model", found: "\(e)") }
        }
        let result = try ModularTraining.train(model, config: ModularTrainingConfig(train: train, lambda: lambda, k: k, layers: layers,
                                                                                    mode: mode, clusterSeed: seed),
                                               train: pair.train, test: pair.test, label: modelName)
        let checkpoint = "model.safetensors"
        try Checkpoint.save(model, to: (ctx.directory as NSString).appendingPathComponent(checkpoint))
        let record = ModelRecord(spec: spec.description, checkpoint: checkpoint, data: dataName, history: result.history,
                                 parameterCount: model.parameterCount)
        ws.add(.model(name: modelName, record: record), directory: ctx.directory, live: model)
        let json = try encodeResult(ModularStepResult(model: modelName, lambda: lambda, mode: modeName, training: result))
        let resultName = "\(modelName).modularity"
        ws.add(.result(name: resultName, json: json), directory: ctx.directory)
        var text = "Model '\(modelName)' (\(spec.description)) trained for \(epochs) epochs on '\(dataName)' with the enmeshment loss "
            + "(λ = \(formatNumber(lambda)), k = \(k), \(modeName)) on \(layers.joined(separator: ", "))"
        for l in layers {
            if let c = result.clusterabilityPerEpoch[l], let first = c.first, let last = c.last {
                text += String(format: "; C(%@) %.3f → %.3f", l, first, last)
            }
        }
        if let acc = result.history.epochs.last?.testAccuracy { text += String(format: "; test accuracy %.2f %%", acc * 100) }
        return CellResult(produced: [.model(name: modelName, record: record), .result(name: resultName, json: json)],
                          outputs: [.text(text + ".")])
    }
}

/// `step: cluster` — BSGC of one Linear layer, clusterability with its baseline and shuffle null, and the |W|
/// heat maps (unordered, and reordered by co-cluster).
///
/// Arguments: `model`, `layer` (2.weight), `k` (4), `affinity` (weight | gradient | weight-gradient), `data` (for the
/// gradient affinities; default the model's data), `null` (shuffles, 50), `seed`, `name` (default `<model>.clusters`).
public struct ClusterStep: Step {
    public let name = "cluster"
    static let allowed = ["model", "layer", "k", "affinity", "data", "null", "seed", "name"]

    public func inputs(_ ctx: CellContext, _ ws: Workspace) throws -> StepInputs {
        let a = ctx.args
        try a.allowOnly(Self.allowed)
        let m = try a.requireString("model")
        var names = [WorkspaceName(.model, m)]
        if try a.oneOf("affinity", Affinity.allCases.map(\.rawValue), default: "weight") != "weight" {
            if let d = try a.string("data") ?? ws.models[m]?.record.data { names.append(WorkspaceName(.data, d)) }
        }
        return StepInputs(names: names)
    }

    public func run(_ ctx: CellContext, _ ws: Workspace) throws -> CellResult {
        let a = ctx.args
        let modelName = try a.requireString("model")
        let (record, model) = try ws.model(modelName)
        let layer = try a.string("layer") ?? "2.weight"
        let lin: Linear
        do { lin = try ModelAccess.linear(model, layer) } catch let e as GlassboxError { throw a.error("layer", expected: "a Linear weight", found: "\(e)") }
        let k = try a.positiveInt("k") ?? 4
        let affinity = Affinity(rawValue: try a.oneOf("affinity", Affinity.allCases.map(\.rawValue), default: "weight"))!
        let seed = try seedArg(a, ctx)
        let nullDraws = try a.int("null") ?? 50
        var data: Dataset?
        if affinity != .weight { data = try ws.dataPair(try a.string("data") ?? record.data).train }
        let aff = try BSGC.affinity(affinity, model: model, layer: layer, data: data)
        let clusters = try BSGC.coCluster(affinity: aff, k: k, seed: seed)
        let report = try Clusterability.assess(weight: lin.weight.value, clusters: clusters, seed: seed, nullDraws: nullDraws)
        let resultName = try a.string("name") ?? "\(modelName).clusters"
        let json = try encodeResult(ClusterStepResult(model: modelName, layer: layer, affinity: affinity, report: report))
        ws.add(.result(name: resultName, json: json), directory: ctx.directory)

        let w = lin.weight.value, m = w.shape[0], n = w.shape[1]
        let absW = w.scalars.map { Double(abs($0)) }
        let ro = clusters.rowOrder, co = clusters.columnOrder
        var ordered = [Double](repeating: 0, count: m * n)
        for (i, oi) in ro.enumerated() { for (j, oj) in co.enumerated() { ordered[i * n + j] = absW[oi * n + oj] } }
        let label = ctx.label(prefix: "fig")
        func lab(_ order: [Int], _ labels: [Int]) -> [String]? {
            order.count > 32 ? nil : order.map { labels[$0] < 0 ? "–" : "\(labels[$0])" }
        }
        let plain = Figure.heatMap(HeatMap(values: Matrix(rows: m, columns: n, values: absW), rowTitle: "output unit",
                                           columnTitle: "input unit", title: "|W| of \(modelName) \(layer)", colorMap: .viridis,
                                           colorBarTitle: "|W|"))
        let sorted = Figure.heatMap(HeatMap(values: Matrix(rows: m, columns: n, values: ordered),
                                            rowLabels: lab(ro, clusters.rowLabels), columnLabels: lab(co, clusters.columnLabels),
                                            rowTitle: "output unit (by co-cluster)", columnTitle: "input unit (by co-cluster)",
                                            title: "|W| reordered by co-cluster", colorMap: .viridis, colorBarTitle: "|W|"))
        let f1 = try FigureStep.save(plain, label: "\(label)-unordered",
                                     caption: "|W| of \(modelName) \(layer) in stored unit order, for comparison.",
                                     width: 360, height: 340, directory: ctx.directory)
        let f2 = try FigureStep.save(sorted, label: label, caption: ctx.cell.options.caption, width: 360, height: 340, directory: ctx.directory)
        let cards = [
            MetricCard(name: "\(resultName).clusterability", label: "\(modelName) \(layer) clusterability C", value: Double(report.clusterability),
                       direction: "higher", display: String(format: "%.3f", report.clusterability)),
            MetricCard(name: "\(resultName).baseline", label: "random baseline", value: Double(report.baseline), direction: "lower",
                       display: String(format: "%.3f", report.baseline)),
        ] + (report.pValue.map { [MetricCard(name: "\(resultName).p", label: "shuffle p (\(report.nullValues.count) draws)", value: Double($0),
                                             direction: "lower", display: String(format: "%.3f", $0))] } ?? [])
        let sizes = clusters.sizes.map { "\($0[0])×\($0[1])" }.joined(separator: ", ")
        var text = "Co-clusters of \(modelName) \(layer) (\(affinity.rawValue) affinity, k = \(k)): sizes \(sizes)"
        if !clusters.deadRows.isEmpty || !clusters.deadColumns.isEmpty {
            text += "; dead units left out: \(clusters.deadRows.count) rows, \(clusters.deadColumns.count) columns"
        }
        if !report.nullValues.isEmpty {
            let mean = report.nullValues.reduce(0, +) / Float(report.nullValues.count)
            text += String(format: "; shuffled C mean %.3f", mean)
        }
        return CellResult(produced: [.result(name: resultName, json: json)], outputs: [.metrics(cards), .text(text + "."), f1, f2])
    }
}

/// The co-clusters a result holds (from `cluster` or `train-modular`) for `layer`.
func clusters(in ws: Workspace, _ a: CellArgs, name: String, layer: String) throws -> CoClustering {
    if let r = decodeResult(ws, name, ClusterStepResult.self) {
        guard r.layer == layer || "\(r.layer).weight" == layer || r.layer == "\(layer).weight" else {
            throw a.error("clusters", expected: "co-clusters of layer \(layer)", found: "'\(name)' is for \(r.layer)")
        }
        return r.report.clusters
    }
    if let r = decodeResult(ws, name, ModularStepResult.self) {
        let key = layer.hasSuffix(".weight") ? layer : "\(layer).weight"
        guard let c = r.training.clusters[key] else {
            throw a.error("clusters", expected: "co-clusters of layer \(layer)", found: "'\(name)' has \(r.training.clusters.keys.sorted())")
        }
        return c
    }
    throw a.error("clusters", expected: "the result of a cluster or train-modular cell", found: "'\(name)'")
}

/// `step: ablate` — per-class test accuracy with each co-cluster removed; bar chart (Δ accuracy per class, one group
/// per cluster) and heat map (clusters × classes).
///
/// Arguments: `model`, `clusters` (result name: `<model>.clusters` from `cluster`, or `<model>.modularity`), `layer`
/// (2.weight), `mode` (block | unit), `data` (default the model's data), `name`.
public struct AblateStep: Step {
    public let name = "ablate"
    static let allowed = ["model", "clusters", "layer", "mode", "data", "name"]

    public func inputs(_ ctx: CellContext, _ ws: Workspace) throws -> StepInputs {
        let a = ctx.args
        try a.allowOnly(Self.allowed)
        let m = try a.requireString("model")
        var names = [WorkspaceName(.model, m), WorkspaceName(.result, try a.requireString("clusters"))]
        if let d = try a.string("data") ?? ws.models[m]?.record.data { names.append(WorkspaceName(.data, d)) }
        return StepInputs(names: names)
    }

    public func run(_ ctx: CellContext, _ ws: Workspace) throws -> CellResult {
        let a = ctx.args
        let modelName = try a.requireString("model")
        let (record, model) = try ws.model(modelName)
        let layer = try a.string("layer") ?? "2.weight"
        let cl = try clusters(in: ws, a, name: try a.requireString("clusters"), layer: layer)
        let mode = AblationMode(rawValue: try a.oneOf("mode", AblationMode.allCases.map(\.rawValue), default: "block"))!
        let test = try ws.dataPair(try a.string("data") ?? record.data).test
        let r = try ClusterAblation.run(model, layer: layer, clusters: cl, test: test, mode: mode)
        let resultName = try a.string("name") ?? "\(modelName).ablation-\(mode.rawValue)"
        let json = try encodeResult(r)
        ws.add(.result(name: resultName, json: json), directory: ctx.directory)
        let label = ctx.label(prefix: "fig")
        let pct = r.delta.map { $0.map { $0.isNaN ? 0 : Double($0) * 100 } }
        let bars = Figure.barChart(BarChart(categories: r.classNames, groups: pct.enumerated().map { BarGroup(name: "cluster \($0.offset)", values: $0.element) },
                                            title: "\(modelName): accuracy drop per class, \(mode.rawValue) ablation", xTitle: "class",
                                            yTitle: "Δ test accuracy", unit: "points"))
        let heat = Figure.heatMap(HeatMap(values: Matrix(pct), rowLabels: (0..<cl.k).map { "cluster \($0)" }, columnLabels: r.classNames,
                                          rowTitle: "ablated cluster", columnTitle: "class", title: "Δ accuracy (points)",
                                          colorMap: .rdBu, limits: .symmetric, annotation: .decimals(1), colorBarTitle: "points"))
        let f1 = try FigureStep.save(bars, label: label, caption: ctx.cell.options.caption, width: 720, height: 380, directory: ctx.directory)
        let f2 = try FigureStep.save(heat, label: "\(label)-heat", caption: nil, width: 720, height: 300, directory: ctx.directory)
        let rows = (0..<cl.k).map { c -> [String] in
            let s = cl.sizes[c]
            return ["\(c)", "\(s[0])×\(s[1])", String(format: "%.2f", r.ablatedAccuracy[c] * 100), r.classNames[r.topClass[c]],
                    String(format: "%.2f", r.specialisation[c])]
        }
        let table = TableOutput(label: "\(label)-table", caption: "Cluster ablation of \(modelName) \(layer) (\(mode.rawValue)); intact accuracy "
                                + String(format: "%.2f %%.", r.accuracy * 100),
                                columns: ["Cluster", "Size", "Accuracy after (%)", "Most affected class", "Specialisation"],
                                rows: rows, numeric: [true, false, true, false, true])
        return CellResult(produced: [.result(name: resultName, json: json)], outputs: [f1, f2, .table(table)])
    }
}

/// `step: ecs` — effective circuit size per class of one or more models (bar chart, one group per model, and a table).
///
/// Arguments: `models` (list), `data` (default the first model's data), `name` (result prefix).
public struct ECSStep: Step {
    public let name = "ecs"

    public func inputs(_ ctx: CellContext, _ ws: Workspace) throws -> StepInputs {
        let a = ctx.args
        try a.allowOnly(["models", "model", "data"])
        let models = try modelNames(a)
        var names = models.map { WorkspaceName(.model, $0) }
        if let d = try a.string("data") ?? ws.models[models[0]]?.record.data { names.append(WorkspaceName(.data, d)) }
        return StepInputs(names: names)
    }

    func modelNames(_ a: CellArgs) throws -> [String] {
        guard let m = try a.strings("models") ?? a.strings("model"), !m.isEmpty else {
            throw a.error("models", expected: "a list of model names", found: "none")
        }
        return m
    }

    public func run(_ ctx: CellContext, _ ws: Workspace) throws -> CellResult {
        let a = ctx.args
        let names = try modelNames(a)
        let first = try ws.model(names[0])
        let test = try ws.dataPair(try a.string("data") ?? first.record.data).test
        var produced: [Produced] = [], results: [ECSResult] = []
        for n in names {
            let r = try EffectiveCircuitSize.run(try ws.model(n).model, test: test)
            let json = try encodeResult(r)
            ws.add(.result(name: "\(n).ecs", json: json), directory: ctx.directory)
            produced.append(.result(name: "\(n).ecs", json: json))
            results.append(r)
        }
        let label = ctx.label(prefix: "fig")
        let classes = results[0].classes.map(\.className)
        let chart = Figure.barChart(BarChart(categories: classes,
                                             groups: zip(names, results).map { BarGroup(name: $0, values: $1.classes.map { $0.ecs * 100 }) },
                                             title: "Effective circuit size per class", xTitle: "class",
                                             yTitle: "Linear weights in the circuit", unit: "%"))
        let fig = try FigureStep.save(chart, label: label, caption: ctx.cell.options.caption, width: 720, height: 380, directory: ctx.directory)
        let rows = classes.indices.map { c in [classes[c]] + results.map { String(format: "%.4f", $0.classes[c].ecs) } }
            + [["mean"] + results.map { String(format: "%.4f", $0.meanECS) }]
        let table = TableOutput(label: "\(label)-table", caption: "ECS per class (fraction of the \(results[0].totalWeights) Linear weights left non-zero).",
                                columns: ["Class"] + names, rows: rows, numeric: [false] + names.map { _ in true })
        let cards = zip(names, results).map { n, r in
            MetricCard(name: "\(n).ecs", label: "\(n) mean ECS", value: r.meanECS, direction: "lower", display: String(format: "%.4f", r.meanECS))
        }
        return CellResult(produced: produced, outputs: [.metrics(cards), fig, .table(table)])
    }
}

/// `step: modularity-figure` — `kind: clusterability`: C per epoch of `train-modular` results (`results`, `layer`).
public struct ModularityFigureStep: Step {
    public let name = "modularity-figure"

    public func inputs(_ ctx: CellContext, _ ws: Workspace) throws -> StepInputs {
        try ctx.args.allowOnly(["kind", "results", "layer", "title", "width", "height"])
        _ = try ctx.args.oneOf("kind", ["clusterability"], default: "clusterability")
        guard let r = try ctx.args.strings("results"), !r.isEmpty else {
            throw ctx.args.error("results", expected: "a list of train-modular results such as [modular.modularity]", found: "none")
        }
        return StepInputs(names: r.map { WorkspaceName(.result, $0) })
    }

    public func run(_ ctx: CellContext, _ ws: Workspace) throws -> CellResult {
        let a = ctx.args
        let layer = try a.string("layer") ?? "2.weight"
        var series: [LineSeries] = []
        for n in try a.strings("results") ?? [] {
            guard let r = decodeResult(ws, n, ModularStepResult.self) else {
                throw a.error("results", expected: "results of train-modular cells", found: "'\(n)'")
            }
            guard let c = r.training.clusterabilityPerEpoch[layer] else {
                throw a.error("layer", expected: "a layer regularised in '\(n)'", found: "'\(layer)'")
            }
            let offset = r.training.history.epochs.count - (c.count - 1)
            series.append(LineSeries(name: "\(r.model) (λ = \(formatNumber(r.lambda)))", x: c.indices.map { Double($0 + offset) },
                                     y: c.map(Double.init)))
        }
        let fig = Figure.linePlot(LinePlot(series: series, title: try a.string("title"), xTitle: "epoch",
                                           yTitle: "clusterability C of \(layer)", markers: true))
        return CellResult(outputs: [try FigureStep.save(fig, label: ctx.label(prefix: "fig"), caption: ctx.cell.options.caption,
                                                        width: try a.positiveInt("width") ?? 720, height: try a.positiveInt("height") ?? 360,
                                                        directory: ctx.directory)])
    }
}

/// `step: ncut` — normalised cut of the whole-network |W| graph (Filan et al.), k = 12 by default, with a
/// layer-shuffle null. Arguments: `models` (list), `k` (12), `null` (shuffles, 20), `seed`.
public struct NCutStep: Step {
    public let name = "ncut"

    public func inputs(_ ctx: CellContext, _ ws: Workspace) throws -> StepInputs {
        try ctx.args.allowOnly(["models", "model", "k", "null", "seed"])
        guard let m = try ctx.args.strings("models") ?? ctx.args.strings("model"), !m.isEmpty else {
            throw ctx.args.error("models", expected: "a list of model names", found: "none")
        }
        return StepInputs(names: m.map { WorkspaceName(.model, $0) })
    }

    public func run(_ ctx: CellContext, _ ws: Workspace) throws -> CellResult {
        let a = ctx.args
        let names = try a.strings("models") ?? a.strings("model") ?? []
        let k = try a.positiveInt("k") ?? 12
        let draws = try a.int("null") ?? 20
        let seed = try seedArg(a, ctx)
        var rows: [[String]] = [], produced: [Produced] = [], cards: [MetricCard] = []
        for n in names {
            let r = try NCut.assess(try ws.model(n).model, k: k, seed: seed, nullDraws: draws)
            let json = try encodeResult(r)
            ws.add(.result(name: "\(n).ncut", json: json), directory: ctx.directory)
            produced.append(.result(name: "\(n).ncut", json: json))
            let mean = r.nullValues.isEmpty ? Double.nan : r.nullValues.reduce(0, +) / Double(r.nullValues.count)
            rows.append([n, String(format: "%.3f", r.ncut), String(format: "%.3f", mean), r.pValue.map { String(format: "%.3f", $0) } ?? "–",
                         "\(r.nodes - r.isolated)", "\(r.isolated)"])
            cards.append(MetricCard(name: "\(n).ncut", label: "\(n) n-cut (k = \(k))", value: r.ncut, direction: "lower",
                                    display: String(format: "%.3f", r.ncut)))
        }
        let table = TableOutput(label: ctx.label(prefix: "tbl"), caption: ctx.cell.options.caption,
                                columns: ["Model", "n-cut", "Shuffled mean", "p (left-tailed)", "Nodes", "Isolated"],
                                rows: rows, numeric: [false, true, true, true, true, true])
        return CellResult(produced: produced, outputs: [.metrics(cards), .table(table)])
    }
}
