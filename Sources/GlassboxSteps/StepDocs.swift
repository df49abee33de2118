import Foundation

/// Help for recipe authors, made from the steps' declarations: `glassbox steps [NAME]` and the step table in
/// reports/README.md (a test checks that the README holds exactly `markdown()`).
public enum StepDocs {
    /// One line per step.
    public static func list(_ steps: [any Step] = Steps.builtIn) -> String {
        let width = steps.map(\.name.count).max() ?? 0
        return steps.map { "  " + $0.name.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + $0.summary }.joined(separator: "\n")
    }

    /// A step's arguments: name, type, default, help (grouped by figure kind for `figure`).
    public static func help(_ step: any Step) -> String {
        var out = "step: \(step.name) — \(step.summary)\n"
        for g in step.argumentGroups {
            if let t = g.title { out += "\n\(t)\(g.summary.map { " — \($0)" } ?? "")\n" } else { out += "\narguments:\n" }
            let width = g.arguments.map(\.name.count).max() ?? 0
            for a in g.arguments {
                out += "  " + a.name.padding(toLength: width, withPad: " ", startingAt: 0) + "  \(a.help) (\(a.type)"
                    + (a.defaultText.map { $0 == "required" ? "; required" : "; default \($0)" } ?? "") + ")\n"
            }
        }
        return out
    }

    /// The Markdown step table of reports/README.md.
    public static func markdown(_ steps: [any Step] = Steps.builtIn) -> String {
        var out = "| step | arguments (default) | what it does |\n| --- | --- | --- |\n"
        for s in steps {
            var args: [String] = []
            for g in s.argumentGroups {
                let list = g.arguments.map(cell).joined(separator: ", ")
                args.append(g.title.map { "**\($0)**: \(list)" } ?? list)
            }
            out += "| `\(s.name)` | \(args.joined(separator: "<br>")) | \(escape(s.summary)) |\n"
        }
        return out
    }

    static func cell(_ a: ArgumentDoc) -> String {
        switch a.defaultText {
        case "required"?: return "`\(a.name)` (**required**)"
        case let d?: return "`\(a.name)` (" + (d.contains(" ") && !d.contains("<") ? escape(d) : "`\(escape(d))`") + ")"
        case nil: return "`\(a.name)`"
        }
    }

    static func escape(_ s: String) -> String { s.replacingOccurrences(of: "|", with: "\\|") }
}
