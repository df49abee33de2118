import Foundation

/// The built-in report templates (`report.mustache`, `index.mustache`, `diff.mustache`, `site.mustache`,
/// `style.css`, `diff.css`): this folder, shipped by SwiftPM as the resource bundle `Glassbox_GlassboxTemplates`
/// next to the built binary. The report layer reads them from here unless `--templates DIR` names other ones.
public enum TemplateFolder {
    public static let bundleName = "Glassbox_GlassboxTemplates"

    /// The first folder holding every file in `files`: the resource bundle beside the executable (release and
    /// debug builds, test bundles), else the source folder this file was compiled from. (`Bundle.module` is not
    /// used because it stops the process when the bundle is missing, e.g. for a copied binary.)
    public static func builtIn(holding files: [String]) -> String? {
        var candidates: [String] = []
        let exe = URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath().deletingLastPathComponent()
        for base in [exe, Bundle.main.bundleURL, Bundle.main.bundleURL.deletingLastPathComponent()] {
            candidates.append(base.appendingPathComponent("\(bundleName).resources").path)
            candidates.append(base.appendingPathComponent("\(bundleName).bundle/Contents/Resources").path)
        }
        candidates.append(URL(fileURLWithPath: #filePath).deletingLastPathComponent().path)
        return candidates.first { dir in files.allSatisfy { FileManager.default.fileExists(atPath: (dir as NSString).appendingPathComponent($0)) } }
    }
}
