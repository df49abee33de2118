import Foundation
import XCTest
import GlassboxTestSupport
@testable import GlassboxCore
@testable import GlassboxFigures
@testable import GlassboxReport

/// Two runs of the tiny recipe made once for all diff and publish tests: `tiny/default` (1 epoch) and
/// `tiny/epochs-2`, in a site folder.
enum DiffFixture {
    nonisolated(unsafe) static var site: String?
    nonisolated(unsafe) static var failure: Error?

    static func runs() throws -> (site: String, a: String, b: String) {
        try requireMNIST()
        if let failure { throw failure }
        if site == nil {
            do {
                let dir = try makeTempDir("diff-fixture")
                let recipe = (dir as NSString).appendingPathComponent("tiny.md")
                try write(tinyRecipe(), to: recipe)
                let s = (dir as NSString).appendingPathComponent("site")
                for p in [[], ["epochs=2"]] {
                    var o = options(out: "", parameters: p)
                    o.outputDirectory = nil
                    o.siteRoot = s
                    _ = try Runner.run(recipe: recipe, options: o)
                }
                site = s
            } catch { failure = error; throw error }
        }
        return (site!, (site! as NSString).appendingPathComponent("tiny/default"), (site! as NSString).appendingPathComponent("tiny/epochs-2"))
    }

    /// A copy of run folder `run` in a new scratch folder, for tests that damage it.
    static func copy(_ run: String, into dir: String, name: String) throws -> String {
        let target = (dir as NSString).appendingPathComponent(name)
        try FileManager.default.copyItem(atPath: run, toPath: target)
        return target
    }
}

final class DiffTests: XCTestCase {
    var dir = ""
    override func setUpWithError() throws { dir = try makeTempDir("diff") }
    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    func testRunAgainstItselfHasNoChanges() throws {
        let (_, a, _) = try DiffFixture.runs()
        let run = try RunFolder.load(a)
        let d = try RunDiff.compare(run, run)
        XCTAssertTrue(d.summary.identical, d.summaryLine)
        XCTAssertEqual(d.summaryLine, "no changes (timings aside)")
        XCTAssertTrue(d.settings.allSatisfy { !$0.changed })
        XCTAssertTrue(d.metrics.allSatisfy { $0.status == "same" && $0.delta == 0 })
        XCTAssertTrue(d.tables.allSatisfy { $0.status == "same" && $0.changedCells == 0 })
        XCTAssertTrue(d.figures.allSatisfy { $0.status == "identical" && $0.changedPixels == 0 })
        XCTAssertTrue(d.cells.allSatisfy { $0.status == "same" })
        XCTAssertFalse(d.metrics.isEmpty)
        XCTAssertEqual(d.figures.count, 3)
        // The Markdown lists nothing as changed.
        let md = d.markdown()
        XCTAssertTrue(md.contains("No parameter or environment changes."))
        XCTAssertFalse(md.contains("**better**") || md.contains("**worse**") || md.contains("| changed |"), md)
    }

    func testOneParameterChangesExactlyItsDependants() throws {
        let (_, a, b) = try DiffFixture.runs()
        let out = (dir as NSString).appendingPathComponent("out/diff.html")
        let (d, _) = try RunDiff.write(try RunFolder.load(a), try RunFolder.load(b), nameA: "A", nameB: "B", format: .html, out: out)
        // Only the parameter changed among the settings.
        XCTAssertEqual(d.settings.filter(\.changed).map(\.name), ["epochs"])
        XCTAssertEqual(d.settings.first?.a, "1")
        XCTAssertEqual(d.settings.first?.b, "2")
        // Training longer changes every metric (all come from the trained model), each classified by its direction.
        XCTAssertFalse(d.metrics.isEmpty)
        for m in d.metrics {
            XCTAssertTrue(m.status == "better" || m.status == "worse", "\(m.name): \(m.status)")
            let delta = try XCTUnwrap(m.delta)
            XCTAssertEqual(delta, m.b! - m.a!, accuracy: 0)
            XCTAssertEqual(m.status == "better", (delta > 0) == (m.direction == "higher"), m.name)
            XCTAssertEqual(try XCTUnwrap(m.relativeDelta), delta / abs(m.a!), accuracy: 1e-15)
        }
        // The per-class table changed; the samples figure (before training) did not; curves and weights did.
        XCTAssertEqual(d.tables.map(\.status), ["changed"])
        XCTAssertGreaterThan(d.tables[0].changedCells, 0)
        XCTAssertEqual(d.tables[0].columns.filter(\.changed).count, 0)
        let status = Dictionary(uniqueKeysWithValues: d.figures.map { ($0.label, $0.status) })
        XCTAssertEqual(status, ["fig-samples": "identical", "fig-curves": "changed", "fig-weights": "changed"])
        // Cells: data and samples figure keep their keys; training and everything after it changed.
        XCTAssertEqual(d.cells.filter { $0.status == "same" }.map(\.id), ["data#1", "fig-samples"])
        XCTAssertEqual(d.cells.filter { $0.status == "changed" }.count, 6)
        XCTAssertTrue(d.cells.allSatisfy { $0.secondsA != nil && $0.secondsB != nil })

        // The difference map is non-zero exactly where the two PNGs differ.
        let figures = (dir as NSString).appendingPathComponent("out/diff-figures")
        for f in d.figures where f.status == "changed" {
            XCTAssertEqual(f.diffImage, "diff-figures/\(f.label)-diff.png")
            let ra = try RasterImage(png: Files.read(try RunFolder.load(a).file("figures/\(f.label).png")))
            let rb = try RasterImage(png: Files.read(try RunFolder.load(b).file("figures/\(f.label).png")))
            let map = try RasterImage(png: Files.read((figures as NSString).appendingPathComponent("\(f.label)-diff.png")))
            XCTAssertEqual(map.width, ra.width); XCTAssertEqual(map.height, ra.height)
            var differing = 0
            for y in 0..<ra.height {
                for x in 0..<ra.width {
                    let same = ra.pixel(x, y) == rb.pixel(x, y)
                    let p = map.pixel(x, y)
                    let zero = p.r == 0 && p.g == 0 && p.b == 0 && p.a == 0
                    XCTAssertEqual(same, zero, "\(f.label) (\(x), \(y))")
                    if !same { differing += 1 }
                }
            }
            XCTAssertEqual(f.changedPixels, differing)
            XCTAssertEqual(f.changedPixels, ra.difference(from: rb, tolerance: 0).differingPixels)
            XCTAssertGreaterThan(differing, 0)
            XCTAssertEqual(f.totalPixels, ra.width * ra.height)
            // A and B copies are the run's PNGs, byte for byte.
            XCTAssertEqual(try Files.read((figures as NSString).appendingPathComponent("\(f.label)-a.png")),
                           try Files.read(try RunFolder.load(a).file("figures/\(f.label).png")))
        }
        // The HTML page: every image exists beside it, changed table cells are marked, no network address.
        let html = try readText(out)
        for src in attributeValues(html, tag: "img", attr: "src") {
            XCTAssertTrue(FileManager.default.fileExists(atPath: ((out as NSString).deletingLastPathComponent as NSString).appendingPathComponent(src)), src)
        }
        XCTAssertEqual(attributeValues(html, tag: "img", attr: "src").count, 6)
        XCTAssertTrue(html.contains("class=\"cell-changed\""))
        XCTAssertFalse(html.contains("http://") || html.contains("https://"))
        // Nothing else was written: the page and its figures folder.
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: (dir as NSString).appendingPathComponent("out")).sorted(),
                       ["diff-figures", "diff.html"])
    }

    func testConstructedPairMarksOnlyTheChangedRectangle() throws {
        // 12×9 white image; B has a 3×2 block changed at (4, 5) and one pixel changed by 1 in blue at (0, 0).
        let w = 12, h = 9
        let white = [UInt8](repeating: 255, count: w * h * 4)
        var changed = white
        for y in 5..<7 { for x in 4..<7 { let o = (y * w + x) * 4; changed[o] = 10; changed[o + 1] = 200; changed[o + 2] = 30 } }
        changed[2] = 254
        let (stats, png) = try DifferenceMap.make(RasterImage(width: w, height: h, rgba: white), RasterImage(width: w, height: h, rgba: changed))
        XCTAssertEqual(stats.differingPixels, 7)
        XCTAssertEqual(stats.totalPixels, w * h)
        XCTAssertEqual(stats.maxChannelDelta, 245)
        XCTAssertTrue(stats.sizesMatch)
        let map = try RasterImage(png: png)
        for y in 0..<h {
            for x in 0..<w {
                let inBlock = (4..<7).contains(x) && (5..<7).contains(y)
                let p = map.pixel(x, y)
                if inBlock || (x == 0 && y == 0) {
                    XCTAssertEqual(p.a, 255, "(\(x), \(y))")
                } else {
                    XCTAssertTrue(p.r == 0 && p.g == 0 && p.b == 0 && p.a == 0, "(\(x), \(y)): \(p)")
                }
            }
        }
        // The bigger change is drawn darker than the 1-level one.
        XCTAssertLessThan(Int(map.pixel(5, 5).g), Int(map.pixel(0, 0).g))
        // The same pair gives the same bytes; identical images give an all-zero map.
        XCTAssertEqual(try DifferenceMap.make(RasterImage(width: w, height: h, rgba: white), RasterImage(width: w, height: h, rgba: changed)).1, png)
        let (none, zeroPNG) = try DifferenceMap.make(RasterImage(width: w, height: h, rgba: white), RasterImage(width: w, height: h, rgba: white))
        XCTAssertEqual(none.differingPixels, 0)
        XCTAssertTrue(try RasterImage(png: zeroPNG).rgba.allSatisfy { $0 == 0 })
        // Different sizes: compared over the union; the extra column counts as changed.
        let (grown, _) = try DifferenceMap.make(RasterImage(width: w, height: h, rgba: white),
                                                 RasterImage(width: w + 1, height: h, rgba: [UInt8](repeating: 255, count: (w + 1) * h * 4)))
        XCTAssertEqual(grown.differingPixels, h)
        XCTAssertEqual(grown.totalPixels, (w + 1) * h)
        XCTAssertFalse(grown.sizesMatch)
    }

    func testJSONSchemaRoundTripsAndHasItsKeys() throws {
        let (_, a, b) = try DiffFixture.runs()
        let (d, data) = try RunDiff.write(try RunFolder.load(a), try RunFolder.load(b), nameA: "tiny/default", nameB: "tiny/epochs-2",
                                          format: .json, out: nil)
        XCTAssertEqual(try ReportJSON.decoder().decode(RunDiff.self, from: data), d)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        XCTAssertEqual(Set(object.keys), ["schema", "a", "b", "tolerance", "summary", "settings", "metrics", "tables", "figures", "cells"])
        XCTAssertEqual(object["schema"] as? String, "glassbox-diff/1")
        XCTAssertEqual((object["a"] as? [String: Any])?["name"] as? String, "tiny/default")
        let metric = try XCTUnwrap((object["metrics"] as? [[String: Any]])?.first)
        for k in ["name", "label", "direction", "a", "b", "displayA", "displayB", "delta", "relativeDelta", "status"] {
            XCTAssertNotNil(metric[k], "metrics[0].\(k)")
        }
        let figure = try XCTUnwrap((object["figures"] as? [[String: Any]])?.first { $0["status"] as? String == "changed" })
        for k in ["label", "status", "sha256A", "sha256B", "changedPixels", "totalPixels", "changedShare", "maxChannelDelta", "sizesMatch"] {
            XCTAssertNotNil(figure[k], "figure.\(k)")
        }
        XCTAssertNil(figure["diffImage"], "no images without --out")
        let summary = try XCTUnwrap(object["summary"] as? [String: Any])
        XCTAssertEqual(summary["identical"] as? Bool, false)
        XCTAssertEqual(summary["settingsChanged"] as? Int, 1)
        // Stable bytes: sorted keys, same output twice.
        XCTAssertEqual(try d.json(), data)
        // Every key named in docs/diff-schema.md is a key of the JSON, and the reverse.
        let doc = try readText((repoRoot as NSString).appendingPathComponent("docs/diff-schema.md"))
        for k in object.keys { XCTAssertTrue(doc.contains("`\(k)`"), "docs/diff-schema.md does not document \(k)") }
        for k in metric.keys { XCTAssertTrue(doc.contains("`\(k)`"), "docs/diff-schema.md does not document metrics[].\(k)") }
        for k in figure.keys { XCTAssertTrue(doc.contains("`\(k)`"), "docs/diff-schema.md does not document figures[].\(k)") }
        for k in summary.keys { XCTAssertTrue(doc.contains("`\(k)`"), "docs/diff-schema.md does not document summary.\(k)") }
    }

    func testMarkdownIsTablesForAPullRequest() throws {
        let (_, a, b) = try DiffFixture.runs()
        let d = try RunDiff.compare(try RunFolder.load(a), try RunFolder.load(b), nameA: "tiny/default", nameB: "tiny/epochs-2")
        let md = d.markdown()
        let lines = md.split(separator: "\n", omittingEmptySubsequences: false)
        let tableLines = lines.filter { $0.hasPrefix("|") }
        XCTAssertGreaterThan(tableLines.count, 10)
        // Every non-empty line is a heading, a table row, or a short bold line.
        for l in lines where !l.isEmpty {
            XCTAssertTrue(l.hasPrefix("|") || l.hasPrefix("#") || l.hasPrefix("**") || l.hasPrefix("No "), String(l))
        }
        // Each table has a separator row right after its header, with the same number of columns.
        for (i, l) in lines.enumerated() where l.hasPrefix("|") && (i == 0 || !lines[i - 1].hasPrefix("|")) {
            let sep = lines[i + 1]
            XCTAssertTrue(sep.hasPrefix("|---") || sep.hasPrefix("|--"), "no separator after \(l)")
            XCTAssertEqual(l.filter { $0 == "|" }.count, sep.filter { $0 == "|" }.count, String(l))
        }
        XCTAssertTrue(md.contains("| epochs | parameter | 1 | 2 | **yes** |"), md)
        XCTAssertTrue(md.contains("| fig-samples | identical | 0.00 % (0 of"), md)
        // --all lists the unchanged settings too.
        XCTAssertTrue(d.markdown(all: true).contains("| seed | environment | 3 | 3 | no |"))
        XCTAssertFalse(md.contains("| seed | environment |"))
    }

    func testFailOnDecision() throws {
        func diff(_ pairs: [(String, String, Double?, Double?)]) -> RunDiff {
            var d = RunDiff(schema: RunDiff.schemaName, a: .init(name: "A", recipe: "r.md", runID: "a", title: "t"),
                            b: .init(name: "B", recipe: "r.md", runID: "b", title: "t"), tolerance: 1e-9, summary: .init(),
                            settings: [], metrics: [], tables: [], figures: [], cells: [])
            for (name, dir, a, b) in pairs {
                d.metrics.append(RunDiff.compareMetric(a.map { MetricCard(name: name, label: name, value: $0, direction: MetricDirection(rawValue: dir)!, display: "") },
                                                       b.map { MetricCard(name: name, label: name, value: $0, direction: MetricDirection(rawValue: dir)!, display: "") },
                                                       tolerance: 1e-9))
            }
            return d
        }
        let d = diff([("acc", "higher", 0.90, 0.88), ("loss", "lower", 0.30, 0.35), ("f1", "higher", 0.5, 0.6), ("gone", "higher", 1, nil)])
        XCTAssertEqual(d.metrics.map(\.status), ["worse", "worse", "better", "removed"])
        // Accuracy dropped by 0.02: a gate at 0.01 fails, one at 0.05 passes.
        XCTAssertEqual(try DiffGate.failures(d, gates: [DiffGate(parsing: "acc:0.01")]).count, 1)
        XCTAssertEqual(try DiffGate.failures(d, gates: [DiffGate(parsing: "acc:0.05")]), [])
        // Loss rose by 0.05 (worse for a lower-is-better metric).
        XCTAssertEqual(try DiffGate.failures(d, gates: [DiffGate(parsing: "loss:0.049")]).count, 1)
        XCTAssertEqual(try DiffGate.failures(d, gates: [DiffGate(parsing: "loss:0.051")]), [])
        // Getting better never fails, even with tolerance 0; a metric gone from B fails.
        XCTAssertEqual(try DiffGate.failures(d, gates: [DiffGate(parsing: "f1:0")]), [])
        XCTAssertEqual(try DiffGate.failures(d, gates: [DiffGate(parsing: "gone:1")]), ["gone: missing from B"])
        // Names with dots and colons split at the last colon.
        XCTAssertEqual(try DiffGate(parsing: "mlp.accuracy:0.01"), DiffGate(metric: "mlp.accuracy", tolerance: 0.01))
        XCTAssertEqual(try DiffGate(parsing: "a:b:2"), DiffGate(metric: "a:b", tolerance: 2))
        for bad in ["acc", "acc:", ":0.1", "acc:-1", "acc:x"] {
            XCTAssertThrowsError(try DiffGate(parsing: bad), bad) { e in XCTAssertTrue("\(e)".contains("--fail-on"), "\(e)") }
        }
        XCTAssertThrowsError(try DiffGate.failures(d, gates: [DiffGate(metric: "nope", tolerance: 0)])) { e in
            XCTAssertTrue("\(e)".contains("acc, loss, f1, gone"), "\(e)")
        }
        // Tolerance for "same".
        XCTAssertEqual(RunDiff.compareMetric(MetricCard(name: "m", label: "m", value: 1, direction: "higher", display: ""),
                                             MetricCard(name: "m", label: "m", value: 1 + 1e-12, direction: "higher", display: ""),
                                             tolerance: 1e-9).status, "same")
        XCTAssertEqual(RunDiff.compareMetric(MetricCard(name: "m", label: "m", value: 1, direction: "lower", display: ""),
                                             MetricCard(name: "m", label: "m", value: 1.1, direction: "lower", display: ""),
                                             tolerance: 0.2).status, "same")
    }

    func testFailOnWithRealRuns() throws {
        let (_, a, b) = try DiffFixture.runs()
        let d = try RunDiff.compare(try RunFolder.load(a), try RunFolder.load(b))
        let worse = try XCTUnwrap(d.metrics.first { $0.status == "worse" } ?? d.metrics.first { $0.status == "better" })
        let amount = worse.direction == "higher" ? worse.a! - worse.b! : worse.b! - worse.a!
        let gate = DiffGate(metric: worse.name, tolerance: max(0, amount) / 2)
        XCTAssertEqual(try DiffGate.failures(d, gates: [gate]).isEmpty, worse.status != "worse")
        // Reversed, the run that was worse is better, so the same gate passes.
        let back = try RunDiff.compare(try RunFolder.load(b), try RunFolder.load(a))
        XCTAssertEqual(try DiffGate.failures(back, gates: [gate]).isEmpty, worse.status == "worse")
    }
}

/// The run-folder contract is enforced: paths outside the folder and malformed run.json give clear errors.
final class DiffBoundaryTests: XCTestCase {
    var dir = ""
    override func setUpWithError() throws { dir = try makeTempDir("diff-bounds") }
    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    func edit(_ run: String, _ change: (inout [String: Any]) -> Void) throws {
        let path = (run as NSString).appendingPathComponent("run.json")
        var object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Files.read(path)) as? [String: Any])
        change(&object)
        try Files.writeAtomically(try JSONSerialization.data(withJSONObject: object), to: path)
    }

    func setFigure(_ key: String, _ value: Any) -> (inout [String: Any]) -> Void {
        { o in
            var figs = o["figures"] as! [[String: Any]]
            figs[0][key] = value
            o["figures"] = figs
        }
    }

    func testPathsOutsideTheRunFolderAreRefused() throws {
        let (_, a, _) = try DiffFixture.runs()
        try write("secret", to: (dir as NSString).appendingPathComponent("secret.png"))
        let cases: [(String, Any, String)] = [
            ("file", "../secret.png", "figures[0].file: expected a relative path inside the run folder, found \"../secret.png\""),
            ("json", "figures/../../secret.png", "figures[0].json: expected a relative path inside the run folder"),
            ("file", (dir as NSString).appendingPathComponent("secret.png"), "figures[0].file: expected a relative path inside the run folder"),
            ("file", "", "figures[0].file: expected a relative path inside the run folder"),
            ("label", "../x", "figures[0].label: expected letters, digits"),
            ("file", "figures/missing.png", "figures/missing.png: no such file (named by figures[0].file in"),
        ]
        for (i, (key, value, message)) in cases.enumerated() {
            let run = try DiffFixture.copy(a, into: dir, name: "run\(i)")
            try edit(run, setFigure(key, value))
            XCTAssertThrowsError(try RunFolder.load(run), "\(key)=\(value)") { e in
                XCTAssertTrue(e is GlassboxError)
                XCTAssertTrue("\(e)".contains(message), "\(e)")
                if !message.hasPrefix("figures/missing") { XCTAssertTrue("\(e)".hasPrefix((run as NSString).appendingPathComponent("run.json")), "\(e)") }
            }
        }
        // A symlink inside figures/ that leads out of the folder.
        let run = try DiffFixture.copy(a, into: dir, name: "symlinked")
        try FileManager.default.createSymbolicLink(atPath: (run as NSString).appendingPathComponent("figures/evil.png"),
                                                   withDestinationPath: (dir as NSString).appendingPathComponent("secret.png"))
        try edit(run, setFigure("file", "figures/evil.png"))
        XCTAssertThrowsError(try RunFolder.load(run)) { e in XCTAssertTrue("\(e)".contains("expected a file inside the run folder"), "\(e)") }
    }

    func testMalformedRunJSONNamesFileAndField() throws {
        let (_, a, _) = try DiffFixture.runs()
        let cases: [((inout [String: Any]) -> Void, String)] = [
            ({ $0["metrics"] = [["name": "x", "label": "x", "value": "high", "direction": "higher", "display": "1"]] },
             "metrics[0].value: expected a number"),
            ({ $0.removeValue(forKey: "runID") }, "runID: expected a value, found nothing (missing key)"),
            ({ $0["metrics"] = [["name": "x", "label": "x", "value": 1, "direction": "up", "display": "1"]] },
             "metrics[0].direction: expected \"higher\" or \"lower\", found \"up\""),
            ({ $0["tables"] = [["label": "t", "number": 1, "columns": ["a"], "rows": [[1]]]] }, "tables[0].rows[0][0]: expected a string"),
        ]
        for (i, (change, message)) in cases.enumerated() {
            let run = try DiffFixture.copy(a, into: dir, name: "bad\(i)")
            try edit(run, change)
            XCTAssertThrowsError(try RunFolder.load(run)) { e in
                XCTAssertTrue("\(e)".hasPrefix((run as NSString).appendingPathComponent("run.json") + ": " + message), "\(e)")
            }
        }
        let run = try DiffFixture.copy(a, into: dir, name: "truncated")
        try write("{\"recipe\": ", to: (run as NSString).appendingPathComponent("run.json"))
        XCTAssertThrowsError(try RunFolder.load(run)) { e in XCTAssertTrue("\(e)".contains("run.json: JSON: expected valid JSON"), "\(e)") }
        XCTAssertThrowsError(try RunFolder.load((dir as NSString).appendingPathComponent("nowhere"))) { e in
            XCTAssertTrue("\(e)".contains("nowhere: no such file (expected a run folder"), "\(e)")
        }
        XCTAssertThrowsError(try RunFolder.load(dir)) { e in XCTAssertTrue("\(e)".contains("run.json: no such file (not a run folder"), "\(e)") }
    }

    func testHTMLNeedsAnOutputAndMayNotWriteIntoARun() throws {
        let (_, a, b) = try DiffFixture.runs()
        let ra = try RunFolder.load(a), rb = try RunFolder.load(b)
        XCTAssertThrowsError(try RunDiff.write(ra, rb, format: .html, out: nil)) { e in XCTAssertTrue("\(e)".hasPrefix("--out:"), "\(e)") }
        XCTAssertThrowsError(try RunDiff.write(ra, rb, format: .md, out: (a as NSString).appendingPathComponent("d.md"))) { e in
            XCTAssertTrue("\(e)".contains("outside the run folders"), "\(e)")
        }
        XCTAssertEqual(try DiffFormatKind.resolve(nil, out: "x.html"), .html)
        XCTAssertEqual(try DiffFormatKind.resolve(nil, out: nil), .md)
        XCTAssertEqual(try DiffFormatKind.resolve("JSON", out: "x.html"), .json)
        XCTAssertThrowsError(try DiffFormatKind.resolve("pdf", out: nil))
    }
}
