import ArgumentParser
import Foundation
import GlassboxCore
import GlassboxData
import GlassboxNN
import GlassboxSteps

/// Where the data come from: a known data set or files (`folder:PATH`, `npz:PATH`, `npy:X.npy,Y.npy`), optionally
/// re-split (so a test set alone can serve for training), and how pixels become inputs. Without `--data`, a command on a
/// checkpoint uses the data the checkpoint was trained on; without `--normalize`/`--scale`, the normalisation it records.
struct DataOptions: ParsableArguments {
    @Option(name: .long, help: "Data set: mnist, fashion-mnist, cifar10, folder:PATH (PNGs in ImageFolder layout), npz:PATH or npy:X.npy,Y.npy (default: the checkpoint's, else fashion-mnist).")
    var data: String?

    @Option(name: .customLong("data-dir"), help: "Folder holding the data set's files (default: the search path).")
    var dataDir: String?

    @Option(help: "Use only the first N samples of each split.")
    var limit: Int?

    @Option(help: "Re-split the data set's test split into TRAIN:TEST samples with the seed (e.g. 8000:2000 for the MNIST test set).")
    var resplit: String?

    @Option(help: ArgumentHelp(Normalization.arguments.help("normalize") + " As MEAN/STD, e.g. 0.485,0.456,0.406/0.229,0.224,0.225 (default: what the checkpoint records, else none)."))
    var normalize: String?

    @Option(help: flagHelp(Normalization.arguments, "scale")) var scale: String?

    /// The request these flags describe; `recorded` is what a checkpoint says it was trained on (used when no data
    /// flag is given; its normalisation also when no normalisation flag is).
    func request(seed: UInt64, recorded: DataRequest? = nil) throws -> DataRequest {
        let recordedName = recorded.flatMap { $0.dataset.isEmpty ? nil : $0.dataset }
        let normalization = try decodeFlags(Normalization.arguments, [("normalize", normalize), ("scale", scale)],
                                            into: recorded?.normalization ?? Normalization())
        if data == nil, dataDir == nil, limit == nil, resplit == nil, normalize == nil, scale == nil, let recorded, recordedName != nil { return recorded }
        if let limit, limit < 1 { throw GlassboxError.invalidArgument(name: "--limit", expected: "a whole number ≥ 1", found: "\(limit)") }
        return DataRequest(dataset: data ?? recordedName ?? DataRequest().dataset, directory: dataDir, trainLimit: limit, testLimit: limit,
                           resplit: try resplit.map { try DataRequest.parseResplit($0, argument: "--resplit") }, seed: seed,
                           normalization: normalization.isIdentity ? nil : normalization)
    }

    func load(seed: UInt64, recorded: DataRequest? = nil) throws -> DataPair {
        try renamingArguments(DataOptions.flagNames) { try request(seed: seed, recorded: recorded).load() }
    }

    /// The test split alone (`evaluate`, `ecs`, `attribute` on a saved model): the training split is not read.
    func loadTest(seed: UInt64, recorded: DataRequest? = nil) throws -> Dataset {
        try renamingArguments(DataOptions.flagNames) { try request(seed: seed, recorded: recorded).loadTest() }
    }

    /// The data request's field names as the flags that set them, for error messages.
    static let flagNames = ["dataset": "--data", "resplit": "--resplit", "train-limit": "--limit", "test-limit": "--limit"]
}

/// How a PyTorch state dict's names map onto the model's (`--strip-prefix module.`, `--ignore num_batches_tracked`).
struct StateDictFlags: ParsableArguments {
    @Option(help: "Model spec, for checkpoints without one in their metadata.") var spec: String?
    @Option(name: .customLong("strip-prefix"), help: flagHelp(StateDictOptions.arguments, "strip-prefix")) var stripPrefix: String?
    @Option(help: flagHelp(StateDictOptions.arguments, "ignore")) var ignore: String?

    func options() throws -> StateDictOptions {
        try decodeFlags(StateDictOptions.arguments, [("strip-prefix", stripPrefix), ("ignore", ignore)], into: StateDictOptions())
    }
}

/// A checkpoint with what glassbox recorded in it: the data it was trained on and its learning rate.
struct LoadedCheckpoint {
    var model: Sequential
    var metadata: [String: String]

    init(_ path: String, spec: String? = nil, names: StateDictOptions = StateDictOptions()) throws {
        let parsed = try spec.map(ModelSpec.parse)
        (model, metadata) = try renamingArguments { try Checkpoint.load(path, spec: parsed, options: names) }
    }

    init(_ path: String, flags: StateDictFlags) throws { try self.init(path, spec: flags.spec, names: try flags.options()) }

    /// The data request recorded by `glassbox train` (`glassbox.data`), or a bare data set name (`data`); the
    /// normalisation the checkpoint records (`glassbox.normalize`) rides along (with an empty name when none is recorded).
    var data: DataRequest? {
        var r: DataRequest?
        if let json = metadata[CheckpointKeys.data], let d = try? JSONDecoder().decode(DataRequest.self, from: Data(json.utf8)) { r = d }
        else { r = metadata["data"].map { DataRequest(dataset: $0) } }
        if let n = NormalizationMetadata.decode(metadata) {
            if r == nil { r = DataRequest(dataset: "") }
            r?.normalization = n
        }
        return r
    }

    var learningRate: Float? { metadata[CheckpointKeys.learningRate].flatMap(Float.init) }
}

enum CheckpointKeys {
    static let data = "glassbox.data"
    static let learningRate = "glassbox.lr"

    static func record(_ request: DataRequest, learningRate: Float?) -> [String: String] {
        var m = ["data": request.dataset]
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys   // the same request, the same checkpoint bytes
        if let json = try? encoder.encode(request) { m[data] = String(decoding: json, as: UTF8.self) }
        if let learningRate { m[Self.learningRate] = "\(learningRate)" }
        return m
    }
}

/// Decodes the flags that were given through a configuration's declared arguments (the same declarations recipe
/// cells go through), starting from `initial`.
func decodeFlags<C>(_ arguments: Arguments<C>, _ flags: [(String, String?)], into initial: C) throws -> C {
    try arguments.decode(FlagArguments(flags), from: initial)
}

/// An analysis's `invalidArgument` named like a recipe argument (`amount`) is shown as the flag (`--amount`, or
/// the flag `names` maps it to).
func renamingArguments<T>(_ names: [String: String] = [:], _ body: () throws -> T) throws -> T {
    do { return try body() } catch let GlassboxError.invalidArgument(name, expected, found) where !name.hasPrefix("-") && !name.contains(" ") {
        throw GlassboxError.invalidArgument(name: names[name] ?? "--\(name)", expected: expected, found: found)
    }
}

/// `help:` text for a flag from its declaration.
func flagHelp<C>(_ arguments: Arguments<C>, _ name: String) -> ArgumentHelp { ArgumentHelp(arguments.help(name)) }

func printJSON<T: Encodable>(_ value: T, pretty: Bool = false) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
    encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    FileHandle.standardOutput.write(try encoder.encode(value))
    FileHandle.standardOutput.write(Data("\n".utf8))
}
