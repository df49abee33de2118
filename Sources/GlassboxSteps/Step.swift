import Foundation
import GlassboxCore
import GlassboxData
import GlassboxEngine
import GlassboxNN
import GlassboxReport

/// A kind of cell (`step: NAME`). A step decodes its cell into options (declared once, in `arguments`) and calls
/// one analysis function; it builds figures and tables from the result. Add one by conforming to `Step` and listing
/// it in `Steps.builtIn` (or passing your own list to `StepSession`).
public protocol Step: Sendable {
    /// The name written after `step:` in a cell.
    var name: String { get }
    /// One line for `glassbox steps` and reports/README.md.
    var summary: String { get }
    /// The step's arguments as help shows them (grouped by figure kind for `figure`).
    var argumentGroups: [ArgumentGroup] { get }
    /// What the cell reads from the workspace and from disk.
    func inputs(_ ctx: CellContext, _ ws: Workspace) throws -> StepInputs
    /// Does the work. Files the result refers to go into `ctx.directory`.
    func run(_ ctx: CellContext, _ ws: Workspace) throws -> CellResult<Produced>
}

/// Arguments under a heading (a figure kind), or the step's own (`title` nil).
public struct ArgumentGroup: Sendable {
    public var title: String?
    public var summary: String?
    public var arguments: [ArgumentDoc]
    public init(title: String? = nil, summary: String? = nil, arguments: [ArgumentDoc]) {
        self.title = title; self.summary = summary; self.arguments = arguments
    }
}

/// A step with one options type: its declarations decode every cell.
public protocol DeclaredStep: Step {
    associatedtype Options
    static var arguments: Arguments<Options> { get }
    /// The options a cell starts from before its arguments apply (defaults plus the recipe seed).
    func initialOptions(_ ctx: CellContext) -> Options
}

public extension DeclaredStep {
    var argumentGroups: [ArgumentGroup] { [ArgumentGroup(arguments: Self.arguments.docs)] }
    func options(_ ctx: CellContext) throws -> Options { try Self.arguments.decode(ctx.args, from: initialOptions(ctx)) }
}

/// The built-in steps.
public enum Steps {
    public static let builtIn: [any Step] = [
        DataStep(), LoadStep(), ExportImagesStep(), ExportModelStep(), TrainStep(), EvaluateStep(), FigureStep(), TableStep(), MetricsStep(),
        PruneStep(), PruneCompareStep(),
        TrainModularStep(), ClusterStep(), AblateStep(), ECSStep(), NCutStep(),
        FilterExperimentStep(), ModelFiltersStep(), TopologyStep(), TopologySensitivityStep(), TopologyCompareStep(),
        ConceptsStep(), DissectStep(), ExplainStep(),
        ExamplesStep(), VisualiseStep(), AttributeStep(), AttributionCheckStep(),
        SweepSummaryStep(), SweepPlotStep(), SweepFiguresStep(),
    ]

    public static func named(_ name: String, in steps: [any Step] = builtIn) -> (any Step)? { steps.first { $0.name == name } }
}

/// One run's steps and workspace: what the runner talks to.
public final class StepSession: RecipeSession {
    public let steps: [String: any Step]
    public let workspace = Workspace()

    /// `engine`: how cells with ensembles run their tasks (nil: in this process, one after another).
    public init(steps: [any Step] = Steps.builtIn, engine: (any TaskEngine)? = nil) {
        var d: [String: any Step] = [:]
        for s in steps { d[s.name] = s }
        self.steps = d
        workspace.engine = engine
    }

    public var stepNames: [String] { steps.keys.sorted() }
    public func hasStep(_ name: String) -> Bool { steps[name] != nil }

    public func inputs(_ ctx: CellContext) throws -> StepInputs { try located(ctx) { try step(ctx).inputs(ctx, workspace) } }
    public func run(_ ctx: CellContext) throws -> CellResult<Produced> { try located(ctx) { try step(ctx).run(ctx, workspace) } }

    public func restore(_ entries: [Produced], directory: String) throws {
        for e in entries { workspace.add(e, directory: directory) }
    }

    public func settle(_ entries: [Produced], directory: String) throws {
        for e in entries where !workspace.contains(e.workspaceName) { workspace.add(e, directory: directory) }
    }

    func step(_ ctx: CellContext) throws -> any Step {
        guard let s = steps[ctx.args.step] else { throw GlassboxError.message("no step named '\(ctx.args.step)'") }
        return s
    }

    /// An analysis's `invalidArgument` whose name is an argument of the cell points at that argument's line.
    func located<T>(_ ctx: CellContext, _ body: () throws -> T) throws -> T {
        do { return try body() } catch let e as GlassboxError {
            if case let .invalidArgument(name, expected, found) = e, ctx.args.keys.contains(name) {
                throw ctx.args.argumentError(name, expected: expected, found: found)
            }
            throw e
        }
    }
}

public extension Runner {
    /// Runs a recipe with the built-in steps.
    static func run(recipe path: String, options: RunOptions = RunOptions()) throws -> RunSummary {
        try run(recipe: path, options: options, session: StepSession())
    }
}
