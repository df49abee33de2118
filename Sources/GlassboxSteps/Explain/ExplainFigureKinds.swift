import Foundation
import GlassboxAnalysis
import GlassboxCore
import GlassboxData
import GlassboxFigures
import GlassboxReport

/// `kind: unit-explanations` — one unit's explanations by activation range with dataset examples (from an explain result).
public struct UnitExplanationsFigure: DeclaredFigureKind {
    public let name = "unit-explanations"
    public let summary = "a unit's explanation per activation range with its dataset examples, unit and formula masks outlined"
    public struct Options {
        public init() {}
        public var result = ""
        public var probes = "probes"
        public var unit = 0
    }
    public static let defaults = Options()
    public static let arguments = Arguments<Options>(defaults: { defaults }, [
        .text("result", \.result, .name(.result), required: true, help: "an explain result"),
        .text("probes", \.probes, .name(.probes), help: "the probe set the result was made on"),
        .int("unit", \.unit, min: 0, help: "the unit"),
    ])
    public init() {}

    public func inputs(_ ctx: CellContext, _ ws: Workspace) throws -> StepInputs {
        let o = try options(ctx)
        return StepInputs(names: [WorkspaceName(.result, o.result), WorkspaceName(.probes, o.probes)])
    }

    public func make(_ ctx: CellContext, _ ws: Workspace, title: String?) throws -> MadeFigure {
        let o = try options(ctx)
        let r = try ws.result(o.result, ExplanationResult.self, argument: "result")
        guard let u = r.units.first(where: { $0.unit == o.unit }) else {
            throw ctx.args.error("unit", expected: "a unit the result explains (\(r.units.map(\.unit).map(String.init).joined(separator: ", ")))", found: "\(o.unit)")
        }
        let probes = try ws.probeSet(o.probes)
        return MadeFigure(ExplainFigures.unitPanel(u, probes: probes, layer: o.result, title: title), width: 640, height: 80 + 125 * max(1, u.ranges.count))
    }
}

/// `kind: specialisation` — IoU of the explanation by activation range, one line per explain result (e.g. per layer).
public struct SpecialisationFigure: DeclaredFigureKind {
    public let name = "specialisation"
    public let summary = "by activation range: the explanations' IoU, mask size and label masking, one line per clustered explain result"
    public static let defaults = ResultList()
    public static let arguments = Arguments<ResultList>(defaults: { defaults }, [
        .texts("results", \.results, .names(.result), required: true, help: "clustered explain results"),
    ])
    public init() {}

    public func inputs(_ ctx: CellContext, _ ws: Workspace) throws -> StepInputs { try options(ctx).inputs() }

    public func make(_ ctx: CellContext, _ ws: Workspace, title: String?) throws -> MadeFigure {
        let names = try options(ctx).results
        let results = try names.map { ($0, try ws.result($0, ExplanationResult.self, argument: "results")) }
        return MadeFigure(ExplainFigures.specialisation(results, title: title), width: 760, height: 300)
    }
}

/// `kind: dissection-summary` — detectors per concept category and the best-IoU distribution against the nulls.
public struct DissectionSummaryFigure: DeclaredFigureKind {
    public let name = "dissection-summary"
    public let summary = "detectors per concept category and each unit's best IoU against the nulls"
    public struct Options {
        public init() {}
        public var result = ""
    }
    public static let defaults = Options()
    public static let arguments = Arguments<Options>(defaults: { defaults }, [
        .text("result", \.result, .name(.result), required: true, help: "a dissect result"),
    ])
    public init() {}

    public func inputs(_ ctx: CellContext, _ ws: Workspace) throws -> StepInputs {
        StepInputs(names: [WorkspaceName(.result, try options(ctx).result)])
    }

    public func make(_ ctx: CellContext, _ ws: Workspace, title: String?) throws -> MadeFigure {
        let o = try options(ctx)
        return MadeFigure(ExplainFigures.dissectionSummary(try ws.result(o.result, DissectionResult.self, argument: "result"), layer: o.result),
                          width: 720, height: 320)
    }
}
