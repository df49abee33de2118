import Foundation
import GlassboxCore

// What the runner knows of a cell: its context, what it reads, what it made. The steps themselves and the
// workspace they share live in the layer above (GlassboxSteps), which hands the runner a `RecipeSession`.

/// The steps a run can use and the workspace they share, for one run. The runner asks it what a cell reads,
/// runs the cell through it, and hands it back cached entries to restore.
public protocol RecipeSession: AnyObject {
    associatedtype Entry: WorkspaceEntry
    /// Every known step name (for the "unknown step" error).
    var stepNames: [String] { get }
    func hasStep(_ name: String) -> Bool
    /// What the cell reads: workspace names (their producers' cache keys join this cell's key) and files (their
    /// content hashes join the key). Called before `run`, also when the cell is then restored.
    func inputs(_ context: CellContext) throws -> StepInputs
    /// Does the work. Files the result refers to go into `context.directory`.
    func run(_ context: CellContext) throws -> CellResult<Entry>
    /// Puts a cached cell's entries back into the workspace; their files are in `directory`.
    func restore(_ entries: [Entry], directory: String) throws
    /// After a cell ran and its folder was renamed to `directory`: entries the workspace does not hold yet are
    /// added from there (the ones a step added itself stay as they are).
    func settle(_ entries: [Entry], directory: String) throws
}

/// A workspace entry as the cache stores it (`cells/<key>/result.json`); the runner only needs its name.
public protocol WorkspaceEntry: Codable, Sendable {
    var workspaceName: WorkspaceName { get }
}

/// Names a cell reads from the workspace and files it reads from disk.
public struct StepInputs: Sendable {
    public var names: [WorkspaceName]
    public var files: [String]
    /// Text that joins the key as it is: what file hashes alone do not capture (e.g. an image folder's listing
    /// with its contents' hashes, so moving an image to another class folder re-runs the cell).
    public var fingerprints: [String]
    /// Files the cell writes outside the run folder: a cached result is used only while they all exist.
    public var outputs: [String]
    public init(names: [WorkspaceName] = [], files: [String] = [], fingerprints: [String] = [], outputs: [String] = []) {
        self.names = names; self.files = files; self.fingerprints = fingerprints; self.outputs = outputs
    }
}

/// A name in the workspace, qualified by what it holds.
public struct WorkspaceName: Hashable, Codable, Sendable, CustomStringConvertible {
    public enum Kind: String, Codable, Sendable { case data, model, evaluation, result, probes }
    public var kind: Kind
    public var name: String
    public init(_ kind: Kind, _ name: String) { self.kind = kind; self.name = name }
    public var description: String { "\(kind.rawValue) '\(name)'" }
}

/// Everything a step sees of its cell.
public struct CellContext: Sendable {
    public let recipe: Recipe
    public let cell: RecipeCell
    public let args: CellArgs
    /// The recipe seed (after `-p seed=`).
    public let seed: UInt64
    /// Folder for files this cell writes (checkpoints, figures). It becomes `cells/<key>/`.
    public let directory: String
    /// Overrides the data set search path (tests, `--data-dir`).
    public let dataDirectory: String?
    public let quiet: Bool
    /// A folder for work the cell splits into tasks (`<run>/tasks/<key>/`): unlike `directory` it survives a failed
    /// or killed attempt, so the next run resumes from the tasks that finished; the runner removes it once the cell
    /// is complete. Nil when the runner gives none.
    public let tasksDirectory: String?

    public init(recipe: Recipe, cell: RecipeCell, args: CellArgs, seed: UInt64, directory: String, dataDirectory: String?, quiet: Bool,
                tasksDirectory: String? = nil) {
        self.recipe = recipe; self.cell = cell; self.args = args; self.seed = seed; self.directory = directory
        self.dataDirectory = dataDirectory; self.quiet = quiet; self.tasksDirectory = tasksDirectory
    }

    /// The label for this cell's figure or table: the `#| label:` option, else one derived from the cell number.
    public func label(prefix: String) -> String { cell.options.label ?? "\(prefix)-cell\(cell.index)" }
}

/// What a cell produced: workspace entries (restored from the cache on later runs) and outputs for the report.
public struct CellResult<Entry: WorkspaceEntry>: Codable, Sendable {
    public var produced: [Entry]
    public var outputs: [CellOutput]
    public init(produced: [Entry] = [], outputs: [CellOutput] = []) { self.produced = produced; self.outputs = outputs }
}

/// Something shown in the report.
public enum CellOutput: Codable, Sendable {
    case figure(FigureOutput)
    case table(TableOutput)
    case metrics([MetricCard])
    case text(String)
}

public struct FigureOutput: Codable, Sendable {
    public var label: String
    public var caption: String?
    /// File names inside the cell folder.
    public var png: String
    public var json: String
    /// CSS pixel size the PNG is meant to be shown at.
    public var width: Int
    public var height: Int
    public init(label: String, caption: String?, png: String, json: String, width: Int, height: Int) {
        self.label = label; self.caption = caption; self.png = png; self.json = json; self.width = width; self.height = height
    }
}

public struct TableOutput: Codable, Sendable {
    public var label: String
    public var caption: String?
    public var columns: [String]
    public var rows: [[String]]
    /// Per column: true when it holds numbers (right-aligned).
    public var numeric: [Bool]
    public init(label: String, caption: String?, columns: [String], rows: [[String]], numeric: [Bool]) {
        self.label = label; self.caption = caption; self.columns = columns; self.rows = rows; self.numeric = numeric
    }
}

/// Which way a metric improves. Encoded as "higher" / "lower" in `run.json`.
public enum MetricDirection: String, Codable, Sendable, StringLiteralEnum {
    case higher, lower

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        let s = try c.decode(String.self)
        guard let d = MetricDirection(rawValue: s) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                                                    debugDescription: "expected \"higher\" or \"lower\", found \"\(s)\""))
        }
        self = d
    }

    public var arrow: String { self == .higher ? "↑" : "↓" }
    public var phrase: String { self == .higher ? "higher is better" : "lower is better" }
}

public struct MetricCard: Codable, Sendable, Equatable {
    /// Machine name, e.g. "cnn.accuracy".
    public var name: String
    public var label: String
    public var value: Double
    /// Which way is better.
    public var direction: MetricDirection
    /// The value as shown (e.g. "87.3 %").
    public var display: String
    public init(name: String, label: String, value: Double, direction: MetricDirection, display: String) {
        self.name = name; self.label = label; self.value = value; self.direction = direction; self.display = display
    }
}

/// A cell that failed: where it is (recipe, line, cell number, step) and the step's own error, kept typed.
public struct CellFailure: Error, CustomStringConvertible, @unchecked Sendable {
    public var recipe: String
    public var line: Int
    public var cell: Int
    public var step: String
    /// What the step threw (a `GlassboxError` in every case the project raises itself).
    public var underlying: Error

    public init(recipe: String, line: Int, cell: Int, step: String, underlying: Error) {
        self.recipe = recipe; self.line = line; self.cell = cell; self.step = step; self.underlying = underlying
    }

    /// One line: `recipe:line: cell N (step) failed: message`; when the message already starts with the recipe
    /// path (an argument error pointing at its own line), that location is kept instead of the cell's.
    public var description: String {
        let message = "\(underlying)"
        if message.hasPrefix(recipe + ":") { return "cell \(cell) (\(step)) failed: \(message)" }
        return "\(recipe):\(line): cell \(cell) (\(step)) failed: \(message)"
    }
}
