import Foundation
import GlassboxCore
import GlassboxData
import GlassboxNN
import GlassboxReport

/// `step: train` — trains a model on a named data set (its test split evaluated after each epoch).
public struct TrainStep: DeclaredStep {
    public let name = "train"
    public let summary = "trains a model; puts it (checkpoint in the cell cache) and its history in the workspace"

    public struct Options {
        public init() {}
        public var spec = "mlp 784-100-50-10 sigmoid"
        public var data = ""
        public var name = "model"
        public var training = TrainingSettings()
    }

    public static let arguments = Arguments<Options>(defaults: { Options() }, [
        .text("model", \.spec, .spec, help: "the model spec"),
        .text("data", \.data, .name(.data), required: true, help: "the data set to train on"),
        .text("name", \.name, help: "workspace name of the model"),
    ] + TrainingSettings.arguments.list.map { $0.lifted(\Options.training) })

    public init() {}

    public func initialOptions(_ ctx: CellContext) -> Options {
        var o = Options()
        o.training.seed = ctx.seed
        return o
    }

    public func inputs(_ ctx: CellContext, _ ws: Workspace) throws -> StepInputs {
        StepInputs(names: [WorkspaceName(.data, try options(ctx).data)])
    }

    public func run(_ ctx: CellContext, _ ws: Workspace) throws -> CellResult<Produced> {
        let o = try options(ctx)
        let spec = try ModelSpec.parse(o.spec)
        let config = try o.training.config()
        let pair = try ws.dataPair(o.data)
        let model = try Sequential(spec: spec, seed: o.training.seed)
        let history = try Trainer(model: model, config: config).fit(train: pair.train, test: pair.test, label: o.name)
        let checkpoint = "model.safetensors"
        try Checkpoint.save(model, to: (ctx.directory as NSString).appendingPathComponent(checkpoint))
        let record = ModelRecord(spec: spec.description, checkpoint: checkpoint, data: o.data, history: history,
                                 parameterCount: model.parameterCount, normalization: ws.data[o.data]?.source.normalization)
        ws.add(.model(name: o.name, record: record), directory: ctx.directory, live: model)
        var text = "Model '\(o.name)' (\(spec.description), \(model.parameterCount) parameters) trained for \(config.epochs) "
            + "epoch\(config.epochs == 1 ? "" : "s") on '\(o.data)'"
        if let last = history.epochs.last {
            text += String(format: "; final training loss %.4f", last.loss)
            if let acc = last.testAccuracy { text += String(format: ", test accuracy %.2f %%", acc * 100) }
        }
        return CellResult(produced: [.model(name: o.name, record: record)], outputs: [.text(text + ".")])
    }
}

/// `step: evaluate` — accuracy, loss, per-class accuracy and confusion of a model on a data set's test split.
public struct EvaluateStep: DeclaredStep {
    public let name = "evaluate"
    public let summary = "accuracy, loss, per-class accuracy and confusion on the test split"

    public struct Options {
        public init() {}
        public var model = ""
        public var data: String?
        public var name: String?
    }

    public static let arguments = Arguments<Options>(defaults: { Options() }, [
        .text("model", \.model, .name(.model), required: true, help: "the model"),
        .text("data", \.data, .name(.data), help: "the data set", default: "the model's data"),
        .text("name", \.name, help: "workspace name of the evaluation", default: "the model's name"),
    ])

    public init() {}
    public func initialOptions(_ ctx: CellContext) -> Options { Options() }

    public func inputs(_ ctx: CellContext, _ ws: Workspace) throws -> StepInputs {
        let o = try options(ctx)
        return StepInputs.model(o.model, data: o.data, ws)
    }

    public func run(_ ctx: CellContext, _ ws: Workspace) throws -> CellResult<Produced> {
        let o = try options(ctx)
        let (record, model) = try ws.model(o.model)
        let dataName = o.data ?? record.data
        let ev = try Trainer.evaluate(model, on: try ws.dataPair(dataName).test)
        let name = o.name ?? o.model
        let rec = EvaluationRecord(model: o.model, data: dataName, evaluation: ev)
        ws.add(.evaluation(name: name, record: rec), directory: ctx.directory)
        let text = String(format: "Evaluation '%@': model '%@' on the %d test samples of '%@': accuracy %.2f %%, loss %.4f.",
                          name, o.model, ev.count, dataName, ev.accuracy * 100, ev.loss)
        return CellResult(produced: [.evaluation(name: name, record: rec)], outputs: [.text(text)])
    }
}

public extension StepInputs {
    /// A model and the data it runs on: `data`, or else the data the model was trained on.
    static func model(_ model: String, data: String?, _ ws: Workspace) -> StepInputs {
        var names = [WorkspaceName(.model, model)]
        if let d = data ?? ws.models[model]?.record.data { names.append(WorkspaceName(.data, d)) }
        return StepInputs(names: names)
    }
}
