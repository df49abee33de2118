import GlassboxCore
import GlassboxData
import GlassboxReport

/// `step: data` — loads a registry data set, an image folder or NumPy arrays under a workspace name, with the
/// normalisation its models expect.
public struct DataStep: DeclaredStep {
    public let name = "data"
    public let summary = "loads a data set (train + test): a registry name, folder:PATH (PNG images), npz:PATH or npy:X.npy,Y.npy"

    public struct Options {
        public init() {}
        public var request = DataRequest(dataset: "")
        public var name: String?
        /// First N samples of both splits (unless `train-limit` / `test-limit` say otherwise).
        public var limit: Int?
        public var normalization = Normalization()
    }

    public static let arguments = Arguments<Options>(defaults: { Options() }, [
        .text("dataset", \.request.dataset, required: true,
              help: "mnist, fashion-mnist, cifar10, folder:PATH (ImageFolder layout of PNGs), npz:PATH or npy:X.npy,Y.npy"),
        .text("name", \.name, help: "workspace name of the data", default: "the data set's (or file's) name"),
        .int("limit", \.limit, help: "first N samples of both splits"),
        .int("train-limit", \.request.trainLimit, help: "first N training samples"),
        .int("test-limit", \.request.testLimit, help: "first N test samples"),
        .custom("resplit", \.request.resplit, .text, help: "TRAIN:TEST: split the test split in two with the seed (e.g. 8000:2000)",
                show: { $0.map { "\($0[0]):\($0[1])" } }, parse: { try DataRequest.parseResplit($0, argument: "resplit") }),
        .text("dir", \.request.directory, help: "folder holding a registry data set's files", default: "the search path (or --data-dir)"),
    ] + Normalization.arguments.list.map { $0.lifted(\Options.normalization) })

    public init() {}

    public func initialOptions(_ ctx: CellContext) -> Options {
        var o = Options()
        o.request.seed = ctx.seed
        o.request.directory = ctx.dataDirectory
        return o
    }

    func request(_ ctx: CellContext, fingerprint: Bool) throws -> (Options, DataSource, files: [String], fingerprints: [String]) {
        var o = try options(ctx)
        o.request.trainLimit = o.request.trainLimit ?? o.limit
        o.request.testLimit = o.request.testLimit ?? o.limit
        o.request.normalization = o.normalization.isIdentity ? nil : o.normalization
        let (source, files, prints) = try o.request.resolveInputs(fingerprint: fingerprint)
        return (o, source, files, prints)
    }

    public func inputs(_ ctx: CellContext, _ ws: Workspace) throws -> StepInputs {
        let r = try request(ctx, fingerprint: true)
        return StepInputs(files: r.files, fingerprints: r.fingerprints)
    }

    public func run(_ ctx: CellContext, _ ws: Workspace) throws -> CellResult<Produced> {
        let (o, src, _, _) = try request(ctx, fingerprint: false)
        let name = o.name ?? o.request.defaultName
        let pair = try src.load()
        ws.add(.data(name: name, source: src), directory: ctx.directory, live: pair)
        var text = "Data set '\(name)': \(src.dataset), \(pair.train.count) training and \(pair.test.count) test samples, "
            + "\(pair.test.classCount) classes, \(pair.test.channels)×\(pair.test.height)×\(pair.test.width) each"
        if let n = src.normalization { text += "; input normalisation: \(n)" }
        return CellResult(produced: [.data(name: name, source: src)], outputs: [.text(text + ".")])
    }
}
