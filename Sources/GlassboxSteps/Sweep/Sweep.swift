import Foundation
import GlassboxCore
import GlassboxEngine
import GlassboxFigures
import GlassboxReport

/// One swept parameter: `-p name=v1,v2,…`.
public struct SweptParameter: Codable, Equatable, Sendable {
    public var name: String
    public var values: [String]
    public init(name: String, values: [String]) { self.name = name; self.values = values }

    /// `name=v1,v2,…`; commas inside `[…]`, `{…}` or quotes do not split (`-p layers=[0.weight, 3.weight]`).
    public static func parse(_ text: String) throws -> SweptParameter {
        guard let eq = text.firstIndex(of: "="), eq != text.startIndex else {
            throw GlassboxError.invalidArgument(name: "-p", expected: "name=value or name=v1,v2,…", found: "'\(text)'")
        }
        let name = String(text[..<eq]).trimmingCharacters(in: .whitespaces)
        var values: [String] = [], current = "", depth = 0, quote: Character?
        for c in text[text.index(after: eq)...] {
            if let q = quote { if c == q { quote = nil } } else if c == "\"" || c == "'" { quote = c } else if "[{".contains(c) { depth += 1 } else if "]}".contains(c) { depth -= 1 }
            if c == ",", depth == 0, quote == nil { values.append(current); current = ""; continue }
            current.append(c)
        }
        values.append(current)
        values = values.map { $0.trimmingCharacters(in: .whitespaces) }
        guard !values.contains(where: \.isEmpty) else {
            throw GlassboxError.invalidArgument(name: "-p \(name)", expected: "non-empty values separated by commas", found: "'\(text)'")
        }
        return SweptParameter(name: name, values: values)
    }
}

/// What `glassbox sweep` runs: every combination of the parameter values and the seeds, one run folder each, then the
/// aggregate report. Defaults live here.
public struct SweepSettings: Codable, Equatable, Sendable {
    public var recipe: String
    /// The sweep's folder: the aggregate report (a run folder itself) with the runs in `runs/<id>/`.
    public var out: String
    /// Seeds; nil: the recipe's own.
    public var seeds: [UInt64]?
    public var parameters: [SweptParameter] = []
    public var dataDirectory: String?
    public var templateDirectory: String?
    /// Run every cell of every run again (`--refresh`).
    public var refresh = false
    public var quiet = false

    public init(recipe: String, out: String, seeds: [UInt64]? = nil, parameters: [SweptParameter] = []) {
        self.recipe = recipe; self.out = out; self.seeds = seeds; self.parameters = parameters
    }

    /// `0-9`, `0,3,5`, `7`, `0-4,10`.
    public static func parseSeeds(_ text: String) throws -> [UInt64] {
        try IndexList.parse(text, name: "--seeds", expected: "seeds such as 0-9, 0,3,5 or 7", distinct: true).map { UInt64($0) }
    }

    public func validate() throws {
        var names = Set<String>()
        for p in parameters {
            guard p.name != "seed" else { throw GlassboxError.invalidArgument(name: "-p seed", expected: "--seeds for the seeds of a sweep", found: "-p seed") }
            guard names.insert(p.name).inserted else { throw GlassboxError.invalidArgument(name: "-p \(p.name)", expected: "each parameter once", found: "twice") }
            guard Set(p.values).count == p.values.count else {
                throw GlassboxError.invalidArgument(name: "-p \(p.name)", expected: "distinct values", found: p.values.joined(separator: ","))
            }
        }
        if let s = seeds, s.isEmpty { throw GlassboxError.invalidArgument(name: "--seeds", expected: "at least one seed", found: "none") }
        guard !out.isEmpty else { throw GlassboxError.invalidArgument(name: "--out", expected: "a folder for the sweep", found: "nothing") }
    }
}

/// One run of a sweep.
public struct SweepRun: Codable, Sendable, Equatable {
    /// Its folder name under `runs/`: the swept values and the seed (`epochs-2_seed-3`).
    public var id: String
    /// `-p` assignments, the seed last.
    public var assignments: [String]
    public var seed: UInt64
}

public struct SweepSummary: Sendable {
    /// The aggregate report's folder (`--out`) and page.
    public var folder: String
    public var indexPath: String
    /// Each run's folder, in sweep order.
    public var runs: [String]
}

/// `glassbox sweep`: the runs are tasks (`sweep-run`, each a whole `glassbox run` of the recipe into its own run
/// folder, whose cell cache makes an unchanged run a quick no-op), and the merge (`sweep-aggregate`) writes the
/// aggregate recipe `<name>-sweep.md` into the sweep folder and runs it there, so the aggregate is a run folder too
/// (`diff` compares two sweeps; `publish` takes it with its runs).
public enum Sweep {
    public static let runKind = "sweep-run"
    public static let aggregateKind = "sweep-aggregate"

    /// Every combination, the first parameter varying slowest and the seed fastest.
    public static func plan(_ s: SweepSettings, recipe: Recipe) throws -> [SweepRun] {
        try s.validate()
        let seeds = s.seeds ?? [recipe.seed]
        var combos: [[String]] = [[]]
        for p in s.parameters { combos = combos.flatMap { c in p.values.map { c + ["\(p.name)=\($0)"] } } }
        guard combos.count * seeds.count <= 10_000 else {
            throw GlassboxError.invalidArgument(name: "--seeds", expected: "at most 10000 runs", found: "\(combos.count * seeds.count)")
        }
        var runs: [SweepRun] = []
        var ids = Set<String>()
        for c in combos {
            for seed in seeds {
                var check = recipe
                try check.override(c)   // unknown parameter names fail here, naming the recipe's parameters
                let shown = zip(s.parameters, c).filter { $0.0.values.count > 1 }.map { $0.1.replacingOccurrences(of: "=", with: "-") }
                var id = safeID(shown + ["seed-\(seed)"])
                if ids.contains(id) { id += "-\(runs.count)" }
                ids.insert(id)
                runs.append(SweepRun(id: id, assignments: c + ["seed=\(seed)"], seed: seed))
            }
        }
        return runs
    }

    static func safeID(_ parts: [String]) -> String {
        let id = parts.map { RunFolder.safeName($0) }.joined(separator: "_")
        return id.count > 100 ? String(id.prefix(60)) + "-" + String(SHA256.hex(id).prefix(12)) : id
    }

    struct RunInput: Codable {
        var recipe: String
        var assignments: [String]
        var out: String
        var dataDirectory: String?
        var templateDirectory: String?
        var refresh: Bool
    }

    struct AggregateInput: Codable {
        var recipe: String
        var out: String
        var runs: [SweepRun]
        var swept: [SweptParameter]
        var templateDirectory: String?
        var quiet: Bool
    }

    struct AggregateOutput: Codable {
        var indexPath: String
    }

    static func absolute(_ p: String) -> String { URL(fileURLWithPath: p).standardizedFileURL.path }

    /// Runs the sweep on `engine` and writes the aggregate.
    public static func run(_ s: SweepSettings, engine: any TaskEngine) throws -> SweepSummary {
        let recipe = try Recipe.load(s.recipe)
        let runs = try plan(s, recipe: recipe)
        let out = absolute(s.out)
        let runsDir = (out as NSString).appendingPathComponent("runs")
        try FileManager.default.createDirectory(atPath: runsDir, withIntermediateDirectories: true)
        removeOtherRuns(in: runsDir, keeping: Set(runs.map(\.id)))
        let tasks = try runs.map { r in
            TaskSpec(id: r.id, kind: runKind, input: try EngineJSON.text(RunInput(
                recipe: absolute(s.recipe), assignments: r.assignments, out: (runsDir as NSString).appendingPathComponent(r.id),
                dataDirectory: s.dataDirectory.map(absolute), templateDirectory: s.templateDirectory.map(absolute), refresh: s.refresh)))
        }
        let merge = MergeSpec(kind: aggregateKind, input: try EngineJSON.text(AggregateInput(
            recipe: absolute(s.recipe), out: out, runs: runs, swept: s.parameters.filter { $0.values.count > 1 },
            templateDirectory: s.templateDirectory.map(absolute), quiet: s.quiet)))
        // Every run is a task each time (its cell cache knows what changed), so the batch keeps no results.
        let batch = try TaskBatch.prepare(folder: (out as NSString).appendingPathComponent("sweep-tasks"), name: "sweep \(recipe.name)",
                                          tasks: tasks, merge: merge, reuse: false)
        try engine.run(batch)
        let result = try EngineJSON.decode(AggregateOutput.self, from: try batch.mergedOutput(), path: batch.mergedPath)
        try? FileManager.default.removeItem(atPath: batch.folder)
        return SweepSummary(folder: out, indexPath: result.indexPath, runs: runs.map { (runsDir as NSString).appendingPathComponent($0.id) })
    }

    /// Run folders of an earlier sweep into the same folder that this one no longer makes.
    static func removeOtherRuns(in dir: String, keeping ids: Set<String>) {
        let fm = FileManager.default
        for d in (try? fm.contentsOfDirectory(atPath: dir)) ?? [] where !ids.contains(d) {
            let path = (dir as NSString).appendingPathComponent(d)
            if fm.fileExists(atPath: (path as NSString).appendingPathComponent("run.json")) { try? fm.removeItem(atPath: path) }
        }
    }

    /// The handlers: one run; the aggregate.
    public static let registry = TaskRegistry(
        tasks: [runKind: { input in
            let r = try EngineJSON.decode(RunInput.self, from: Data(input.utf8), path: "\(runKind) task input")
            var o = RunOptions()
            o.parameters = r.assignments
            o.outputDirectory = r.out
            o.dataDirectory = r.dataDirectory
            o.templateDirectory = r.templateDirectory
            o.refresh = r.refresh
            o.quiet = true
            let summary = try Runner.run(recipe: r.recipe, options: o)
            return Data("\(summary.runDirectory): \(summary.statistics.executed.count) cells run, \(summary.statistics.restored.count) restored".utf8)
        }],
        merges: [aggregateKind: { input, _ in
            let a = try EngineJSON.decode(AggregateInput.self, from: Data(input.utf8), path: "\(aggregateKind) merge input")
            let recipe = try Recipe.load(a.recipe)
            let path = (a.out as NSString).appendingPathComponent("\(recipe.name)-sweep.md")
            try Files.writeAtomically(Data(try SweepRecipe.text(a, recipe: recipe).utf8), to: path)
            var o = RunOptions()
            o.outputDirectory = a.out
            o.templateDirectory = a.templateDirectory
            o.quiet = a.quiet
            let summary = try Runner.run(recipe: path, options: o)
            return try EngineJSON.encode(AggregateOutput(indexPath: summary.indexPath))
        }])
}
