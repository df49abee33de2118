import Foundation
import GlassboxAnalysis
import GlassboxCore
import GlassboxData
import GlassboxNN
import GlassboxReport

public extension PruneSettings {
    /// `step: prune` and `glassbox prune` read these.
    static let arguments = Arguments<PruneSettings>(defaults: { PruneSettings() }, [
        .choice("method", \.method, help: "magnitude (Han et al.) or regions (Takehana & Ozaki)"),
        .number("amount", \.amount, help: "magnitude: fraction of the remaining weights pruned per round; regions: fraction of the regions",
                default: "regions: 0.4"),
        .number("q", \.q, 0, help: "magnitude: prune |w| < q × std of the layer's kept weights"),
        .int("rounds", \.rounds, help: "pruning rounds (regions: repeats of the region step)"),
        .int("retrain-epochs", \.retrainEpochs, min: 0, help: "retraining epochs after each round"),
        .number("lr", \.learningRate, 0, openLow: true, help: "retraining rate (SGD)", default: "the model's training rate / 10, else 0.01"),
        .number("momentum", \.momentum, 0, 1, openHigh: true, help: "retraining momentum"),
        .int("batch", \.batchSize, help: "retraining batch size"),
        .choice("scope", \.scope, help: "magnitude: each layer on its own, or one ranking over all layers", default: "layer"),
        .choice("granularity", \.granularity, help: "weights, whole units (rows by L2) or whole inputs (columns by L2); regions: of the magnitude step"),
        .texts("layers", \.layers, .layers, help: "magnitude: the layers pruned", default: "every linear and conv layer"),
        .number("magnitude-amount", \.magnitudeAmount, 0, 1, help: "regions: share of first-layer weights pruned by |w| first"),
        .custom("connectivity", \.connectivity, .choice(["4", "8"]), help: "regions: pixel neighbourhood of a region",
                show: { "\($0.rawValue)" }, parse: { try Connectivity(Int($0) ?? 0) }),
        .choice("ranking", \.ranking, help: "regions: all regions ranked together, or each unit's own"),
        .seed(\.seed, help: "seed of the retraining shuffles"),
    ])
}

/// `step: prune` — prunes a copy of a trained model (METHODS.md §2) and puts it in the workspace with its masks,
/// plus the per-round record as a result under the same name.
public struct PruneStep: DeclaredStep {
    public let name = "prune"
    public let summary = "a pruned copy of a model (masks saved) and its per-round record: text, cards, table"

    public typealias Options = ModelTask<PruneSettings>

    public static let arguments = Options.arguments(PruneSettings.arguments, defaults: { PruneSettings() },
                                                    model: "the model to prune (it is copied)", data: "retraining and test data",
                                                    name: "workspace name of the pruned model and its result", nameDefault: "<model>-pruned")

    public init() {}

    public func initialOptions(_ ctx: CellContext) -> Options {
        var s = PruneSettings()
        s.seed = ctx.seed
        return Options(settings: s)
    }

    public func inputs(_ ctx: CellContext, _ ws: Workspace) throws -> StepInputs {
        try options(ctx).inputs(ws)
    }

    public func run(_ ctx: CellContext, _ ws: Workspace) throws -> CellResult<Produced> {
        let o = try options(ctx)
        let (record, original) = try ws.model(o.model)
        let dataName = o.data ?? record.data
        let outName = o.name ?? "\(o.model)-pruned"
        let pair = try ws.dataPair(dataName)
        let model = try Self.copy(original, name: o.model)
        let result = try Pruner.run(model, train: pair.train, test: pair.test, settings: o.settings,
                                    modelRate: record.history.epochs.first?.learningRate)
        let checkpoint = "model.safetensors"
        try Checkpoint.save(model, to: (ctx.directory as NSString).appendingPathComponent(checkpoint),
                            metadata: ["pruned_from": o.model, "pruning_method": o.settings.method.rawValue])
        // The pruned model's history is its retraining, epochs numbered across rounds.
        var history = record.history
        history.epochs = result.rounds.flatMap(\.retraining)
        history.steps = 0
        for i in history.epochs.indices { history.epochs[i].epoch = i + 1 }
        let modelRecord = ModelRecord(spec: record.spec, checkpoint: checkpoint, data: dataName, history: history,
                                      parameterCount: model.parameterCount)
        ws.add(.model(name: outName, record: modelRecord), directory: ctx.directory, live: model)
        let stored = try ws.addResult(result, name: outName)
        return CellResult(produced: [.model(name: outName, record: modelRecord), stored],
                          outputs: PruningOutputs.make(result, name: outName, model: o.model, ctx: ctx))
    }

    /// A copy sharing nothing with the workspace's model (pruning works in place).
    static func copy(_ m: Sequential, name: String) throws -> Sequential {
        let c = try Sequential(spec: m.spec, seed: 0)
        try Checkpoint.assign(Checkpoint.file(for: m), to: c, path: "model '\(name)'")
        return c
    }
}

/// The text, cards and table of a pruning result.
enum PruningOutputs {
    static func pct(_ v: Float?) -> String { v.map { String(format: "%.2f", $0 * 100) } ?? "–" }

    static func make(_ r: PruningResult, name: String, model: String, ctx: CellContext) -> [CellOutput] {
        [.text(text(r, name: name, model: model)), .metrics(cards(r, name: name, model: model)), .table(table(r, name: name, ctx: ctx))]
    }

    static func text(_ r: PruningResult, name: String, model: String) -> String {
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
        return text
    }

    static func table(_ r: PruningResult, name: String, ctx: CellContext) -> TableOutput {
        let layerNames = r.before.layers.map(\.name)
        let rows = r.rounds.map { round -> [String] in
            [String(round.round), round.label, pct(round.accuracyAfterPruning), pct(round.testAccuracy)]
                + round.layers.map { String(format: "%.2f", $0.keptPercent) }
                + [String(format: "%.2f", round.keptPercent), String(format: "%.1f", round.compression),
                   String(format: "%.1f", Double(round.sparseBytes) / 1024)]
        }
        return TableOutput(label: ctx.cell.options.label ?? "tbl-\(name)", caption: ctx.cell.options.caption,
                           columns: ["Round", "Step", "Accuracy before retraining (%)", "Test accuracy (%)"]
                               + layerNames.map { "\($0) kept (%)" } + ["Total kept (%)", "Compression (×)", "Sparse size (KiB)"],
                           rows: rows, numeric: [true, false, true, true] + layerNames.map { _ in true } + [true, true, true])
    }

    static func cards(_ r: PruningResult, name: String, model: String) -> [MetricCard] {
        let b = r.before, f = r.after
        return [
            MetricCard(name: "\(name).accuracy-before", label: "\(model) test accuracy", value: Double(b.testAccuracy), direction: .higher,
                       display: String(format: "%.2f %%", b.testAccuracy * 100)),
            MetricCard(name: "\(name).accuracy", label: "\(name) test accuracy", value: Double(f.testAccuracy), direction: .higher,
                       display: String(format: "%.2f %%", f.testAccuracy * 100)),
            MetricCard(name: "\(name).kept", label: "\(name) weights kept", value: f.keptPercent / 100, direction: .lower,
                       display: String(format: "%.2f %%", f.keptPercent)),
            MetricCard(name: "\(name).compression", label: "\(name) compression", value: f.compression, direction: .higher,
                       display: String(format: "%.1f×", f.compression)),
        ]
    }
}

/// `step: prune-compare` — one table comparing pruning results: the settings that differ, accuracy before and
/// after, weights kept, and the per-unit split of the first layer (of all its weights and, for region pruning, of
/// what survived the magnitude step).
public struct PruneCompareStep: DeclaredStep {
    public let name = "prune-compare"
    public let summary = "one table comparing pruning results (differing settings, accuracy, unit splits)"

    public static let arguments = Arguments<ResultList>(defaults: { ResultList() }, [
        .texts("results", \.results, .names(.result), required: true, help: "pruning results (a prune cell's name)"),
    ])

    public init() {}
    public func initialOptions(_ ctx: CellContext) -> ResultList { ResultList() }

    public func inputs(_ ctx: CellContext, _ ws: Workspace) throws -> StepInputs { try options(ctx).inputs() }

    public func run(_ ctx: CellContext, _ ws: Workspace) throws -> CellResult<Produced> {
        let o = try options(ctx)
        let names = o.results
        let results = try o.load(ws)
        // Settings whose value is not the same in every result, in a fixed order.
        let keys = Set(results.flatMap(\.settings.keys)).sorted().filter { k in Set(results.map { $0.settings[k] ?? "–" }).count > 1 }
        let methods = Set(results.map(\.method)).count > 1
        func split(_ s: UnitSplit?) -> String { s.map { "\($0.above90) / \($0.between) / \($0.below40)" } ?? "–" }
        let rows = zip(names, results).map { n, r -> [String] in
            let first = r.after.layers.first { $0.name == r.firstLayer }
            return [n] + (methods ? [r.method] : []) + keys.map { r.settings[$0] ?? "–" } + [
                PruningOutputs.pct(r.before.testAccuracy), PruningOutputs.pct(r.after.testAccuracy),
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
