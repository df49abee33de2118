import Foundation
import GlassboxCore
import GlassboxData
import GlassboxNN
import GlassboxReport

// Steps that write files outside the run folder, so that a recipe can make a checkpoint or an image folder and then
// read it like one it was given (`load`, `data: folder:…`). Such a cell is restored from the cache only while its file
// is there; otherwise it runs again. Paths are relative to the current folder.

/// `step: export-images` — a data set as PNG files in torchvision's ImageFolder layout.
public struct ExportImagesStep: DeclaredStep {
    public let name = "export-images"
    public let summary = "writes a data set as PNGs in ImageFolder layout (PATH/train|test/<class>/N.png), readable as folder:PATH"

    public enum Splits: String, CaseIterable { case both, train, test }

    public struct Options {
        public init() {}
        public var data = ""
        public var path = ""
        public var split = Splits.both
        public var limit: Int?
    }

    public static let arguments = Arguments<Options>(defaults: { Options() }, [
        .text("data", \.data, .name(.data), required: true, help: "the data set"),
        .text("path", \.path, required: true, help: "the folder to write (replaced only if an earlier export wrote it)"),
        .choice("split", \.split, help: "which splits to write"),
        .int("limit", \.limit, help: "first N samples of each split"),
    ])

    public init() {}
    public func initialOptions(_ ctx: CellContext) -> Options { Options() }

    public func inputs(_ ctx: CellContext, _ ws: Workspace) throws -> StepInputs {
        let o = try options(ctx)
        return StepInputs(names: [WorkspaceName(.data, o.data)], outputs: [absolutePath(o.path)])
    }

    public func run(_ ctx: CellContext, _ ws: Workspace) throws -> CellResult<Produced> {
        let o = try options(ctx)
        let pair = try ws.dataPair(o.data)
        var sets: [(split: String, data: Dataset)] = []
        if o.split != .test, pair.train.count > 0 { sets.append(("train", pair.train.limit(o.limit ?? .max))) }
        if o.split != .train { sets.append(("test", pair.test.limit(o.limit ?? .max))) }
        guard !sets.isEmpty else { throw ctx.args.error("split", expected: "a split with samples", found: "'train' of a data set without training samples") }
        try ImageFolder.write(sets, to: absolutePath(o.path), normalization: ws.data[o.data]?.source.normalization)
        let counts = sets.map { "\($0.data.count) \($0.split)" }.joined(separator: " and ")
        let text = "Wrote \(counts) images of '\(o.data)' to \(o.path) as \(sets[0].data.channels == 1 ? "grey" : "RGB") 8-bit PNGs, one folder per class "
            + "(\(ImageFolder.folderNames(sets[0].data.classNames).joined(separator: ", ")))."
        return CellResult(outputs: [.text(text)])
    }
}

/// `step: export-model` — a workspace model as a `.safetensors` checkpoint with its spec and input normalisation in the
/// metadata (loadable by `step: load`, `glassbox evaluate`, and PyTorch's `load_state_dict`).
public struct ExportModelStep: DeclaredStep {
    public let name = "export-model"
    public let summary = "writes a model as a .safetensors checkpoint (spec and input normalisation in its metadata)"

    public struct Options {
        public init() {}
        public var model = ""
        public var path = ""
    }

    public static let arguments = Arguments<Options>(defaults: { Options() }, [
        .text("model", \.model, .name(.model), required: true, help: "the model"),
        .text("path", \.path, required: true, help: "the file to write (replaced only if an earlier export wrote it)"),
    ])

    public init() {}
    public func initialOptions(_ ctx: CellContext) -> Options { Options() }

    /// Marks checkpoints this step wrote, so it never replaces someone's own file.
    static let marker = "exported_from"

    public func inputs(_ ctx: CellContext, _ ws: Workspace) throws -> StepInputs {
        let o = try options(ctx)
        return StepInputs(names: [WorkspaceName(.model, o.model)], outputs: [absolutePath(o.path)])
    }

    public func run(_ ctx: CellContext, _ ws: Workspace) throws -> CellResult<Produced> {
        let o = try options(ctx)
        let path = absolutePath(o.path)
        if FileManager.default.fileExists(atPath: path) {
            let existing = try? Safetensors.decode(Files.read(path), name: path, include: { _ in false })
            guard existing?.metadata[Self.marker] != nil else {
                throw ctx.args.error("path", expected: "a new file, or one an earlier export-model wrote", found: "an existing file glassbox did not export: \(path)")
            }
        }
        let (record, model) = try ws.model(o.model)
        var metadata = [Self.marker: o.model, "data": record.data]
        metadata.merge(NormalizationMetadata.encode(ws.normalization(ofModel: o.model))) { a, _ in a }
        try Checkpoint.save(model, to: path, metadata: metadata)
        let text = "Wrote model '\(o.model)' (\(record.spec)) to \(o.path)"
            + (ws.normalization(ofModel: o.model).map { "; it expects inputs normalised: \($0)" } ?? "") + "."
        return CellResult(outputs: [.text(text)])
    }
}

/// A path relative to the current folder, made absolute.
func absolutePath(_ p: String) -> String { URL(fileURLWithPath: (p as NSString).expandingTildeInPath).standardizedFileURL.path }
