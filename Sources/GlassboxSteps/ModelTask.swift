import GlassboxCore
import GlassboxReport

/// The options of a step that runs one analysis on one workspace model: the model, the data it runs on (default: the
/// data the model was trained on), the workspace name of what it makes, and the analysis's own settings.
public struct ModelTask<Settings> {
    public var model = ""
    public var data: String?
    public var name: String?
    public var settings: Settings

    public init(settings: Settings) { self.settings = settings }

    /// The declarations: `model`, `data`, `name`, then the settings' own arguments.
    public static func arguments(_ settings: Arguments<Settings>, defaults: @escaping () -> Settings, model: String, data: String,
                                 name: String, nameDefault: String) -> Arguments<ModelTask<Settings>> {
        Arguments<ModelTask<Settings>>(defaults: { ModelTask(settings: defaults()) }, [
            .text("model", \.model, .name(.model), required: true, help: model),
            .text("data", \.data, .name(.data), help: data, default: "the model's data"),
            .text("name", \.name, help: name, default: nameDefault),
        ] + settings.list.map { $0.lifted(\ModelTask<Settings>.settings) })
    }

    /// What the cell reads: the model and its data.
    public func inputs(_ ws: Workspace) -> StepInputs { StepInputs.model(model, data: data, ws) }
}
