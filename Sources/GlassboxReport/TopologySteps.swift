import Foundation
import GlassboxAnalysis
import GlassboxCore
import GlassboxData
import GlassboxFigures
import GlassboxNN

// Topology steps (METHODS.md §3): filter-experiment, topology, topology-sensitivity. The pipeline lives in
// GlassboxAnalysis (FilterTopology); these steps wire names to it and build figures, cards and tables.

/// The filters of one layer of many nets pooled at one training step.
public struct FilterPool: Codable, Sendable {
    /// Optimiser step the filters were taken at.
    public var step: Int
    /// The layer's parameter name (nil in results written before layers were recorded: the result's `layer`).
    public var layer: String?
    /// Row-major `count × kernel²` values.
    public var values: [Float]
    public var count: Int
}

/// What `filter-experiment` stores (`<name>`): the pooled filters per step, so cached runs restore them.
public struct FilterExperimentResult: Codable, Sendable {
    public var spec: String
    public var data: String
    /// The first of `layers`.
    public var layer: String
    /// Every layer pooled (nil in older results: just `layer`).
    public var layers: [String]?
    public var nets: Int
    public var kernel: Int
    public var testAccuracies: [Float]
    public var pools: [FilterPool]
}

/// `step: filter-experiment` — trains N nets that differ only in seed and pools their k×k filters (every
/// `(out, in)` slice of a conv weight) at chosen optimiser steps (and at the end), per layer.
///
/// Arguments: `data`, `name` (filters), `nets` (16), `epochs` (1), `train-limit` (first N training samples),
/// `batch` (64), `lr` (Adam, 0.002), `model` (default `input 1x28x28; conv 64 k3 p1; relu; maxpool 2; flatten; linear 10`),
/// `layers` (list of conv weights, e.g. [0.weight, 3.weight]; or `layer`; default 0.weight), `steps` (list of
/// optimiser steps; the final step is always added), `seed` (net i uses seed + i).
public struct FilterExperimentStep: Step {
    public let name = "filter-experiment"
    static let allowed = ["data", "name", "nets", "epochs", "train-limit", "batch", "lr", "model", "layer", "layers", "steps", "seed"]
    static let defaultSpec = "input 1x28x28; conv 64 k3 p1; relu; maxpool 2; flatten; linear 10"

    public func inputs(_ ctx: CellContext, _ ws: Workspace) throws -> StepInputs {
        try ctx.args.allowOnly(Self.allowed)
        return StepInputs(names: [WorkspaceName(.data, try ctx.args.requireString("data"))])
    }

    public func run(_ ctx: CellContext, _ ws: Workspace) throws -> CellResult {
        let a = ctx.args
        let spec: ModelSpec
        do { spec = try ModelSpec.parse(try a.string("model") ?? Self.defaultSpec) } catch let e as GlassboxError {
            throw a.error("model", expected: "a model spec", found: "\(e)")
        }
        let dataName = try a.requireString("data")
        let resultName = try a.string("name") ?? "filters"
        let nets = try a.positiveInt("nets") ?? 16
        let epochs = try a.positiveInt("epochs") ?? 1
        let batch = try a.positiveInt("batch") ?? 64
        let lr = try a.float("lr") ?? 0.002
        if a.has("layer"), a.has("layers") { throw a.error("layers", expected: "either 'layer' or 'layers', not both", found: "both") }
        let layers = try a.strings("layers") ?? [try a.string("layer") ?? "0.weight"]
        guard !layers.isEmpty, Set(layers).count == layers.count else {
            throw a.error("layers", expected: "a list of distinct conv weights such as [0.weight, 3.weight]", found: "\(layers)")
        }
        let seed = try seedArg(a, ctx)
        let steps = try (a.strings("steps") ?? []).map { s -> Int in
            guard let v = Int(s), v > 0 else { throw a.error("steps", expected: "a list of optimiser steps ≥ 1", found: "'\(s)'") }
            return v
        }
        let pair = try ws.dataPair(dataName)
        var train = pair.train
        if let limit = try a.positiveInt("train-limit"), limit < train.count { train = train.subset(Array(0..<limit)) }
        let stepsPerEpoch = (train.count + batch - 1) / batch
        let total = stepsPerEpoch * epochs
        if let bad = steps.first(where: { $0 > total }) {
            throw a.error("steps", expected: "steps ≤ \(total) (\(epochs) epoch(s) × \(stepsPerEpoch) batches)", found: "\(bad)")
        }
        let argName = a.has("layers") ? "layers" : "layer"
        // Check the layers on an untrained copy before any training.
        var kernel = 0
        let probe = try Sequential(spec: spec, seed: seed)
        for layer in layers {
            guard let p = probe.parameter(named: layer) else {
                throw a.error(argName, expected: "parameters of the model (\(probe.namedParameters.map { $0.name }.filter { $0.hasSuffix("weight") }.joined(separator: ", ")))",
                              found: "'\(layer)'")
            }
            let shape = p.value.shape
            guard shape.count == 4, shape[2] == shape[3], kernel == 0 || shape[2] == kernel else {
                throw a.error(argName, expected: "conv weights [out, in, k, k] with one kernel size", found: "'\(layer)' of shape \(shape)")
            }
            kernel = shape[2]
        }
        struct PoolKey: Hashable { var layer: Int; var step: Int }
        var pooled: [PoolKey: [Float]] = [:]
        var accuracies: [Float] = []
        func collect(_ model: Sequential, step: Int) throws {
            for (li, layer) in layers.enumerated() {
                pooled[PoolKey(layer: li, step: step), default: []] += model.parameter(named: layer)!.value.scalars
            }
        }
        for i in 0..<nets {
            let netSeed = seed &+ UInt64(i)
            let model = try Sequential(spec: spec, seed: netSeed)
            let config = TrainConfig(epochs: epochs, batchSize: batch, optimizer: .adam(lr: lr), seed: netSeed,
                                     checkpointSteps: steps.filter { $0 < total })
            let trainer = Trainer(model: model, config: config)
            trainer.onCheckpoint = { step, m in try collect(m, step: step) }
            let history = try trainer.fit(train: train, test: pair.test, label: "\(resultName) net \(i + 1)/\(nets)")
            try collect(model, step: history.steps)
            accuracies.append(history.epochs.last?.testAccuracy ?? .nan)
        }
        let d = kernel * kernel
        let pools = pooled.keys.sorted { ($0.layer, $0.step) < ($1.layer, $1.step) }.map {
            FilterPool(step: $0.step, layer: layers[$0.layer], values: pooled[$0]!, count: pooled[$0]!.count / max(1, d))
        }
        let result = FilterExperimentResult(spec: spec.description, data: dataName, layer: layers[0], layers: layers, nets: nets, kernel: kernel,
                                            testAccuracies: accuracies, pools: pools)
        let json = try encodeResult(result)
        ws.add(.result(name: resultName, json: json), directory: ctx.directory)
        let finite = accuracies.filter(\.isFinite)
        let mean = finite.isEmpty ? Float.nan : finite.reduce(0, +) / Float(finite.count)
        var text = "\(nets) nets (\(spec.description)) trained for \(epochs) epoch\(epochs == 1 ? "" : "s") on \(train.count) samples of '\(dataName)', "
            + "seeds \(seed)…\(seed &+ UInt64(nets - 1)); \(kernel)×\(kernel) filters pooled "
            + layers.map { l in "of \(l) at steps " + pools.filter { $0.layer == l }.map { "\($0.step) (\($0.count) filters)" }.joined(separator: ", ") }
                .joined(separator: "; ")
        if mean.isFinite { text += String(format: "; mean test accuracy %.2f %%", mean * 100) }
        return CellResult(produced: [.result(name: resultName, json: json)], outputs: [.text(text + ".")])
    }
}

/// The pooled filters of a `filter-experiment` result for `layer` (default: its first layer) at `at` ("final",
/// "first" or a step number).
func filterPool(_ ws: Workspace, _ a: CellArgs) throws -> (FilterExperimentResult, FilterPool) {
    let name = try a.requireString("filters")
    guard let r = decodeResult(ws, name, FilterExperimentResult.self) else {
        throw a.error("filters", expected: "the result of a filter-experiment cell", found: "'\(name)'")
    }
    let layers = r.layers ?? [r.layer]
    let layer = try a.string("layer") ?? layers[0]
    guard layers.contains(layer) else { throw a.error("layer", expected: "one of the pooled layers \(layers)", found: "'\(layer)'") }
    let pools = r.pools.filter { ($0.layer ?? r.layer) == layer }
    let which = try a.string("at") ?? "final"
    let pool: FilterPool?
    switch which {
    case "final": pool = pools.last
    case "first": pool = pools.first
    default: pool = Int(which).flatMap { s in pools.first { $0.step == s } }
    }
    guard let p = pool else {
        throw a.error("at", expected: "final, first or one of the steps \(pools.map(\.step))", found: "'\(which)'")
    }
    return (r, p)
}

/// The pipeline settings shared by `topology` and `topology-compare`: `k`, `p`, `intervals`, `overlap`.
func pipelineSettings(_ a: CellArgs) throws -> FilterTopologySettings {
    var s = FilterTopologySettings()
    s.k = try a.positiveInt("k")
    if let p = try a.float("p") {
        guard p > 0, p <= 1 else { throw a.error("p", expected: "a fraction in (0, 1]", found: "\(p)") }
        s.fraction = Double(p)
    }
    s.intervals = try a.positiveInt("intervals")
    if let o = try a.float("overlap") {
        guard o >= 0, o < 1 else { throw a.error("overlap", expected: "a fraction in [0, 1)", found: "\(o)") }
        s.overlap = Double(o)
    }
    return s
}

/// `max-points` (default 1000): the most points persistent homology and Mapper see (max–min landmarks of the kept ones).
func maxPointsArg(_ a: CellArgs) throws -> Int {
    let m = try a.positiveInt("max-points") ?? 1000
    guard m >= 3 else { throw a.error("max-points", expected: "a whole number ≥ 3", found: "\(m)") }
    return m
}

func filterCloud(_ r: FilterExperimentResult, _ p: FilterPool) throws -> PointCloud {
    try PointCloud(values: p.values.map(Double.init), dimension: r.kernel * r.kernel)
}

func ratioText(_ v: Double) -> String { v.isInfinite ? "∞ (one bar)" : String(format: "%.2f", v) }

/// `step: topology` — normalise, density filter, Vietoris–Rips H0/H1 and Mapper on pooled filters (METHODS.md §3).
///
/// Arguments: `filters` (a filter-experiment result), `at` (final | first | N: the pooled step), `k` (default scaled to the cloud),
/// `p` (0.3), `intervals` (default scaled), `overlap` (2/3), `min-cluster` (1), `layout` (lens: x = mean PCA1, y = mean PCA2 of the node | spring).
/// Figures: `<label>-mapper`, `<label>-barcode`, `<label>-diagram`.
public struct TopologyStep: Step {
    public let name = "topology"
    static let allowed = ["filters", "layer", "at", "k", "p", "intervals", "overlap", "min-cluster", "layout", "max-points"]

    public func inputs(_ ctx: CellContext, _ ws: Workspace) throws -> StepInputs {
        try ctx.args.allowOnly(Self.allowed)
        return StepInputs(names: [WorkspaceName(.result, try ctx.args.requireString("filters"))])
    }

    public func run(_ ctx: CellContext, _ ws: Workspace) throws -> CellResult {
        let a = ctx.args
        let (r, pool) = try filterPool(ws, a)
        var s = try pipelineSettings(a)
        s.minClusterSize = try a.positiveInt("min-cluster") ?? 1
        s.maxPoints = try maxPointsArg(a)
        let layout = MapperLayout(rawValue: try a.oneOf("layout", MapperLayout.allCases.map(\.rawValue), default: "lens"))!
        let t = try FilterTopology.analyse(try filterCloud(r, pool), settings: s)
        let label = ctx.label(prefix: "fig")
        let layerName = pool.layer ?? r.layer
        let multi = (r.layers ?? [r.layer]).count > 1
        let what = multi ? "\(layerName), step \(pool.step)" : "step \(pool.step)"
        let figs = try TopologyFigures.make(t, kernel: r.kernel, layout: layout, what: what)
        let caption = ctx.cell.options.caption
        let f1 = try FigureStep.save(figs.mapper, label: "\(label)-mapper", caption: caption.map { "\($0) Mapper graph." }
                                     ?? "Mapper graph of the filters at step \(pool.step).", width: 440, height: 400, directory: ctx.directory)
        let f2 = try FigureStep.save(figs.barcode, label: "\(label)-barcode", caption: caption.map { "\($0) Barcodes." }
                                     ?? "Vietoris–Rips barcodes at step \(pool.step).", width: 420, height: 320, directory: ctx.directory)
        let f3 = try FigureStep.save(figs.diagram, label: "\(label)-diagram", caption: caption.map { "\($0) Persistence diagram." }
                                     ?? "Persistence diagram at step \(pool.step).", width: 340, height: 340, directory: ctx.directory)
        // Unique per pool and density fraction, so two cells on one pool (p = 0.3 and 0.1) do not share metric names.
        let key = "\(try a.requireString("filters"))" + (layerName == (r.layers ?? [r.layer])[0] ? "" : ".\(layerName)") + ".step\(pool.step)"
            + (s.fraction == FilterTopologySettings().fraction ? "" : ".p\(formatNumber(Float(s.fraction)))")
        let cards = [
            MetricCard(name: "\(key).kept", label: "points kept (of \(t.inputCount))", value: Double(t.densityKept), direction: "higher",
                       display: "\(t.densityKept)"),
            MetricCard(name: "\(key).h1", label: "dominant H1 bar length", value: t.dominantH1, direction: "higher",
                       display: String(format: "%.3f", t.dominantH1)),
            MetricCard(name: "\(key).h1ratio", label: "dominant / second H1 bar", value: t.dominantRatio.isFinite ? t.dominantRatio : 0,
                       direction: "higher", display: ratioText(t.dominantRatio)),
            MetricCard(name: "\(key).loops", label: "Mapper loops (E − V + C)", value: Double(t.loopCount), direction: "higher",
                       display: "\(t.loopCount)"),
            MetricCard(name: "\(key).cliqueLoops", label: "Mapper loops, triangles filled (β1)", value: Double(t.cliqueLoopCount),
                       direction: "higher", display: "\(t.cliqueLoopCount)"),
        ] + (t.orientationLoop.map { loop in
            [MetricCard(name: "\(key).orientationLoop", label: "Mapper loop through the edge orientations", value: loop ? 1 : 0,
                        direction: "higher", display: loop ? "yes" : "no")]
        } ?? [])
        let g = t.mapper
        let landmarks = t.landmarkRadius.map { String(format: " of which %d max–min landmarks (every kept point within %.3f of one) are analysed", t.filtered.count, $0) } ?? ""
        let text = "Filters of \(layerName) at step \(pool.step): \(t.inputCount) filters, \(t.droppedCount) near-constant dropped, density filter ρ(k = \(t.k), "
            + "p = \(formatNumber(Float(s.fraction)))) keeps \(t.densityKept)\(landmarks). H1 has \(t.barcodes[1].count) bars; the longest "
            + String(format: "%.3f, the second %.3f", t.dominantH1, t.secondH1) + ". Mapper (PCA1, PCA2 lens, \(t.intervals) intervals, overlap "
            + String(format: "%.2f", s.overlap) + ", variance-normalised single linkage): \(g.nodes.count) nodes, \(g.edges.count) edges, "
            + "\(g.componentCount) component\(g.componentCount == 1 ? "" : "s"), E − V + C = \(t.loopCount) (\(t.cliqueLoopCount) "
            + "with the graph's triangles filled), \(g.uncovered.count) points uncovered"
            + (t.orientationLoop.map { $0 ? "; a cycle of edge-like nodes turns once through the edge orientations."
                                          : "; no cycle of edge-like nodes turns through all edge orientations." } ?? ".")
        return CellResult(outputs: [.metrics(cards), .text(text), f1, f2, f3])
    }
}

/// Builds the three topology figures from a pipeline result (no analysis here: values are copied into figures).
enum TopologyFigures {
    static func bars(_ b: Barcodes) -> [FigureBars] {
        b.bars.enumerated().map { d, bars in
            FigureBars(dimension: d, bars: bars.map { FigureBar(birth: $0.birth, death: $0.isInfinite ? nil : $0.death) })
        }
    }

    /// `compact`: short titles and fewer bars, for panels side by side.
    static func make(_ t: FilterTopologyResult, kernel: Int, layout: MapperLayout, what: String, compact: Bool = false)
        -> (mapper: Figure, barcode: Figure, diagram: Figure) {
        let g = t.mapper
        let nodes = g.nodes.map { n -> MapperDiagramNode in
            let dens = n.members.map { t.keptDensity[$0] }.reduce(0, +) / Double(max(1, n.members.count))
            return MapperDiagramNode(patch: n.mean, members: n.members.count, value: dens,
                                     position: n.lensMean.count >= 2 ? [n.lensMean[0], n.lensMean[1]] : nil)
        }
        let edges = g.edges.map { MapperDiagramEdge(source: $0.source, target: $0.target, overlap: $0.overlap) }
        let mapper = Figure.mapperDiagram(MapperDiagram(nodes: nodes, edges: edges, patchSize: kernel,
                                                        layout: layout == .lens && nodes.contains(where: { $0.position == nil }) ? .spring : layout,
                                                        title: compact ? "\(what): β1 = \(t.cliqueLoopCount)"
                                                            : "Mapper, \(what): \(g.nodes.count) nodes, β1 = \(t.cliqueLoopCount)",
                                                        colorTitle: "mean δ_k (low = dense)"))
        let fb = bars(t.barcodes)
        let barcode = Figure.barcode(Barcode(dimensions: fb, title: compact ? "\(what) (\(t.filtered.count) points)" : "Barcodes, \(what) (\(t.filtered.count) points)",
                                             maxBars: compact ? 40 : nil))
        let diagram = Figure.persistenceDiagram(PersistenceDiagram(dimensions: fb, title: "Persistence diagram, \(what)"))
        return (mapper, barcode, diagram)
    }
}

/// `step: topology-sensitivity` — the pipeline over a small grid of k, p and cover settings; a table of kept points,
/// Mapper loops and dominant-bar ratios (METHODS.md §3.7: one pretty graph is not evidence).
///
/// Arguments: `filters`, `at`, `k` (list; default ½×, 1×, 2× the scaled k), `p` (list; default [0.1, 0.3, 0.5]),
/// `intervals` (list; default the scaled count and 1.5× it), `overlap` (2/3).
public struct TopologySensitivityStep: Step {
    public let name = "topology-sensitivity"
    static let allowed = ["filters", "layer", "at", "k", "p", "intervals", "overlap", "max-points"]

    public func inputs(_ ctx: CellContext, _ ws: Workspace) throws -> StepInputs {
        try ctx.args.allowOnly(Self.allowed)
        return StepInputs(names: [WorkspaceName(.result, try ctx.args.requireString("filters"))])
    }

    public func run(_ ctx: CellContext, _ ws: Workspace) throws -> CellResult {
        let a = ctx.args
        let (r, pool) = try filterPool(ws, a)
        let cloud = try filterCloud(r, pool)
        let base = FilterTopologySettings.scaledK(count: cloud.count)
        func ints(_ key: String) throws -> [Int]? {
            try a.strings(key).map { try $0.map { s in
                guard let v = Int(s), v > 0 else { throw a.error(key, expected: "a list of whole numbers ≥ 1", found: "'\(s)'") }
                return v
            } }
        }
        let ks = try ints("k") ?? Array(Set([max(3, base / 2), base, base * 2])).sorted()
        let ps = try a.strings("p").map { try $0.map { s -> Double in
            guard let v = Double(s), v > 0, v <= 1 else { throw a.error("p", expected: "a list of fractions in (0, 1]", found: "'\(s)'") }
            return v
        } } ?? [0.1, 0.3, 0.5]
        let overlap = Double(try a.float("overlap") ?? Float(2.0 / 3.0))
        guard overlap >= 0, overlap < 1 else { throw a.error("overlap", expected: "a fraction in [0, 1)", found: "\(overlap)") }
        let ivs = try ints("intervals")
        let maxPoints = try maxPointsArg(a)
        var rows: [[String]] = []
        for k in ks {
            for p in ps {
                let kept = max(1, Int((p * Double(cloud.count)).rounded()))
                let scaled = FilterTopologySettings.scaledIntervals(kept: kept)
                for n in ivs ?? Array(Set([scaled, min(30, scaled * 3 / 2)])).sorted() {
                    let t = try FilterTopology.analyse(cloud, settings: FilterTopologySettings(k: k, fraction: p, intervals: n, overlap: overlap,
                                                                                             maxPoints: maxPoints))
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

/// `step: topology-compare` — the pipeline on several pools of one filter experiment, side by side: a grid of
/// Mapper graphs and one of barcodes (rows = layers, columns = training steps) and a table of the numbers.
///
/// Arguments: `filters`, `layers` (default: every pooled layer), `at` (list of final | first | step; default
/// [first, final]), `k`, `p` (0.3), `intervals`, `overlap`, `max-points` (1000), `layout`.
public struct TopologyCompareStep: Step {
    public let name = "topology-compare"
    static let allowed = ["filters", "layers", "at", "k", "p", "intervals", "overlap", "max-points", "layout"]

    public func inputs(_ ctx: CellContext, _ ws: Workspace) throws -> StepInputs {
        try ctx.args.allowOnly(Self.allowed)
        return StepInputs(names: [WorkspaceName(.result, try ctx.args.requireString("filters"))])
    }

    public func run(_ ctx: CellContext, _ ws: Workspace) throws -> CellResult {
        let a = ctx.args
        let name = try a.requireString("filters")
        guard let r = decodeResult(ws, name, FilterExperimentResult.self) else {
            throw a.error("filters", expected: "the result of a filter-experiment cell", found: "'\(name)'")
        }
        let pooled = r.layers ?? [r.layer]
        let layers = try a.strings("layers") ?? pooled
        if let bad = layers.first(where: { !pooled.contains($0) }) {
            throw a.error("layers", expected: "pooled layers \(pooled)", found: "'\(bad)'")
        }
        let ats = try a.strings("at") ?? ["first", "final"]
        var s = try pipelineSettings(a)
        s.maxPoints = try maxPointsArg(a)
        let layout = MapperLayout(rawValue: try a.oneOf("layout", MapperLayout.allCases.map(\.rawValue), default: "lens"))!
        var mappers: [Figure] = [], barcodes: [Figure] = [], rows: [[String]] = []
        for layer in layers {
            let pools = r.pools.filter { ($0.layer ?? r.layer) == layer }
            for at in ats {
                let pool: FilterPool?
                switch at {
                case "final": pool = pools.last
                case "first": pool = pools.first
                default: pool = Int(at).flatMap { st in pools.first { $0.step == st } }
                }
                guard let pool else { throw a.error("at", expected: "final, first or one of the steps \(pools.map(\.step))", found: "'\(at)'") }
                let t = try FilterTopology.analyse(try filterCloud(r, pool), settings: s)
                let figs = TopologyFigures.make(t, kernel: r.kernel, layout: layout, what: "\(layer), step \(pool.step)", compact: true)
                mappers.append(figs.mapper); barcodes.append(figs.barcode)
                rows.append([layer, "\(pool.step)", "\(t.inputCount)", t.landmarkRadius == nil ? "\(t.densityKept)" : "\(t.densityKept) (\(t.filtered.count) landmarks)",
                             String(format: "%.3f", t.dominantH1), String(format: "%.3f", t.secondH1), ratioText(t.dominantRatio),
                             "\(t.mapper.nodes.count)", "\(t.mapper.componentCount)", "\(t.cliqueLoopCount)",
                             t.orientationLoop.map { $0 ? "yes" : "no" } ?? "–"])
            }
        }
        let label = ctx.label(prefix: "fig")
        let caption = ctx.cell.options.caption
        let cols = ats.count
        let nrows = layers.count
        let f1 = try FigureStep.save(.panels(PanelGrid(panels: mappers, columns: cols)), label: "\(label)-mapper",
                                     caption: caption.map { "\($0) Mapper graphs (rows: layers, columns: training steps)." }
                                         ?? "Mapper graphs side by side (rows: layers, columns: training steps).",
                                     width: 360 * cols, height: 330 * nrows, directory: ctx.directory)
        let f2 = try FigureStep.save(.panels(PanelGrid(panels: barcodes, columns: cols)), label: "\(label)-barcode",
                                     caption: caption.map { "\($0) Barcodes (rows: layers, columns: training steps)." }
                                         ?? "Barcodes side by side (rows: layers, columns: training steps).",
                                     width: 360 * cols, height: 320 * nrows, directory: ctx.directory)
        let table = TableOutput(label: "tbl-\(label.hasPrefix("fig-") ? String(label.dropFirst(4)) : label)", caption: caption.map { "\($0) The numbers." }
                                    ?? "Filter topology per layer and training step (p = \(formatNumber(Float(s.fraction)))).",
                                columns: ["layer", "step", "filters", "kept", "dominant H1", "second H1", "ratio", "Mapper nodes", "components",
                                          "β1 (triangles filled)", "orientation loop"],
                                rows: rows, numeric: [false] + Array(repeating: true, count: 9) + [false])
        return CellResult(outputs: [f1, f2, .table(table)])
    }
}
