import GlassboxEngine

/// Every task and merge kind the steps split work into, plus the engine's diagnostics: what a worker process
/// (`glassbox task run FOLDER INDEX|merge`) looks kinds up in.
public enum StepTasks {
    public static let registry = TaskRegistry.diagnostics.adding(FilterEnsemble.registry).adding(Sweep.registry)
}
