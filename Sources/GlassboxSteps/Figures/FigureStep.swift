import Foundation
import GlassboxCore
import GlassboxFigures
import GlassboxReport

/// A figure a kind made, with the CSS-pixel size it is shown at unless the cell says otherwise.
public struct MadeFigure {
    public var figure: Figure
    public var width: Int
    public var height: Int
    public init(_ figure: Figure, width: Int = 720, height: Int = 360) { self.figure = figure; self.width = width; self.height = height }
}

/// One `kind:` of `step: figure`: its own arguments, what it reads, how it builds the figure from workspace values.
public protocol FigureStepKind: Sendable {
    var name: String { get }
    var summary: String { get }
    var docs: [ArgumentDoc] { get }
    var argumentNames: [String] { get }
    func inputs(_ ctx: CellContext, _ ws: Workspace) throws -> StepInputs
    /// `title` is the cell's `title:` (nil: none, or the kind's own).
    func make(_ ctx: CellContext, _ ws: Workspace, title: String?) throws -> MadeFigure
}

/// A figure kind with one options type.
public protocol DeclaredFigureKind: FigureStepKind {
    associatedtype Options
    static var arguments: Arguments<Options> { get }
    static var defaults: Options { get }
}

public extension DeclaredFigureKind {
    var docs: [ArgumentDoc] { Self.arguments.docs }
    var argumentNames: [String] { Self.arguments.names }
    func options(_ ctx: CellContext) throws -> Options {
        try Self.arguments.decode(ctx.args, from: Self.defaults, extra: FigureStep.common.names)
    }
}

/// `step: figure` — one figure of a kind, saved as PNG plus its JSON value (so `export-figures` can re-render it).
public struct FigureStep: Step {
    public let name = "figure"
    public let summary = "one figure (PNG and its JSON value), by kind"

    public struct Common {
        public init() {}
        public var kind = ""
        public var width: Int?
        public var height: Int?
        public var title: String?
    }

    public static let kinds: [any FigureStepKind] = [
        SamplesFigure(), CurvesFigure(), ConfusionFigure(), PerClassFigure(), FiltersFigure(), WeightsFigure(),
        RegionsFigure(), SparsityFigure(), PruneAccuracyFigure(), WeightHistogramFigure(), UnitPrunedFigure(), ClusterabilityFigure(),
        UnitExplanationsFigure(), SpecialisationFigure(), DissectionSummaryFigure(),
    ]

    public static let common = Arguments<Common>(defaults: { Common() }, [
        .text("kind", \.kind, .choice(kinds.map(\.name)), required: true, help: "the kind of figure (each has its own arguments)"),
        .int("width", \.width, help: "width in CSS pixels", default: "the kind's"),
        .int("height", \.height, help: "height in CSS pixels", default: "the kind's"),
        .text("title", \.title, help: "a title drawn above the figure"),
    ])

    public init() {}

    public var argumentGroups: [ArgumentGroup] {
        [ArgumentGroup(arguments: Self.common.docs)] + Self.kinds.map { ArgumentGroup(title: "kind: \($0.name)", summary: $0.summary, arguments: $0.docs) }
    }

    /// The common options and the kind they name.
    func kind(_ ctx: CellContext) throws -> (Common, any FigureStepKind) {
        guard let k = try ctx.args.scalar("kind") else { throw ctx.args.missing("kind") }
        guard let kind = Self.kinds.first(where: { $0.name == k }) else {
            throw ctx.args.error("kind", expected: "one of \(Self.kinds.map(\.name).joined(separator: ", "))", found: "'\(k)'")
        }
        return (try Self.common.decode(ctx.args, from: Common(), extra: kind.argumentNames), kind)
    }

    public func inputs(_ ctx: CellContext, _ ws: Workspace) throws -> StepInputs {
        let (_, kind) = try kind(ctx)
        return try kind.inputs(ctx, ws)
    }

    public func run(_ ctx: CellContext, _ ws: Workspace) throws -> CellResult<Produced> {
        let (c, kind) = try kind(ctx)
        let made = try kind.make(ctx, ws, title: c.title)
        return CellResult(outputs: [try FigureFile.save(made.figure, label: ctx.label(prefix: "fig"), caption: ctx.cell.options.caption,
                                                        width: c.width ?? made.width, height: c.height ?? made.height, directory: ctx.directory)])
    }
}

/// Writing a figure into a cell folder.
public enum FigureFile {
    /// Renders `figure` to `<label>.png` (2 device pixels per CSS pixel) and stores its value as `<label>.json`.
    public static func save(_ figure: Figure, label: String, caption: String?, width: Int, height: Int, directory: String) throws -> CellOutput {
        let png = try figure.render(to: .png, size: .screen(width: Double(width), height: Double(height)))
        try Files.writeAtomically(png, to: (directory as NSString).appendingPathComponent("\(label).png"))
        try Files.writeAtomically(try ReportJSON.encode(figure), to: (directory as NSString).appendingPathComponent("\(label).json"))
        return .figure(FigureOutput(label: label, caption: caption, png: "\(label).png", json: "\(label).json", width: width, height: height))
    }
}
