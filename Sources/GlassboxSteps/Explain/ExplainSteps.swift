import Foundation
import GlassboxAnalysis
import GlassboxCore
import GlassboxData
import GlassboxFigures
import GlassboxNN
import GlassboxReport

extension DissectionResult: WorkspaceResult { public static let kind = "dissection result" }
extension ExplanationResult: WorkspaceResult { public static let kind = "concept explanation result" }

/// The model, layer and probe set every concept step names.
public struct ConceptTarget {
    public var model = ""
    public var layer = ""
    public var probes = "probes"
    public var name: String?

    static func arguments<O>(_ kp: WritableKeyPath<O, ConceptTarget>, nameDefault: String) -> [StepArgument<O>] {
        [
            .text("model", kp.appending(path: \.model), .name(.model), required: true, help: "the model"),
            .text("layer", kp.appending(path: \.layer), .layer, required: true,
                  help: "the layer whose units are explained: a weight such as 0.weight means the activation after it (its ReLU)"),
            .text("probes", kp.appending(path: \.probes), .name(.probes), help: "the probe set (a concepts cell)"),
            .text("name", kp.appending(path: \.name), help: "workspace name of the result", default: nameDefault),
        ]
    }

    var inputs: StepInputs { StepInputs(names: [WorkspaceName(.model, model), WorkspaceName(.probes, probes)]) }
}

/// `step: dissect` — network dissection (Bau et al. 2017): each unit's top-quantile mask against every concept, with
/// the nulls of masks shuffled across images and of the same architecture at random initialisation.
public struct DissectStep: DeclaredStep {
    public let name = "dissect"
    public let summary = "network dissection: every unit's IoU with every concept, detectors, and two nulls (shuffled masks, random initialisation)"

    public struct Options {
        public init() {}
        public var target = ConceptTarget()
        public var config = DissectionConfig()
        public var randomInit = true
        public var nullSeed: UInt64 = 0
    }

    public static let arguments = Arguments<Options>(defaults: { Options() },
        ConceptTarget.arguments(\Options.target, nameDefault: "<model>.dissection-<layer>")
        + DissectionConfig.arguments.list.map { $0.lifted(\Options.config) } + [
            .flag("random-init", \.randomInit, help: "also dissect the same architecture at random initialisation (the null)"),
            .custom("null-seed", \.nullSeed, .seed, help: "seed of the random initialisation", default: "the recipe seed",
                    show: { "\($0)" }, parse: { s in
                        guard let v = UInt64(s) else { throw GlassboxError.invalidArgument(name: "null-seed", expected: "a whole number ≥ 0", found: "'\(s)'") }
                        return v
                    }),
        ])

    public init() {}

    public func initialOptions(_ ctx: CellContext) -> Options {
        var o = Options()
        o.config.seed = ctx.seed
        o.nullSeed = ctx.seed
        return o
    }

    public func inputs(_ ctx: CellContext, _ ws: Workspace) throws -> StepInputs { try options(ctx).target.inputs }

    public func run(_ ctx: CellContext, _ ws: Workspace) throws -> CellResult<Produced> {
        let o = try options(ctx)
        var config = o.config
        config.randomInitSeed = o.randomInit ? o.nullSeed : nil
        let model = try ws.model(o.target.model).model
        let probes = try ws.probeSet(o.target.probes)
        let r = try Dissection.run(model, layer: o.target.layer, probes: probes, config: config)
        let name = o.target.name ?? "\(o.target.model).dissection-\(o.target.layer)"
        let stored = try ws.addResult(r, name: name)
        let label = ctx.label(prefix: "fig")
        let figure = try FigureFile.save(ExplainFigures.dissectionSummary(r, layer: "\(o.target.model) \(o.target.layer)"), label: label,
                                         caption: ctx.cell.options.caption, width: 720, height: 320, directory: ctx.directory)
        return CellResult(produced: [stored], outputs: [.metrics(Self.cards(r, name: name)), .text(Self.text(r, o)), figure,
                                                        .table(Self.table(r, label: "tbl-\(label.hasPrefix("fig-") ? String(label.dropFirst(4)) : label)"))])
    }

    static func cards(_ r: DissectionResult, name: String) -> [MetricCard] {
        var cards = [
            MetricCard(name: "\(name).detectors", label: "detectors (of \(r.units.count) units)", value: Double(r.detectors), direction: .higher,
                       display: "\(r.detectors)"),
            MetricCard(name: "\(name).beat-shuffle", label: "detectors above the shuffled null", value: Double(r.detectorsBeatingShuffle),
                       direction: .higher, display: "\(r.detectorsBeatingShuffle)"),
        ]
        if let n = r.detectorsBeatingRandomInit {
            cards.append(MetricCard(name: "\(name).beat-random-init", label: "detectors above the random-init null", value: Double(n),
                                    direction: .higher, display: "\(n)"))
        }
        let best = r.units.compactMap { $0.best?.iou }
        if !best.isEmpty {
            let mean = best.reduce(0, +) / Double(best.count)
            cards.append(MetricCard(name: "\(name).mean-iou", label: "mean best IoU", value: mean, direction: .higher, display: String(format: "%.3f", mean)))
        }
        return cards
    }

    static func text(_ r: DissectionResult, _ o: Options) -> String {
        let cats = r.detectorsByCategory.map { "\($0.count) \($0.category.rawValue)" }.joined(separator: ", ")
        var t = "Network dissection of \(o.target.model) \(o.target.layer) (\(r.units.count) units, \(r.concepts.count) concepts, threshold = top "
            + "\(formatNumber(Float(r.config.quantile * 100))) % of each unit's activations, \(r.config.upsampler.rawValue) upsampling, "
            + "\(r.config.denominator.rawValue) IoU): \(r.detectors) detectors (IoU > \(formatNumber(Float(r.config.detectorThreshold))))"
            + (cats.isEmpty ? "" : " — \(cats)") + "; \(r.detectorsBeatingShuffle) beat every shuffled draw"
        if let n = r.randomInit, let b = r.detectorsBeatingRandomInit {
            t += "; at random initialisation the same layer has \(n.detectors) detectors (best IoU " + String(format: "%.3f", n.maxBestIoU)
                + "), and \(b) trained detectors beat that best"
        }
        return t + "."
    }

    static func table(_ r: DissectionResult, label: String) -> TableOutput {
        let rows = r.units.map { u -> [String] in
            ["\(u.unit)", u.best?.name ?? "–", u.best?.category.rawValue ?? "–", u.best.map { String(format: "%.3f", $0.iou) } ?? "–",
             u.top.dropFirst().prefix(2).map { "\($0.name) \(String(format: "%.3f", $0.iou))" }.joined(separator: ", "),
             u.isDetector ? "yes" : "no", u.beatsShuffle ? "yes" : "no", u.beatsRandomInit.map { $0 ? "yes" : "no" } ?? "–"]
        }
        return TableOutput(label: label, caption: "Best concept of every unit.",
                           columns: ["Unit", "Best concept", "Category", "IoU", "Next best", "Detector", "Beats shuffled", "Beats random init"],
                           rows: rows, numeric: [true, false, false, true, false, false, false, false])
    }
}

/// `step: explain` — compositional explanations (`method: coex`, Mu & Andreas 2020) or clustered compositional
/// explanations (`method: clustered`, La Rosa et al. 2023): for every unit (and activation range) the logical formula
/// of concepts whose mask best matches the unit's, found by beam search with an exact IoU bound.
public struct ExplainStep: DeclaredStep {
    public let name = "explain"
    public let summary = "formulas of concepts (OR, AND, AND NOT) that explain each unit, per activation range: panels, specialisation curve, table"

    public enum Method: String, CaseIterable { case clustered, coex }

    public struct Options {
        public init() {}
        public var target = ConceptTarget()
        public var method = Method.clustered
        public var config = ExplanationConfig()
        /// Units drawn as panels.
        public var panels = 4
    }

    public static let arguments = Arguments<Options>(defaults: { Options() },
        ConceptTarget.arguments(\Options.target, nameDefault: "<model>.<method>-<layer>") + [
            .choice("method", \.method, help: "clustered: one explanation per activation range; coex: one for the top quantile"),
        ] + ExplanationConfig.arguments.list.map { $0.lifted(\Options.config) } + [
            .int("panels", \.panels, min: 0, help: "units drawn as panels of dataset examples (the first ones explained)"),
        ])

    public init() {}

    public func initialOptions(_ ctx: CellContext) -> Options {
        var o = Options()
        o.config.seed = ctx.seed
        return o
    }

    public func inputs(_ ctx: CellContext, _ ws: Workspace) throws -> StepInputs { try options(ctx).target.inputs }

    public func run(_ ctx: CellContext, _ ws: Workspace) throws -> CellResult<Produced> {
        let o = try options(ctx)
        var config = o.config
        if o.method == .coex {
            if ctx.args.keys.contains("clusters") { throw ctx.args.error("clusters", expected: "no 'clusters' with method coex (one range per unit)", found: "\(config.clusters)") }
            config.clusters = 1
        }
        let model = try ws.model(o.target.model).model
        let probes = try ws.probeSet(o.target.probes)
        let r = try CompositionalExplanations.run(model, layer: o.target.layer, probes: probes, config: config)
        let name = o.target.name ?? "\(o.target.model).\(o.method.rawValue)-\(o.target.layer)"
        let stored = try ws.addResult(r, name: name)
        let label = ctx.label(prefix: "fig")
        var outputs: [CellOutput] = [.metrics(Self.cards(r, name: name)), .text(Self.text(r, o))]
        if r.config.clusters > 1 {
            outputs.append(try FigureFile.save(ExplainFigures.specialisation([(name, r)], title: nil), label: "\(label)-specialisation",
                                               caption: "By activation range, from the lowest to the highest: the mean IoU of the explanations, the share of the image their masks cover, and label masking (the specialisation curves).",
                                               width: 760, height: 280, directory: ctx.directory))
        }
        for u in r.units.prefix(o.panels) {
            let rows = max(1, u.ranges.count)
            outputs.append(try FigureFile.save(ExplainFigures.unitPanel(u, probes: probes, layer: "\(o.target.model) \(o.target.layer)", title: nil),
                                               label: "\(label)-unit\(u.unit)",
                                               caption: "Unit \(u.unit) of \(o.target.model) \(o.target.layer): the probe images that show each activation range best (highest range first: the largest activations; lower ranges: the most map values in the range), with the unit's mask (orange) and its explanation's mask (blue).",
                                               width: 640, height: 80 + 125 * rows, directory: ctx.directory))
        }
        outputs.append(.table(Self.table(r, label: "tbl-\(label.hasPrefix("fig-") ? String(label.dropFirst(4)) : label)")))
        return CellResult(produced: [stored], outputs: outputs)
    }

    /// The explanations of the highest range of each unit (the range CoEx explains).
    static func top(_ r: ExplanationResult) -> [RangeExplanation] { r.units.compactMap { $0.ranges.last } }

    static func cards(_ r: ExplanationResult, name: String) -> [MetricCard] {
        let ious = top(r).compactMap { $0.best?.iou }
        var cards: [MetricCard] = []
        if !ious.isEmpty {
            let mean = ious.reduce(0, +) / Double(ious.count)
            cards.append(MetricCard(name: "\(name).mean-iou", label: r.config.clusters > 1 ? "mean IoU, highest range" : "mean IoU",
                                    value: mean, direction: .higher, display: String(format: "%.3f", mean)))
        }
        if let g = r.gap {
            cards.append(MetricCard(name: "\(name).beam-suboptimal", label: "beam misses the best length-2 formula", value: g.share,
                                    direction: .lower, display: String(format: "%.1f %% (%d of %d)", g.share * 100, g.suboptimal, g.compared)))
        }
        cards.append(MetricCard(name: "\(name).bound-skipped", label: "candidates the bound skipped", value: r.search.skipShare, direction: .higher,
                                display: String(format: "%.1f %%", r.search.skipShare * 100)))
        return cards
    }

    static func text(_ r: ExplanationResult, _ o: Options) -> String {
        let what = r.config.clusters > 1 ? "Clustered compositional explanations (\(r.config.clusters) activation ranges per unit by exact 1-D k-means)"
            : "Compositional explanations (top \(formatNumber(Float(r.config.quantile * 100))) % of each unit's activations)"
        var t = "\(what) of \(o.target.model) \(o.target.layer): \(r.units.count) units, \(r.concepts.count) concepts, beam \(r.config.search.beamWidth), "
            + "formulas of up to \(r.config.search.maxLength) concepts. The search scored \(r.search.evaluated) of \(r.search.candidates) candidate formulas; "
            + String(format: "its IoU bound skipped %.1f %%", r.search.skipShare * 100) + " (the bound never changes a result)."
        if let g = r.gap {
            t += String(format: " At length 2 the beam missed the best formula in %d of %d cases (mean gap %.4f, largest %.4f).", g.suboptimal, g.compared,
                        g.meanGap, g.maxGap)
        }
        if r.specialisation.count > 1, let lo = r.specialisation.first, let hi = r.specialisation.last {
            t += String(format: " Mean IoU from the lowest range to the highest: %@; the lowest range's commonest explanation is '%@' (%d units), the highest's '%@' (%d units).",
                        r.specialisation.map { String(format: "%.3f", $0.meanIoU) }.joined(separator: " → "), lo.commonestFormula ?? "–", lo.commonestCount,
                        hi.commonestFormula ?? "–", hi.commonestCount)
        }
        return t
    }

    static func table(_ r: ExplanationResult, label: String) -> TableOutput {
        var rows: [[String]] = []
        for u in r.units {
            for range in u.ranges.reversed() {
                let m = range.metrics
                rows.append(["\(u.unit)", "\(range.index + 1)", range.range.text, range.best?.text ?? "–",
                             range.best.map { String(format: "%.3f", $0.iou) } ?? "–",
                             m?.activationCoverage.map { String(format: "%.2f", $0) } ?? "–",
                             m?.explanationCoverage.map { String(format: "%.2f", $0) } ?? "–",
                             m?.labelMasking.map { String(format: "%.2f", $0) } ?? "–"])
            }
        }
        return TableOutput(label: label, caption: "Explanation of every unit and activation range (highest range first).",
                           columns: ["Unit", "Range", "Activations", "Explanation", "IoU", "Activation coverage", "Explanation coverage", "Label masking"],
                           rows: rows, numeric: [true, true, false, false, true, true, true, true])
    }
}
