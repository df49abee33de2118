import GlassboxCore
import GlassboxData
import GlassboxReport

/// `step: data` — loads a registry data set under a workspace name.
public struct DataStep: DeclaredStep {
    public let name = "data"
    public let summary = "loads a data set (train + test) under a name"

    public struct Options {
        public init() {}
        public var request = DataRequest(dataset: "")
        public var name: String?
        /// First N samples of both splits (unless `train-limit` / `test-limit` say otherwise).
        public var limit: Int?
    }

    public static let arguments = Arguments<Options>(defaults: { Options() }, [
        .text("dataset", \.request.dataset, required: true, help: "registry name: mnist, fashion-mnist or cifar10"),
        .text("name", \.name, help: "workspace name of the data", default: "the data set's name"),
        .int("limit", \.limit, help: "first N samples of both splits"),
        .int("train-limit", \.request.trainLimit, help: "first N training samples"),
        .int("test-limit", \.request.testLimit, help: "first N test samples"),
        .custom("resplit", \.request.resplit, .text, help: "TRAIN:TEST: split the test split in two with the seed (e.g. 8000:2000)",
                show: { $0.map { "\($0[0]):\($0[1])" } }, parse: { try DataRequest.parseResplit($0, argument: "resplit") }),
        .text("dir", \.request.directory, help: "folder holding the files", default: "the search path (or --data-dir)"),
    ])

    public init() {}

    public func initialOptions(_ ctx: CellContext) -> Options {
        var o = Options()
        o.request.seed = ctx.seed
        o.request.directory = ctx.dataDirectory
        return o
    }

    func request(_ ctx: CellContext) throws -> (Options, DataSource, files: [String]) {
        var o = try options(ctx)
        o.request.trainLimit = o.request.trainLimit ?? o.limit
        o.request.testLimit = o.request.testLimit ?? o.limit
        let (source, files) = try o.request.resolve()
        return (o, source, files)
    }

    public func inputs(_ ctx: CellContext, _ ws: Workspace) throws -> StepInputs {
        StepInputs(files: try request(ctx).files)
    }

    public func run(_ ctx: CellContext, _ ws: Workspace) throws -> CellResult<Produced> {
        let (o, src, _) = try request(ctx)
        let name = o.name ?? src.dataset
        let pair = try src.load()
        ws.add(.data(name: name, source: src), directory: ctx.directory, live: pair)
        let text = "Data set '\(name)': \(src.dataset), \(pair.train.count) training and \(pair.test.count) test samples, "
            + "\(pair.train.classCount) classes, \(pair.train.channels)×\(pair.train.height)×\(pair.train.width) each."
        return CellResult(produced: [.data(name: name, source: src)], outputs: [.text(text)])
    }
}
