import Foundation
import GlassboxAnalysis
import GlassboxCore
import GlassboxNN
import GlassboxReport

/// What `train-modular` stores as a result (`<name>.modularity`).
public struct ModularStepResult: Codable, Sendable, WorkspaceResult {
    public static let kind = "modular training result"
    public var model: String
    public var lambda: Float
    public var mode: String
    public var training: ModularTrainingResult
}

/// `step: train-modular` — trains a model with the enmeshment loss `CE + λ·(1 − C)` on chosen Linear layers
/// (METHODS.md §1). Produces the model and the result `<name>.modularity` (clusters, C per epoch).
public struct TrainModularStep: DeclaredStep {
    public let name = "train-modular"
    public let summary = "trains with the enmeshment loss CE + λ·(1 − C); result <name>.modularity (C per epoch)"

    public enum Mode: String, CaseIterable { case fromScratch = "from-scratch", fineTune = "fine-tune" }

    public struct Options {
        public init() {}
        public var spec = ""
        public var data = ""
        public var name = "modular"
        public var training: TrainingSettings = {
            var t = TrainingSettings()
            t.epochs = 6; t.optimizer = .adam
            return t
        }()
        public var lambda: Float = 0.7
        public var k = 4
        public var layers = ["2.weight"]
        public var mode = Mode.fromScratch
        public var pretrain: Int?
    }

    public static let arguments = Arguments<Options>(defaults: { Options() }, [
        .text("model", \.spec, .spec, required: true, help: "the model spec"),
        .text("data", \.data, .name(.data), required: true, help: "the data set"),
        .text("name", \.name, help: "workspace name of the model"),
    ] + TrainingSettings.arguments.only(["epochs", "batch", "lr", "seed"]).map { $0.lifted(\Options.training) } + [
        .number("lambda", \.lambda, 0, help: "weight λ of the enmeshment term (0 trains normally but still logs C)"),
        .int("k", \.k, help: "co-clusters per layer"),
        .texts("layers", \.layers, .layers, help: "the Linear weights regularised"),
        .choice("mode", \.mode, help: "from-scratch: contiguous blocks from step one; fine-tune: pretrain, BSGC, then the loss"),
        .int("pretrain", \.pretrain, min: 0, help: "fine-tune: epochs without the loss", default: "half the epochs"),
    ])

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
        let pair = try ws.dataPair(o.data)
        let model = try Sequential(spec: spec, seed: o.training.seed)
        for l in o.layers {
            do { _ = try ModelAccess.linear(model, l) } catch let e as GlassboxError {
                throw ctx.args.error("layers", expected: "Linear weights of the model", found: "\(e)")
            }
        }
        let mode: ModularMode = o.mode == .fineTune ? .fineTune(pretrainEpochs: o.pretrain ?? o.training.epochs / 2) : .fromScratch
        let config = ModularTrainingConfig(train: try o.training.config(), lambda: o.lambda, k: o.k, layers: o.layers, mode: mode,
                                           clusterSeed: o.training.seed)
        let result = try ModularTraining.train(model, config: config, train: pair.train, test: pair.test, label: o.name)
        let checkpoint = "model.safetensors"
        try Checkpoint.save(model, to: (ctx.directory as NSString).appendingPathComponent(checkpoint))
        let record = ModelRecord(spec: spec.description, checkpoint: checkpoint, data: o.data, history: result.history,
                                 parameterCount: model.parameterCount)
        ws.add(.model(name: o.name, record: record), directory: ctx.directory, live: model)
        let stored = try ws.addResult(ModularStepResult(model: o.name, lambda: o.lambda, mode: o.mode.rawValue, training: result),
                                      name: "\(o.name).modularity")
        var text = "Model '\(o.name)' (\(spec.description)) trained for \(o.training.epochs) epochs on '\(o.data)' with the enmeshment loss "
            + "(λ = \(formatNumber(o.lambda)), k = \(o.k), \(o.mode.rawValue)) on \(o.layers.joined(separator: ", "))"
        for l in o.layers {
            if let c = result.clusterabilityPerEpoch[l], let first = c.first, let last = c.last {
                text += String(format: "; C(%@) %.3f → %.3f", l, first, last)
            }
        }
        if let acc = result.history.epochs.last?.testAccuracy { text += String(format: "; test accuracy %.2f %%", acc * 100) }
        return CellResult(produced: [.model(name: o.name, record: record), stored], outputs: [.text(text + ".")])
    }
}
