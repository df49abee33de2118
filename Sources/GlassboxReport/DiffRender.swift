import Foundation
import GlassboxTemplates
import GlassboxCore
import Mustache

/// The output formats of `glassbox diff`.
public enum DiffFormatKind: String, Sendable, CaseIterable {
    case html, md, json

    /// From `--format`, else from the output file's extension, else Markdown.
    public static func resolve(_ format: String?, out: String?) throws -> DiffFormatKind {
        if let format {
            guard let f = DiffFormatKind(rawValue: format.lowercased()) ?? (format.lowercased() == "markdown" ? .md : nil) else {
                throw GlassboxError.invalidArgument(name: "--format", expected: "html, md or json", found: "'\(format)'")
            }
            return f
        }
        switch ((out ?? "") as NSString).pathExtension.lowercased() {
        case "html", "htm": return .html
        case "json": return .json
        default: return .md
        }
    }
}

extension RunDiff {
    /// Stable JSON: sorted keys, two-space indentation, a final newline.
    public func json() throws -> Data {
        var d = try ReportJSON.encode(self)
        d.append(0x0A)
        return d
    }

    /// GitHub-flavoured Markdown for a pull-request comment: tables only, user text escaped.
    /// Unchanged settings are listed only with `all`.
    public func markdown(all: Bool = false) -> String {
        func esc(_ s: String?) -> String {
            guard let s else { return "" }
            var o = ""
            for c in s {
                switch c {
                case "|": o += "\\|"
                case "<": o += "&lt;"
                case ">": o += "&gt;"
                case "&": o += "&amp;"
                case "\n", "\r": o += " "
                case "`", "*", "_", "[", "]", "\\": o += "\\\(c)"
                default: o.append(c)
                }
            }
            return o
        }
        var out = "## Glassbox diff: \(esc(a.name)) → \(esc(b.name))\n\n"
        out += "| | A | B |\n|---|---|---|\n"
        out += "| Report | \(esc(a.title)) | \(esc(b.title)) |\n| Run | \(esc(a.runID)) | \(esc(b.runID)) |\n\n"
        out += "**Summary:** \(summaryLine)\n\n"

        out += "### Parameters and environment\n\n"
        let shown = all ? settings : settings.filter(\.changed)
        if shown.isEmpty {
            out += "No parameter or environment changes.\n\n"
        } else {
            out += "| Setting | Kind | A | B | Changed |\n|---|---|---|---|---|\n"
            for s in shown { out += "| \(esc(s.name)) | \(s.kind) | \(esc(s.a ?? "—")) | \(esc(s.b ?? "—")) | \(s.changed ? "**yes**" : "no") |\n" }
            out += "\n"
        }

        out += "### Metrics\n\n"
        if metrics.isEmpty {
            out += "No metrics.\n\n"
        } else {
            out += "| Metric | A | B | Δ | Δ % | Status |\n|---|---:|---:|---:|---:|---|\n"
            for m in metrics {
                out += "| \(esc(m.label)) \(DiffFormat.arrow(m.direction)) | \(esc(DiffFormat.metricValue(m.displayA, m.a))) | "
                out += "\(esc(DiffFormat.metricValue(m.displayB, m.b))) | \(DiffFormat.signed(m.delta)) | \(esc(DiffFormat.percent(m.relativeDelta))) | "
                out += "\(m.status == .better || m.status == .worse ? "**\(m.status.rawValue)**" : m.status.rawValue) |\n"
            }
            out += "\n"
        }

        out += "### Tables\n\n"
        if tables.isEmpty { out += "No tables.\n\n" }
        for t in tables {
            out += "**\(esc(t.label))**\(t.caption.map { ": " + esc($0) } ?? "") · \(t.status.rawValue)"
            out += t.status == .changed ? " (\(t.changedCells) cells)\n\n" : "\n\n"
            guard t.status == .changed, !t.columns.isEmpty else { continue }
            func cell(_ c: TableCell) -> String {
                c.changed ? "**\(esc(c.a ?? "∅")) → \(esc(c.b ?? "∅"))**" : esc(c.b ?? c.a)
            }
            out += "| " + t.columns.map(cell).joined(separator: " | ") + " |\n"
            out += "|" + String(repeating: "---|", count: t.columns.count) + "\n"
            for row in t.rows {
                var cells = row.map(cell)
                while cells.count < t.columns.count { cells.append("") }
                out += "| " + cells.joined(separator: " | ") + " |\n"
            }
            out += "\n"
        }

        out += "### Figures\n\n"
        if figures.isEmpty {
            out += "No figures.\n\n"
        } else {
            out += "| Figure | Status | Changed pixels | Difference |\n|---|---|---:|---|\n"
            for f in figures {
                let image = f.diffImage.map { "![difference of \(esc(f.label))](\($0))" } ?? ""
                out += "| \(esc(f.label)) | \(f.status.rawValue) | \(DiffFormat.share(f)) | \(image) |\n"
            }
            out += "\n"
        }

        out += "### Cells\n\n"
        if cells.isEmpty {
            out += "No cells.\n"
        } else {
            out += "| Cell | Step | A | B | Status |\n|---|---|---:|---:|---|\n"
            for c in cells {
                out += "| \(esc(c.id)) | \(esc(c.step)) | \(DiffFormat.seconds(c.secondsA)) | \(DiffFormat.seconds(c.secondsB)) | \(c.status.rawValue) |\n"
            }
        }
        return out
    }

    /// "1 setting changed; metrics: 2 better, 1 worse; 1 table changed; 2 figures changed; 3 cells changed", or "identical".
    public var summaryLine: String {
        let s = summary
        if s.identical { return "no changes (timings aside)" }
        func n(_ k: Int, _ one: String) -> String { "\(k) \(one)\(k == 1 ? "" : "s")" }
        var parts: [String] = []
        if s.settingsChanged > 0 { parts.append("\(n(s.settingsChanged, "setting")) changed") }
        var m: [String] = []
        if s.metricsBetter > 0 { m.append("\(s.metricsBetter) better") }
        if s.metricsWorse > 0 { m.append("\(s.metricsWorse) worse") }
        if s.metricsChanged > 0 { m.append("\(s.metricsChanged) not comparable") }
        if s.metricsAdded > 0 { m.append("\(s.metricsAdded) added") }
        if s.metricsRemoved > 0 { m.append("\(s.metricsRemoved) removed") }
        if !m.isEmpty { parts.append("metrics " + m.joined(separator: ", ")) }
        for (k, what, verb) in [(s.tablesChanged, "table", "changed"), (s.tablesAdded, "table", "added"), (s.tablesRemoved, "table", "removed"),
                                (s.figuresChanged, "figure", "changed"), (s.figuresAdded, "figure", "added"),
                                (s.figuresRemoved, "figure", "removed"), (s.cellsChanged, "cell", "changed"),
                                (s.cellsAdded, "cell", "added"), (s.cellsRemoved, "cell", "removed")] where k > 0 {
            parts.append("\(n(k, what)) \(verb)")
        }
        return parts.joined(separator: "; ")
    }

    /// The HTML page (template `diff.mustache`). `hrefA`/`hrefB` link to the two reports, `back` to an index.
    public func html(all: Bool = false, hrefA: String? = nil, hrefB: String? = nil, back: String? = nil) throws -> String {
        let t = try DiffTemplates.load()
        let shown = all ? settings : settings.filter(\.changed)
        func statusClass(_ s: String) -> String {
            switch s {
            case "better", "added": return "better"
            case "worse", "removed": return "worse"
            case "changed": return "changed"
            default: return "same"
            }
        }
        let context: [String: Any] = [
            "css": t.css,
            "version": GlassboxVersion.string,
            "nameA": a.name, "nameB": b.name, "titleA": a.title, "titleB": b.title, "runA": a.runID, "runB": b.runID,
            "hrefA": hrefA ?? "", "hasHrefA": hrefA != nil, "hrefB": hrefB ?? "", "hasHrefB": hrefB != nil,
            "back": back ?? "", "hasBack": back != nil,
            "summary": summaryLine,
            "tolerance": DiffFormat.number(tolerance),
            "settings": shown.map { ["name": $0.name, "kind": $0.kind, "a": $0.a ?? "—", "b": $0.b ?? "—", "changed": $0.changed] as [String: Any] },
            "hasSettings": !shown.isEmpty,
            "hiddenSettings": settings.count - shown.count, "hasHidden": settings.count > shown.count,
            "metrics": metrics.map { m in
                ["label": m.label, "name": m.name, "arrow": DiffFormat.arrow(m.direction),
                 "better": m.direction.phrase,
                 "a": DiffFormat.metricValue(m.displayA, m.a), "b": DiffFormat.metricValue(m.displayB, m.b),
                 "delta": DiffFormat.signed(m.delta), "relative": DiffFormat.percent(m.relativeDelta),
                 "status": m.status.rawValue, "class": statusClass(m.status.rawValue)] as [String: Any]
            },
            "hasMetrics": !metrics.isEmpty,
            "tables": tables.map { t in
                ["label": t.label, "caption": t.caption ?? "", "hasCaption": t.caption != nil, "status": t.status.rawValue,
                 "class": statusClass(t.status.rawValue), "changedCells": t.changedCells, "show": t.status == .changed,
                 "columns": t.columns.map { cellContext($0) },
                 "rows": t.rows.map { ["cells": $0.map { cellContext($0) }] }] as [String: Any]
            },
            "hasTables": !tables.isEmpty,
            "figures": figures.map { f in
                ["label": f.label, "caption": f.caption ?? "", "hasCaption": f.caption != nil, "status": f.status.rawValue,
                 "class": statusClass(f.status.rawValue), "share": DiffFormat.share(f), "hasShare": f.changedPixels != nil,
                 "imageA": f.imageA ?? "", "hasImageA": f.imageA != nil, "imageB": f.imageB ?? "", "hasImageB": f.imageB != nil,
                 "diffImage": f.diffImage ?? "", "hasDiffImage": f.diffImage != nil,
                 "maxDelta": f.maxChannelDelta.map { "\($0)" } ?? "", "hasMaxDelta": (f.maxChannelDelta ?? 0) > 0, "sizesDiffer": f.sizesMatch == false] as [String: Any]
            },
            "hasFigures": !figures.isEmpty,
            "cells": cells.map { c in
                ["id": c.id, "step": c.step, "a": DiffFormat.seconds(c.secondsA), "b": DiffFormat.seconds(c.secondsB),
                 "status": c.status.rawValue, "class": statusClass(c.status.rawValue)] as [String: Any]
            },
            "hasCells": !cells.isEmpty,
        ]
        return t.diff.render(context)
    }

    private func cellContext(_ c: TableCell) -> [String: Any] {
        ["changed": c.changed, "a": c.a ?? "∅", "b": c.b ?? "∅", "text": c.b ?? c.a ?? ""]
    }

    /// Writes the diff in `format` to `out` (atomically), with figure images in `<out>-figures/`; returns the diff.
    /// Without `out`, images are not written and the text goes to the returned string only.
    public static func write(_ a: RunFolder, _ b: RunFolder, nameA: String? = nil, nameB: String? = nil, format: DiffFormatKind,
                             out: String?, all: Bool = false, tolerance: Double = defaultTolerance) throws -> (diff: RunDiff, text: Data) {
        if format == .html && out == nil {
            throw GlassboxError.invalidArgument(name: "--out", expected: "a file for the HTML diff (e.g. --out diff.html)", found: "nothing")
        }
        if let out {
            for run in [a, b] {
                let o = URL(fileURLWithPath: out).standardizedFileURL.path
                if o.hasPrefix(run.path + "/") {
                    throw GlassboxError.invalidArgument(name: "--out", expected: "a path outside the run folders", found: out)
                }
            }
        }
        let images = out.map { DiffImageOutput.beside($0) }
        let diff = try compare(a, b, nameA: nameA, nameB: nameB, tolerance: tolerance, images: images)
        let text: Data
        switch format {
        case .json: text = try diff.json()
        case .md: text = Data(diff.markdown(all: all).utf8)
        case .html: text = Data(try diff.html(all: all).utf8)
        }
        if let out { try Files.writeAtomically(text, to: out) }
        return (diff, text)
    }
}

/// `diff.mustache` and `site.mustache` beside the report templates, with the shared `style.css`.
struct DiffTemplates {
    var diff: MustacheTemplate
    var site: MustacheTemplate
    var css: String

    static func load() throws -> DiffTemplates {
        guard let dir = TemplateFolder.builtIn(holding: ["diff.mustache", "site.mustache", "style.css", "diff.css"]) else {
            throw GlassboxError.missingFile(path: "\(TemplateFolder.bundleName).resources",
                                            hint: "the report templates were not found beside the executable")
        }
        func text(_ name: String) throws -> String {
            let path = (dir as NSString).appendingPathComponent(name)
            return String(decoding: try Files.read(path), as: UTF8.self)
        }
        func template(_ name: String) throws -> MustacheTemplate {
            do { return try MustacheTemplate(string: try text(name)) } catch let e as GlassboxError { throw e } catch {
                throw GlassboxError.badFile(path: (dir as NSString).appendingPathComponent(name), field: "template",
                                            expected: "a valid Mustache template", found: "\(error)")
            }
        }
        return DiffTemplates(diff: try template("diff.mustache"), site: try template("site.mustache"),
                             css: try text("style.css") + "\n" + (try text("diff.css")))
    }
}
