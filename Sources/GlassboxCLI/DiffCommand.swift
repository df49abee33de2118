import ArgumentParser
import Foundation
import GlassboxCore
import GlassboxReport

struct DiffCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Compare two run folders: parameters, metrics, tables, figures (pixel difference) and cell timings.",
        discussion: """
        Reads only the two run folders. Without --out the Markdown or JSON goes to standard output; with --out the
        figure images (A, B and a difference map) are written to <out>-figures/ beside it.
        Exit status 3 when a --fail-on metric got worse by more than its tolerance.
        Example: glassbox diff reports/site/tour/default reports/site/tour/epochs-1 --format md
        """)

    @Argument(help: "The first (older) run folder.") var runA: String
    @Argument(help: "The second (newer) run folder.") var runB: String
    @Option(help: "html, md or json (default: from --out's extension, else md).") var format: String?
    @Option(help: "Write the diff here (required for html).") var out: String?
    @Flag(help: "Also list unchanged parameters and environment values.") var all = false
    @Option(help: "Absolute metric change at or below which a metric counts as the same.") var tolerance: Double = RunDiff.defaultTolerance
    @Option(name: .customLong("fail-on"), help: "METRIC:TOLERANCE: exit with status 3 when METRIC gets worse by more than TOLERANCE (repeatable).")
    var failOn: [String] = []

    func run() throws {
        let gates = try failOn.map { try DiffGate(parsing: $0) }
        let kind = try DiffFormatKind.resolve(format, out: out)
        let a = try RunFolder.load(runA), b = try RunFolder.load(runB)
        let (diff, text) = try RunDiff.write(a, b, nameA: runA, nameB: runB, format: kind, out: out, all: all, tolerance: tolerance)
        if let out { print(out) } else { FileHandle.standardOutput.write(text) }
        let failures = try DiffGate.failures(diff, gates: gates)
        if !failures.isEmpty {
            for f in failures { FileHandle.standardError.write(Data("glassbox: fail-on: \(f)\n".utf8)) }
            throw ExitCode(3)
        }
    }
}

struct PublishCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "publish",
        abstract: "Publish run folders as a static site (index, reports, diffs between runs), optionally zipped.",
        discussion: """
        Default runs: every run folder under reports/site. --out must be empty, new, or an earlier publish (its
        contents are replaced). Example: glassbox publish --out public --zip public.zip
        """)

    @Argument(help: "Run folders (default: every run under reports/site).") var runs: [String] = []
    @Option(help: "The site folder to write.") var out: String
    @Option(help: "Also write the site as a reproducible zip file.") var zip: String?
    @Option(help: "Title of the index page.") var title: String = "Glassbox reports"
    @Option(help: "Absolute metric change at or below which a metric counts as the same in the diffs.") var tolerance: Double = RunDiff.defaultTolerance

    func run() throws {
        var o = PublishOptions(out: out)
        o.runs = runs
        o.zip = zip
        o.title = title
        o.tolerance = tolerance
        let s = try Publisher.publish(o)
        print("\(s.runs.count) runs, \(s.diffs.count) diffs, \(s.files.count) files → \((out as NSString).appendingPathComponent("index.html"))")
        if let z = s.zip { print(z) }
    }
}
