import Foundation
import GlassboxAnalysis
import GlassboxCore
import GlassboxData
import GlassboxFigures
import GlassboxNN

/// `step: prune` — prunes a copy of a trained model (METHODS §2) and puts it in the workspace with its masks,
/// plus the per-round record as a result under the same name.
///
/// Arguments: `model`, `data` (default: the model's data), `name` (default: MODEL-pruned), `method`
/// (magnitude|regions), `amount` (magnitude: fraction of the remaining weights per round; regions: fraction of
/// the regions, default 0.4) or `q` (magnitude: threshold q × std), `rounds` (1; regions: repeats of steps 3–5),
/// `retrain-epochs` (1), `lr` (default: the model's training rate / 10), `momentum` (0), `batch` (100),
/// `scope` (layer|global), `granularity` (weights|units|inputs; with method regions: step 2's), `layers` (indices; default all linear/conv layers),
/// `magnitude-amount` (regions step 2, default 0.5), `connectivity` (4|8), `ranking` (global|unit), `seed`.
public struct PruneStep: Step {
    public let name = "prune"
    static let allowed = ["model", "data", "name", "method", "amount", "q", "rounds", "retrain-epochs", "lr", "momentum", "batch",
                          "scope", "granularity", "layers", "magnitude-amount", "connectivity", "ranking", "seed"]

    public init() {}

    public func inputs(_ ctx: CellContext, _ ws: Workspace) throws -> StepInputs {
        try ctx.args.allowOnly(Self.allowed)
        return try StepInputs.modelAndData(ctx, ws)
    }

    public func run(_ ctx: CellContext, _ ws: Workspace) throws -> CellResult {
        let a = ctx.args
        let modelName = try a.requireString("model")
        let (record, original) = try ws.model(modelName)
        let dataName = try a.string("data") ?? record.data
        let outName = try a.string("name") ?? "\(modelName)-pruned"
        let method = try a.oneOf("method", ["magnitude", "regions"], default: "magnitude")
        let baseLR = record.history.epochs.first?.learningRate
        let lr = try a.float("lr") ?? (baseLR.map { $0 / 10 } ?? 0.01)
        let seed = try a.string("seed").map { s -> UInt64 in
            guard let v = UInt64(s) else { throw a.error("seed", expected: "a whole number ≥ 0", found: "'\(s)'") }
            return v
        } ?? ctx.seed
        let retrainEpochs = try a.int("retrain-epochs") ?? 1
        guard retrainEpochs >= 0 else { throw a.error("retrain-epochs", expected: "a whole number ≥ 0", found: "\(retrainEpochs)") }
        let retrain = RetrainConfig(epochs: retrainEpochs, batchSize: try a.positiveInt("batch") ?? 100,
                                    optimizer: .sgd(lr: lr, momentum: try a.float("momentum") ?? 0), seed: seed)
        let rounds = try a.positiveInt("rounds") ?? 1
        let pair = try ws.dataPair(dataName)
        let model = try Self.copy(original, name: modelName)
        let result: PruningResult
        do {
            if method == "magnitude" {
                let criterion: PruningCriterion
                switch (try a.float("amount"), try a.float("q")) {
                case let (amount?, nil): criterion = .amount(Double(amount))
                case let (nil, q?): criterion = .stdMultiple(Double(q))
                case (nil, nil): throw a.error("amount", expected: "'amount' (fraction of the remaining weights) or 'q' (threshold q × std)", found: "neither")
                default: throw a.error("q", expected: "either 'amount' or 'q', not both", found: "both")
                }
                let scope = PruningScope(rawValue: try a.oneOf("scope", ["layer", "global"], default: "layer"))!
                let granularity = PruningGranularity(rawValue: try a.oneOf("granularity", ["weights", "units", "inputs"], default: "weights"))!
                let layers = try a.strings("layers").map { try $0.map { s -> Int in
                    guard let i = Int(s) else { throw a.error("layers", expected: "layer indices such as [0, 2, 4]", found: "'\(s)'") }
                    return i
                } }
                let config = MagnitudePruningConfig(criterion: criterion, scope: scope, granularity: granularity, rounds: rounds,
                                                    retrain: retrain, layers: layers)
                result = try Pruner.magnitude(model, train: pair.train, test: pair.test, config: config)
            } else {
                for k in ["q", "scope", "layers"] where a.has(k) {
                    throw a.error(k, expected: "no '\(k)' with method regions (it prunes the first linear layer)", found: "'\(k)'")
                }
                let connectivity = try Connectivity(Int(try a.oneOf("connectivity", ["4", "8"], default: "4"))!)
                let ranking = RegionRanking(rawValue: try a.oneOf("ranking", ["global", "unit"], default: "global"))!
                let config = RegionPruningConfig(magnitudeAmount: Double(try a.float("magnitude-amount") ?? 0.5),
                                                 magnitudeGranularity: PruningGranularity(rawValue: try a.oneOf("granularity", ["weights", "units", "inputs"], default: "weights"))!,
                                                 regionFraction: Double(try a.float("amount") ?? 0.4), connectivity: connectivity,
                                                 ranking: ranking, repeats: rounds, retrain: retrain)
                result = try Pruner.regions(model, train: pair.train, test: pair.test, config: config)
            }
        } catch let e as GlassboxError {
            // Point at the recipe line of the argument the analysis rejected.
            if case let .invalidArgument(n, expected, found) = e, a.has(n) { throw a.error(n, expected: expected, found: found) }
            throw e
        }
        let checkpoint = "model.safetensors"
        try Checkpoint.save(model, to: (ctx.directory as NSString).appendingPathComponent(checkpoint),
                            metadata: ["pruned_from": modelName, "pruning_method": method])
        // The pruned model's history is its retraining, epochs numbered across rounds.
        var history = record.history
        history.epochs = result.rounds.flatMap(\.retraining)
        history.steps = 0
        for i in history.epochs.indices { history.epochs[i].epoch = i + 1 }
        let modelRecord = ModelRecord(spec: record.spec, checkpoint: checkpoint, data: dataName, history: history,
                                      parameterCount: model.parameterCount)
        let json = String(decoding: try ReportJSON.encode(result), as: UTF8.self)
        ws.add(.model(name: outName, record: modelRecord), directory: ctx.directory, live: model)
        ws.add(.result(name: outName, json: json), directory: ctx.directory)
        return CellResult(produced: [.model(name: outName, record: modelRecord), .result(name: outName, json: json)],
                          outputs: Self.outputs(result, name: outName, model: modelName, ctx: ctx))
    }

    /// A copy sharing nothing with the workspace's model (pruning works in place).
    static func copy(_ m: Sequential, name: String) throws -> Sequential {
        let c = try Sequential(spec: m.spec, seed: 0)
        try Checkpoint.assign(Checkpoint.file(for: m), to: c, path: "model '\(name)'")
        return c
    }

    static func pct(_ v: Float?) -> String { v.map { String(format: "%.2f", $0 * 100) } ?? "–" }

    static func outputs(_ r: PruningResult, name: String, model: String, ctx: CellContext) -> [CellOutput] {
        let b = r.before, f = r.after
        var text = String(format: "Model '%@' is '%@' pruned by %@: test accuracy %.2f %% → %.2f %%, %d of %d weights kept (%.2f %%, %.1f× fewer).",
                          name, model, r.method, b.testAccuracy * 100, f.testAccuracy * 100, f.keptWeights, f.totalWeights, f.keptPercent,
                          f.compression)
        let s = r.unitSplit
        text += String(format: " Units of %@: %d more than 90 %% pruned (%.0f %%), %d less than 40 %% pruned (%.0f %%), %d in between.",
                       r.firstLayer, s.above90, s.above90Share * 100, s.below40, s.below40Share * 100, s.between)
        if let rs = r.regionSplit {
            text += String(format: " Of the weights each unit still had after the magnitude step, region pruning removed more than 90 %% in %d units and less than 40 %% in %d (%d in between%@).",
                           rs.above90, rs.below40, rs.between,
                           rs.units < s.units ? String(format: "; %d units the magnitude step had emptied are not counted", s.units - rs.units) : "")
        }
        let layerNames = b.layers.map(\.name)
        let rows = r.rounds.map { round -> [String] in
            [String(round.round), round.label, pct(round.accuracyAfterPruning), pct(round.testAccuracy)]
                + round.layers.map { String(format: "%.2f", $0.keptPercent) }
                + [String(format: "%.2f", round.keptPercent), String(format: "%.1f", round.compression),
                   String(format: "%.1f", Double(round.sparseBytes) / 1024)]
        }
        let table = TableOutput(label: ctx.cell.options.label ?? "tbl-\(name)", caption: ctx.cell.options.caption,
                                columns: ["Round", "Step", "Accuracy before retraining (%)", "Test accuracy (%)"]
                                    + layerNames.map { "\($0) kept (%)" } + ["Total kept (%)", "Compression (×)", "Sparse size (KiB)"],
                                rows: rows, numeric: [true, false, true, true] + layerNames.map { _ in true } + [true, true, true])
        let cards = [
            MetricCard(name: "\(name).accuracy-before", label: "\(model) test accuracy", value: Double(b.testAccuracy), direction: "higher",
                       display: String(format: "%.2f %%", b.testAccuracy * 100)),
            MetricCard(name: "\(name).accuracy", label: "\(name) test accuracy", value: Double(f.testAccuracy), direction: "higher",
                       display: String(format: "%.2f %%", f.testAccuracy * 100)),
            MetricCard(name: "\(name).kept", label: "\(name) weights kept", value: f.keptPercent / 100, direction: "lower",
                       display: String(format: "%.2f %%", f.keptPercent)),
            MetricCard(name: "\(name).compression", label: "\(name) compression", value: f.compression, direction: "higher",
                       display: String(format: "%.1f×", f.compression)),
        ]
        return [.text(text), .metrics(cards), .table(table)]
    }
}

/// `step: prune-figure` — figures of pruned models.
///
/// Kinds: `weights` (model, layer, count 100, columns 20: red/blue weight images with pruned weights black),
/// `regions` (model, layer, count 20, columns 10, connectivity: white = kept regions, with their number),
/// `sparsity` (model, layer: per input pixel, the share of units keeping its weight), `accuracy` (results:
/// accuracy against weights kept over the rounds), `histogram` (models, layer: kept weights' values), `unit-pruned`
/// (results: histogram of the per-unit pruned fraction of the first layer).
public struct PruneFigureStep: Step {
    public let name = "prune-figure"
    static let kinds = ["weights", "regions", "sparsity", "accuracy", "histogram", "unit-pruned"]
    static let allowed = ["kind", "model", "models", "result", "results", "layer", "count", "columns", "connectivity", "bins",
                          "width", "height", "title"]

    public init() {}

    public func inputs(_ ctx: CellContext, _ ws: Workspace) throws -> StepInputs {
        let a = ctx.args
        try a.allowOnly(Self.allowed)
        switch try a.oneOf("kind", Self.kinds, default: "") {
        case "weights", "regions", "sparsity": return StepInputs(names: [WorkspaceName(.model, try a.requireString("model"))])
        case "histogram": return StepInputs(names: try list(a, "models", "model").map { WorkspaceName(.model, $0) })
        case "accuracy", "unit-pruned": return StepInputs(names: try list(a, "results", "result").map { WorkspaceName(.result, $0) })
        default: throw a.error("kind", expected: "one of \(Self.kinds.joined(separator: ", "))", found: "none")
        }
    }

    func list(_ a: CellArgs, _ plural: String, _ singular: String) throws -> [String] {
        guard let m = try a.strings(plural) ?? a.strings(singular), !m.isEmpty else {
            throw a.error(plural, expected: "a list of names", found: "none")
        }
        return m
    }

    func result(_ ws: Workspace, _ name: String) throws -> PruningResult {
        guard let json = ws.results[name] else { throw GlassboxError.message("no pruning result named '\(name)'") }
        return try ReportJSON.decode(PruningResult.self, from: Data(json.utf8), path: "result '\(name)'")
    }

    /// The linear layer named by `layer:` (index), else the first one, with its input image side.
    func linear(_ model: Sequential, _ a: CellArgs) throws -> (Linear, side: Int) {
        let lin: Linear
        if let i = try a.int("layer") {
            guard model.layers.indices.contains(i), let l = model.layers[i] as? Linear else {
                throw a.error("layer", expected: "the index of a linear layer in '\(model.spec)'", found: "\(i)")
            }
            lin = l
        } else {
            guard let l = model.layers.lazy.compactMap({ $0 as? Linear }).first else {
                throw a.error("model", expected: "a model with a linear layer", found: "'\(model.spec)'")
            }
            lin = l
        }
        let side = Int(Double(lin.inFeatures).squareRoot().rounded())
        guard side * side == lin.inFeatures else {
            throw a.error("layer", expected: "a linear layer with a square number of inputs (784 = 28×28)", found: "\(lin.inFeatures) inputs")
        }
        return (lin, side)
    }

    public func run(_ ctx: CellContext, _ ws: Workspace) throws -> CellResult {
        let a = ctx.args
        let kind = try a.oneOf("kind", Self.kinds, default: "")
        let title = try a.string("title")
        var width = 720, height = 360
        let figure: Figure
        switch kind {
        case "weights":
            let (_, model) = try ws.model(try a.requireString("model"))
            let (lin, side) = try linear(model, a)
            let count = min(try a.positiveInt("count") ?? 100, lin.outFeatures)
            let columns = try a.positiveInt("columns") ?? 20
            let mask = lin.weight.mask.map { $0.rows(0..<count) }
            figure = .weightImages(try WeightImages(weight: lin.weight.value.rows(0..<count), imageHeight: side, imageWidth: side, mask: mask,
                                                    scale: .perImage, columns: columns, labels: nil, title: title))
            let rows = (count + columns - 1) / columns
            height = 40 + rows * ((width - 20) / columns)
        case "regions":
            let (_, model) = try ws.model(try a.requireString("model"))
            let (lin, side) = try linear(model, a)
            let count = min(try a.positiveInt("count") ?? 20, lin.outFeatures)
            let columns = try a.positiveInt("columns") ?? 10
            let connectivity = try Connectivity(Int(try a.oneOf("connectivity", ["4", "8"], default: "4"))!)
            let n = side * side
            let mask = lin.weight.mask?.scalars ?? [Float](repeating: 1, count: lin.weight.value.count)
            var images: [FigureImage] = [], labels: [String] = []
            for u in 0..<count {
                let m = Array(mask[(u * n)..<((u + 1) * n)])
                let cc = try ConnectedComponents.label(mask: m, height: side, width: side, connectivity: connectivity)
                images.append(FigureImage(channels: 1, height: side, width: side, values: m))
                labels.append("\(u): \(cc.count) reg.")
            }
            figure = .imageGrid(ImageGrid(images: images, labels: labels, columns: columns, title: title))
            height = 40 + ((count + columns - 1) / columns) * 86
        case "sparsity":
            let (_, model) = try ws.model(try a.requireString("model"))
            let (lin, side) = try linear(model, a)
            let share = PruningMeasure.inputSurvival(lin.weight).map { $0 * 100 }
            figure = .heatMap(HeatMap(values: Matrix(rows: side, columns: side, values: share), rowTitle: "pixel row",
                                      columnTitle: "pixel column", title: title, colorMap: .viridis, limits: .fixed(low: 0, high: max(1, share.max() ?? 100)),
                                      colorBarTitle: "units keeping the pixel (%)"))
            width = 460; height = 400
        case "accuracy":
            var series: [LineSeries] = []
            for n in try list(a, "results", "result") {
                let r = try result(ws, n)
                series.append(LineSeries(name: "\(n) after retraining", x: r.rounds.map(\.keptPercent), y: r.rounds.map { Double($0.testAccuracy) * 100 }))
                let pruned = r.rounds.filter { $0.accuracyAfterPruning != nil }
                if !pruned.isEmpty {
                    series.append(LineSeries(name: "\(n) right after pruning", x: pruned.map(\.keptPercent),
                                             y: pruned.map { Double($0.accuracyAfterPruning!) * 100 }))
                }
            }
            figure = .linePlot(LinePlot(series: series, title: title, xTitle: "weights kept (%)", yTitle: "test accuracy (%)", markers: true))
        case "histogram":
            var series: [HistogramSeries] = []
            for n in try list(a, "models", "model") {
                let (_, model) = try ws.model(n)
                let (lin, _) = try linear(model, a)
                let v = lin.weight.value.scalars, m = lin.weight.mask?.scalars
                series.append(HistogramSeries(name: n, values: v.indices.compactMap { i in (m?[i] ?? 1) != 0 ? Double(v[i]) : nil }))
            }
            // Symmetric bins over ±(99.5th percentile of |w|) so a few outliers do not squeeze the bulk into a few bars.
            let mags = series.flatMap(\.values).map(abs).filter(\.isFinite).sorted()
            let limit = mags.isEmpty ? 1 : max(mags[min(mags.count - 1, Int(Double(mags.count) * 0.995))], 1e-6)
            let bins = try a.positiveInt("bins") ?? 80
            let edges = (0...bins).map { -limit + 2 * limit * Double($0) / Double(bins) }
            figure = .histogram(Histogram(series: series, bins: .edges(edges), title: title,
                                          xTitle: "weight value (kept weights; outside ±99.5th percentile of |w| not shown)", yTitle: "count"))
        default: // unit-pruned
            var series: [HistogramSeries] = []
            for n in try list(a, "results", "result") {
                let r = try result(ws, n)
                series.append(HistogramSeries(name: "\(n) (\(r.firstLayer))", values: r.unitPrunedFractions.map { $0 * 100 }))
            }
            figure = .histogram(Histogram(series: series, bins: .edges(stride(from: 0.0, through: 100, by: 5).map { $0 }), title: title,
                                          xTitle: "weights pruned per unit (%)", yTitle: "units"))
        }
        width = try a.positiveInt("width") ?? width
        height = try a.positiveInt("height") ?? height
        return CellResult(outputs: [try FigureStep.save(figure, label: ctx.label(prefix: "fig"), caption: ctx.cell.options.caption,
                                                        width: width, height: height, directory: ctx.directory)])
    }
}

/// `step: prune-compare` — one table comparing pruning results (`results: [...]`): the settings that differ,
/// accuracy before and after, weights kept, and the per-unit split of the first layer (of all its weights and,
/// for region pruning, of what survived the magnitude step).
public struct PruneCompareStep: Step {
    public let name = "prune-compare"
    static let allowed = ["results", "result"]

    public init() {}

    public func inputs(_ ctx: CellContext, _ ws: Workspace) throws -> StepInputs {
        try ctx.args.allowOnly(Self.allowed)
        return StepInputs(names: try PruneFigureStep().list(ctx.args, "results", "result").map { WorkspaceName(.result, $0) })
    }

    public func run(_ ctx: CellContext, _ ws: Workspace) throws -> CellResult {
        let names = try PruneFigureStep().list(ctx.args, "results", "result")
        let results = try names.map { try PruneFigureStep().result(ws, $0) }
        // Settings whose value is not the same in every result, in a fixed order.
        let keys = Set(results.flatMap(\.settings.keys)).sorted().filter { k in Set(results.map { $0.settings[k] ?? "–" }).count > 1 }
        let methods = Set(results.map(\.method)).count > 1
        func split(_ s: UnitSplit?) -> String { s.map { "\($0.above90) / \($0.between) / \($0.below40)" } ?? "–" }
        let rows = zip(names, results).map { n, r -> [String] in
            let first = r.after.layers.first { $0.name == r.firstLayer }
            return [n] + (methods ? [r.method] : []) + keys.map { r.settings[$0] ?? "–" } + [
                PruneStep.pct(r.before.testAccuracy), PruneStep.pct(r.after.testAccuracy),
                String(format: "%+.2f", (r.after.testAccuracy - r.before.testAccuracy) * 100),
                first.map { String(format: "%.1f", 100 - $0.keptPercent) } ?? "–",
                split(r.unitSplit), split(r.regionSplit),
            ]
        }
        let table = TableOutput(label: ctx.cell.options.label ?? "tbl-prune-compare", caption: ctx.cell.options.caption,
                                columns: ["Result"] + (methods ? ["Method"] : []) + keys + ["Accuracy before (%)", "Accuracy after (%)", "Δ (points)",
                                          "First layer pruned (%)", "Units >90 / between / <40 % pruned",
                                          "Units by region step >90 / between / <40 %"],
                                rows: rows, numeric: [false] + (methods ? [false] : []) + keys.map { _ in false } + [true, true, true, true, false, false])
        return CellResult(outputs: [.table(table)])
    }
}
