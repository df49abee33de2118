import Foundation
import GlassboxCore
import GlassboxData
import GlassboxFigures
import GlassboxNN
import GlassboxReport

// Figure kinds of data, training and evaluation: samples, curves, confusion, per-class, filters, weights.

/// `kind: samples` — the first images of a split with their classes (or a model's predictions, wrong ones marked).
public struct SamplesFigure: DeclaredFigureKind {
    public let name = "samples"
    public let summary = "the first images of a split with their classes, or a model's predictions (wrong ones marked)"
    public enum Split: String, CaseIterable { case test, train }
    public struct Options {
        public init() {}
        public var data = ""
        public var count = 20
        public var columns = 10
        public var split = Split.test
        public var model: String?
        public var spread = false
    }
    public static let defaults = Options()
    public static let arguments = Arguments<Options>(defaults: { defaults }, [
        .text("data", \.data, .name(.data), required: true, help: "the data set"),
        .int("count", \.count, help: "images shown"),
        .int("columns", \.columns, help: "images per row"),
        .choice("split", \.split, help: "which split"),
        .text("model", \.model, .name(.model), help: "label each image with this model's prediction"),
        .flag("spread", \.spread, help: "images evenly spaced through the split instead of the first ones (image folders are ordered by class)"),
    ])
    public init() {}

    public func inputs(_ ctx: CellContext, _ ws: Workspace) throws -> StepInputs {
        let o = try options(ctx)
        return StepInputs(names: [WorkspaceName(.data, o.data)] + (o.model.map { [WorkspaceName(.model, $0)] } ?? []))
    }

    public func make(_ ctx: CellContext, _ ws: Workspace, title: String?) throws -> MadeFigure {
        let o = try options(ctx)
        let pair = try ws.dataPair(o.data)
        let data = o.split == .train ? pair.train : pair.test
        let count = min(o.count, data.count)
        guard count > 0 else { throw ctx.args.error("data", expected: "at least one sample", found: "an empty data set") }
        let picked = o.spread ? (0..<count).map { $0 * data.count / count } : Array(0..<count)
        let inputs = data.images.gatherRows(picked)
        // Shown as pixels: normalised inputs are turned back first.
        let shown = ws.data[o.data]?.source.normalization?.displayable(inputs) ?? inputs
        let images = try (0..<count).map { try FigureImage(shown.rows($0..<($0 + 1)).reshaped([data.channels, data.height, data.width])) }
        var labels = picked.map { data.classNames[Int(data.labels[$0])] }
        var highlighted: [Bool]?
        if let m = o.model {
            let model = try ws.model(m).model
            try Trainer.checkCompatible(model, data)
            let predicted = model.predict(inputs)
            labels = predicted.map { data.classNames.indices.contains($0) ? data.classNames[$0] : "class \($0)" }
            highlighted = zip(predicted, picked).map { $0 != Int(data.labels[$1]) }
        }
        let figure = Figure.imageGrid(ImageGrid(images: images, labels: labels, highlighted: highlighted, columns: o.columns, title: title))
        return MadeFigure(figure, height: 40 + ((count + o.columns - 1) / o.columns) * 86)
    }
}

/// `kind: curves` — loss or accuracy per epoch of models (training and test).
public struct CurvesFigure: DeclaredFigureKind {
    public let name = "curves"
    public let summary = "loss or accuracy per epoch of models, training and test"
    public enum Metric: String, CaseIterable { case loss, accuracy }
    public struct Options {
        public init() {}
        public var models: [String] = []
        public var metric = Metric.loss
    }
    public static let defaults = Options()
    public static let arguments = Arguments<Options>(defaults: { defaults }, [
        .texts("models", \.models, .names(.model), required: true, help: "the models"),
        .choice("metric", \.metric, help: "what is plotted"),
    ])
    public init() {}

    public func inputs(_ ctx: CellContext, _ ws: Workspace) throws -> StepInputs {
        StepInputs(names: try options(ctx).models.map { WorkspaceName(.model, $0) })
    }

    public func make(_ ctx: CellContext, _ ws: Workspace, title: String?) throws -> MadeFigure {
        let o = try options(ctx)
        var series: [LineSeries] = []
        for m in o.models {
            let epochs = try ws.modelRecord(m).history.epochs
            let x = epochs.map { Double($0.epoch) }
            let train = epochs.map { o.metric == .loss ? Double($0.loss) : Double($0.trainAccuracy) * 100 }
            series.append(LineSeries(name: "\(m) train", x: x, y: train))
            let test = epochs.compactMap { e in o.metric == .loss ? e.testLoss.map(Double.init) : e.testAccuracy.map { Double($0) * 100 } }
            if test.count == epochs.count { series.append(LineSeries(name: "\(m) test", x: x, y: test)) }
        }
        return MadeFigure(.linePlot(LinePlot(series: series, title: title, xTitle: "epoch",
                                             yTitle: o.metric == .loss ? "cross-entropy loss" : "accuracy (%)", markers: true)))
    }
}

/// `kind: confusion` — the confusion matrix of an evaluation.
public struct ConfusionFigure: DeclaredFigureKind {
    public let name = "confusion"
    public let summary = "the confusion matrix of an evaluation"
    public struct Options { public var evaluation = "" }
    public static let defaults = Options()
    public static let arguments = Arguments<Options>(defaults: { defaults }, [
        .text("evaluation", \.evaluation, .name(.evaluation), required: true, help: "the evaluation"),
    ])
    public init() {}

    public func inputs(_ ctx: CellContext, _ ws: Workspace) throws -> StepInputs {
        StepInputs(names: [WorkspaceName(.evaluation, try options(ctx).evaluation)])
    }

    public func make(_ ctx: CellContext, _ ws: Workspace, title: String?) throws -> MadeFigure {
        let ev = try ws.evaluation(try options(ctx).evaluation).evaluation
        return MadeFigure(.heatMap(HeatMap(values: Matrix(ev.confusion.map { $0.map(Double.init) }), rowLabels: ev.classNames,
                                           columnLabels: ev.classNames, rowTitle: "true class", columnTitle: "predicted class",
                                           title: title, colorMap: .viridis, annotation: .integer, colorBarTitle: "samples")),
                          width: 720, height: 620)
    }
}

/// `kind: per-class` — test accuracy per class, one bar group per evaluation.
public struct PerClassFigure: DeclaredFigureKind {
    public let name = "per-class"
    public let summary = "test accuracy per class, one bar group per evaluation"
    public struct Options { public var evaluations: [String] = [] }
    public static let defaults = Options()
    public static let arguments = Arguments<Options>(defaults: { defaults }, [
        .texts("evaluations", \.evaluations, .names(.evaluation), required: true, help: "the evaluations"),
    ])
    public init() {}

    public func inputs(_ ctx: CellContext, _ ws: Workspace) throws -> StepInputs {
        StepInputs(names: try options(ctx).evaluations.map { WorkspaceName(.evaluation, $0) })
    }

    public func make(_ ctx: CellContext, _ ws: Workspace, title: String?) throws -> MadeFigure {
        let names = try options(ctx).evaluations
        let evs = try names.map { try ws.evaluation($0).evaluation }
        let classes = evs[0].classNames
        for (n, e) in zip(names, evs) where e.classNames != classes {
            throw ctx.args.error("evaluations", expected: "evaluations over the same classes", found: "'\(n)' with different classes")
        }
        let groups = zip(names, evs).map { BarGroup(name: $0, values: $1.perClassAccuracy.map { $0.isNaN ? 0 : Double($0) * 100 }) }
        return MadeFigure(.barChart(BarChart(categories: classes, groups: groups, title: title, xTitle: "class",
                                             yTitle: "test accuracy (%)", unit: "%")), height: 380)
    }
}

/// The model a figure kind draws a layer of, and the layer (a parameter name; default: the first of type `T`).
public struct LayerChoice {
    public var model = ""
    public var layer: String?
    public init(model: String = "", layer: String? = nil) { self.model = model; self.layer = layer }

    func resolve<T>(_ ws: Workspace, _ type: T.Type, what: String) throws -> (Sequential, T, String) {
        let model = try ws.model(self.model).model
        guard let name = layer ?? ModelAccess.first(model, T.self) else {
            throw GlassboxError.invalidArgument(name: "model", expected: "a model with \(what)", found: "'\(model.spec)'")
        }
        return (model, try ModelAccess.layer(model, name, T.self, what: what), name)
    }
}

/// `kind: filters` — a conv layer's k×k filters (first input channel), blue–red, symmetric scale.
public struct FiltersFigure: DeclaredFigureKind {
    public let name = "filters"
    public let summary = "a convolution layer's filters"
    public struct Options {
        public init() {}
        public var target = LayerChoice()
        public var columns: Int?
    }
    public static let defaults = Options()
    public static let arguments = Arguments<Options>(defaults: { defaults }, [
        .text("model", \.target.model, .name(.model), required: true, help: "the model"),
        .text("layer", \.target.layer, .layer, help: "the conv weight", default: "the first conv layer"),
        .int("columns", \.columns, help: "filters per row", default: "about √filters"),
    ])
    public init() {}

    public func inputs(_ ctx: CellContext, _ ws: Workspace) throws -> StepInputs {
        StepInputs(names: [WorkspaceName(.model, try options(ctx).target.model)])
    }

    public func make(_ ctx: CellContext, _ ws: Workspace, title: String?) throws -> MadeFigure {
        let o = try options(ctx)
        let (_, conv, _) = try o.target.resolve(ws, Conv2d.self, what: "a convolution layer")
        let figure = Figure.filterGrid(try FilterGrid(weights: conv.weight.value, normalization: .symmetric, columns: o.columns,
                                                      labels: (0..<conv.outChannels).map { "\($0)" }, title: title))
        let cols = o.columns ?? Int(Double(conv.outChannels).squareRoot().rounded(.up))
        let rows = (conv.outChannels + cols - 1) / cols
        let width = min(720, 40 + cols * 90)
        return MadeFigure(figure, width: width, height: 30 + rows * ((width - 40) / cols + 22))
    }
}

/// `kind: weights` — a Linear layer's rows as images (red positive, blue negative, pruned weights black).
public struct WeightsFigure: DeclaredFigureKind {
    public let name = "weights"
    public let summary = "a linear layer's units as red/blue weight images (pruned weights black)"
    public struct Options {
        public init() {}
        public var target = LayerChoice()
        public var count = 40
        public var columns = 10
    }
    public static let defaults = Options()
    public static let arguments = Arguments<Options>(defaults: { defaults }, [
        .text("model", \.target.model, .name(.model), required: true, help: "the model"),
        .text("layer", \.target.layer, .layer, help: "the linear weight (its inputs must form a square image)", default: "the first linear layer"),
        .int("count", \.count, help: "units shown (the first ones)"),
        .int("columns", \.columns, help: "images per row (unit numbers are shown with at most 10)"),
    ])
    public init() {}

    public func inputs(_ ctx: CellContext, _ ws: Workspace) throws -> StepInputs {
        StepInputs(names: [WorkspaceName(.model, try options(ctx).target.model)])
    }

    public func make(_ ctx: CellContext, _ ws: Workspace, title: String?) throws -> MadeFigure {
        let o = try options(ctx)
        let (_, lin, name) = try o.target.resolve(ws, Linear.self, what: "a linear layer")
        let side = try squareSide(lin, name)
        let count = min(o.count, lin.outFeatures)
        let labelled = o.columns <= 10
        let figure = Figure.weightImages(try WeightImages(weight: lin.weight.value.rows(0..<count), imageHeight: side, imageWidth: side,
                                                          mask: lin.weight.mask.map { $0.rows(0..<count) }, scale: .perImage, columns: o.columns,
                                                          labels: labelled ? (0..<count).map { "\($0)" } : nil, title: title))
        let rows = (count + o.columns - 1) / o.columns
        return MadeFigure(figure, height: 40 + rows * ((720 - 20) / o.columns + (labelled ? 16 : 0)))
    }
}

/// The side of a linear layer's square input image (784 → 28).
func squareSide(_ lin: Linear, _ name: String) throws -> Int {
    let side = Int(Double(lin.inFeatures).squareRoot().rounded())
    guard side * side == lin.inFeatures else {
        throw GlassboxError.invalidArgument(name: "layer", expected: "a linear layer with a square number of inputs (784 = 28×28)",
                                            found: "'\(name)' with \(lin.inFeatures) inputs")
    }
    return side
}
