import Foundation
import GlassboxAnalysis
import GlassboxCore
import GlassboxData
import GlassboxFigures
import GlassboxNN
import GlassboxReport

/// What `attribute` stores: the images it explained and one attribution per method.
public struct AttributeStepResult: Codable, Sendable, WorkspaceResult {
    public static let kind = "attribution result"
    public var images: [Int]
    public var labels: [Int]
    public var targets: [Int]
    public var attributions: [Attribution]
}

/// `step: attribute` — which pixels made each prediction: maps of several attribution methods for the same test
/// images (one call shape for all: images and targets in, maps of the images' shape out), with integrated gradients'
/// and DeepLIFT's completeness gaps.
public struct AttributeStep: DeclaredStep {
    public let name = "attribute"
    public let summary = "attribution maps of several methods for the same test images (method × image grid), with completeness gaps"

    public struct Options {
        public init() {}
        public var model = ""
        public var data: String?
        public var name: String?
        public var methods: [AttributionMethod] = [.saliency, .gradientTimesInput, .integratedGradients, .deepLift, .occlusion]
        public var choice = ImageChoice()
        public var settings = AttributionSettings()
    }

    public static let arguments = Arguments<Options>(defaults: { Options() }, [
        .text("model", \.model, .name(.model), required: true, help: "the model"),
        .text("data", \.data, .name(.data), help: "the data whose test images are explained", default: "the model's data"),
        .text("name", \.name, help: "workspace name of the result", default: "<model>.attribution"),
        .choices("methods", \.methods, help: "methods, one row each"),
    ] + ImageChoice.arguments(\Options.choice, count: 8) + AttributionSettings.arguments.list.map { $0.lifted(\Options.settings) })

    public init() {}

    public func initialOptions(_ ctx: CellContext) -> Options {
        var o = Options()
        o.settings.seed = ctx.seed
        return o
    }

    public func inputs(_ ctx: CellContext, _ ws: Workspace) throws -> StepInputs { StepInputs.model(try options(ctx).model, data: try options(ctx).data, ws) }

    public func run(_ ctx: CellContext, _ ws: Workspace) throws -> CellResult<Produced> {
        let o = try options(ctx)
        let (model, test) = try ws.modelWithTestData(o.model, data: o.data)
        let (inputs, indices, labels, targets) = try o.choice.select(model, test)
        let maps = try o.methods.map { try Attribution.compute(model: model, inputs: inputs, targets: targets, config: o.settings.config($0)) }
        let stored = try ws.addResult(AttributeStepResult(images: indices, labels: labels, targets: targets, attributions: maps),
                                      name: o.name ?? "\(o.model).attribution")
        let label = ctx.label(prefix: "fig")
        let figure = try FigureFile.save(AttributionFigures.methodGrid(inputs: inputs, labels: labels, targets: targets, classNames: test.classNames,
                                                                       maps: maps, title: nil),
                                         label: label, caption: ctx.cell.options.caption, width: 720, height: 110 + 95 * (o.methods.count + 1),
                                         directory: ctx.directory)
        return CellResult(produced: [stored], outputs: [.metrics(Self.cards(maps, name: o.name ?? "\(o.model).attribution")),
                                                        .text(Self.text(maps, o, images: indices.count)), figure])
    }

    /// Completeness of integrated gradients and DeepLIFT: the share of images within 1 % and the worst relative gap.
    static func cards(_ maps: [Attribution], name: String) -> [MetricCard] {
        maps.compactMap { a -> MetricCard? in
            guard let gaps = a.relativeCompletenessGap, !gaps.isEmpty else { return nil }
            let within = Double(gaps.filter { $0 <= 0.01 }.count) / Double(gaps.count)
            return MetricCard(name: "\(name).\(a.config.method.rawValue).complete", label: "\(AttributionFigures.methodName(a.config.method)): completeness within 1 %",
                              value: within, direction: .higher, display: String(format: "%.0f %% of images", within * 100))
        }
    }

    static func text(_ maps: [Attribution], _ o: Options, images: Int) -> String {
        let s = o.settings
        var t = "Attribution maps of \(images) test images of '\(o.model)' for the \(o.choice.targetClass.rawValue) class's \(s.target.rawValue): "
            + maps.map { AttributionFigures.methodName($0.config.method) }.joined(separator: ", ") + "."
        if o.methods.contains(.integratedGradients) {
            t += " Integrated gradients: \(s.steps) \(s.quadrature.rawValue) nodes from a \(s.baseline.rawValue) baseline."
        }
        if o.methods.contains(.occlusion) { t += " Occlusion: \(s.window)×\(s.window) windows, stride \(s.stride), set to \(formatNumber(s.occlusionValue))." }
        if let nt = s.noiseTunnel { t += " Every method inside a \(nt.rawValue) noise tunnel (\(s.noiseSamples) samples, noise \(formatNumber(s.noiseLevel)))." }
        for a in maps {
            guard let gaps = a.relativeCompletenessGap, let worst = gaps.max() else { continue }
            t += String(format: " %@: Σ attributions − (F(x) − F(x′)) is at most %.3g %% of F(x) − F(x′).", AttributionFigures.methodName(a.config.method),
                        Double(worst) * 100)
        }
        return t
    }
}
