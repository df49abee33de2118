import Foundation
import XCTest
import GlassboxTestSupport
@testable import GlassboxCore
@testable import GlassboxReport

/// Prose cannot run script or point images out of the report; cmark-gfm stays fast on hostile input (issue 12).
final class ProseSafetyTests: XCTestCase {
    /// `href` values that a browser reads as a script URL, each in a raw `<a>` tag.
    static let scriptLinks = [
        "javascript&#58;alert(1)", "javascript&colon;alert(1)", "javascript&#x3A;alert(1)", "javascript&#X3a;alert(1)",
        "&#106;avascript:alert(1)", "&#x6A;avascript:alert(1)", "javascript&#0000058alert(1)", "javascript&#58alert(1)",
        "java&#9;script:alert(1)", "java&Tab;script:alert(1)", "java&NewLine;script:alert(1)", "java\tscript:alert(1)",
        " JaVaScRiPt:alert(1)", "\u{1}javascript:alert(1)", "javascript%3Aalert(1)", "%6Aavascript:alert(1)",
        "vbscript:msgbox(1)", "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    ]

    /// No `href` or `src` in the output whose value (as the browser reads it) names a scheme that runs code.
    func assertNoScriptURL(_ html: String, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        let pattern = #"(href|src)="[^"]*""#
        var rest = html[...]
        while let r = rest.range(of: pattern, options: .regularExpression) {
            let value = ProseHTML.urlForChecking(ProseHTML.decodeReferences(String(rest[r].drop(while: { $0 != "\"" }).dropFirst().dropLast())))
            XCTAssertTrue(ProseHTML.scheme(of: value).map { ["http", "https", "mailto"].contains($0) } ?? true,
                          "\(what): \(rest[r])", file: file, line: line)
            rest = rest[r.upperBound...]
        }
    }

    func testScriptLinksLoseTheirHref() {
        for link in Self.scriptLinks {
            for quote in ["\"", "'"] {
                let html = ProseHTML.render("x <a href=\(quote)\(link)\(quote)>y</a> z")
                assertNoScriptURL(html, link)
                XCTAssertFalse(html.contains("<a href"), "\(link): \(html)")
            }
            assertNoScriptURL(ProseHTML.render("[y](\(link.replacingOccurrences(of: " ", with: "")))"), link)
            assertNoScriptURL(ProseHTML.render("<\(link.replacingOccurrences(of: " ", with: ""))>"), link)
        }
    }

    func testImagesMustBeFilesOfTheReport() {
        for src in ["../../../../etc/hostname", "/etc/passwd", "%2e%2e/x.png", ".%2E/x.png", "..\\x.png", "figures/../../x.png",
                    "//evil/x.png", "http://evil/x.png", "file:///etc/passwd", "data:image/png;base64,AAAA", "&#47;etc/passwd",
                    "..&#47;x.png", " ../x.png"] {
            let html = ProseHTML.render("<img src=\"\(src)\">")
            XCTAssertFalse(html.contains("<img"), "\(src): \(html)")
            let md = ProseHTML.render("![a](\(src.replacingOccurrences(of: " ", with: "")))")
            XCTAssertFalse(md.contains("<img"), "\(src): \(md)")
        }
        XCTAssertTrue(ProseHTML.render("![a](figures/fig-a.png)").contains("<img src=\"figures/fig-a.png\" alt=\"a\"/>"))
        XCTAssertTrue(ProseHTML.render("<img src=\"figures/a%20b.png\" alt=\"x\">").contains("<img src=\"figures/a%20b.png\" alt=\"x\"/>"))
    }

    /// Attribute values are written fully escaped: what the sanitizer checked is what the browser reads.
    func testAttributeValuesAreEscapedIncludingAmpersands() {
        XCTAssertEqual(ProseHTML.sanitize("<a href=\"a?x=1&y=2\" title=\"&quot;q&quot; &amp; @\">t</a>"),
                       "<a href=\"a?x=1&amp;y=2\" title=\"&quot;q&quot; &amp; &#64;\">t</a>")
        XCTAssertEqual(ProseHTML.sanitize("<a href=\"x\" onclick=\"y\" style=\"z\">t</a>"), "<a href=\"x\">t</a>")
        // A reference that decodes to another reference is read once by the browser too: literal text, no scheme.
        XCTAssertEqual(ProseHTML.sanitize("<a href=\"javascript&#x26;#58;alert(1)\">t</a>"), "<a href=\"javascript&amp;#58;alert(1)\">t</a>")
        // Sanitising twice changes nothing.
        let once = ProseHTML.render("[a](https://e.org/?a=1&b=2 \"t & u\") <b>b</b> <x>")
        XCTAssertEqual(ProseHTML.sanitize(once), once)
    }

    func testDecodingOfCharacterReferences() {
        XCTAssertEqual(ProseHTML.decodeReferences("a&#58;b&#x3a;c&colon;d&COLON;e&amp;f&ampg&#0;h&#xD800;i&unknown;j&#99999999;"),
                       "a:b:c:d:e&f&ampg\u{FFFD}h\u{FFFD}i&unknown;j\u{FFFD}")
        XCTAssertEqual(ProseHTML.urlForChecking(" \u{1}Java\tSc\nript%3A:x "), "javascript::x")
        XCTAssertEqual(ProseHTML.scheme(of: "javascript:x"), "javascript")
        XCTAssertNil(ProseHTML.scheme(of: "figures/a:b.png"))
        XCTAssertNil(ProseHTML.scheme(of: "1http:x"))
    }

    func testGFMTablesStrikethroughAndAutolinks() {
        let html = ProseHTML.render("| a | b |\n|:-:|--:|\n| 1 | 2 |\n\n~~gone~~ and https://example.org\n")
        XCTAssertTrue(html.contains("<table>"), html)
        XCTAssertTrue(html.contains("<th style=\"text-align:center\">a</th>"), html)
        XCTAssertTrue(html.contains("<td style=\"text-align:right\">2</td>"), html)
        XCTAssertTrue(html.contains("<del>gone</del>"), html)
        XCTAssertTrue(html.contains("<a href=\"https://example.org\">https://example.org</a>"), html)
    }

    /// Ink overflowed the stack on 50,000 nested '[' and was quadratic on repeated '<a ' (300 KB took over 120 s).
    func testHostileNestingAndRepetitionRenderFast() {
        let inputs = [
            String(repeating: "[", count: 50_000),
            String(repeating: "<a ", count: 100_000),
            String(repeating: "<a href=\"", count: 30_000),
            String(repeating: "> ", count: 20_000) + "x",
            String(repeating: "*a **b ", count: 30_000),
            String(repeating: "<!--", count: 50_000),
            String(repeating: "- ", count: 10_000) + "x",
            String(repeating: "| a ", count: 5_000) + "|\n" + String(repeating: "|---", count: 5_000) + "|\n" + String(repeating: "| b\n", count: 200),
        ]
        for text in inputs {
            let start = Date()
            let html = ProseHTML.render(text)
            let seconds = Date().timeIntervalSince(start)
            XCTAssertLessThan(seconds, 3, "\(text.prefix(12))… (\(text.utf8.count) bytes) took \(seconds) s")
            XCTAssertFalse(html.contains("<a "), "\(text.prefix(12))")
        }
    }
}

/// `${name}` values are text inside one YAML scalar, never structure; line numbers stay the recipe's (issue 12).
final class ParameterSubstitutionTests: XCTestCase {
    func cell(_ body: String, bodyLine: Int = 10) -> RecipeCell {
        RecipeCell(index: 2, line: bodyLine - 1, bodyLine: bodyLine, options: CellOptions(), body: body, source: body)
    }

    func testValuesCannotInjectKeys() throws {
        let args = try CellArgs(cell: cell("step: train\nepochs: ${e}\n"), path: "r.md", parameters: ["e": "10\ndir: /tmp"])
        XCTAssertEqual(args.keys, ["step", "epochs"])
        XCTAssertEqual(try args.string("epochs"), "10\ndir: /tmp")
        XCTAssertThrowsError(try args.int("epochs")) { e in
            XCTAssertEqual("\(e)", "r.md:11: cell 2 'epochs': expected a whole number, found '10\\ndir: /tmp'")
        }
        for value in ["[a, b]", "{x: 1}", "&a x", "*a", "!!binary x", "'q", "\"q", "# c", "- a", "a: b", "|\n  x", ">-"] {
            let a = try CellArgs(cell: cell("step: s\nv: ${p}\nw: [${p}, z]\nq: \"${p}\"\n"), path: "r.md", parameters: ["p": value])
            XCTAssertEqual(a.keys, ["step", "v", "w", "q"], value)
            XCTAssertEqual(try a.string("v"), value)
            XCTAssertEqual(try a.strings("w"), [value, "z"])
            XCTAssertEqual(try a.string("q"), value)
        }
    }

    func testInterpolationInsideScalarsStillWorks() throws {
        let a = try CellArgs(cell: cell("step: train\nmodel: mlp 784-${h}-10 relu\nname: run-${h}\nlist: [${h}, ${k}]\n"),
                             path: "r.md", parameters: ["h": "32", "k": "x"])
        XCTAssertEqual(try a.string("model"), "mlp 784-32-10 relu")
        XCTAssertEqual(try a.strings("list"), ["32", "x"])
        XCTAssertEqual(a.resolvedBody, "step: train\nmodel: mlp 784-\"32\"-10 relu\nname: run-\"32\"\nlist: [\"32\", \"x\"]\n")
    }

    func testErrorsKeepTheirLines() throws {
        XCTAssertThrowsError(try CellArgs(cell: cell("step: s\na: ${p}\nb: [unclosed\n"), path: "r.md", parameters: ["p": "1"])) { e in
            XCTAssertTrue("\(e)".hasPrefix("r.md:12:") || "\(e)".hasPrefix("r.md:13:"), "\(e)")
        }
        XCTAssertThrowsError(try CellArgs(cell: cell("step: s\n\nb: ${nope}\n"), path: "r.md", parameters: ["p": "1"])) { e in
            XCTAssertTrue("\(e)".hasPrefix("r.md:12: parameter 'nope'"), "\(e)")
        }
        let a = try CellArgs(cell: cell("step: s\na: ${p}\n\nb: x\n"), path: "r.md", parameters: ["p": "1\n2\n3"])
        XCTAssertEqual(a.line(of: "b"), 13)
    }

    /// Two different sets of values never give the same key text.
    func testResolvedBodyIsUnambiguous() throws {
        let body = "step: s\n${a}: ${b}\n"
        let one = try CellArgs(cell: cell(body), path: "r.md", parameters: ["a": "k: v", "b": "w"])
        let two = try CellArgs(cell: cell(body), path: "r.md", parameters: ["a": "k", "b": "v: w"])
        XCTAssertNotEqual(one.resolvedBody, two.resolvedBody)
        XCTAssertEqual(one.keys, ["step", "k: v"])
        XCTAssertEqual(two.keys, ["step", "k"])
    }

    /// A body of nested aliases expands to 10⁹ values: refused instead of walked.
    func testAliasBombIsRefused() {
        var body = "step: s\na0: &a0 [${p}, ${p}, ${p}, ${p}, ${p}, ${p}, ${p}, ${p}, ${p}, ${p}]\n"
        for i in 1..<9 { body += "a\(i): &a\(i) [" + Array(repeating: "*a\(i - 1)", count: 10).joined(separator: ", ") + "]\n" }
        let start = Date()
        XCTAssertThrowsError(try CellArgs(cell: cell(body), path: "r.md", parameters: ["p": "1"])) { e in
            XCTAssertTrue("\(e)".contains("YAML values"), "\(e)")
        }
        XCTAssertLessThan(Date().timeIntervalSince(start), 5)
    }
}

/// One path check for every reader of run folders (issue 12): export-figures and publish stay inside.
final class RunFolderPathTests: XCTestCase {
    var dir = ""
    override func setUpWithError() throws { dir = try makeTempDir("paths") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    /// A hand-made run folder: run.json with one figure entry, index.html, the figure's files.
    func makeRun(_ name: String = "run", label: String = "fig-a", json: String = "figures/fig-a.json") throws -> String {
        let run = (dir as NSString).appendingPathComponent(name)
        try FileManager.default.createDirectory(atPath: run + "/figures", withIntermediateDirectories: true)
        let manifest = RunManifest(recipe: "r.md", recipeSHA256: "", title: "T", runID: name, parameters: [], seed: 0, defaultSeed: 0,
                                   toolVersion: "x", blas: "x", cells: [], metrics: [], tables: [],
                                   figures: [.init(label: label, number: 1, caption: nil, file: "figures/fig-a.png", json: json,
                                                   sha256: "", width: 10, height: 10)])
        try ReportJSON.encoder().encode(manifest).write(to: URL(fileURLWithPath: run + "/run.json"))
        try write("<html></html>", to: run + "/index.html")
        try write("png", to: run + "/figures/fig-a.png")
        try write("{}", to: run + "/figures/fig-a.json")
        return run
    }

    func testExportRefusesLabelsAndFilesOutsideAndAnOutputInsideTheRun() throws {
        let out = (dir as NSString).appendingPathComponent("paper")
        XCTAssertThrowsError(try FigureExport.export(run: makeRun("a", label: "../../../x"), format: .png, out: out)) { e in
            XCTAssertTrue("\(e)".contains("figures[0].label"), "\(e)")
        }
        XCTAssertThrowsError(try FigureExport.export(run: makeRun("b", json: "/etc/passwd"), format: .png, out: out)) { e in
            XCTAssertTrue("\(e)".contains("figures[0].json: expected a relative path inside the run folder"), "\(e)")
        }
        let c = try makeRun("c")
        for inside in [c, c + "/figures", c + "/figures/new", c + "/./figures/../cells"] {
            XCTAssertThrowsError(try FigureExport.export(run: c, format: .png, out: inside)) { e in
                XCTAssertTrue("\(e)".hasPrefix("--out: expected a folder outside the run folder"), "\(e)")
            }
        }
        XCTAssertEqual(try String(contentsOfFile: c + "/figures/fig-a.png", encoding: .utf8), "png")
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
    }

    func testResolveFollowsSymlinksOnlyInside() throws {
        let run = try makeRun()
        let folder = try RunFolder.load(run)
        XCTAssertEqual(try folder.resolve("figures/fig-a.png"), Files.realPath(run + "/figures/fig-a.png"))
        try FileManager.default.createSymbolicLink(atPath: run + "/figures/inside.png", withDestinationPath: "fig-a.png")
        XCTAssertNoThrow(try folder.resolve("figures/inside.png"))
        try FileManager.default.createSymbolicLink(atPath: run + "/figures/out.png", withDestinationPath: "/etc/passwd")
        for bad in ["figures/out.png", "../run/index.html", "/etc/passwd", "figures//fig-a.png", "", "figures\\fig-a.png"] {
            XCTAssertThrowsError(try folder.resolve(bad), bad)
        }
    }

    func testPublishRefusesEveryFileThatLeadsOut() throws {
        for (i, name) in ["index.html", "run.json", "figures/fig-a.png", "figures/extra.png"].enumerated() {
            let run = try makeRun("r\(i)")
            let target = run + "/" + name
            if name == "run.json" {
                try FileManager.default.moveItem(atPath: target, toPath: dir + "/elsewhere-\(i).json")
                try FileManager.default.createSymbolicLink(atPath: target, withDestinationPath: dir + "/elsewhere-\(i).json")
            } else {
                try? FileManager.default.removeItem(atPath: target)
                try FileManager.default.createSymbolicLink(atPath: target, withDestinationPath: "/etc/passwd")
            }
            var o = PublishOptions(out: (dir as NSString).appendingPathComponent("site-\(i)"))
            o.runs = [run]
            o.zip = (dir as NSString).appendingPathComponent("site-\(i).zip")
            XCTAssertThrowsError(try Publisher.publish(o), name) { e in
                XCTAssertTrue("\(e)".contains("expected a file inside the run folder"), "\(name): \(e)")
            }
            XCTAssertFalse(FileManager.default.fileExists(atPath: o.zip!), name)
        }
    }
}
