import Foundation
import GlassboxCore
import GlassboxNN
import GlassboxReport

/// `step: table` — `kind: per-class` (class × evaluation accuracy) or `kind: metrics` (one row per evaluation).
public struct TableStep: DeclaredStep {
    public let name = "table"
    public let summary = "a numbered table of evaluations: metrics (one row each) or per-class accuracy"

    public enum Kind: String, CaseIterable { case metrics, perClass = "per-class" }

    public struct Options {
        public init() {}
        public var kind = Kind.metrics
        public var evaluations: [String] = []
    }

    public static let arguments = Arguments<Options>(defaults: { Options() }, [
        .choice("kind", \.kind, help: "what the table shows"),
        .texts("evaluations", \.evaluations, .names(.evaluation), required: true, help: "the evaluations, one column or row each"),
    ])

    public init() {}
    public func initialOptions(_ ctx: CellContext) -> Options { Options() }

    public func inputs(_ ctx: CellContext, _ ws: Workspace) throws -> StepInputs {
        var names = try options(ctx).evaluations.map { WorkspaceName(.evaluation, $0) }
        for n in names { if let e = ws.evaluations[n.name] { names.append(WorkspaceName(.model, e.model)) } }
        return StepInputs(names: names)
    }

    public func run(_ ctx: CellContext, _ ws: Workspace) throws -> CellResult<Produced> {
        let o = try options(ctx)
        let evs = try o.evaluations.map { try ws.evaluation($0) }
        let label = ctx.label(prefix: "tbl")
        func pct(_ v: Float) -> String { v.isNaN ? "–" : String(format: "%.1f", v * 100) }
        let table: TableOutput
        switch o.kind {
        case .perClass:
            let classes = evs[0].evaluation.classNames
            let rows = classes.indices.map { c in [classes[c]] + evs.map { c < $0.evaluation.perClassAccuracy.count ? pct($0.evaluation.perClassAccuracy[c]) : "–" } }
            table = TableOutput(label: label, caption: ctx.cell.options.caption, columns: ["Class"] + o.evaluations.map { "\($0) accuracy (%)" },
                                rows: rows, numeric: [false] + o.evaluations.map { _ in true })
        case .metrics:
            var rows: [[String]] = []
            for (n, e) in zip(o.evaluations, evs) {
                let m = try ws.modelRecord(e.model)
                rows.append([n, m.spec, "\(m.parameterCount)", "\(m.history.epochs.count)", pct(e.evaluation.accuracy),
                             String(format: "%.4f", e.evaluation.loss), "\(e.evaluation.count)"])
            }
            table = TableOutput(label: label, caption: ctx.cell.options.caption,
                                columns: ["Model", "Spec", "Parameters", "Epochs", "Test accuracy (%)", "Test loss", "Test samples"],
                                rows: rows, numeric: [false, false, true, true, true, true, true])
        }
        return CellResult(outputs: [.table(table)])
    }
}

/// `step: metrics` — metric cards (with which direction is better) for evaluations.
public struct MetricsStep: DeclaredStep {
    public let name = "metrics"
    public let summary = "metric cards; recorded in run.json with their direction"

    public enum Metric: String, CaseIterable {
        case accuracy, loss, error
        var label: String { "test \(rawValue)" }
        var direction: MetricDirection { self == .accuracy ? .higher : .lower }
    }

    public struct Options {
        public init() {}
        public var evaluations: [String] = []
        public var metrics = ["accuracy", "loss"]
    }

    public static let arguments = Arguments<Options>(defaults: { Options() }, [
        .texts("evaluations", \.evaluations, .names(.evaluation), required: true, help: "the evaluations"),
        .texts("metrics", \.metrics, .texts, help: "some of accuracy (↑), loss (↓), error (↓)"),
    ])

    public init() {}
    public func initialOptions(_ ctx: CellContext) -> Options { Options() }

    public func inputs(_ ctx: CellContext, _ ws: Workspace) throws -> StepInputs {
        StepInputs(names: try options(ctx).evaluations.map { WorkspaceName(.evaluation, $0) })
    }

    public func run(_ ctx: CellContext, _ ws: Workspace) throws -> CellResult<Produced> {
        let o = try options(ctx)
        let metrics = try o.metrics.map { m -> Metric in
            guard let v = Metric(rawValue: m) else {
                throw ctx.args.argumentError("metrics", expected: "some of \(Metric.allCases.map(\.rawValue).sorted().joined(separator: ", "))", found: "'\(m)'")
            }
            return v
        }
        var cards: [MetricCard] = []
        for n in o.evaluations {
            let ev = try ws.evaluation(n).evaluation
            for m in metrics {
                let (value, display): (Double, String)
                switch m {
                case .accuracy: value = Double(ev.accuracy); display = String(format: "%.2f %%", value * 100)
                case .error: value = 1 - Double(ev.accuracy); display = String(format: "%.2f %%", value * 100)
                case .loss: value = Double(ev.loss); display = String(format: "%.4f", value)
                }
                cards.append(MetricCard(name: "\(n).\(m.rawValue)", label: "\(n) \(m.label)", value: value, direction: m.direction, display: display))
            }
        }
        return CellResult(outputs: [.metrics(cards)])
    }
}
