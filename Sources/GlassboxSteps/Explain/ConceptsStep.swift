import Foundation
import GlassboxCore
import GlassboxData
import GlassboxReport

/// `step: concepts` — a probe set: images with exact per-pixel masks of human-readable concepts (METHODS.md §4),
/// computed from a data set's test images or drawn with Cairo; stored in the cell folder and cached like any cell.
public struct ConceptsStep: DeclaredStep {
    public let name = "concepts"
    public let summary = "a probe set: images with exact concept masks (from a data set's images, or drawn shapes and textures)"

    public struct Options {
        public init() {}
        public var name = "probes"
        public var data: String?
        public var request = ProbeRequest()
    }

    public static let arguments = Arguments<Options>(defaults: { Options() }, [
        .text("name", \.name, help: "workspace name of the probe set"),
        .text("data", \.data, .name(.data), help: "the data set whose test images are the probes (synthetic: whose image shape is matched)"),
    ] + ProbeRequest.arguments.list.map { $0.lifted(\Options.request) })

    public init() {}

    public func initialOptions(_ ctx: CellContext) -> Options {
        var o = Options()
        o.request.seed = ctx.seed
        return o
    }

    public func inputs(_ ctx: CellContext, _ ws: Workspace) throws -> StepInputs {
        StepInputs(names: try options(ctx).data.map { [WorkspaceName(.data, $0)] } ?? [])
    }

    public func run(_ ctx: CellContext, _ ws: Workspace) throws -> CellResult<Produced> {
        let o = try options(ctx)
        let data = try o.data.map { try ws.dataPair($0) }
        var probes = try ProbeSets.make(o.request, data: data)
        probes.name = o.name
        let file = "probes.gbprobe"
        try Files.writeAtomically(probes.encoded(), to: (ctx.directory as NSString).appendingPathComponent(file))
        let source = o.request.source == .images ? "the first \(probes.count) test images of '\(o.data ?? "")'" : "\(probes.count) drawn images"
        let record = ProbeRecord(file: file, images: probes.count, concepts: probes.concepts.count, source: source)
        ws.add(.probes(name: o.name, record: record), directory: ctx.directory, live: probes)
        let counts = probes.categoryCounts.map { "\($0.1) \($0.0.rawValue)" }.joined(separator: ", ")
        let text = "Probe set '\(o.name)': \(source), \(probes.channels)×\(probes.height)×\(probes.width), \(probes.concepts.count) concepts (\(counts))."
        let figure = try FigureFile.save(ExplainFigures.probeSample(probes, title: nil), label: ctx.label(prefix: "fig"),
                                         caption: ctx.cell.options.caption ?? "Concepts of '\(o.name)': for one concept of each category, the first images where it holds, its mask outlined.",
                                         width: 720, height: 600, directory: ctx.directory)
        let table = TableOutput(label: "\(ctx.label(prefix: "tbl"))-concepts", caption: "Concepts of '\(o.name)' by category.",
                                columns: ["Category", "Concepts", "Examples"],
                                rows: probes.categoryCounts.map { cat, n in
                                    [cat.rawValue, "\(n)", probes.concepts.filter { $0.category == cat }.prefix(6).map(\.name).joined(separator: ", ")]
                                }, numeric: [false, true, false])
        return CellResult(produced: [.probes(name: o.name, record: record)], outputs: [.text(text), .table(table), figure])
    }
}
