import Foundation
import GlassboxCore
import GlassboxTemplates
import Mustache

/// `run.json`: what a run was (recipe, parameters, seed, versions) and what it found (metrics, tables, figures).
/// Everything but `cells[].seconds` and `cells[].status` is the same for the same inputs.
public struct RunManifest: Codable, Sendable {
    public struct Parameter: Codable, Sendable { public var name: String; public var value: String; public var defaultValue: String }
    public struct Cell: Codable, Sendable {
        public var index: Int
        public var line: Int
        public var step: String
        public var label: String?
        public var key: String
        /// "executed" or "restored" (from the cell cache).
        public var status: String
        /// Wall-clock seconds (restoring included); the only non-deterministic numbers of a run.
        public var seconds: Double
    }
    public struct FigureEntry: Codable, Sendable {
        public var label: String
        public var number: Int
        public var caption: String?
        public var file: String
        public var json: String
        public var sha256: String
        public var width: Int
        public var height: Int
    }
    public struct TableEntry: Codable, Sendable {
        public var label: String
        public var number: Int
        public var caption: String?
        public var columns: [String]
        public var rows: [[String]]
    }

    public var recipe: String
    public var recipeSHA256: String
    public var title: String
    public var runID: String
    public var parameters: [Parameter]
    public var seed: UInt64
    public var defaultSeed: UInt64
    public var toolVersion: String
    public var blas: String
    public var cells: [Cell]
    public var metrics: [MetricCard]
    public var tables: [TableEntry]
    public var figures: [FigureEntry]
}

/// Turns a run's cells and prose into `run.json` and `index.html`.
struct ReportWriter {
    let recipe: Recipe
    let runID: String
    let records: [CellRecord]
    let runDirectory: String
    let templates: Templates
    /// label → "Figure 2" / "Table 1".
    var numbers: [String: (kind: String, number: Int)] = [:]

    init(recipe: Recipe, runID: String, records: [CellRecord], runDirectory: String, templates: Templates) throws {
        self.recipe = recipe; self.runID = runID; self.records = records; self.runDirectory = runDirectory; self.templates = templates
        var f = 0, t = 0
        for r in records where r.cell.options.output {
            for o in r.outputs {
                switch o {
                case let .figure(fig): f += 1; numbers[fig.label] = ("Figure", f)
                case let .table(tab): t += 1; numbers[tab.label] = ("Table", t)
                default: break
                }
            }
        }
    }

    func manifest(defaultSeed: UInt64) -> RunManifest {
        var metrics: [MetricCard] = [], tables: [RunManifest.TableEntry] = [], figures: [RunManifest.FigureEntry] = []
        for r in records {
            for o in r.outputs {
                switch o {
                case let .metrics(m): metrics += m
                case .table where !r.cell.options.output, .figure where !r.cell.options.output: break
                case let .table(t):
                    tables.append(.init(label: t.label, number: numbers[t.label]!.number, caption: t.caption, columns: t.columns, rows: t.rows))
                case let .figure(f):
                    let path = (r.directory as NSString).appendingPathComponent(f.png)
                    figures.append(.init(label: f.label, number: numbers[f.label]!.number, caption: f.caption, file: "figures/\(f.label).png",
                                         json: "figures/\(f.label).json", sha256: (try? SHA256.hex(fileAt: path)) ?? "",
                                         width: f.width, height: f.height))
                case .text: break
                }
            }
        }
        return RunManifest(
            recipe: (recipe.path as NSString).lastPathComponent, recipeSHA256: recipe.sourceHash, title: recipe.title, runID: runID,
            parameters: recipe.parameters.map { .init(name: $0.name, value: $0.value, defaultValue: $0.defaultValue) },
            seed: recipe.seed, defaultSeed: defaultSeed, toolVersion: GlassboxVersion.string, blas: BLAS.configuration,
            cells: records.map { .init(index: $0.cell.index, line: $0.cell.line, step: $0.step, label: $0.cell.options.label, key: $0.key,
                                       status: $0.executed ? "executed" : "restored", seconds: $0.seconds) },
            metrics: metrics, tables: tables, figures: figures)
    }

    /// The report page. Only relative links; with `selfContained` the figures are `data:` URIs.
    func html(selfContained: Bool) throws -> String {
        var ids = Set(numbers.keys)
        for r in records { ids.insert("cell-\(r.cell.index)") }
        ids.formUnion(["toc", "top", "parameters"])
        var toc: [[String: Any]] = []
        var blocks: [[String: Any]] = []
        var cellsByIndex: [Int: CellRecord] = [:]
        for r in records { cellsByIndex[r.cell.index] = r }

        for b in recipe.blocks {
            switch b {
            case let .prose(p):
                let text = try CellArgs.substitute(p.text, firstLine: p.line, path: recipe.path, parameters: recipe.parameterValues)
                guard text.utf8.count <= Markdown.maxProseBytes else {
                    throw RecipeError.at(recipe.path, line: p.line, "prose", expected: "at most \(Markdown.maxProseBytes) bytes between two cells "
                                         + "(split it with a cell)", found: "\(text.utf8.count) bytes")
                }
                var html = ProseHTML.render(text)
                html = addHeadingIDs(html, ids: &ids, toc: &toc)
                html = resolveReferences(html)
                blocks.append(["prose": true, "html": html])
            case let .cell(c):
                guard let r = cellsByIndex[c.index] else { continue }
                var outputs: [[String: Any]] = []
                for o in r.outputs where c.options.output {
                    switch o {
                    case let .text(t): outputs.append(["text": t])
                    case let .figure(f):
                        let src: String
                        if selfContained {
                            let data = try Files.read((r.directory as NSString).appendingPathComponent(f.png))
                            src = "data:image/png;base64," + data.base64EncodedString()
                        } else {
                            src = "figures/\(f.label).png"
                        }
                        let n = numbers[f.label]!.number
                        outputs.append(["figure": ["id": f.label, "src": src, "number": n, "caption": f.caption ?? "",
                                                   "hasCaption": f.caption != nil, "alt": f.caption ?? "Figure \(n)",
                                                   "width": f.width, "height": f.height] as [String: Any]])
                    case let .table(t):
                        let n = numbers[t.label]!.number
                        let header = zip(t.columns, t.numeric).map { ["text": $0, "numeric": $1] as [String: Any] }
                        let rows = t.rows.map { row in ["cells": zip(row, t.numeric).map { ["text": $0, "numeric": $1] as [String: Any] }] }
                        outputs.append(["table": ["id": t.label, "number": n, "caption": t.caption ?? "", "hasCaption": t.caption != nil,
                                                  "header": header, "rows": rows] as [String: Any]])
                    case let .metrics(m):
                        outputs.append(["metrics": ["cards": m.map { ["label": $0.label, "display": $0.display,
                                                                       "better": $0.direction.phrase, "arrow": $0.direction.arrow] as [String: Any] }]])
                    }
                }
                blocks.append(["cell": true, "id": "cell-\(c.index)", "number": c.index, "step": r.step, "line": c.line,
                               "echo": c.options.echo, "source": c.source, "outputs": outputs])
            }
        }
        let context: [String: Any] = [
            "title": recipe.title,
            "description": recipe.description ?? "",
            "hasDescription": recipe.description != nil,
            "parameters": recipe.parameters.map { ["name": $0.name, "value": $0.value, "changed": $0.value != $0.defaultValue,
                                                   "default": $0.defaultValue] as [String: Any] },
            "hasParameters": !recipe.parameters.isEmpty,
            "seed": "\(recipe.seed)",
            "version": GlassboxVersion.string,
            "recipe": (recipe.path as NSString).lastPathComponent,
            "recipeHash": String(recipe.sourceHash.prefix(12)),
            "runID": runID,
            "toc": toc,
            "hasToc": !toc.isEmpty,
            "blocks": blocks,
            "css": templates.css,
        ]
        return templates.report.render(context)
    }

    /// Gives `<h2>`…`<h4>` ids from their text (unique in the page) and collects them for the table of contents.
    func addHeadingIDs(_ html: String, ids: inout Set<String>, toc: inout [[String: Any]]) -> String {
        var out = ""
        var rest = Substring(html)
        while let open = rest.range(of: "<h") {
            let after = rest[open.upperBound...]
            guard let level = after.first?.wholeNumberValue, (1...6).contains(level),
                  after.dropFirst().first == ">", let close = after.range(of: "</h\(level)>") else {
                out += rest[..<open.upperBound]; rest = after; continue
            }
            let inner = String(after[after.index(after.startIndex, offsetBy: 2)..<close.lowerBound])
            let text = stripTags(inner)
            var slug = String(text.lowercased().unicodeScalars.map { CharacterSet.alphanumerics.contains($0) && $0.isASCII ? Character($0) : "-" })
            slug = slug.split(separator: "-").joined(separator: "-")
            if slug.isEmpty { slug = "section" }
            var id = slug, k = 2
            while ids.contains(id) { id = "\(slug)-\(k)"; k += 1 }
            ids.insert(id)
            if level >= 2 && level <= 3 { toc.append(["id": id, "title": text, "sub": level == 3]) }
            out += rest[..<open.lowerBound]
            out += "<h\(level) id=\"\(id)\">\(inner)</h\(level)>"
            rest = after[close.upperBound...]
        }
        out += rest
        return out
    }

    /// Text of sanitised HTML with tags removed, entities kept (so it stays safe to insert as HTML).
    func stripTags(_ s: String) -> String {
        var out = "", inTag = false
        for c in s {
            if c == "<" { inTag = true } else if c == ">" { inTag = false } else if !inTag { out.append(c) }
        }
        return out
    }

    /// `@fig-x` → `<a href="#fig-x">Figure 2</a>`.
    func resolveReferences(_ html: String) -> String {
        var out = ""
        var last = html.startIndex
        for ref in CrossReferences.find(in: html) {
            out += html[last..<ref.range.lowerBound]
            if let n = numbers[ref.label] {
                out += "<a class=\"xref\" href=\"#\(ref.label)\">\(n.kind)&nbsp;\(n.number)</a>"
            } else {
                out += html[ref.range]
            }
            last = ref.range.upperBound
        }
        out += html[last...]
        return out
    }
}

/// The report templates: built-in resources, or a folder given by `--templates`.
struct Templates {
    var report: MustacheTemplate
    var index: MustacheTemplate
    var css: String

    static let files = ["report.mustache", "index.mustache", "style.css"]

    static func builtInFolder() -> String? { TemplateFolder.builtIn(holding: files) }

    static func load(override: String?) throws -> Templates {
        guard let dir = override ?? builtInFolder() else {
            throw GlassboxError.missingFile(path: "\(TemplateFolder.bundleName).resources",
                                            hint: "the report templates were not found beside the executable; pass --templates DIR")
        }
        func text(_ name: String) throws -> String {
            let path = (dir as NSString).appendingPathComponent(name)
            guard let s = String(data: try Files.read(path), encoding: .utf8) else {
                throw GlassboxError.badFile(path: path, field: "encoding", expected: "UTF-8 text", found: "other bytes")
            }
            return s
        }
        func template(_ name: String) throws -> MustacheTemplate {
            do { return try MustacheTemplate(string: try text(name)) } catch let e as GlassboxError { throw e } catch {
                throw GlassboxError.badFile(path: (dir as NSString).appendingPathComponent(name), field: "template",
                                            expected: "a valid Mustache template", found: "\(error)")
            }
        }
        return Templates(report: try template("report.mustache"), index: try template("index.mustache"), css: try text("style.css"))
    }
}

/// `site/index.html`: every run folder under the site root (`<recipe>/<run>/run.json`), sorted by name.
enum SiteIndex {
    static func write(site: String, templates: Templates) throws {
        let fm = FileManager.default
        var runs: [[String: Any]] = []
        for recipe in ((try? fm.contentsOfDirectory(atPath: site)) ?? []).sorted() {
            let rdir = (site as NSString).appendingPathComponent(recipe)
            for run in ((try? fm.contentsOfDirectory(atPath: rdir)) ?? []).sorted() {
                let path = ((rdir as NSString).appendingPathComponent(run) as NSString).appendingPathComponent("run.json")
                guard fm.fileExists(atPath: path),
                      let m = try? ReportJSON.decode(RunManifest.self, from: Files.read(path), path: path) else { continue }
                let params = m.parameters.map { "\($0.name)=\($0.value)" }.joined(separator: ", ")
                runs.append(["href": "\(recipe)/\(run)/index.html", "title": m.title, "recipe": m.recipe, "run": run,
                             "parameters": params.isEmpty ? "—" : params, "seed": "\(m.seed)",
                             "metrics": m.metrics.map { ["label": $0.label, "display": $0.display] },
                             "figures": m.figures.count])
            }
        }
        let html = templates.index.render(["runs": runs, "hasRuns": !runs.isEmpty, "css": templates.css,
                                           "version": GlassboxVersion.string])
        try Files.writeAtomically(Data(html.utf8), to: (site as NSString).appendingPathComponent("index.html"))
    }
}
