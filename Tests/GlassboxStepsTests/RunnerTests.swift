import Foundation
import XCTest
import GlassboxTestSupport
@testable import GlassboxCore
@testable import GlassboxData
@testable import GlassboxFigures
@testable import GlassboxReport

/// Cache rules, resume after failure, determinism, export. Re-runs are counted with the runner's statistics.
final class CacheTests: XCTestCase {
    var dir = ""
    override func setUpWithError() throws {
        try requireMNIST()
        dir = try makeTempDir("cache")
    }
    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    var recipePath: String { (dir as NSString).appendingPathComponent("tiny.md") }
    var out: String { (dir as NSString).appendingPathComponent("run") }

    func run(_ text: String, parameters: [String] = [], refresh: Bool = false) throws -> RunSummary {
        try write(text, to: recipePath)
        return try Runner.run(recipe: recipePath, options: options(out: out, parameters: parameters, refresh: refresh))
    }

    func testProseEditRerunsNothingAndOutputIsStable() throws {
        let first = try run(tinyRecipe())
        XCTAssertEqual(first.statistics.executed, Array(1...8))
        XCTAssertEqual(first.statistics.restored, [])
        let html1 = try readText(first.indexPath)
        let again = try run(tinyRecipe())
        XCTAssertEqual(again.statistics.executed, [])
        XCTAssertEqual(again.statistics.restored, Array(1...8))
        XCTAssertEqual(try readText(again.indexPath), html1, "a warm run writes the same page")
        let edited = try run(tinyRecipe(prose: "Different prose, still about @fig-curves."))
        XCTAssertEqual(edited.statistics.executed, [])
        XCTAssertEqual(edited.keys, first.keys)
        XCTAssertTrue(try readText(edited.indexPath).contains("Different prose"))
    }

    func testCellEditRerunsItAndItsDependants() throws {
        _ = try run(tinyRecipe())
        // Cell 3 (train) changes: it, evaluate (4), curves (5), table (6), metrics (7), weights (8) re-run;
        // data (1) and the sample figure (2) do not.
        let s = try run(tinyRecipe(hidden: 12))
        XCTAssertEqual(s.statistics.executed, [3, 4, 5, 6, 7, 8])
        XCTAssertEqual(s.statistics.restored, [1, 2])
        // A caption edit re-runs only that figure cell.
        let c = try run(tinyRecipe(hidden: 12, caption: "New caption"))
        XCTAssertEqual(c.statistics.executed, [5])
    }

    func testParameterAndSeedChanges() throws {
        _ = try run(tinyRecipe())
        // `count` is used only by the sample figure (cell 2).
        let p = try run(tinyRecipe(), parameters: ["count=4"])
        XCTAssertEqual(p.statistics.executed, [2])
        // `epochs` feeds training, so training and everything after it re-runs.
        let e = try run(tinyRecipe(), parameters: ["count=4", "epochs=2"])
        XCTAssertEqual(e.statistics.executed, [3, 4, 5, 6, 7, 8])
        // The seed is part of every key.
        let s = try run(tinyRecipe(), parameters: ["count=4", "epochs=2", "seed=9"])
        XCTAssertEqual(s.statistics.executed, Array(1...8))
        XCTAssertEqual(s.manifest.seed, 9)
        // --refresh ignores the cache.
        let r = try run(tinyRecipe(), parameters: ["count=4", "epochs=2", "seed=9"], refresh: true)
        XCTAssertEqual(r.statistics.executed, Array(1...8))
    }

    func testDataFileChangeRerunsItsReaders() throws {
        // Two copies of the MNIST test set in two folders; each feeds its own data cell and sample figure.
        let a = (dir as NSString).appendingPathComponent("a"), b = (dir as NSString).appendingPathComponent("b")
        for d in [a, b] {
            try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
            for f in ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"] {
                try FileManager.default.copyItem(atPath: (sharedMNIST as NSString).appendingPathComponent(f), toPath: (d as NSString).appendingPathComponent(f))
            }
        }
        let text = """
        ---
        title: two data sets
        ---
        ```glassbox
        step: data
        dataset: mnist
        name: a
        dir: \(a)
        resplit: 100:50
        ```

        ```glassbox
        step: data
        dataset: mnist
        name: b
        dir: \(b)
        resplit: 100:50
        ```

        ```glassbox
        #| label: fig-a
        step: figure
        kind: samples
        data: a
        count: 4
        ```

        ```glassbox
        #| label: fig-b
        step: figure
        kind: samples
        data: b
        count: 4
        ```
        """
        XCTAssertEqual(try run(text).statistics.executed, [1, 2, 3, 4])
        // Rewrite b's labels (same gzip content, different bytes: uncompressed file replaces the .gz one).
        let labelsGz = (b as NSString).appendingPathComponent("t10k-labels-idx1-ubyte.gz")
        var raw = try Files.readMaybeGzip(labelsGz)
        raw[raw.startIndex + 8] = (raw[raw.startIndex + 8] + 1) % 10
        try FileManager.default.removeItem(atPath: labelsGz)
        try Files.writeAtomically(raw, to: (b as NSString).appendingPathComponent("t10k-labels-idx1-ubyte"))
        let s = try run(text)
        XCTAssertEqual(s.statistics.executed, [2, 4])
        XCTAssertEqual(s.statistics.restored, [1, 3])
    }

    func testFailingCellStopsAndNextRunResumes() throws {
        let failing = tinyRecipe(extraCells: """

        ```glassbox
        #| label: fig-filters
        step: figure
        kind: filters
        model: mlp
        ```
        """)
        XCTAssertThrowsError(try run(failing)) { e in
            let s = "\(e)"
            XCTAssertTrue(s.contains("cell 9 (figure) failed"), s)
            XCTAssertTrue(s.contains("tiny.md:"), s)
            XCTAssertTrue(s.contains("a convolution layer"), s)
        }
        // Cells 1–8 were cached as each finished.
        let cells = try FileManager.default.contentsOfDirectory(atPath: (out as NSString).appendingPathComponent("cells"))
        XCTAssertEqual(cells.filter { !$0.hasPrefix(".") }.count, 8)
        let fixed = tinyRecipe(extraCells: """

        ```glassbox
        #| label: fig-more-weights
        step: figure
        kind: weights
        model: mlp
        count: 4
        ```
        """)
        let s = try run(fixed)
        XCTAssertEqual(s.statistics.restored, Array(1...8))
        XCTAssertEqual(s.statistics.executed, [9])
    }

    func testRestoredModelGivesTheSameFigureAsTheTrainedOne() throws {
        let withWeights = tinyRecipe(extraCells: """

        ```glassbox
        #| label: fig-w2
        step: figure
        kind: weights
        model: mlp
        count: 6
        ```
        """)
        // Cold run with the extra figure (model live in memory) ...
        let cold = try Runner.run(recipe: { try write(withWeights, to: recipePath); return recipePath }(),
                                  options: options(out: (dir as NSString).appendingPathComponent("cold")))
        // ... versus: run without it, then add it, so the figure is drawn from the checkpoint restored from the cache.
        _ = try run(tinyRecipe())
        let warm = try run(withWeights)
        XCTAssertEqual(warm.statistics.executed, [9])
        let fig = { (m: RunManifest) in m.figures.first { $0.label == "fig-w2" }?.sha256 }
        XCTAssertNotNil(fig(cold.manifest))
        XCTAssertEqual(fig(cold.manifest), fig(warm.manifest))
        // Two cold runs in different folders give identical pages and figures (training is deterministic).
        XCTAssertEqual(cold.manifest.figures.map(\.sha256), warm.manifest.figures.map(\.sha256))
        XCTAssertEqual(try readText(cold.indexPath), try readText(warm.indexPath))
    }

    func testUnknownStepAndMissingNameAreCellErrors() throws {
        let bad = "---\ntitle: t\n---\n```glassbox\nstep: dance\n```\n"
        XCTAssertThrowsError(try run(bad)) { e in
            // Every registered step is listed (sorted); the modularity steps sit among the built-in ones.
            XCTAssertTrue("\(e)".hasPrefix("\(self.recipePath):5: cell 1 'step': expected one of "), "\(e)")
            XCTAssertTrue("\(e)".contains("expected one of " + Steps.builtIn.map(\.name).sorted().joined(separator: ", ") + ", found 'dance'"), "\(e)")
        }
        let missing = "---\ntitle: t\n---\n```glassbox\nstep: evaluate\nmodel: ghost\n```\n"
        XCTAssertThrowsError(try run(missing)) { e in
            XCTAssertEqual("\(e)", "\(self.recipePath):4: cell 1 (evaluate): expected an earlier cell that makes model 'ghost', found none")
        }
    }
}

/// The HTML: images exist, references resolve, ids are unique, user text is escaped, nothing is fetched from a network.
final class HTMLTests: XCTestCase {
    var dir = ""
    override func setUpWithError() throws {
        try requireMNIST()
        dir = try makeTempDir("html")
    }
    override func tearDown() {
        try? FileManager.default.removeItem(atPath: dir)
        DatasetRegistry.unregister("evil-digits")
    }

    /// MNIST under class names that are markup.
    func registerEvilDigits() throws {
        var info = try DatasetRegistry.info("mnist")
        info.name = "evil-digits"
        info.classNames = (0...9).map { "<script>c\($0)</script>&\"'" }
        DatasetRegistry.register(info)
    }

    func makeRun(selfContained: Bool = false) throws -> RunSummary {
        try registerEvilDigits()
        var text = tinyRecipe(prose: "Prose with <script>alert('x')</script> and @fig-curves, @tbl-classes.",
                              caption: "<script>alert(2)</script> caption & more")
        text = text.replacingOccurrences(of: "dataset: mnist", with: "dataset: evil-digits")
        text = text.replacingOccurrences(of: "title: Tiny report", with: "title: \"Tiny <b>report</b>\"")
        let path = (dir as NSString).appendingPathComponent("tiny.md")
        try write(text, to: path)
        var o = options(out: "", selfContained: selfContained)
        o.outputDirectory = nil
        o.siteRoot = (dir as NSString).appendingPathComponent("site")
        return try Runner.run(recipe: path, options: o)
    }

    func testPageIsWellFormedAndEscaped() throws {
        let s = try makeRun()
        let html = try readText(s.indexPath)
        // Every image is a file of the run.
        let srcs = attributeValues(html, tag: "img", attr: "src")
        XCTAssertEqual(srcs.count, 3)
        for src in srcs {
            XCTAssertFalse(src.contains(":"), src)
            XCTAssertTrue(FileManager.default.fileExists(atPath: (s.runDirectory as NSString).appendingPathComponent(src)), src)
        }
        // Ids are unique and every in-page link has a target.
        let all = ids(html)
        XCTAssertEqual(all.count, Set(all).count, "duplicate ids: \(all)")
        let hrefs = attributeValues(html, tag: "a", attr: "href")
        XCTAssertFalse(hrefs.isEmpty)
        for h in hrefs where h.hasPrefix("#") { XCTAssertTrue(all.contains(String(h.dropFirst())), "dangling link \(h)") }
        // Cross-references became numbered links.
        XCTAssertTrue(html.contains("<a class=\"xref\" href=\"#fig-curves\">Figure&nbsp;2</a>"), html)
        XCTAssertTrue(html.contains("<a class=\"xref\" href=\"#tbl-classes\">Table&nbsp;1</a>"), html)
        XCTAssertFalse(html.contains("@fig-"), "unresolved reference")
        // User text is escaped: prose, caption, title, class names (in the table).
        XCTAssertFalse(html.lowercased().contains("<script"), "raw script tag in the page")
        XCTAssertTrue(html.contains("&lt;script&gt;alert(2)&lt;/script&gt; caption &amp; more"))
        XCTAssertTrue(html.contains("&lt;script&gt;c3&lt;/script&gt;&amp;&quot;&#39;"))
        XCTAssertTrue(html.contains("Tiny &lt;b&gt;report&lt;/b&gt;"))
        // The table of contents lists the headings.
        XCTAssertTrue(html.contains("<a href=\"#data\">Data</a>"))
        XCTAssertTrue(html.contains("<h2 id=\"data\">Data</h2>"))
        // No file of the run (nor the site index) names a network address.
        let site = (dir as NSString).appendingPathComponent("site")
        XCTAssertEqual(s.runDirectory, (site as NSString).appendingPathComponent("tiny/default"))
        for f in allFiles(site) {
            let data = try Files.read((site as NSString).appendingPathComponent(f))
            for needle in ["http://", "https://"] {
                XCTAssertNil(data.range(of: Data(needle.utf8)), "\(f) contains \(needle)")
            }
        }
        // Metrics in run.json carry their direction; figures their SHA-256.
        XCTAssertEqual(s.manifest.metrics.map(\.direction), ["higher", "lower"])
        for f in s.manifest.figures {
            XCTAssertEqual(try SHA256.hex(fileAt: (s.runDirectory as NSString).appendingPathComponent(f.file)), f.sha256)
        }
        // The site index links to the run.
        let index = try readText((site as NSString).appendingPathComponent("index.html"))
        XCTAssertTrue(index.contains("<a href=\"tiny/default/index.html\">Tiny &lt;b&gt;report&lt;/b&gt;</a>"), index)
    }

    func testSelfContainedPageEmbedsFigures() throws {
        let s = try makeRun(selfContained: true)
        let html = try readText(s.indexPath)
        let srcs = attributeValues(html, tag: "img", attr: "src")
        XCTAssertEqual(srcs.count, 3)
        for src in srcs {
            XCTAssertTrue(src.hasPrefix("data:image/png;base64,"))
            let png = Data(base64Encoded: String(src.dropFirst("data:image/png;base64,".count)))
            XCTAssertEqual(png?.prefix(4), Data([0x89, 0x50, 0x4E, 0x47]))
        }
        XCTAssertFalse(html.contains("figures/"))
    }

    func testExportReRendersFromJSON() throws {
        let s = try makeRun()
        let out = (dir as NSString).appendingPathComponent("export")
        let pngs = try FigureExport.export(run: s.runDirectory, format: .png, dpi: 300, widthMM: 89, out: out)
        XCTAssertEqual(pngs.count, 3)
        for p in pngs {
            let d = try Files.read(p)
            // IHDR width: 89 mm at 300 dpi = 1051 px.
            let w = d[d.startIndex + 16..<d.startIndex + 20].reduce(0) { $0 << 8 | Int($1) }
            XCTAssertEqual(w, 1051)
        }
        let svgs = try FigureExport.export(run: s.runDirectory, format: .svg, out: out)
        XCTAssertTrue(try readText(svgs[0]).contains("<svg"))
        let pdfs = try FigureExport.export(run: (s.runDirectory as NSString).appendingPathComponent("run.json"), format: .pdf, out: out)
        XCTAssertEqual(try Files.read(pdfs[0]).prefix(5), Data("%PDF-".utf8))
        XCTAssertThrowsError(try FigureExport.export(run: dir, format: .png, out: out)) { e in
            XCTAssertTrue("\(e)".contains("run.json: no such file"), "\(e)")
        }
    }

    /// Loads the page in headless Chromium with verbose logging, which lists every file the page asked for
    /// ("FileURLLoader::Start: file://…"); all of them must exist, and the figures must be among them.
    func testChromiumLoadsThePageWithoutMissingResources() throws {
        let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let chromium else { throw XCTSkip("chromium is not installed") }
        let s = try makeRun()
        // A page with a missing image proves the check sees a failed load.
        let broken = (s.runDirectory as NSString).appendingPathComponent("broken.html")
        try write("<!DOCTYPE html><html><body><img src=\"figures/missing.png\"></body></html>", to: broken)
        let bad = try chromiumRequestedFiles(chromium, page: broken, scratch: dir)
        if !bad.files.contains(where: { $0.hasSuffix("figures/missing.png") }) {
            throw XCTSkip("this chromium does not log file loads at --v=1")
        }
        try FileManager.default.removeItem(atPath: broken)
        let good = try chromiumRequestedFiles(chromium, page: s.indexPath, scratch: dir)
        XCTAssertTrue(good.dom.contains("Figure"), "the page did not render: \(good.dom.prefix(500))")
        for f in good.files { XCTAssertTrue(FileManager.default.fileExists(atPath: f), "chromium asked for a missing file: \(f)") }
        for f in s.manifest.figures {
            XCTAssertTrue(good.files.contains { $0.hasSuffix(f.file) }, "\(f.file) was not loaded; asked for \(good.files)")
        }
    }
}

/// The complete example in reports/README.md parses and runs.
final class ReadmeExampleTests: XCTestCase {
    func testReadmeExampleRuns() throws {
        try requireMNIST()
        let readme = try readText((repoRoot as NSString).appendingPathComponent("reports/README.md"))
        guard let start = readme.range(of: "````markdown\n"), let end = readme.range(of: "\n````", range: start.upperBound..<readme.endIndex) else {
            return XCTFail("no example in reports/README.md")
        }
        let dir = try makeTempDir("readme")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = (dir as NSString).appendingPathComponent("digits.md")
        try write(String(readme[start.upperBound..<end.lowerBound]), to: path)
        let s = try Runner.run(recipe: path, options: options(out: (dir as NSString).appendingPathComponent("run"), parameters: ["epochs=1"]))
        XCTAssertEqual(s.statistics.executed.count, 7)
        XCTAssertEqual(s.manifest.figures.map(\.label), ["fig-samples", "fig-curves"])
        XCTAssertEqual(s.manifest.tables.map(\.label), ["tbl-classes"])
        XCTAssertGreaterThan(s.manifest.metrics.first { $0.name == "mlp.accuracy" }?.value ?? 0, 0.8)
        let html = try readText(s.indexPath)
        XCTAssertTrue(html.contains("A network with 32 hidden units, trained for 1 epochs"))
    }
}
