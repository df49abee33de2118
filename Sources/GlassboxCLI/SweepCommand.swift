import ArgumentParser
import Foundation
import GlassboxCore
import GlassboxEngine
import GlassboxSteps

struct SweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Run a recipe for every combination of seeds and parameter values, then write an aggregate report.",
        discussion: """
        One run folder per combination in OUT/runs/<id>/ (the usual run-folder contract, each with its own cell cache,
        so running a sweep again only re-runs what is missing or changed), then the aggregate in OUT itself: every
        metric per setting as mean ± standard deviation with min, max and n, the metrics against the swept parameter
        with error bars, each figure of every run side by side, and links to the runs. OUT is a run folder too:
        glassbox diff compares two sweeps, glassbox publish OUT publishes the aggregate with its runs.
        The runs are tasks of the engine: local (default) runs --jobs worker processes on this machine, slurm submits
        a job array and the aggregate as a dependent job from a login node.
        Example: glassbox sweep reports/tour.md --seeds 0-2 -p epochs=1,2 --jobs 2 --out sweeps/tour
        """)

    @Argument(help: "The recipe file.") var recipe: String
    @Option(help: "Seeds: 0-9, 0,3,5 or 7 (default: the recipe's seed).") var seeds: String?
    @Option(name: .customShort("p"), help: "A parameter and its values: -p name=v1,v2,… (repeatable).") var parameters: [String] = []
    @Option(help: "The sweep folder (the aggregate report, with the runs in runs/).") var out: String
    @Option(name: .customLong("data-dir"), help: "Folder holding the data sets' files (overrides the search path).") var dataDir: String?
    @Option(help: "Folder with report templates to use instead of the built-in ones.") var templates: String?
    @Flag(help: "Ignore every run's cell cache (run every cell).") var refresh = false
    @Flag(help: "No progress bars or log lines.") var quiet = false
    @OptionGroup(title: "Engine (default: local)") var engine: EngineOptions

    func run() throws {
        var s = SweepSettings(recipe: recipe, out: out, seeds: try seeds.map(SweepSettings.parseSeeds),
                              parameters: try parameters.map(SweptParameter.parse))
        s.dataDirectory = dataDir
        s.templateDirectory = templates
        s.refresh = refresh
        s.quiet = quiet
        ProgressBar.quiet = quiet
        let engine = try self.engine.makeEngine(fallback: .local, quiet: quiet)!
        let summary = try Sweep.run(s, engine: engine)
        if !quiet { logInfo("sweep: \(summary.runs.count) runs in \((summary.folder as NSString).appendingPathComponent("runs")); aggregate:") }
        print(summary.indexPath)
    }
}
