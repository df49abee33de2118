import ArgumentParser
import Foundation
import GlassboxCore
import GlassboxEngine
import GlassboxReport

struct Glassbox: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "glassbox",
        abstract: "Train small neural networks and look inside them.",
        version: GlassboxVersion.string,
        subcommands: [RunCommand.self, ExportFiguresCommand.self, DiffCommand.self, PublishCommand.self, StepsCommand.self,
                      TrainCommand.self, EvaluateCommand.self, PruneCommand.self, ClusterCommand.self, ECSCommand.self,
                      DatasetsCommand.self, TopologyCommand.self, ActivationsCommand.self, ExplainCommand.self, VisualiseCommand.self, AttributeCommand.self,
                      SweepCommand.self, TaskCommand.self])
}

/// Runs the command line; a Glassbox error (or a failed recipe cell) becomes one clear line on stderr and exit status 1.
func runMain() -> Never {
    do {
        var command = try Glassbox.parseAsRoot()
        try command.run()
        exit(0)
    } catch let error as GlassboxError {
        fail("\(error)")
    } catch let error as CellFailure {
        if let dry = error.underlying as? EngineDryRun { done(dry) }
        fail("\(error)")
    } catch let error as TaskFailure {
        fail("\(error)")
    } catch let dry as EngineDryRun {
        done(dry)
    } catch {
        Glassbox.exit(withError: error)
    }
}

/// `--dry-run` stopped the run after writing job scripts: say so, exit 0.
func done(_ dry: EngineDryRun) -> Never {
    FileHandle.standardError.write(Data("glassbox: \(dry)\n".utf8))
    exit(0)
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("glassbox: error: \(message)\n".utf8))
    exit(1)
}

runMain()
