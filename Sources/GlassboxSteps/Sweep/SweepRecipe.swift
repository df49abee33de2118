import Foundation
import GlassboxCore
import GlassboxFigures
import GlassboxReport

/// The aggregate report of a sweep, written as a recipe (`<name>-sweep.md` in the sweep folder) of `sweep-summary`,
/// `sweep-plot` and `sweep-figures` cells over the run folders in `runs/`. Running it there makes the sweep folder a
/// run folder like any other; it can be run again by hand (`glassbox run DIR/<name>-sweep.md --out DIR`).
enum SweepRecipe {
    static func text(_ a: Sweep.AggregateInput, recipe: Recipe) throws -> String {
        let runs = a.runs.map { "runs/\($0.id)" }
        let list = "[" + runs.joined(separator: ", ") + "]"
        let first = try RunFolder.load((a.out as NSString).appendingPathComponent(runs[0]))
        var seeds: [UInt64] = []
        for r in a.runs where !seeds.contains(r.seed) { seeds.append(r.seed) }
        let sweptText = a.swept.map { "`\($0.name)` = \($0.values.joined(separator: ", "))" }
        let what = (["seeds " + seeds.map(String.init).joined(separator: ", ")] + sweptText).joined(separator: " × ")
        var s = """
        ---
        title: \(yamlString(recipe.title + ": sweep"))
        description: \(yamlString("\(a.runs.count) runs of \((a.recipe as NSString).lastPathComponent): \(what)."))
        seed: \(recipe.seed)
        ---

        This page aggregates \(a.runs.count) runs of `\((a.recipe as NSString).lastPathComponent)`, one per combination of \(escape(what)).
        Each run is a complete report of its own (listed at the end). Every metric is given per setting as the mean over
        its runs ± the sample standard deviation (divisor n − 1), with its minimum, maximum and the number of runs n
        (@tbl-sweep-metrics).

        ## Metrics

        ```glassbox
        #| label: tbl-sweep-metrics
        step: sweep-summary
        runs: \(list)
        ```

        """
        if !a.swept.isEmpty {
            s += """

            ## Metrics against \(a.swept[0].name)

            Each panel shows one metric's mean over the seeds against `\(a.swept[0].name)`, with error bars of ± one
            standard deviation (@fig-sweep-metrics).

            ```glassbox
            #| label: fig-sweep-metrics
            step: sweep-plot
            runs: \(list)
            ```

            """
        }
        let figures = try first.manifest.figures.filter { f in
            // Panel grids cannot be nested in a grid of runs; the runs' own pages show them.
            let value = try ReportJSON.decode(Figure.self, from: try Files.read(first.file(f.json)), path: first.file(f.json))
            if case .panels = value { return false }
            return true
        }
        if !figures.isEmpty {
            s += "\n## Figures of every run\n\nEach figure of the recipe, redrawn from every run's stored figure values: one row per setting, one column per seed.\n"
            for f in figures {
                s += """

                ### \(escape(f.caption ?? f.label))

                ```glassbox
                #| label: fig-runs-\(f.label.hasPrefix("fig-") ? String(f.label.dropFirst(4)) : f.label)
                step: sweep-figures
                runs: \(list)
                figure: \(f.label)
                ```

                """
            }
        }
        s += "\n## Runs\n\n| run | " + (a.swept.map(\.name) + ["seed", "report"]).joined(separator: " | ") + " |\n|"
        s += String(repeating: "---|", count: a.swept.count + 3) + "\n"
        for r in a.runs {
            let values = a.swept.map { p in r.assignments.first { $0.hasPrefix(p.name + "=") }.map { String($0.dropFirst(p.name.count + 1)) } ?? "" }
            s += "| \(r.id) | " + (values.map(escape) + ["\(r.seed)", "[report](runs/\(r.id)/index.html)"]).joined(separator: " | ") + " |\n"
        }
        return s
    }

    /// A YAML double-quoted scalar.
    static func yamlString(_ s: String) -> String {
        "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: " ") + "\""
    }

    /// Text from the runs in prose: no parameter substitution (`${`), no table cell breaks, no references (`@`).
    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "${", with: "$ {").replacingOccurrences(of: "|", with: "/").replacingOccurrences(of: "@", with: "(at)")
            .replacingOccurrences(of: "\n", with: " ")
    }
}
