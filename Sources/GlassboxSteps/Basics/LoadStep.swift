import Foundation
import GlassboxCore
import GlassboxData
import GlassboxNN
import GlassboxReport

/// `step: load` — a `.safetensors` checkpoint (glassbox's, or a PyTorch `state_dict` saved with
/// `safetensors.torch.save_file`) as a workspace model, so every later step works on it as on a trained one. The
/// file's SHA-256 joins the cell's key: a retrained checkpoint re-runs everything downstream.
public struct LoadStep: DeclaredStep {
    public let name = "load"
    public let summary = "loads a .safetensors checkpoint (glassbox's or a PyTorch state dict) as a model; its hash keys the cache"

    public struct Options {
        public init() {}
        public var path = ""
        public var spec: String?
        public var name: String?
        public var data = ""
        public var names = StateDictOptions()
    }

    public static let arguments = Arguments<Options>(defaults: { Options() }, [
        .text("path", \.path, required: true, help: "the checkpoint (relative to the current folder)"),
        .text("spec", \.spec, .spec, help: "the model spec (layers as in the nn.Sequential)", default: "the file's glassbox.spec metadata"),
        .text("name", \.name, help: "workspace name of the model", default: "the file name without .safetensors"),
        .text("data", \.data, .name(.data), required: true, help: "the data the model runs on (later steps default to it)"),
    ] + StateDictOptions.arguments.list.map { $0.lifted(\Options.names) })

    public init() {}
    public func initialOptions(_ ctx: CellContext) -> Options { Options() }

    /// The checkpoint's absolute path; it must exist.
    func path(_ o: Options, _ ctx: CellContext) throws -> String {
        let p = URL(fileURLWithPath: (o.path as NSString).expandingTildeInPath).standardizedFileURL.path
        guard FileManager.default.fileExists(atPath: p) else {
            throw ctx.args.error("path", expected: "a .safetensors file", found: "nothing at \(p)")
        }
        return p
    }

    public func inputs(_ ctx: CellContext, _ ws: Workspace) throws -> StepInputs {
        let o = try options(ctx)
        return StepInputs(names: [WorkspaceName(.data, o.data)], files: [try path(o, ctx)])
    }

    public func run(_ ctx: CellContext, _ ws: Workspace) throws -> CellResult<Produced> {
        let o = try options(ctx)
        let file = try path(o, ctx)
        let (model, metadata) = try Checkpoint.load(file, spec: try o.spec.map(ModelSpec.parse), options: o.names)
        let pair = try ws.dataPair(o.data)
        try Trainer.checkCompatible(model, pair.test)
        let dataNormalization = ws.data[o.data]?.source.normalization
        try NormalizationMetadata.check(recorded: NormalizationMetadata.decode(metadata), data: dataNormalization, dataName: o.data, path: o.path)
        let name = o.name ?? DataLocation.stem(o.path)
        // The cell keeps its own copy (with the spec in its metadata), so a cached run restores it like a trained model.
        let checkpoint = "model.safetensors"
        let hash = try SHA256.hex(fileAt: file)
        try Checkpoint.save(model, to: (ctx.directory as NSString).appendingPathComponent(checkpoint),
                            metadata: ["loaded_from": o.path, "loaded_sha256": hash].merging(NormalizationMetadata.encode(dataNormalization)) { a, _ in a })
        let record = ModelRecord(spec: model.spec.description, checkpoint: checkpoint, data: o.data, history: TrainingHistory(),
                                 parameterCount: model.parameterCount, normalization: dataNormalization)
        ws.add(.model(name: name, record: record), directory: ctx.directory, live: model)
        let text = "Model '\(name)' loaded from \(o.path) (\(model.spec), \(model.parameterCount) parameters, SHA-256 \(hash.prefix(12))…); "
            + "it runs on '\(o.data)'" + (dataNormalization.map { ", inputs normalised: \($0)" } ?? "") + "."
        return CellResult(produced: [.model(name: name, record: record)], outputs: [.text(text)])
    }
}
