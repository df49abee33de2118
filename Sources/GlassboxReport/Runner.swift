import Foundation
import GlassboxCore
import GlassboxData
import GlassboxFigures
import GlassboxNN

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
    var result: CellResult
    var directory: String
    var executed: Bool
    var seconds: Double
}

/// Executes a recipe's cells in order against a workspace, with a per-cell cache, and writes the run folder.
public enum Runner {
    public static let cacheFormat = "glassbox-cell-cache 1"

    public static func run(recipe path: String, options: RunOptions = RunOptions()) throws -> RunSummary {
        var recipe = try Recipe.load(path)
        try recipe.override(options.parameters)
        return try run(recipe, options: options)
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

    public static func run(_ recipe: Recipe, options: RunOptions) throws -> RunSummary {
        let fm = FileManager.default
        ProgressBar.quiet = options.quiet
        let defaultSeed = try Recipe.load(recipe.path).seed
        let site = options.siteRoot ?? (((recipe.path as NSString).deletingLastPathComponent as NSString).appendingPathComponent("site"))
        let runID = runID(recipe, defaultSeed: defaultSeed)
        let runDir = options.outputDirectory ?? ((site as NSString).appendingPathComponent(recipe.name) as NSString).appendingPathComponent(runID)
        let cellsDir = (runDir as NSString).appendingPathComponent("cells")
        try fm.createDirectory(atPath: cellsDir, withIntermediateDirectories: true)
        let templates = try Templates.load(override: options.templateDirectory)
        try checkReferences(recipe)

        let parameters = recipe.parameterValues
        let ws = Workspace()
        var producers: [WorkspaceName: String] = [:]
        var records: [CellRecord] = []
        var stats = RunStatistics()
        var fileHashes: [String: String] = [:]
        func note(_ s: String) { if !options.quiet { logInfo(s) } }

        for cell in recipe.cells {
            let args = try CellArgs(cell: cell, path: recipe.path, parameters: parameters)
            guard let step = StepRegistry.step(named: args.step) else {
                throw RecipeError.at(recipe.path, line: args.line(of: "step"), "cell \(cell.index) 'step'",
                                     expected: "one of \(StepRegistry.names.joined(separator: ", "))", found: "'\(args.step)'")
            }
            func located(_ body: () throws -> CellResult) throws -> CellResult {
                do { return try body() } catch { throw cellError(recipe, cell, step.name, error) }
            }
            var ctx = CellContext(recipe: recipe, cell: cell, args: args, seed: recipe.seed, directory: "", dataDirectory: options.dataDirectory,
                                  quiet: options.quiet)
            let inputs: StepInputs
            do { inputs = try step.inputs(ctx, ws) } catch { throw cellError(recipe, cell, step.name, error) }

            // The key: cell text and options, upstream keys, input file hashes, seed, tool version, BLAS build.
            var lines = [cacheFormat, "tool \(GlassboxVersion.string)", "blas \(BLAS.configuration)", "seed \(recipe.seed)",
                         "step \(step.name)", "label \(cell.options.label ?? "")", "caption \(cell.options.caption ?? "")",
                         "echo \(cell.options.echo)", "cache \(cell.options.cache)", "body", args.resolvedBody, "inputs"]
            for n in Set(inputs.names).sorted(by: { $0.description < $1.description }) {
                guard let key = producers[n] else {
                    throw RecipeError.at(recipe.path, line: cell.line, "cell \(cell.index) (\(step.name))",
                                         expected: "an earlier cell that makes \(n)", found: "none")
                }
                lines.append("\(n.kind.rawValue):\(n.name)=\(key)")
            }
            for f in inputs.files.sorted() {
                if fileHashes[f] == nil { fileHashes[f] = try SHA256.hex(fileAt: f) }
                lines.append("file \((f as NSString).lastPathComponent)=\(fileHashes[f]!)")
            }
            let key = SHA256.hex(lines.joined(separator: "\n"))
            let cellDir = (cellsDir as NSString).appendingPathComponent(key)
            let resultPath = (cellDir as NSString).appendingPathComponent("result.json")

            let start = Date()
            var result: CellResult
            var executed = true
            if cell.options.cache, !options.refresh, fm.fileExists(atPath: resultPath),
               let cached = try? ReportJSON.decode(CellResult.self, from: Files.read(resultPath), path: resultPath) {
                result = cached
                executed = false
                for p in result.produced { ws.add(p, directory: cellDir) }
                stats.restored.append(cell.index)
                note("cell \(cell.index) (\(step.name)): restored from cache")
            } else {
                note("cell \(cell.index) (\(step.name), line \(cell.line)): running")
                let staging = (cellsDir as NSString).appendingPathComponent(".tmp-\(key)")
                try? fm.removeItem(atPath: staging)
                try fm.createDirectory(atPath: staging, withIntermediateDirectories: true)
                ctx = CellContext(recipe: recipe, cell: cell, args: args, seed: recipe.seed, directory: staging,
                                  dataDirectory: options.dataDirectory, quiet: options.quiet)
                let c = ctx
                result = try located { try step.run(c, ws) }
                try Files.writeAtomically(try ReportJSON.encode(result), to: (staging as NSString).appendingPathComponent("result.json"))
                // The finished cell appears under its key in one rename, so a crash never leaves half a cell.
                try? fm.removeItem(atPath: cellDir)
                guard rename(staging, cellDir) == 0 else {
                    throw GlassboxError.badFile(path: cellDir, field: "cell cache", expected: "a writable folder", found: String(cString: strerror(errno)))
                }
                // Re-point file-backed entries at the final folder (live objects stay as they are).
                for p in result.produced where !ws.contains(p.workspaceName) { ws.add(p, directory: cellDir) }
                stats.executed.append(cell.index)
            }
            for p in result.produced { producers[p.workspaceName] = key }
            records.append(CellRecord(cell: cell, step: step.name, key: key, result: result, directory: cellDir, executed: executed,
                                      seconds: Date().timeIntervalSince(start)))
        }

        // Figures: copies of the cached PNG and JSON under their labels.
        let figuresDir = (runDir as NSString).appendingPathComponent("figures")
        try fm.createDirectory(atPath: figuresDir, withIntermediateDirectories: true)
        var labels: [String: Int] = [:]
        var wanted: Set<String> = []
        for r in records {
            for o in r.result.outputs {
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
                if case let .figure(f) = o {
                    for (name, target) in [(f.png, "\(f.label).png"), (f.json, "\(f.label).json")] {
                        let data = try Files.read((r.directory as NSString).appendingPathComponent(name))
                        let dest = (figuresDir as NSString).appendingPathComponent(target)
                        if (try? Data(contentsOf: URL(fileURLWithPath: dest))) != data { try Files.writeAtomically(data, to: dest) }
                        wanted.insert(target)
                    }
                }
            }
        }
        for f in (try? fm.contentsOfDirectory(atPath: figuresDir)) ?? [] where !wanted.contains(f) {
            try? fm.removeItem(atPath: (figuresDir as NSString).appendingPathComponent(f))
        }
        // Cells no longer in the recipe (and leftovers of interrupted runs) are removed after a complete run.
        let keys = Set(records.map(\.key))
        for d in (try? fm.contentsOfDirectory(atPath: cellsDir)) ?? [] where !keys.contains(d) {
            try? fm.removeItem(atPath: (cellsDir as NSString).appendingPathComponent(d))
        }

        let report = try ReportWriter(recipe: recipe, runID: runID, records: records, runDirectory: runDir, templates: templates)
        let manifest = report.manifest(defaultSeed: defaultSeed)
        try Files.writeAtomically(try ReportJSON.encode(manifest), to: (runDir as NSString).appendingPathComponent("run.json"))
        let indexPath = (runDir as NSString).appendingPathComponent("index.html")
        try Files.writeAtomically(Data(try report.html(selfContained: options.selfContained).utf8), to: indexPath)
        if options.outputDirectory == nil || isInside(runDir, site) {
            try SiteIndex.write(site: site, templates: templates)
        }
        note("report: \(indexPath) (\(stats.executed.count) cell\(stats.executed.count == 1 ? "" : "s") run, \(stats.restored.count) restored)")
        return RunSummary(runDirectory: runDir, indexPath: indexPath, statistics: stats, manifest: manifest, keys: records.map(\.key))
    }

    static func isInside(_ path: String, _ folder: String) -> Bool {
        let p = URL(fileURLWithPath: path).standardizedFileURL.path, f = URL(fileURLWithPath: folder).standardizedFileURL.path
        return p.hasPrefix(f.hasSuffix("/") ? f : f + "/")
    }

    /// A cell failure as one line: where the cell is, which step, and the step's own message.
    static func cellError(_ recipe: Recipe, _ cell: RecipeCell, _ step: String, _ error: Error) -> GlassboxError {
        let message = (error as? GlassboxError)?.description ?? "\(error)"
        if message.hasPrefix(recipe.path + ":") { return .message("cell \(cell.index) (\(step)) failed: \(message)") }
        return .message("\(recipe.path):\(cell.line): cell \(cell.index) (\(step)) failed: \(message)")
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

/// `@fig-x` and `@tbl-x` references in prose.
enum CrossReferences {
    struct Ref { var label: String; var lineOffset: Int; var range: Range<String.Index> }

    static func find(in text: String) -> [Ref] {
        var refs: [Ref] = []
        var i = text.startIndex
        var line = 0
        while i < text.endIndex {
            let c = text[i]
            if c == "\n" { line += 1 }
            if c == "@", i == text.startIndex || !(text[text.index(before: i)].isLetter || text[text.index(before: i)].isNumber) {
                let after = text.index(after: i)
                let rest = text[after...]
                if rest.hasPrefix("fig-") || rest.hasPrefix("tbl-") {
                    var end = text.index(after, offsetBy: 4)
                    while end < text.endIndex, text[end].isLetter || text[end].isNumber || text[end] == "-" || text[end] == "_" {
                        end = text.index(after: end)
                    }
                    // A trailing '-' or '_' is punctuation, not part of the label.
                    while end > text.index(after, offsetBy: 4), text[text.index(before: end)] == "-" || text[text.index(before: end)] == "_" {
                        end = text.index(before: end)
                    }
                    if end > text.index(after, offsetBy: 4) {
                        refs.append(Ref(label: String(text[after..<end]), lineOffset: line, range: i..<end))
                        i = end
                        continue
                    }
                }
            }
            i = text.index(after: i)
        }
        return refs
    }
}
