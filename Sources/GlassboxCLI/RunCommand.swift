import ArgumentParser
import Foundation
import GlassboxCore
import GlassboxEngine
import GlassboxFigures
import GlassboxReport
import GlassboxSteps

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a recipe (Markdown with glassbox cells) and write its HTML report.",
        discussion: """
        The run folder is reports/site/<recipe>/<run-id>/ beside the recipe (run-id 'default', or the overridden
        parameters); each cell's result is cached there under cells/<key>/, so a second run only re-runs what changed.
        With --engine local|slurm, cells that train ensembles (the filter experiment's nets) run them as tasks on
        worker processes or Slurm job arrays; the results are the same bytes as in one process.
        Example: glassbox run reports/tour.md -p epochs=1
        """)

    @Argument(help: "The recipe file (e.g. reports/tour.md).") var recipe: String
    @Option(name: .customShort("p"), help: "Set a parameter: -p name=value (repeatable; -p seed=N sets the seed).")
    var parameters: [String] = []
    @Option(help: "Write the run folder here instead of reports/site/<recipe>/<run-id>/.") var out: String?
    @Flag(name: .customLong("self-contained"), help: "Embed the figures in index.html as data: URIs.") var selfContained = false
    @Flag(help: "Ignore cached cell results (run every cell).") var refresh = false
    @Flag(help: "No progress bars or log lines.") var quiet = false
    @Option(name: .customLong("data-dir"), help: "Folder holding the data sets' files (overrides the search path).") var dataDir: String?
    @Option(help: "Folder with report.mustache, index.mustache and style.css to use instead of the built-in ones.") var templates: String?
    @OptionGroup(title: "Engine (ensembles as tasks; default: in this process)") var engine: EngineOptions

    func run() throws {
        var options = RunOptions()
        options.parameters = parameters
        options.outputDirectory = out
        options.selfContained = selfContained
        options.refresh = refresh
        options.quiet = quiet
        options.dataDirectory = dataDir
        options.templateDirectory = templates
        let session = StepSession(engine: try engine.makeEngine(fallback: nil, quiet: quiet))
        let summary = try Runner.run(recipe: recipe, options: options, session: session)
        if quiet { print(summary.indexPath) }
    }
}

struct ExportFiguresCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export-figures",
        abstract: "Re-render a run's figures from their stored values as PNG, SVG or PDF (e.g. for a paper).")

    @Argument(help: "A run folder (or its run.json).") var runFolder: String
    @Option(help: "png, svg or pdf.") var format: String
    @Option(help: "Pixels per inch for PNG.") var dpi: Double = 300
    @Option(name: .customLong("width-mm"), help: "Figure width in millimetres (89 = one column, 183 = two).") var widthMM: Double = 89
    @Option(name: .customLong("font-size"), help: "Base font size in points.") var fontSize: Double = 7
    @Option(help: "Folder to write <label>.<format> into.") var out: String

    func run() throws {
        guard let f = FigureFormat(rawValue: format.lowercased()) else {
            throw GlassboxError.invalidArgument(name: "--format", expected: "png, svg or pdf", found: "'\(format)'")
        }
        for path in try FigureExport.export(run: runFolder, format: f, dpi: dpi, widthMM: widthMM, fontSize: fontSize, out: out) {
            print(path)
        }
    }
}
