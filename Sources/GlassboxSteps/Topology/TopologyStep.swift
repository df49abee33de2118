import Foundation
import GlassboxAnalysis
import GlassboxCore
import GlassboxFigures
import GlassboxNN
import GlassboxReport

/// Which pool of a filter experiment a topology cell analyses.
public struct PoolChoice {
    public var filters = ""
    public var layer: String?
    public var at = "final"

    public func resolve(_ ws: Workspace) throws -> (FilterExperimentResult, FilterPool) {
        let r = try ws.result(filters, FilterExperimentResult.self, argument: "filters")
        return (r, try r.pool(layer: layer, at: at))
    }

    static func arguments<O>(_ kp: WritableKeyPath<O, PoolChoice>) -> [StepArgument<O>] {
        [
            .text("filters", kp.appending(path: \.filters), .name(.result), required: true, help: "a filter-experiment result"),
            .text("layer", kp.appending(path: \.layer), .layer, help: "the pooled layer", default: "the first pooled layer"),
            .text("at", kp.appending(path: \.at), help: "the pooled step: final, first or a step number"),
        ]
    }
}

public extension FilterTopologySettings {
    /// The pipeline settings of `topology` and `topology-compare` (`topology-sensitivity` takes lists).
    static let arguments = Arguments<FilterTopologySettings>(defaults: { FilterTopologySettings(maxPoints: 1000) }, [
        .int("k", \.k, help: "density filter: distance to the k-th nearest neighbour", default: "200 scaled to the cloud size"),
        .number("p", \.fraction, 0, 1, openLow: true, help: "density filter: the fraction of densest points kept"),
        .int("intervals", \.intervals, help: "Mapper cover intervals per lens", default: "scaled to the kept points"),
        .number("overlap", \.overlap, 0, 1, openHigh: true, help: "Mapper cover overlap"),
        .int("max-points", \.maxPoints, min: 3, help: "most points persistent homology and Mapper see (max–min landmarks of the kept ones)"),
    ])
}

/// `step: topology` — normalise, density filter, Vietoris–Rips H0/H1 and Mapper on pooled filters (METHODS.md §3).
/// Figures: `<label>-mapper`, `<label>-barcode`, `<label>-diagram`.
public struct TopologyStep: DeclaredStep {
    public let name = "topology"
    public let summary = "density-filtered filter cloud: H0/H1 barcodes, persistence diagram, Mapper diagram; cards for β1 and the orientation loop"

    public struct Options {
        public init() {}
        public var pool = PoolChoice()
        public var settings = FilterTopologySettings(maxPoints: 1000)
        public var layout = MapperLayout.lens
    }

    public static let arguments = Arguments<Options>(defaults: { Options() },
        PoolChoice.arguments(\Options.pool) + FilterTopologySettings.arguments.list.map { $0.lifted(\Options.settings) } + [
            .int("min-cluster", \.settings.minClusterSize, help: "Mapper: smallest cluster kept"),
            .choice("layout", \.layout, help: "lens: node at its mean (PCA1, PCA2); spring: a force layout"),
        ])

    public init() {}
    public func initialOptions(_ ctx: CellContext) -> Options { Options() }

    public func inputs(_ ctx: CellContext, _ ws: Workspace) throws -> StepInputs {
        StepInputs(names: [WorkspaceName(.result, try options(ctx).pool.filters)])
    }

    public func run(_ ctx: CellContext, _ ws: Workspace) throws -> CellResult<Produced> {
        let o = try options(ctx)
        let (r, pool) = try o.pool.resolve(ws)
        let s = o.settings
        let t = try FilterTopology.analyse(try r.cloud(pool), settings: s)
        let label = ctx.label(prefix: "fig")
        let layerName = pool.layer ?? r.layer
        let pooledLayers = r.layers ?? [r.layer]
        let what = pooledLayers.count > 1 ? "\(layerName), step \(pool.step)" : "step \(pool.step)"
        let figs = TopologyFigures.make(t, kernel: r.kernel, layout: o.layout, what: what)
        let caption = ctx.cell.options.caption
        let f1 = try FigureFile.save(figs.mapper, label: "\(label)-mapper", caption: caption.map { "\($0) Mapper graph." }
                                     ?? "Mapper graph of the filters at step \(pool.step).", width: 440, height: 400, directory: ctx.directory)
        let f2 = try FigureFile.save(figs.barcode, label: "\(label)-barcode", caption: caption.map { "\($0) Barcodes." }
                                     ?? "Vietoris–Rips barcodes at step \(pool.step).", width: 420, height: 320, directory: ctx.directory)
        let f3 = try FigureFile.save(figs.diagram, label: "\(label)-diagram", caption: caption.map { "\($0) Persistence diagram." }
                                     ?? "Persistence diagram at step \(pool.step).", width: 340, height: 340, directory: ctx.directory)
        // Unique per pool and density fraction, so two cells on one pool (p = 0.3 and 0.1) do not share metric names.
        let key = o.pool.filters + (layerName == pooledLayers[0] ? "" : ".\(layerName)") + ".step\(pool.step)"
            + (s.fraction == FilterTopologySettings().fraction ? "" : ".p\(formatNumber(Float(s.fraction)))")
        return CellResult(outputs: [.metrics(Self.cards(t, key: key)), .text(Self.text(t, layer: layerName, step: pool.step, settings: s)), f1, f2, f3])
    }

    static func cards(_ t: FilterTopologyResult, key: String) -> [MetricCard] {
        [
            MetricCard(name: "\(key).kept", label: "points kept (of \(t.inputCount))", value: Double(t.densityKept), direction: .higher,
                       display: "\(t.densityKept)"),
            MetricCard(name: "\(key).h1", label: "dominant H1 bar length", value: t.dominantH1, direction: .higher,
                       display: String(format: "%.3f", t.dominantH1)),
            MetricCard(name: "\(key).h1ratio", label: "dominant / second H1 bar", value: t.dominantRatio.isFinite ? t.dominantRatio : 0,
                       direction: .higher, display: ratioText(t.dominantRatio)),
            MetricCard(name: "\(key).loops", label: "Mapper loops (E − V + C)", value: Double(t.loopCount), direction: .higher,
                       display: "\(t.loopCount)"),
            MetricCard(name: "\(key).cliqueLoops", label: "Mapper loops, triangles filled (β1)", value: Double(t.cliqueLoopCount),
                       direction: .higher, display: "\(t.cliqueLoopCount)"),
        ] + (t.orientationLoop.map { loop in
            [MetricCard(name: "\(key).orientationLoop", label: "Mapper loop through the edge orientations", value: loop ? 1 : 0,
                        direction: .higher, display: loop ? "yes" : "no")]
        } ?? [])
    }

    static func text(_ t: FilterTopologyResult, layer: String, step: Int, settings s: FilterTopologySettings) -> String {
        let g = t.mapper
        let landmarks = t.landmarkRadius.map { String(format: " of which %d max–min landmarks (every kept point within %.3f of one) are analysed", t.filtered.count, $0) } ?? ""
        let p = formatNumber(Float(s.fraction))
        let cloud = "Filters of \(layer) at step \(step): \(t.inputCount) filters, \(t.droppedCount) near-constant dropped, density filter ρ(k = \(t.k), "
            + "p = \(p)) keeps \(t.densityKept)\(landmarks). "
        let bars = "H1 has \(t.barcodes[1].count) bars; the longest " + String(format: "%.3f, the second %.3f", t.dominantH1, t.secondH1) + ". "
        let cover = "Mapper (PCA1, PCA2 lens, \(t.intervals) intervals, overlap " + String(format: "%.2f", s.overlap) + ", variance-normalised single linkage): "
        let components = "\(g.componentCount) component\(g.componentCount == 1 ? "" : "s")"
        let graph = "\(g.nodes.count) nodes, \(g.edges.count) edges, \(components), E − V + C = \(t.loopCount) (\(t.cliqueLoopCount) "
            + "with the graph's triangles filled), \(g.uncovered.count) points uncovered"
        let loop: String
        switch t.orientationLoop {
        case true?: loop = "; a cycle of edge-like nodes turns once through the edge orientations."
        case false?: loop = "; no cycle of edge-like nodes turns through all edge orientations."
        case nil: loop = "."
        }
        return cloud + bars + cover + graph + loop
    }
}

func ratioText(_ v: Double) -> String { v.isInfinite ? "∞ (one bar)" : String(format: "%.2f", v) }

/// Builds the three topology figures from a pipeline result (values are copied into figures; nothing is computed).
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
