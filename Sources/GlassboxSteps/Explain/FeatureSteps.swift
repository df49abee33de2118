import Foundation
import GlassboxAnalysis
import GlassboxCore
import GlassboxData
import GlassboxFigures
import GlassboxNN
import GlassboxReport

extension DatasetExamplesResult: WorkspaceResult { public static let kind = "dataset examples result" }
extension ActivationMaximisationResult: WorkspaceResult { public static let kind = "activation maximisation result" }

/// `step: examples` — dataset examples: the test images that drive units of a layer (or class logits) most, least
/// and not at all; for conv channels with the receptive field around the maximum outlined.
public struct ExamplesStep: DeclaredStep {
    public let name = "examples"
    public let summary = "the test images that activate units most, least and near zero (receptive fields outlined for conv units)"

    public struct Options {
        public init() {}
        public var model = ""
        public var data: String?
        public var name: String?
        public var layer = "logits"
        public var units: [Int]? = Array(0..<8)
        public var top = 6
        public var others = 3
    }

    public static let arguments = Arguments<Options>(defaults: { Options() }, [
        .text("model", \.model, .name(.model), required: true, help: "the model"),
        .text("data", \.data, .name(.data), help: "the data whose test images are searched", default: "the model's data"),
        .text("name", \.name, help: "workspace name of the result", default: "<model>.examples-<layer>"),
        .text("layer", \.layer, .layer, help: "a weight (its units after the activation), a layer index, or logits"),
        .ints("units", \.units, min: 0, help: "units (channels, classes) shown, one row each"),
        .int("top", \.top, help: "top-activating images per unit"),
        .int("others", \.others, min: 0, help: "near-zero and bottom images per unit"),
    ])

    public init() {}
    public func initialOptions(_ ctx: CellContext) -> Options { Options() }
    public func inputs(_ ctx: CellContext, _ ws: Workspace) throws -> StepInputs { StepInputs.model(try options(ctx).model, data: try options(ctx).data, ws) }

    public func run(_ ctx: CellContext, _ ws: Workspace) throws -> CellResult<Produced> {
        let o = try options(ctx)
        let (model, test) = try ws.modelWithTestData(o.model, data: o.data)
        try Trainer.checkCompatible(model, test)
        let layer = try ModelAccess.unitLayer(model, o.layer)
        let r = try DatasetExamples.find(model: model, images: test.images,
                                         config: DatasetExamplesConfig(layer: layer, units: o.units, count: max(o.top, o.others)))
        let stored = try ws.addResult(r, name: o.name ?? "\(o.model).examples-\(o.layer)")
        let figure = FeatureFigures.examples(r, test: test, top: o.top, others: o.others, what: o.layer == "logits" ? "class" : "unit",
                                             classNames: test.classNames)
        let out = try FigureFile.save(figure, label: ctx.label(prefix: "fig"), caption: ctx.cell.options.caption,
                                      width: 720, height: 70 + 100 * r.units.count, directory: ctx.directory)
        var text = "Dataset examples of \(r.units.count) units of \(o.model) \(o.layer) (\(r.layerKind) output \(r.layerShape)) over \(test.count) test images"
        if let f = r.receptiveField { text += "; each unit sees a \(f.size)×\(f.size) receptive field, outlined around its maximum" }
        return CellResult(produced: [stored], outputs: [.text(text + "."), out])
    }
}

/// Activation-maximisation settings as a recipe or a command gives them (the layer is named, not indexed). The
/// defaults keep small grey images readable: pixel parameters clipped to [0, 1], a blur every 4 steps, and an L2
/// bound of 0.35·√(input values) around black (9.8 for 28×28), from a start with enough noise that seeds differ.
/// (`ActivationMaximisationConfig`'s own defaults — Fourier parameters through a sigmoid, no bound — drive the
/// images of our small models to saturated black-and-white blobs.)
public struct VisualiseSettings: Sendable {
    public var config = ActivationMaximisationConfig(layer: 0, parameterisation: .pixel, range: .clip, initialNoise: 0.1, blurEvery: 4)
    /// The L2 bound as a multiple of √(values per input); nil: no bound.
    public var l2Scale: Float? = 0.35
    public init() {}

    /// The configuration for a model whose inputs have `inputCount` values.
    public func resolved(layer: Int, units: [Int]?, inputCount: Int) -> ActivationMaximisationConfig {
        var c = config
        c.layer = layer
        c.units = units
        if let s = l2Scale, c.parameterisation == .pixel, c.range != .sigmoid { c.l2Radius = s * Float(inputCount).squareRoot() }
        return c
    }

    public static let arguments = Arguments<VisualiseSettings>(defaults: { VisualiseSettings() }, [
        .int("seeds", \.config.seedsPerUnit, help: "optimised images per unit, each from its own start (diversity)"),
        .int("steps", \.config.steps, min: 0, help: "gradient steps"),
        .number("lr", \.config.learningRate, 0, openLow: true, help: "step size"),
        .choice("optimizer", \.config.optimizer, help: "Adam, or plain gradient ascent"),
        .choice("parameterisation", \.config.parameterisation, help: "pixel values, or decorrelated Fourier coefficients (Olah et al. 2017)"),
        .choice("range", \.config.range, help: "how images stay in [0, 1]"),
        .choice("channel-objective", \.config.channelObjective, help: "conv channels: the mean over positions, or the centre position"),
        .int("jitter", \.config.jitter, min: 0, help: "robustness: random shifts of up to this many pixels every step"),
        .number("scale", \.config.scale, 0, 1, openHigh: true, help: "robustness: random scaling by up to this fraction"),
        .number("rotation", \.config.rotationDegrees, 0, 180, help: "robustness: random rotations of up to this many degrees"),
        .number("tv", \.config.totalVariation, 0, help: "weight of the total-variation penalty"),
        .int("blur-every", \.config.blurEvery, min: 0, help: "pixel: blur the image every this many steps (0: never)"),
        .number("l2-bound", \.l2Scale, 0, openLow: true, help: "pixel with range clip or none: keep the image within this many √(input values) of black (L2)"),
        .number("init-noise", \.config.initialNoise, 0, help: "standard deviation of the start (around grey); larger gives more diverse seeds"),
        .flag("pre-activation", \.config.preActivation, help: "dead ReLUs: optimise the unit's input, which has a gradient when the unit is off"),
        .flag("redirect-relu", \.config.redirectDeadReLUs, help: "dead ReLUs: pass gradients through ReLUs that would block them (lucid #68)"),
        .seed(\.config.seed, help: "seed of the starts and the transforms"),
    ])
}

/// `step: visualise` — activation maximisation (Erhan et al. 2009; Olah et al. 2017) for units of a layer or class
/// logits, several seeds per unit, with each unit's top dataset examples beside its optimised images.
public struct VisualiseStep: DeclaredStep {
    public let name = "visualise"
    public let summary = "activation maximisation of units or classes (several seeds each) beside their top dataset examples; a grid of every unit"

    public struct Options {
        public init() {}
        public var model = ""
        public var data: String?
        public var name: String?
        public var layer = "logits"
        public var units: [Int]?
        public var examples = 4
        public var panels = 8
        public var settings = VisualiseSettings()
    }

    public static let arguments = Arguments<Options>(defaults: { Options() }, [
        .text("model", \.model, .name(.model), required: true, help: "the model"),
        .text("data", \.data, .name(.data), help: "the data whose test images give the dataset examples", default: "the model's data"),
        .text("name", \.name, help: "workspace name of the result", default: "<model>.visualise-<layer>"),
        .text("layer", \.layer, .layer, help: "a weight (its units after the activation), a layer index, or logits"),
        .ints("units", \.units, min: 0, help: "units visualised", default: "all"),
        .int("examples", \.examples, min: 0, help: "top dataset examples beside each unit's optimised images"),
        .int("panels", \.panels, min: 0, help: "units drawn with their dataset examples (the first ones)"),
    ] + VisualiseSettings.arguments.list.map { $0.lifted(\Options.settings) })

    public init() {}
    public func initialOptions(_ ctx: CellContext) -> Options {
        var o = Options()
        o.settings.config.seed = ctx.seed
        return o
    }
    public func inputs(_ ctx: CellContext, _ ws: Workspace) throws -> StepInputs { StepInputs.model(try options(ctx).model, data: try options(ctx).data, ws) }

    public func run(_ ctx: CellContext, _ ws: Workspace) throws -> CellResult<Produced> {
        let o = try options(ctx)
        let (model, test) = try ws.modelWithTestData(o.model, data: o.data)
        try Trainer.checkCompatible(model, test)
        let config = o.settings.resolved(layer: try ModelAccess.unitLayer(model, o.layer), units: o.units, inputCount: test.featureCount)
        let r = try ActivationMaximisation.run(model: model, config: config)
        let ex = try DatasetExamples.find(model: model, images: test.images,
                                          config: DatasetExamplesConfig(layer: config.layer, units: o.units, count: max(1, o.examples),
                                                                        spatial: config.channelObjective == .mean ? .mean : .max))
        let stored = try ws.addResult(r, name: o.name ?? "\(o.model).visualise-\(o.layer)")
        let label = ctx.label(prefix: "fig")
        let what = o.layer == "logits" ? "class" : "unit"
        let units = Array(Set(r.images.map(\.unit))).sorted()
        let cols = min(10, units.count)
        let grid = try FigureFile.save(FeatureFigures.grid(r, classNames: o.layer == "logits" ? test.classNames : nil), label: "\(label)-grid",
                                       caption: "The first optimised image of every \(what) of \(o.model) \(o.layer).",
                                       width: min(720, 40 + cols * 80), height: 40 + ((units.count + cols - 1) / cols) * 96, directory: ctx.directory)
        let shown = Array(units.prefix(o.panels))
        let panel = try FigureFile.save(FeatureFigures.beside(r, examples: ex, test: test, units: shown, exampleCount: o.examples,
                                                              classNames: o.layer == "logits" ? test.classNames : nil),
                                        label: label, caption: ctx.cell.options.caption, width: 720, height: 110 + 92 * shown.count, directory: ctx.directory)
        return CellResult(produced: [stored], outputs: [.metrics(Self.cards(r, ex, name: o.name ?? "\(o.model).visualise-\(o.layer)")),
                                                        .text(Self.text(r, ex, o)), grid, panel])
    }

    /// How many units' best optimised image beats their best dataset example.
    static func beats(_ r: ActivationMaximisationResult, _ ex: DatasetExamplesResult) -> (beating: Int, units: Int) {
        var beating = 0, units = 0
        for u in ex.units {
            guard let best = u.top.first?.value else { continue }
            let opt = r.images.filter { $0.unit == u.unit }.map(\.activation).max() ?? -.infinity
            units += 1
            if opt > best { beating += 1 }
        }
        return (beating, units)
    }

    static func cards(_ r: ActivationMaximisationResult, _ ex: DatasetExamplesResult, name: String) -> [MetricCard] {
        let (b, n) = beats(r, ex)
        return [MetricCard(name: "\(name).beats-examples", label: "optimised image beats the best test image", value: n == 0 ? 0 : Double(b) / Double(n),
                           direction: .higher, display: "\(b) of \(n) units")]
    }

    static func text(_ r: ActivationMaximisationResult, _ ex: DatasetExamplesResult, _ o: Options) -> String {
        let c = r.config
        let (b, n) = beats(r, ex)
        return "Activation maximisation of \(n) units of \(o.model) \(o.layer): \(c.seedsPerUnit) seeds each, \(c.steps) \(c.optimizer.rawValue) steps of size "
            + "\(formatNumber(c.learningRate)) on \(c.parameterisation.rawValue) parameters, range \(c.range.rawValue), jitter ±\(c.jitter) px, scale ±"
            + "\(formatNumber(c.scale * 100)) %, rotation ±\(formatNumber(c.rotationDegrees))°, total variation \(formatNumber(c.totalVariation))"
            + (c.l2Radius.map { ", within L2 distance \(formatNumber($0)) of black" } ?? "") + (c.blurEvery > 0 ? ", blurred every \(c.blurEvery) steps" : "")
            + ", start noise σ \(formatNumber(c.initialNoise)), dead-ReLU remedies: pre-activation \(c.preActivation ? "on" : "off"), "
            + "redirected ReLU \(c.redirectDeadReLUs ? "on" : "off"); no ImageNet normalisation. In \(b) of \(n) units the best optimised image "
            + "activates the unit more than its best test image."
    }
}
