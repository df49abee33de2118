import Foundation
import GlassboxAnalysis
import GlassboxCore
import GlassboxData
import GlassboxFigures
import GlassboxNN
import GlassboxReport

/// What `attribution-check` stores.
public struct AttributionCheckResult: Codable, Sendable, WorkspaceResult {
    public static let kind = "attribution check result"
    public var methods: [AttributionMethod]
    public var deletionInsertion: [DeletionInsertionResult]
    public var randomisation: [RandomisationTestResult]
    /// Per method: the share of images whose original map is constant (e.g. all zero). For those the rank
    /// correlation says nothing, so a method with constant maps gets no verdict.
    public var constantMaps: [Double]
}

/// `step: attribution-check` — is the map trustworthy? Deletion and insertion curves against a random order
/// (Petsiuk et al. 2018), the model parameter randomisation test (Adebayo et al. 2018), and per-class mean maps.
public struct AttributionCheckStep: DeclaredStep {
    public let name = "attribution-check"
    public let summary = "deletion/insertion curves against a random order, the parameter randomisation test with a verdict, per-class mean maps"

    public struct Options {
        public init() {}
        public var model = ""
        public var data: String?
        public var name: String?
        public var methods: [AttributionMethod] = [.saliency, .gradientTimesInput, .integratedGradients]
        public var choice: ImageChoice = { var c = ImageChoice(); c.count = 100; return c }()
        public var settings = AttributionSettings()
        public var pixels = ComparedPixels.all
        public var failThreshold: Float = RandomisationTestConfig(attribution: AttributionConfig(method: .saliency)).failThreshold
        public var pixelsPerStep: Int?
    }

    public static let arguments = Arguments<Options>(defaults: { Options() }, [
        .text("model", \.model, .name(.model), required: true, help: "the model"),
        .text("data", \.data, .name(.data), help: "the data whose test images are used", default: "the model's data"),
        .text("name", \.name, help: "workspace name of the result", default: "<model>.attribution-check"),
        .choices("methods", \.methods, help: "methods checked"),
    ] + ImageChoice.arguments(\Options.choice, count: 100) + AttributionSettings.arguments.list.map { $0.lifted(\Options.settings) } + [
        .choice("pixels", \.pixels, help: "randomisation test: compare all pixels, or only where the input is not zero"),
        .number("fail-threshold", \.failThreshold, 0, 1, help: "randomisation test: a method fails when the fully randomised model's maps keep a mean |ρ| above this"),
        .int("pixels-per-step", \.pixelsPerStep, help: "deletion/insertion: pixels changed per step", default: "the image width"),
    ])

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
        var curves: [DeletionInsertionResult] = [], tests: [RandomisationTestResult] = [], means: [(AttributionMethod, ClassMeanMaps)] = []
        var constant: [Double] = []
        for m in o.methods {
            let config = o.settings.config(m)
            let maps = try Attribution.compute(model: model, inputs: inputs, targets: targets, config: config)
            curves.append(try DeletionInsertion.evaluate(model: model, inputs: inputs, targets: targets, maps: maps.maps,
                                                         config: DeletionInsertionConfig(pixelsPerStep: o.pixelsPerStep, seed: o.settings.seed)))
            tests.append(try RandomisationTest.run(model: model, inputs: inputs, targets: targets,
                                                   config: RandomisationTestConfig(attribution: config, seed: o.settings.seed, failThreshold: o.failThreshold,
                                                                                   pixels: o.pixels)))
            means.append((m, try ClassMeanMaps.compute(maps, labels: labels, classCount: test.classCount)))
            constant.append(Double((0..<indices.count).filter { i in let v = maps.map(i); return v.allSatisfy { $0 == v[0] } }.count) / Double(indices.count))
        }
        let result = AttributionCheckResult(methods: o.methods, deletionInsertion: curves, randomisation: tests, constantMaps: constant)
        let name = o.name ?? "\(o.model).attribution-check"
        let stored = try ws.addResult(result, name: name)
        let label = ctx.label(prefix: "fig")
        let pairs = Array(zip(o.methods, curves)), checks = Array(zip(o.methods, tests))
        let f1 = try FigureFile.save(AttributionFigures.curves(pairs), label: "\(label)-curves",
                                     caption: "Mean target-class probability over \(indices.count) test images as pixels are deleted (set to 0, most attributed first) or inserted into a blurred image, against a random order.",
                                     width: 720, height: 330, directory: ctx.directory)
        let f2 = try FigureFile.save(AttributionFigures.randomisation(checks, threshold: o.failThreshold), label: "\(label)-randomisation",
                                     caption: "Model parameter randomisation test (cascading, output layer first): rank correlation of each method's maps with the original model's. Maps that stay correlated do not depend on what the model learned.",
                                     width: 600, height: 340, directory: ctx.directory)
        let f3 = try FigureFile.save(AttributionFigures.classMeans(means, classNames: test.classNames, channels: inputs.shape[1]), label: "\(label)-class-means",
                                     caption: "Mean attribution map per class (red positive, blue negative).",
                                     width: 720, height: 90 + 80 * o.methods.count, directory: ctx.directory)
        return CellResult(produced: [stored], outputs: [.metrics(Self.cards(result, name: name)), f1, .table(Self.curveTable(result, label: label)),
                                                        f2, .table(Self.verdictTable(result, label: label)), f3])
    }

    static func cards(_ r: AttributionCheckResult, name: String) -> [MetricCard] {
        r.methods.indices.map { i in
            let (m, t) = (r.methods[i], r.randomisation[i])
            let verdict = r.constantMaps[i] > 0.5 ? "no verdict" : t.passes == true ? "passes" : "fails"
            return MetricCard(name: "\(name).\(m.rawValue).randomised-rho", label: "\(AttributionFigures.methodName(m)): |ρ| after full randomisation",
                              value: Double(t.fullyRandomisedMeanAbsoluteSpearman ?? .nan), direction: .lower,
                              display: t.fullyRandomisedMeanAbsoluteSpearman.map { String(format: "%.2f (%@)", $0, verdict) } ?? "–")
        }
    }

    static func curveTable(_ r: AttributionCheckResult, label: String) -> TableOutput {
        let rows = zip(r.methods, r.deletionInsertion).map { m, c -> [String] in
            [AttributionFigures.methodName(m), String(format: "%.3f", c.attribution.meanDeletionAUC), String(format: "%.3f", c.random.meanDeletionAUC),
             String(format: "%.3f", c.attribution.meanInsertionAUC), String(format: "%.3f", c.random.meanInsertionAUC)]
        }
        return TableOutput(label: "tbl-\(label.hasPrefix("fig-") ? String(label.dropFirst(4)) : label)-auc", caption: "Areas under the deletion and insertion curves.",
                           columns: ["Method", "Deletion AUC ↓", "random order", "Insertion AUC ↑", "random order"], rows: rows,
                           numeric: [false, true, true, true, true])
    }

    static func verdictTable(_ r: AttributionCheckResult, label: String) -> TableOutput {
        let rows = r.methods.indices.map { i -> [String] in
            let t = r.randomisation[i]
            let verdict = r.constantMaps[i] > 0.5 ? String(format: "no verdict: %.0f %% of the maps are constant", r.constantMaps[i] * 100)
                : t.passes.map { $0 ? "passes" : "fails" } ?? "–"
            return [AttributionFigures.methodName(r.methods[i])] + t.cascading.map { String(format: "%.2f", $0.meanSpearmanAbsolute) } + [verdict]
        }
        let stages = r.randomisation.first?.cascading.map { "up to \($0.randomised.last ?? "")" } ?? []
        return TableOutput(label: "tbl-\(label.hasPrefix("fig-") ? String(label.dropFirst(4)) : label)-randomisation",
                           caption: "Mean Spearman ρ between the absolute maps of the original model and of the model with its layers randomised from the top (cascading); a method fails when the fully randomised model's maps keep a mean |ρ| above the threshold.",
                           columns: ["Method"] + stages + ["Verdict"], rows: rows, numeric: [false] + stages.map { _ in true } + [false])
    }
}
