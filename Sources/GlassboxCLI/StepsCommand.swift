import ArgumentParser
import Foundation
import GlassboxCore
import GlassboxSteps

/// `glassbox steps [NAME]` — the recipe steps and their arguments, from the steps' own declarations.
struct StepsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "steps",
        abstract: "List the recipe steps, or show one step's arguments with their types and defaults.",
        discussion: """
        Examples:
          glassbox steps            every step with one line
          glassbox steps prune      the arguments of `step: prune`
          glassbox steps --markdown the step table of reports/README.md
        """)

    @Argument(help: "A step name.") var name: String?
    @Flag(help: "Print the Markdown table of every step and its arguments.") var markdown = false

    func run() throws {
        if markdown { print(StepDocs.markdown(), terminator: ""); return }
        guard let name else {
            print("Recipe steps (glassbox steps NAME shows one step's arguments):\n" + StepDocs.list())
            return
        }
        guard let step = Steps.named(name) else {
            throw GlassboxError.invalidArgument(name: "step", expected: "one of \(Steps.builtIn.map(\.name).joined(separator: ", "))", found: "'\(name)'")
        }
        print(StepDocs.help(step), terminator: "")
    }
}
