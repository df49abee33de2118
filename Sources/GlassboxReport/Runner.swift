import Foundation
import GlassboxCore

/// How to run a recipe.
public struct RunOptions: Sendable {
    /// `-p name=value` overrides (also `seed=N`).
    public var parameters: [String] = []
    /// The run folder; default `<site>/<recipe name>/<run id>/`.
    public var outputDirectory: String?
    /// The site root holding every run and `index.html`; default `site/` beside the recipe.
    public var siteRoot: String?
    /// Ignore the cell cache (every cell runs; results are cached again).
    public var refresh = false
    /// Write `index.html` with figures embedded as `data:` URIs.
    public var selfContained = false
    public var quiet = false
    /// Overrides the data set search path for `data` cells without a `dir`.
    public var dataDirectory: String?
    /// Folder with `report.mustache`, `index.mustache`, `style.css` replacing the built-in templates.
    public var templateDirectory: String?
    public init() {}
}

/// What happened to each cell.
public struct RunStatistics: Sendable, Equatable {
    /// Cells whose step ran.
    public var executed: [Int] = []
    /// Cells restored from `cells/<key>/`.
    public var restored: [Int] = []
}

public struct RunSummary: Sendable {
    public var runDirectory: String
    public var indexPath: String
    public var statistics: RunStatistics
    public var manifest: RunManifest
    /// Cache key of each cell, in order.
    public var keys: [String]
}

/// One executed or restored cell, ready for the report.
struct CellRecord {
    var cell: RecipeCell
    var step: String
    var key: String
    var outputs: [CellOutput]
    var directory: String
    var executed: Bool
    var seconds: Double
}

/// Where a run writes: the run folder, its cell cache and the site it belongs to.
struct RunPaths {
    var site: String
    var runID: String
    var run: String
    var cells: String
    var figures: String { (run as NSString).appendingPathComponent("figures") }
    /// Per-cell task folders (`CellContext.tasksDirectory`).
    var tasks: String { (run as NSString).appendingPathComponent("tasks") }

    init(_ recipe: Recipe, options: RunOptions, defaultSeed: UInt64) {
        site = options.siteRoot ?? (((recipe.path as NSString).deletingLastPathComponent as NSString).appendingPathComponent("site"))
        runID = Runner.runID(recipe, defaultSeed: defaultSeed)
        run = options.outputDirectory ?? ((site as NSString).appendingPathComponent(recipe.name) as NSString).appendingPathComponent(runID)
        cells = (run as NSString).appendingPathComponent("cells")
    }
}

/// Executes a recipe's cells in order through a session (the steps and their workspace), with a per-cell cache,
/// and writes the run folder.
public enum Runner {
    public static let cacheFormat = "glassbox-cell-cache 2"

    public static func run<S: RecipeSession>(recipe path: String, options: RunOptions = RunOptions(), session: S) throws -> RunSummary {
        var recipe = try Recipe.load(path)
        try recipe.override(options.parameters)
        return try run(recipe, options: options, session: session)
    }

    /// Run id from the parameters: `default` when nothing is overridden, else `name-value_…` of the changed ones.
    public static func runID(_ recipe: Recipe, defaultSeed: UInt64) -> String {
        var parts: [String] = []
        for p in recipe.parameters where p.value != p.defaultValue { parts.append("\(p.name)-\(p.value)") }
        if recipe.seed != defaultSeed { parts.append("seed-\(recipe.seed)") }
        if parts.isEmpty { return "default" }
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-_."))
        let id = String(String.UnicodeScalarView(parts.joined(separator: "_").unicodeScalars.map { allowed.contains($0) && $0.isASCII ? $0 : "-" }))
        return id.count > 100 ? String(id.prefix(60)) + "-" + String(SHA256.hex(id).prefix(12)) : id
    }

    public static func run<S: RecipeSession>(_ recipe: Recipe, options: RunOptions, session: S) throws -> RunSummary {
        ProgressBar.quiet = options.quiet
        let defaultSeed = try Recipe.load(recipe.path).seed
        let paths = RunPaths(recipe, options: options, defaultSeed: defaultSeed)
        try FileManager.default.createDirectory(atPath: paths.cells, withIntermediateDirectories: true)
        let templates = try Templates.load(override: options.templateDirectory)
        try checkReferences(recipe)

        var execution = CellExecution(recipe: recipe, options: options, paths: paths, session: session)
        for cell in recipe.cells { try execution.perform(cell) }
        let records = execution.records

        try copyFigures(records, recipe: recipe, to: paths.figures)
        removeStaleCells(keeping: Set(records.map(\.key)), in: paths.cells)
        try? FileManager.default.removeItem(atPath: paths.tasks)   // every cell is complete: no task folder is needed
        let summary = try writeReport(recipe, records: records, paths: paths, templates: templates, defaultSeed: defaultSeed, options: options)
        let stats = execution.statistics
        if !options.quiet {
            logInfo("report: \(summary.indexPath) (\(stats.executed.count) cell\(stats.executed.count == 1 ? "" : "s") run, \(stats.restored.count) restored)")
        }
        return RunSummary(runDirectory: paths.run, indexPath: summary.indexPath, statistics: stats, manifest: summary.manifest,
                          keys: records.map(\.key))
    }

    /// Copies each figure's cached PNG and JSON to `figures/<label>.*` (unchanged files are left alone) and removes
    /// figures no cell makes any more. Labels must be unique across cells.
    static func copyFigures(_ records: [CellRecord], recipe: Recipe, to figuresDir: String) throws {
        let fm = FileManager.default
        try fm.createDirectory(atPath: figuresDir, withIntermediateDirectories: true)
        var labels: [String: Int] = [:]
        var wanted: Set<String> = []
        for r in records {
            for o in r.outputs {
                let label: String
                switch o {
                case let .figure(f): label = f.label
                case let .table(t): label = t.label
                default: continue
                }
                if let other = labels[label] {
                    throw RecipeError.at(recipe.path, line: r.cell.line, "cell \(r.cell.index) label", expected: "a label not used by another cell",
                                         found: "'\(label)' (also cell \(other))")
                }
                labels[label] = r.cell.index
                guard case let .figure(f) = o else { continue }
                for (name, target) in [(f.png, "\(f.label).png"), (f.json, "\(f.label).json")] {
                    let data = try Files.read((r.directory as NSString).appendingPathComponent(name))
                    let dest = (figuresDir as NSString).appendingPathComponent(target)
                    if (try? Data(contentsOf: URL(fileURLWithPath: dest))) != data { try Files.writeAtomically(data, to: dest) }
                    wanted.insert(target)
                }
            }
        }
        for f in (try? fm.contentsOfDirectory(atPath: figuresDir)) ?? [] where !wanted.contains(f) {
            try? fm.removeItem(atPath: (figuresDir as NSString).appendingPathComponent(f))
        }
    }

    /// Cells no longer in the recipe (and leftovers of interrupted runs) are removed after a complete run.
    static func removeStaleCells(keeping keys: Set<String>, in cellsDir: String) {
        let fm = FileManager.default
        for d in (try? fm.contentsOfDirectory(atPath: cellsDir)) ?? [] where !keys.contains(d) {
            try? fm.removeItem(atPath: (cellsDir as NSString).appendingPathComponent(d))
        }
    }

    /// `run.json`, `index.html` and (for runs inside the site) the site index.
    static func writeReport(_ recipe: Recipe, records: [CellRecord], paths: RunPaths, templates: Templates, defaultSeed: UInt64,
                            options: RunOptions) throws -> (indexPath: String, manifest: RunManifest) {
        let report = try ReportWriter(recipe: recipe, runID: paths.runID, records: records, runDirectory: paths.run, templates: templates)
        let manifest = report.manifest(defaultSeed: defaultSeed)
        try Files.writeAtomically(try ReportJSON.encode(manifest), to: (paths.run as NSString).appendingPathComponent("run.json"))
        let indexPath = (paths.run as NSString).appendingPathComponent("index.html")
        try Files.writeAtomically(Data(try report.html(selfContained: options.selfContained).utf8), to: indexPath)
        if options.outputDirectory == nil || isInside(paths.run, paths.site) {
            try SiteIndex.write(site: paths.site, templates: templates)
        }
        return (indexPath, manifest)
    }

    static func isInside(_ path: String, _ folder: String) -> Bool {
        let p = URL(fileURLWithPath: path).standardizedFileURL.path, f = URL(fileURLWithPath: folder).standardizedFileURL.path
        return p.hasPrefix(f.hasSuffix("/") ? f : f + "/")
    }

    /// Every `@fig-x` / `@tbl-x` in the prose must name a cell label; the error gives the recipe line.
    static func checkReferences(_ recipe: Recipe) throws {
        let labels = Set(recipe.cells.compactMap(\.options.label))
        for case let .prose(p) in recipe.blocks {
            for ref in CrossReferences.find(in: p.text) where !labels.contains(ref.label) {
                throw RecipeError.at(recipe.path, line: p.line + ref.lineOffset, "@\(ref.label)",
                                     expected: "the label of a cell (#| label: \(ref.label))", found: "no such label")
            }
        }
    }
}

/// The cells of one run in order: each is keyed, then restored from its cache folder or run into a staging
/// folder that becomes `cells/<key>/` in one rename (so a crash never leaves half a cell).
struct CellExecution<S: RecipeSession> {
    let recipe: Recipe
    let options: RunOptions
    let paths: RunPaths
    let session: S
    /// Which cell's key made each workspace name.
    var producers: [WorkspaceName: String] = [:]
    var fileHashes: [String: String] = [:]
    var records: [CellRecord] = []
    var statistics = RunStatistics()

    init(recipe: Recipe, options: RunOptions, paths: RunPaths, session: S) {
        self.recipe = recipe; self.options = options; self.paths = paths; self.session = session
    }

    func note(_ s: String) { if !options.quiet { logInfo(s) } }

    func context(_ cell: RecipeCell, _ args: CellArgs, directory: String, key: String? = nil) -> CellContext {
        CellContext(recipe: recipe, cell: cell, args: args, seed: recipe.seed, directory: directory,
                    dataDirectory: options.dataDirectory, quiet: options.quiet,
                    tasksDirectory: key.map { (paths.tasks as NSString).appendingPathComponent($0) })
    }

    /// A step's error, with the cell's place in the recipe.
    func failure(_ cell: RecipeCell, _ step: String, _ error: Error) -> CellFailure {
        if let f = error as? CellFailure { return f }
        return CellFailure(recipe: recipe.path, line: cell.line, cell: cell.index, step: step, underlying: error)
    }

    mutating func perform(_ cell: RecipeCell) throws {
        let args = try CellArgs(cell: cell, path: recipe.path, parameters: recipe.parameterValues)
        guard session.hasStep(args.step) else {
            throw RecipeError.at(recipe.path, line: args.line(of: "step"), "cell \(cell.index) 'step'",
                                 expected: "one of \(session.stepNames.joined(separator: ", "))", found: "'\(args.step)'")
        }
        let inputs: StepInputs
        do { inputs = try session.inputs(context(cell, args, directory: "")) } catch { throw failure(cell, args.step, error) }
        let key = try cacheKey(cell, args, inputs)
        let cellDir = (paths.cells as NSString).appendingPathComponent(key)
        let start = Date()
        let result: CellResult<S.Entry>
        let executed: Bool
        if inputs.outputs.allSatisfy({ FileManager.default.fileExists(atPath: $0) }), let cached = cached(cell, at: cellDir) {
            do { try session.restore(cached.produced, directory: cellDir) } catch { throw failure(cell, args.step, error) }
            result = cached
            executed = false
            statistics.restored.append(cell.index)
            note("cell \(cell.index) (\(args.step)): restored from cache")
        } else {
            note("cell \(cell.index) (\(args.step), line \(cell.line)): running")
            result = try execute(cell, args, key: key, into: cellDir)
            executed = true
            statistics.executed.append(cell.index)
        }
        for p in result.produced { producers[p.workspaceName] = key }
        records.append(CellRecord(cell: cell, step: args.step, key: key, outputs: result.outputs, directory: cellDir, executed: executed,
                                  seconds: Date().timeIntervalSince(start)))
    }

    /// The key: cell text and options, upstream keys, input file hashes, seed, tool version, BLAS build.
    mutating func cacheKey(_ cell: RecipeCell, _ args: CellArgs, _ inputs: StepInputs) throws -> String {
        var lines = [Runner.cacheFormat, "tool \(GlassboxVersion.string)", "blas \(BLAS.configuration)", "seed \(recipe.seed)",
                     "step \(args.step)", "label \(cell.options.label ?? "")", "caption \(cell.options.caption ?? "")",
                     "echo \(cell.options.echo)", "cache \(cell.options.cache)", "body", args.resolvedBody, "inputs"]
        for n in Set(inputs.names).sorted(by: { $0.description < $1.description }) {
            guard let key = producers[n] else {
                throw RecipeError.at(recipe.path, line: cell.line, "cell \(cell.index) (\(args.step))",
                                     expected: "an earlier cell that makes \(n)", found: "none")
            }
            lines.append("\(n.kind.rawValue):\(n.name)=\(key)")
        }
        for f in inputs.files.sorted() {
            if fileHashes[f] == nil { fileHashes[f] = try SHA256.hex(fileAt: f) }
            lines.append("file \((f as NSString).lastPathComponent)=\(fileHashes[f]!)")
        }
        for p in inputs.fingerprints { lines.append("fingerprint \(p)") }
        return SHA256.hex(lines.joined(separator: "\n"))
    }

    /// The cell's cached result, unless caching is off for it or the run refreshes, or none is readable.
    func cached(_ cell: RecipeCell, at cellDir: String) -> CellResult<S.Entry>? {
        let resultPath = (cellDir as NSString).appendingPathComponent("result.json")
        guard cell.options.cache, !options.refresh, FileManager.default.fileExists(atPath: resultPath),
              let data = try? Files.read(resultPath) else { return nil }
        return try? ReportJSON.decode(CellResult<S.Entry>.self, from: data, path: resultPath)
    }

    /// Runs the cell in a staging folder, stores its result there and renames the folder to `cellDir`.
    func execute(_ cell: RecipeCell, _ args: CellArgs, key: String, into cellDir: String) throws -> CellResult<S.Entry> {
        let fm = FileManager.default
        let staging = (paths.cells as NSString).appendingPathComponent(".tmp-\(key)")
        try? fm.removeItem(atPath: staging)
        try fm.createDirectory(atPath: staging, withIntermediateDirectories: true)
        let result: CellResult<S.Entry>
        do { result = try session.run(context(cell, args, directory: staging, key: key)) } catch { throw failure(cell, args.step, error) }
        try Files.writeAtomically(try ReportJSON.encode(result), to: (staging as NSString).appendingPathComponent("result.json"))
        try? fm.removeItem(atPath: cellDir)
        guard rename(staging, cellDir) == 0 else {
            throw GlassboxError.badFile(path: cellDir, field: "cell cache", expected: "a writable folder", found: String(cString: strerror(errno)))
        }
        do { try session.settle(result.produced, directory: cellDir) } catch { throw failure(cell, args.step, error) }
        try? fm.removeItem(atPath: (paths.tasks as NSString).appendingPathComponent(key))
        return result
    }
}
