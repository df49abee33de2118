import Foundation
import GlassboxCore
import GlassboxData
import GlassboxFigures
import GlassboxNN

// The built-in steps: data, train, evaluate, figure, table, metrics.

/// `step: data` — loads a data set from the registry under a workspace name.
///
/// Arguments: `dataset` (registry name), `name` (default: the data set name), `limit` (first N samples of both
/// splits), `train-limit`, `test-limit`, `resplit: TRAIN:TEST` (split the test split with the recipe seed),
/// `dir` (folder holding the files; default: the registry's search path).
public struct DataStep: Step {
    public let name = "data"
    static let allowed = ["dataset", "name", "limit", "train-limit", "test-limit", "resplit", "dir"]

    func source(_ ctx: CellContext) throws -> (DataSource, files: [String]) {
        let a = ctx.args
        try a.allowOnly(Self.allowed)
        let dataset = try a.requireString("dataset")
        let info: DatasetInfo
        do { info = try DatasetRegistry.info(dataset) } catch let e as GlassboxError {
            throw a.error("dataset", expected: "a known data set", found: "\(e)")
        }
        var resplit: [Int]?
        if let r = try a.string("resplit") {
            let parts = r.split(separator: ":").map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard parts.count == 2, let x = parts[0], let y = parts[1], x > 0, y > 0 else {
                throw a.error("resplit", expected: "TRAIN:TEST sample counts such as 8000:2000", found: "'\(r)'")
            }
            resplit = [x, y]
        }
        let limit = try a.positiveInt("limit")
        let trainLimit = try a.positiveInt("train-limit") ?? limit
        let testLimit = try a.positiveInt("test-limit") ?? limit
        let splits: [Split] = resplit == nil ? [.train, .test] : [.test]
        let dir = try a.string("dir") ?? ctx.dataDirectory
        var folder: String?
        var files: [String] = []
        for split in splits {
            guard let f = DatasetRegistry.locate(info, split: split, directory: dir) else {
                do { _ = try DatasetRegistry.load(name: dataset, split: split, limit: 0, directory: dir) } catch let e as GlassboxError {
                    throw a.error("dataset", expected: "the files of '\(dataset)' (\(split.rawValue) split) on disk", found: "\(e)")
                }
                throw a.error("dataset", expected: "the files of '\(dataset)' on disk", found: "none")
            }
            folder = f
            switch info.format {
            case .idx:
                files += info.localFiles(for: split).compactMap { DatasetRegistry.existingFile($0, in: f) }
            case .cifar10Binary:
                let batches = CIFAR10.batchFolder(in: f, split: split) ?? f
                files += info.localFiles(for: split).map { (batches as NSString).appendingPathComponent($0) }
            }
        }
        let src = DataSource(dataset: dataset, folder: folder ?? "", trainLimit: trainLimit, testLimit: testLimit,
                             resplit: resplit, seed: ctx.seed, classNames: info.classNames)
        return (src, files)
    }

    public func inputs(_ ctx: CellContext, _ ws: Workspace) throws -> StepInputs {
        StepInputs(files: try source(ctx).files)
    }

    public func run(_ ctx: CellContext, _ ws: Workspace) throws -> CellResult {
        let (src, _) = try source(ctx)
        let name = try ctx.args.string("name") ?? src.dataset
        let pair = try src.load()
        ws.add(.data(name: name, source: src), directory: ctx.directory, live: pair)
        let text = "Data set '\(name)': \(src.dataset), \(pair.train.count) training and \(pair.test.count) test samples, "
            + "\(pair.train.classCount) classes, \(pair.train.channels)×\(pair.train.height)×\(pair.train.width) each."
        return CellResult(produced: [.data(name: name, source: src)], outputs: [.text(text)])
    }
}

/// `step: train` — trains a model on a named data set (test split evaluated after each epoch).
///
/// Arguments: `model` (spec), `data`, `name`, `epochs` (2), `batch` (64), `optimizer` (sgd|adam), `lr`
/// (0.1 for SGD, 0.001 for Adam), `momentum`, `weight-decay`, `seed` (default: the recipe seed).
public struct TrainStep: Step {
    public let name = "train"
    static let allowed = ["model", "data", "name", "epochs", "batch", "optimizer", "lr", "momentum", "weight-decay", "seed"]

    public func inputs(_ ctx: CellContext, _ ws: Workspace) throws -> StepInputs {
        try ctx.args.allowOnly(Self.allowed)
        return StepInputs(names: [WorkspaceName(.data, try ctx.args.requireString("data"))])
    }

    public func run(_ ctx: CellContext, _ ws: Workspace) throws -> CellResult {
        let a = ctx.args
        let specText = try a.requireString("model")
        let spec: ModelSpec
        do { spec = try ModelSpec.parse(specText) } catch let e as GlassboxError {
            throw a.error("model", expected: "a model spec", found: "\(e)")
        }
        let dataName = try a.requireString("data")
        let modelName = try a.string("name") ?? "model"
        let optimizer = try a.oneOf("optimizer", ["sgd", "adam"], default: "sgd")
        let lr = try a.float("lr") ?? (optimizer == "adam" ? 0.001 : 0.1)
        let wd = try a.float("weight-decay") ?? 0
        let opt: OptimizerConfig = optimizer == "adam" ? .adam(lr: lr, weightDecay: wd)
            : .sgd(lr: lr, momentum: try a.float("momentum") ?? 0, weightDecay: wd)
        let seed = try a.string("seed").map { s -> UInt64 in
            guard let v = UInt64(s) else { throw a.error("seed", expected: "a whole number ≥ 0", found: "'\(s)'") }
            return v
        } ?? ctx.seed
        let config = TrainConfig(epochs: try a.positiveInt("epochs") ?? 2, batchSize: try a.positiveInt("batch") ?? 64,
                                 optimizer: opt, seed: seed)
        let pair = try ws.dataPair(dataName)
        let model = try Sequential(spec: spec, seed: seed)
        let trainer = Trainer(model: model, config: config)
        let history = try trainer.fit(train: pair.train, test: pair.test, label: modelName)
        let checkpoint = "model.safetensors"
        try Checkpoint.save(model, to: (ctx.directory as NSString).appendingPathComponent(checkpoint))
        let record = ModelRecord(spec: spec.description, checkpoint: checkpoint, data: dataName, history: history,
                                 parameterCount: model.parameterCount)
        ws.add(.model(name: modelName, record: record), directory: ctx.directory, live: model)
        var text = "Model '\(modelName)' (\(spec.description), \(model.parameterCount) parameters) trained for \(config.epochs) "
            + "epoch\(config.epochs == 1 ? "" : "s") on '\(dataName)'"
        if let last = history.epochs.last {
            text += String(format: "; final training loss %.4f", last.loss)
            if let acc = last.testAccuracy { text += String(format: ", test accuracy %.2f %%", acc * 100) }
        }
        return CellResult(produced: [.model(name: modelName, record: record)], outputs: [.text(text + ".")])
    }
}

/// `step: evaluate` — accuracy, loss, per-class accuracy and confusion of a model on a data set's test split.
///
/// Arguments: `model`, `data` (default: the data the model was trained on), `name` (default: the model name).
public struct EvaluateStep: Step {
    public let name = "evaluate"

    public func inputs(_ ctx: CellContext, _ ws: Workspace) throws -> StepInputs {
        try ctx.args.allowOnly(["model", "data", "name"])
        return try StepInputs.modelAndData(ctx, ws)
    }

    public func run(_ ctx: CellContext, _ ws: Workspace) throws -> CellResult {
        let modelName = try ctx.args.requireString("model")
        let (record, model) = try ws.model(modelName)
        let dataName = try ctx.args.string("data") ?? record.data
        let pair = try ws.dataPair(dataName)
        let ev = try Trainer.evaluate(model, on: pair.test)
        let name = try ctx.args.string("name") ?? modelName
        let rec = EvaluationRecord(model: modelName, data: dataName, evaluation: ev)
        ws.add(.evaluation(name: name, record: rec), directory: ctx.directory)
        let text = String(format: "Evaluation '%@': model '%@' on the %d test samples of '%@': accuracy %.2f %%, loss %.4f.",
                          name, modelName, ev.count, dataName, ev.accuracy * 100, ev.loss)
        return CellResult(produced: [.evaluation(name: name, record: rec)], outputs: [.text(text)])
    }
}

/// `step: figure` — one figure, saved as PNG plus its JSON value (so `export-figures` can re-render it).
///
/// Kinds: `samples` (data, count, columns, model → predicted labels, wrong ones highlighted), `curves` (models,
/// metric: loss|accuracy), `confusion` (evaluation), `per-class` (evaluations), `filters` (model, layer),
/// `weights` (model, layer, count, columns). `width`/`height` set the size in CSS pixels; `title` a title.
public struct FigureStep: Step {
    public let name = "figure"
    static let kinds = ["samples", "curves", "confusion", "per-class", "filters", "weights"]
    static let allowed = ["kind", "data", "model", "models", "evaluation", "evaluations", "metric", "count", "columns",
                          "layer", "split", "width", "height", "title"]

    public func inputs(_ ctx: CellContext, _ ws: Workspace) throws -> StepInputs {
        let a = ctx.args
        try a.allowOnly(Self.allowed)
        switch try a.oneOf("kind", Self.kinds, default: "") {
        case "samples":
            var names = [WorkspaceName(.data, try a.requireString("data"))]
            if let m = try a.string("model") { names.append(WorkspaceName(.model, m)) }
            return StepInputs(names: names)
        case "curves": return StepInputs(names: try models(a).map { WorkspaceName(.model, $0) })
        case "confusion": return StepInputs(names: [WorkspaceName(.evaluation, try a.string("evaluation") ?? a.requireString("model"))])
        case "per-class": return StepInputs(names: try evaluations(a).map { WorkspaceName(.evaluation, $0) })
        case "filters", "weights": return StepInputs(names: [WorkspaceName(.model, try a.requireString("model"))])
        default: throw a.error("kind", expected: "one of \(Self.kinds.joined(separator: ", "))", found: "none")
        }
    }

    func models(_ a: CellArgs) throws -> [String] {
        guard let m = try a.strings("models") ?? a.strings("model"), !m.isEmpty else {
            throw a.error("models", expected: "a list of model names", found: "none")
        }
        return m
    }

    func evaluations(_ a: CellArgs) throws -> [String] {
        guard let m = try a.strings("evaluations") ?? a.strings("models") ?? a.strings("model"), !m.isEmpty else {
            throw a.error("evaluations", expected: "a list of evaluation names", found: "none")
        }
        return m
    }

    public func run(_ ctx: CellContext, _ ws: Workspace) throws -> CellResult {
        let a = ctx.args
        let kind = try a.oneOf("kind", Self.kinds, default: "")
        let title = try a.string("title")
        var width = 720, height = 360
        let figure: Figure
        switch kind {
        case "samples":
            let pair = try ws.dataPair(try a.requireString("data"))
            let split = try a.oneOf("split", ["train", "test"], default: "test")
            let data = split == "train" ? pair.train : pair.test
            let count = min(try a.positiveInt("count") ?? 20, data.count)
            let columns = try a.positiveInt("columns") ?? 10
            guard count > 0 else { throw a.error("data", expected: "at least one sample", found: "an empty data set") }
            let images = try (0..<count).map { try FigureImage(data.images.rows($0..<($0 + 1)).reshaped([data.channels, data.height, data.width])) }
            let truth = (0..<count).map { data.classNames[Int(data.labels[$0])] }
            var labels = truth
            var highlighted: [Bool]?
            if let m = try a.string("model") {
                let (_, model) = try ws.model(m)
                let predicted = model.predict(data.images.rows(0..<count))
                labels = predicted.map { data.classNames[$0] }
                highlighted = zip(predicted, data.labels[0..<count]).map { $0 != Int($1) }
            }
            figure = .imageGrid(ImageGrid(images: images, labels: labels, highlighted: highlighted, columns: columns, title: title))
            let rows = (count + columns - 1) / columns
            height = 40 + rows * 86
        case "curves":
            let metric = try a.oneOf("metric", ["loss", "accuracy"], default: "loss")
            var series: [LineSeries] = []
            for m in try models(a) {
                guard let rec = ws.models[m]?.record else { throw GlassboxError.message("no model named '\(m)'") }
                let epochs = rec.history.epochs
                let x = epochs.map { Double($0.epoch) }
                if metric == "loss" {
                    series.append(LineSeries(name: "\(m) train", x: x, y: epochs.map { Double($0.loss) }))
                    let t = epochs.compactMap { $0.testLoss.map(Double.init) }
                    if t.count == epochs.count { series.append(LineSeries(name: "\(m) test", x: x, y: t)) }
                } else {
                    series.append(LineSeries(name: "\(m) train", x: x, y: epochs.map { Double($0.trainAccuracy) * 100 }))
                    let t = epochs.compactMap { $0.testAccuracy.map { Double($0) * 100 } }
                    if t.count == epochs.count { series.append(LineSeries(name: "\(m) test", x: x, y: t)) }
                }
            }
            figure = .linePlot(LinePlot(series: series, title: title, xTitle: "epoch",
                                        yTitle: metric == "loss" ? "cross-entropy loss" : "accuracy (%)", markers: true))
        case "confusion":
            let name = try a.string("evaluation") ?? a.requireString("model")
            let ev = try ws.evaluation(name).evaluation
            figure = .heatMap(HeatMap(values: Matrix(ev.confusion.map { $0.map(Double.init) }), rowLabels: ev.classNames,
                                      columnLabels: ev.classNames, rowTitle: "true class", columnTitle: "predicted class",
                                      title: title, colorMap: .viridis, annotation: .integer, colorBarTitle: "samples"))
            width = 720; height = 620
        case "per-class":
            let names = try evaluations(a)
            let evs = try names.map { try ws.evaluation($0).evaluation }
            let classes = evs[0].classNames
            for (n, e) in zip(names, evs) where e.classNames != classes {
                throw a.error("evaluations", expected: "evaluations over the same classes", found: "'\(n)' with different classes")
            }
            let groups = zip(names, evs).map { BarGroup(name: $0, values: $1.perClassAccuracy.map { $0.isNaN ? 0 : Double($0) * 100 }) }
            figure = .barChart(BarChart(categories: classes, groups: groups, title: title, xTitle: "class",
                                        yTitle: "test accuracy (%)", unit: "%"))
            height = 380
        case "filters":
            let (_, model) = try ws.model(try a.requireString("model"))
            let conv = try layer(of: model, a, Conv2d.self, what: "a convolution layer")
            figure = .filterGrid(try FilterGrid(weights: conv.weight.value, normalization: .symmetric,
                                                columns: try a.positiveInt("columns"),
                                                labels: (0..<conv.outChannels).map { "\($0)" }, title: title))
            let cols = try a.positiveInt("columns") ?? Int(Double(conv.outChannels).squareRoot().rounded(.up))
            let rows = (conv.outChannels + cols - 1) / cols
            width = min(720, 40 + cols * 90)
            height = 30 + rows * ((width - 40) / cols + 22)
        default: // weights
            let (_, model) = try ws.model(try a.requireString("model"))
            let lin = try layer(of: model, a, Linear.self, what: "a linear layer")
            let side = Int(Double(lin.inFeatures).squareRoot())
            guard side * side == lin.inFeatures else {
                throw a.error("layer", expected: "a linear layer with a square number of inputs (e.g. 784 = 28×28)",
                              found: "\(lin.inFeatures) inputs")
            }
            let count = min(try a.positiveInt("count") ?? min(lin.outFeatures, 40), lin.outFeatures)
            let columns = try a.positiveInt("columns") ?? 10
            let w = lin.weight.value.rows(0..<count)
            figure = .weightImages(try WeightImages(weight: w, imageHeight: side, imageWidth: side, scale: .perImage,
                                                    columns: columns, labels: (0..<count).map { "\($0)" }, title: title))
            height = 40 + ((count + columns - 1) / columns) * 86
        }
        width = try a.positiveInt("width") ?? width
        height = try a.positiveInt("height") ?? height
        return CellResult(outputs: [try FigureStep.save(figure, label: ctx.label(prefix: "fig"), caption: ctx.cell.options.caption,
                                                        width: width, height: height, directory: ctx.directory)])
    }

    /// The layer named by `layer:` (its index in the model, as in checkpoint names), else the first of type `T`.
    func layer<T>(of model: Sequential, _ a: CellArgs, _ type: T.Type, what: String) throws -> T {
        if let i = try a.int("layer") {
            guard model.layers.indices.contains(i), let l = model.layers[i] as? T else {
                throw a.error("layer", expected: "the index of \(what) in the model", found: "\(i)")
            }
            return l
        }
        guard let l = model.layers.lazy.compactMap({ $0 as? T }).first else {
            throw a.error("model", expected: "a model with \(what)", found: "'\(model.spec)'")
        }
        return l
    }

    /// Renders `figure` to `<label>.png` (2 device pixels per CSS pixel) and stores its value as `<label>.json`.
    public static func save(_ figure: Figure, label: String, caption: String?, width: Int, height: Int, directory: String) throws -> CellOutput {
        let png = try figure.render(to: .png, size: .screen(width: Double(width), height: Double(height)))
        try Files.writeAtomically(png, to: (directory as NSString).appendingPathComponent("\(label).png"))
        try Files.writeAtomically(try ReportJSON.encode(figure), to: (directory as NSString).appendingPathComponent("\(label).json"))
        return .figure(FigureOutput(label: label, caption: caption, png: "\(label).png", json: "\(label).json", width: width, height: height))
    }
}

/// `step: table` — `kind: per-class` (class × evaluation accuracy) or `kind: metrics` (one row per evaluation).
public struct TableStep: Step {
    public let name = "table"

    public func inputs(_ ctx: CellContext, _ ws: Workspace) throws -> StepInputs {
        try ctx.args.allowOnly(["kind", "evaluations", "models"])
        _ = try ctx.args.oneOf("kind", ["per-class", "metrics"], default: "metrics")
        var names = try evaluations(ctx.args).map { WorkspaceName(.evaluation, $0) }
        for n in names { if let e = ws.evaluations[n.name] { names.append(WorkspaceName(.model, e.model)) } }
        return StepInputs(names: names)
    }

    func evaluations(_ a: CellArgs) throws -> [String] {
        guard let m = try a.strings("evaluations") ?? a.strings("models"), !m.isEmpty else {
            throw a.error("evaluations", expected: "a list of evaluation names", found: "none")
        }
        return m
    }

    public func run(_ ctx: CellContext, _ ws: Workspace) throws -> CellResult {
        let a = ctx.args
        let kind = try a.oneOf("kind", ["per-class", "metrics"], default: "metrics")
        let names = try evaluations(a)
        let evs = try names.map { try ws.evaluation($0) }
        let label = ctx.label(prefix: "tbl")
        func pct(_ v: Float) -> String { v.isNaN ? "–" : String(format: "%.1f", v * 100) }
        let table: TableOutput
        if kind == "per-class" {
            let classes = evs[0].evaluation.classNames
            let rows = classes.indices.map { c in [classes[c]] + evs.map { c < $0.evaluation.perClassAccuracy.count ? pct($0.evaluation.perClassAccuracy[c]) : "–" } }
            table = TableOutput(label: label, caption: ctx.cell.options.caption, columns: ["Class"] + names.map { "\($0) accuracy (%)" },
                                rows: rows, numeric: [false] + names.map { _ in true })
        } else {
            var rows: [[String]] = []
            for (n, e) in zip(names, evs) {
                let m = try ws.model(e.model).record
                rows.append([n, m.spec, "\(m.parameterCount)", "\(m.history.epochs.count)", pct(e.evaluation.accuracy),
                             String(format: "%.4f", e.evaluation.loss), "\(e.evaluation.count)"])
            }
            table = TableOutput(label: label, caption: ctx.cell.options.caption,
                                columns: ["Model", "Spec", "Parameters", "Epochs", "Test accuracy (%)", "Test loss", "Test samples"],
                                rows: rows, numeric: [false, false, true, true, true, true, true])
        }
        return CellResult(outputs: [.table(table)])
    }
}

/// `step: metrics` — metric cards (with which direction is better) for evaluations: `evaluations` and
/// `metrics` (accuracy ↑, loss ↓, error ↓).
public struct MetricsStep: Step {
    public let name = "metrics"
    static let known: [String: (label: String, direction: String)] = [
        "accuracy": ("test accuracy", "higher"), "loss": ("test loss", "lower"), "error": ("test error", "lower"),
    ]

    public func inputs(_ ctx: CellContext, _ ws: Workspace) throws -> StepInputs {
        try ctx.args.allowOnly(["evaluations", "models", "metrics"])
        guard let names = try ctx.args.strings("evaluations") ?? ctx.args.strings("models"), !names.isEmpty else {
            throw ctx.args.error("evaluations", expected: "a list of evaluation names", found: "none")
        }
        return StepInputs(names: names.map { WorkspaceName(.evaluation, $0) })
    }

    public func run(_ ctx: CellContext, _ ws: Workspace) throws -> CellResult {
        let a = ctx.args
        let names = try a.strings("evaluations") ?? a.strings("models") ?? []
        let metrics = try a.strings("metrics") ?? ["accuracy", "loss"]
        for m in metrics where Self.known[m] == nil {
            throw a.error("metrics", expected: "some of \(Self.known.keys.sorted().joined(separator: ", "))", found: "'\(m)'")
        }
        var cards: [MetricCard] = []
        for n in names {
            let ev = try ws.evaluation(n).evaluation
            for m in metrics {
                let info = Self.known[m]!
                let (value, display): (Double, String)
                switch m {
                case "accuracy": value = Double(ev.accuracy); display = String(format: "%.2f %%", value * 100)
                case "error": value = 1 - Double(ev.accuracy); display = String(format: "%.2f %%", value * 100)
                default: value = Double(ev.loss); display = String(format: "%.4f", value)
                }
                cards.append(MetricCard(name: "\(n).\(m)", label: "\(n) \(info.label)", value: value, direction: info.direction,
                                        display: display))
            }
        }
        return CellResult(outputs: [.metrics(cards)])
    }
}

/// JSON with sorted keys and NaN/∞ spelled out, so results are byte-stable and never fail to encode.
public enum ReportJSON {
    public static func encoder() -> JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        e.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return e
    }

    public static func decoder() -> JSONDecoder {
        let d = JSONDecoder()
        d.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return d
    }

    public static func encode<T: Encodable>(_ v: T) throws -> Data {
        do { return try encoder().encode(v) } catch {
            throw GlassboxError.message("could not encode \(T.self) as JSON: \(error)")
        }
    }

    public static func decode<T: Decodable>(_ type: T.Type, from data: Data, path: String) throws -> T {
        do { return try decoder().decode(type, from: data) } catch {
            throw GlassboxError.badFile(path: path, field: "JSON", expected: "a \(T.self) value", found: "\(error)")
        }
    }
}
