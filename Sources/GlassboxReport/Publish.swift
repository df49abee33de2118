import Foundation
import GlassboxCore

/// `glassbox publish`: run folders → a static site (index of runs, each report copied in, diffs between consecutive
/// runs of the same recipe) and optionally a reproducible zip of it. Relative links only; same input, same bytes.
///
/// Layout of the site:
/// ```
/// index.html                                   every run, grouped by recipe, and the diffs
/// runs/<recipe>/<run-id>/index.html, run.json, figures/…
/// runs/<recipe>/<run-id>/runs/<id>/…                a sweep's runs (the run folders in its runs/), linked from its page
/// diffs/<recipe>/<run-a>--<run-b>.html (+ <run-a>--<run-b>-figures/)
/// .glassbox-site                               marks the folder as a site publish may replace (not in the zip)
/// ```
public struct PublishOptions: Sendable {
    /// Run folders; empty means every `<recipe>/<run>/run.json` under `siteRoot`.
    public var runs: [String] = []
    public var siteRoot = "reports/site"
    public var out: String
    public var zip: String?
    public var title = "Glassbox reports"
    public var tolerance = RunDiff.defaultTolerance
    public init(out: String) { self.out = out }
}

public struct PublishSummary: Sendable {
    /// Files of the site, relative to `out`, sorted.
    public var files: [String]
    /// `runs/<recipe>/<run-id>` of each run, in site order.
    public var runs: [String]
    /// `diffs/<recipe>/<a>--<b>.html`, in site order.
    public var diffs: [String]
    public var zip: String?
}

public enum Publisher {
    public static let marker = ".glassbox-site"

    public static func publish(_ options: PublishOptions) throws -> PublishSummary {
        let fm = FileManager.default
        guard !options.out.isEmpty else { throw GlassboxError.invalidArgument(name: "--out", expected: "a folder for the site", found: "nothing") }
        let out = URL(fileURLWithPath: options.out).standardizedFileURL.path

        // The runs.
        var paths = options.runs
        if paths.isEmpty {
            let root = options.siteRoot
            for recipe in ((try? fm.contentsOfDirectory(atPath: root)) ?? []).sorted() where !recipe.hasPrefix(".") {
                let rdir = (root as NSString).appendingPathComponent(recipe)
                for run in ((try? fm.contentsOfDirectory(atPath: rdir)) ?? []).sorted() where !run.hasPrefix(".") {
                    let dir = (rdir as NSString).appendingPathComponent(run)
                    if fm.fileExists(atPath: (dir as NSString).appendingPathComponent("run.json")) { paths.append(dir) }
                }
            }
            guard !paths.isEmpty else {
                throw GlassboxError.missingFile(path: (root as NSString).appendingPathComponent("<recipe>/<run>/run.json"),
                                                hint: "no run folders to publish; make one with glassbox run reports/tour.md, or name run folders")
            }
        }
        var runs: [(key: String, recipe: String, run: String, folder: RunFolder)] = []
        for p in paths {
            let f = try RunFolder.load(p)
            let recipe = RunFolder.safeName((f.manifest.recipe as NSString).deletingPathExtension)
            let run = RunFolder.safeName(f.manifest.runID)
            let key = "runs/\(recipe)/\(run)"
            if let other = runs.first(where: { $0.key == key }) {
                throw GlassboxError.invalidArgument(name: "RUN", expected: "runs with different recipe/run-id pairs",
                                                    found: "\(other.folder.path) and \(f.path) both publish to \(key)")
            }
            runs.append((key, recipe, run, f))
        }
        runs.sort { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }

        // The output folder: never inside a run folder nor around one (symlinks resolved); an existing one must be an
        // earlier site.
        let realOut = Files.realPath(out)
        for r in runs {
            let real = Files.realPath(r.folder.path)
            if realOut == real || realOut.hasPrefix(real + "/") || real.hasPrefix(realOut + "/") {
                throw GlassboxError.invalidArgument(name: "--out", expected: "a folder that neither holds nor lies inside a run folder",
                                                    found: "\(options.out) (run folder \(r.folder.path))")
            }
        }
        if let zip = options.zip {
            let z = Files.realPath(zip)
            if let r = runs.first(where: { z.hasPrefix(Files.realPath($0.folder.path) + "/") }) {
                throw GlassboxError.invalidArgument(name: "--zip", expected: "a file outside the run folders", found: "\(zip) (in \(r.folder.path))")
            }
        }
        var isDir: ObjCBool = false
        if fm.fileExists(atPath: out, isDirectory: &isDir) {
            guard isDir.boolValue else {
                throw GlassboxError.invalidArgument(name: "--out", expected: "a folder", found: "\(options.out), which is a file")
            }
            let contents = try fm.contentsOfDirectory(atPath: out)
            if !contents.isEmpty {
                guard contents.contains(marker) else {
                    throw GlassboxError.invalidArgument(name: "--out", expected: "an empty folder or one made by glassbox publish (with \(marker))",
                                                        found: "\(options.out), which holds other files")
                }
                for c in contents { try fm.removeItem(atPath: (out as NSString).appendingPathComponent(c)) }
            }
        }
        try fm.createDirectory(atPath: out, withIntermediateDirectories: true)
        try Files.writeAtomically(Data("A site written by glassbox publish; publish replaces this folder's contents.\n".utf8),
                                  to: (out as NSString).appendingPathComponent(marker))

        var written: [String] = []
        func put(_ data: Data, _ relative: String) throws {
            try Files.writeAtomically(data, to: (out as NSString).appendingPathComponent(relative))
            written.append(relative)
        }

        // Each report, without its cell cache. Every file read goes through RunFolder.resolve: a symlink that leads
        // out of the run folder (index.html → /etc/passwd) stops publish instead of being copied into the site.
        func copyReport(_ f: RunFolder, to key: String) throws {
            try put(try Files.read(f.resolve("index.html")), "\(key)/index.html")
            try put(try Files.read(f.resolve("run.json")), "\(key)/run.json")
            var figureFiles = Set(f.manifest.figures.flatMap { [$0.file, $0.json] })
            let figuresDir = f.file("figures")
            for name in (try? fm.contentsOfDirectory(atPath: figuresDir)) ?? [] where RunFolder.isSafeName(name) {
                let p = (figuresDir as NSString).appendingPathComponent(name)
                var isDir: ObjCBool = false
                if fm.fileExists(atPath: p, isDirectory: &isDir), !isDir.boolValue { figureFiles.insert("figures/\(name)") }
            }
            for rel in figureFiles.sorted() { try put(try Files.read(f.resolve(rel)), "\(key)/\(rel)") }
        }
        for r in runs {
            try copyReport(r.folder, to: r.key)
            // A sweep's aggregate links to its runs in runs/<id>/: they go along (one level deep).
            for sub in Publisher.linkedRuns(of: r.folder) { try copyReport(try RunFolder.load(sub.path), to: "\(r.key)/runs/\(sub.id)") }
        }

        // Diffs between consecutive runs of each recipe, and the index.
        let templates = try DiffTemplates.load()
        var recipes: [[String: Any]] = []
        var diffPaths: [String] = []
        let grouped = Dictionary(grouping: runs, by: \.recipe)
        for recipe in grouped.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
            let group = grouped[recipe]!
            var diffs: [[String: Any]] = []
            for (x, y) in zip(group, group.dropFirst()) {
                let base = "\(x.run)--\(y.run)"
                let page = "diffs/\(recipe)/\(base).html"
                let images = DiffImageOutput(directory: (out as NSString).appendingPathComponent("diffs/\(recipe)/\(base)-figures"),
                                             href: "\(base)-figures")
                let diff = try RunDiff.compare(x.folder, y.folder, nameA: "\(recipe)/\(x.run)", nameB: "\(recipe)/\(y.run)",
                                               tolerance: options.tolerance, images: images)
                for fig in diff.figures {
                    for img in [fig.imageA, fig.imageB, fig.diffImage].compactMap({ $0 }) { written.append("diffs/\(recipe)/\(img)") }
                }
                let html = try diff.html(hrefA: "../../\(x.key)/index.html", hrefB: "../../\(y.key)/index.html", back: "../../index.html")
                try put(Data(html.utf8), page)
                diffPaths.append(page)
                diffs.append(["href": page, "from": x.run, "to": y.run, "summary": diff.summaryLine])
            }
            recipes.append([
                "key": recipe, "recipe": group[0].folder.manifest.recipe,
                "runs": group.map { r -> [String: Any] in
                    let m = r.folder.manifest
                    return ["href": "\(r.key)/index.html", "title": m.title, "run": m.runID, "seed": "\(m.seed)",
                            "parameters": m.parameters.map { ["name": $0.name, "value": $0.value, "changed": $0.value != $0.defaultValue] as [String: Any] },
                            "metrics": m.metrics.map { ["label": $0.label, "display": $0.display] }, "figures": m.figures.count]
                },
                "diffs": diffs, "hasDiffs": !diffs.isEmpty,
            ])
        }
        let index = templates.site.render(["title": options.title, "css": templates.css, "version": GlassboxVersion.string,
                                           "recipes": recipes, "runCount": runs.count, "recipeCount": recipes.count])
        try put(Data(index.utf8), "index.html")

        let files = written.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        if let zipPath = options.zip {
            let entries = try files.map { ZipWriter.Entry(name: $0, data: try Files.read((out as NSString).appendingPathComponent($0))) }
            try Files.writeAtomically(try ZipWriter.archive(entries), to: zipPath)
        }
        return PublishSummary(files: files, runs: runs.map(\.key), diffs: diffPaths, zip: options.zip)
    }
}

extension Publisher {
    /// The run folders inside a run folder's `runs/` (a sweep's runs), sorted by name.
    static func linkedRuns(of folder: RunFolder) -> [(id: String, path: String)] {
        let fm = FileManager.default
        let dir = folder.file("runs")
        return ((try? fm.contentsOfDirectory(atPath: dir)) ?? []).sorted().compactMap { id in
            let path = (dir as NSString).appendingPathComponent(id)
            guard RunFolder.isSafeName(id), Files.realPath(path).hasPrefix(Files.realPath(folder.path) + "/"),
                  fm.fileExists(atPath: (path as NSString).appendingPathComponent("run.json")) else { return nil }
            return (id, path)
        }
    }
}

