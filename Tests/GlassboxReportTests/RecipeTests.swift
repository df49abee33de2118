import Foundation
import XCTest
import GlassboxTestSupport
@testable import GlassboxCore
@testable import GlassboxReport

final class RecipeTests: XCTestCase {
    let sample = """
    ---
    title: "A title: with colon"
    description: What it is about.
    seed: 42
    parameters:
      epochs: 3
      lr: 0.01
    ---
    Intro prose.

    ```glassbox
    #| label: fig-one
    #| caption: "First figure"
    #| echo: false
    #| cache: false
    step: figure
    kind: curves
    models: [a, b]
    ```

    More prose with a code example:

    ```swift
    let x = 1
    ```

    ~~~glassbox
    step: train
    epochs: ${epochs}
    ~~~
    """

    func testFrontMatterCellsAndOptions() throws {
        let r = try Recipe.parse(sample, path: "r.md")
        XCTAssertEqual(r.title, "A title: with colon")
        XCTAssertEqual(r.description, "What it is about.")
        XCTAssertEqual(r.seed, 42)
        XCTAssertEqual(r.parameters.map(\.name), ["epochs", "lr"])
        XCTAssertEqual(r.parameters.map(\.defaultValue), ["3", "0.01"])
        XCTAssertEqual(r.name, "r")
        let cells = r.cells
        XCTAssertEqual(cells.count, 2)
        XCTAssertEqual(cells[0].index, 1)
        XCTAssertEqual(cells[0].line, 11)
        XCTAssertEqual(cells[0].bodyLine, 16)
        XCTAssertEqual(cells[0].options, CellOptions(label: "fig-one", caption: "First figure", echo: false, cache: false))
        XCTAssertEqual(cells[0].body, "step: figure\nkind: curves\nmodels: [a, b]")
        XCTAssertEqual(cells[1].line, 27)
        XCTAssertEqual(cells[1].options, CellOptions())
        // Prose keeps the Swift code block (it is not a cell).
        let prose = r.blocks.compactMap { if case let .prose(p) = $0 { return p } else { return nil } }
        XCTAssertEqual(prose.count, 2)
        XCTAssertEqual(prose[0].line, 9)
        XCTAssertTrue(prose[1].text.contains("let x = 1"))

        let args = try CellArgs(cell: cells[1], path: "r.md", parameters: r.parameterValues)
        XCTAssertEqual(args.step, "train")
        XCTAssertEqual(try args.int("epochs"), 3)
        let fig = try CellArgs(cell: cells[0], path: "r.md", parameters: [:])
        XCTAssertEqual(try fig.strings("models"), ["a", "b"])
    }

    func testOverridesAndRunID() throws {
        var r = try Recipe.parse(sample, path: "r.md")
        XCTAssertEqual(Runner.runID(r, defaultSeed: 42), "default")
        try r.override(["epochs=5", "seed=7"])
        XCTAssertEqual(r.parameterValues["epochs"], "5")
        XCTAssertEqual(r.seed, 7)
        XCTAssertEqual(Runner.runID(r, defaultSeed: 42), "epochs-5_seed-7")
        XCTAssertThrowsError(try r.override(["nope=1"])) { e in
            XCTAssertTrue("\(e)".contains("-p nope"), "\(e)")
        }
        XCTAssertThrowsError(try r.override(["epochs"]))
    }

    func lineOf(_ error: Error) -> String { "\(error)" }

    func testBadFrontMatterYAMLNamesFileAndLine() {
        let text = "---\ntitle: ok\nparameters: [a, b\n---\nprose\n"
        XCTAssertThrowsError(try Recipe.parse(text, path: "bad.md")) { e in
            let s = "\(e)"
            XCTAssertTrue(s.hasPrefix("bad.md:"), s)
            XCTAssertTrue(s.contains("front matter"), s)
            XCTAssertTrue(s.contains("valid YAML"), s)
        }
        XCTAssertThrowsError(try Recipe.parse("---\ntitle: x\n", path: "open.md")) { e in
            XCTAssertEqual("\(e)", "open.md:1: front matter: expected a closing '---' line, found end of file")
        }
        XCTAssertThrowsError(try Recipe.parse("---\ntitle: x\ncolour: red\n---\n", path: "k.md")) { e in
            XCTAssertTrue("\(e)".hasPrefix("k.md:3: front matter"), "\(e)")
        }
        XCTAssertThrowsError(try Recipe.parse("---\nseed: -1\n---\n", path: "s.md")) { e in
            XCTAssertTrue("\(e)".hasPrefix("s.md:2: seed"), "\(e)")
        }
    }

    func testBadCellYAMLNamesTheLine() throws {
        let text = "---\ntitle: t\n---\nprose\n\n```glassbox\nstep: data\ndataset: [mnist\n```\n"
        let r = try Recipe.parse(text, path: "c.md")
        XCTAssertThrowsError(try CellArgs(cell: r.cells[0], path: "c.md", parameters: [:])) { e in
            let s = "\(e)"
            // The unclosed list starts on line 8; libyaml reports the problem on line 8 or 9 (end of input).
            XCTAssertTrue(s.hasPrefix("c.md:8:") || s.hasPrefix("c.md:9:"), s)
            XCTAssertTrue(s.contains("cell 1"), s)
        }
    }

    func testCellErrorsNameTheLine() throws {
        XCTAssertThrowsError(try Recipe.parse("text\n```glassbox\n#| colour: red\nstep: data\n```\n", path: "o.md")) { e in
            XCTAssertEqual("\(e)", "o.md:3: cell option: expected one of label, caption, echo, cache, output, found 'colour'")
        }
        XCTAssertThrowsError(try Recipe.parse("text\n```glassbox\n#| echo: maybe\nstep: data\n```\n", path: "o.md")) { e in
            XCTAssertTrue("\(e)".hasPrefix("o.md:3: cell option 'echo'"), "\(e)")
        }
        // An unquoted caption with ': ' in it is a YAML mapping, not text: an error, never a silently empty caption.
        XCTAssertThrowsError(try Recipe.parse("text\n```glassbox\n#| caption: Baseline: accuracy\nstep: data\n```\n", path: "o.md")) { e in
            XCTAssertTrue("\(e)".hasPrefix("o.md:3: cell option 'caption': expected a single value (quote text"), "\(e)")
        }
        XCTAssertEqual(try Recipe.parse("text\n```glassbox\n#| caption: \"Baseline: accuracy\"\nstep: data\n```\n", path: "o.md").cells[0].options.caption,
                       "Baseline: accuracy")
        XCTAssertThrowsError(try Recipe.parse("text\n\n```glassbox\nstep: data\n", path: "u.md")) { e in
            XCTAssertEqual("\(e)", "u.md:3: cell: expected a closing ``` fence, found end of file")
        }
        let r = try Recipe.parse("---\nparameters:\n  a: 1\n---\n```glassbox\nstep: train\nepochs: ${b}\n```\n", path: "p.md")
        XCTAssertThrowsError(try CellArgs(cell: r.cells[0], path: "p.md", parameters: r.parameterValues)) { e in
            XCTAssertEqual("\(e)", "p.md:7: parameter 'b': expected a parameter from the front matter (a), found '${b}'")
        }
        let r2 = try Recipe.parse("```glassbox\nname: x\n```\n", path: "n.md")
        XCTAssertThrowsError(try CellArgs(cell: r2.cells[0], path: "n.md", parameters: [:])) { e in
            XCTAssertTrue("\(e)".hasPrefix("n.md:2: cell 1: expected a 'step:' entry"), "\(e)")
        }
    }

    func testArgumentErrorsNameLineAndField() throws {
        let r = try Recipe.parse("```glassbox\nstep: train\nepochs: many\n```\n", path: "a.md")
        let args = try CellArgs(cell: r.cells[0], path: "a.md", parameters: [:])
        XCTAssertThrowsError(try args.int("epochs")) { e in
            XCTAssertEqual("\(e)", "a.md:3: cell 1 'epochs': expected a whole number, found 'many'")
        }
        XCTAssertThrowsError(try args.allowOnly(["model"])) { e in
            XCTAssertTrue("\(e)".hasPrefix("a.md:3: cell 1: expected arguments of step 'train': model"), "\(e)")
        }
    }

    func testCrossReferenceScan() {
        let refs = CrossReferences.find(in: "See @fig-a, and\n@tbl-b-2. Not mail@fig-c nor @fig-.")
        XCTAssertEqual(refs.map(\.label), ["fig-a", "tbl-b-2"])
        XCTAssertEqual(refs.map(\.lineOffset), [0, 1])
    }

    func testUnknownReferenceIsAnErrorAtItsLine() throws {
        let r = try Recipe.parse("---\ntitle: t\n---\nline four\nsee @fig-missing here\n", path: "x.md")
        XCTAssertThrowsError(try Runner.checkReferences(r)) { e in
            XCTAssertEqual("\(e)", "x.md:5: @fig-missing: expected the label of a cell (#| label: fig-missing), found no such label")
        }
    }
}

final class SanitizerTests: XCTestCase {
    func testRawHTMLIsEscaped() {
        let html = ProseHTML.render("Hello <script>alert(1)</script> and <b onclick=\"x()\">bold</b>\n\n<iframe src=\"a\"></iframe>\n")
        XCTAssertFalse(html.contains("<script"), html)
        XCTAssertFalse(html.contains("<iframe"), html)
        XCTAssertFalse(html.contains("onclick"), html)
        XCTAssertTrue(html.contains("&lt;script&gt;"), html)
        XCTAssertTrue(html.contains("<b>bold</b>"), html)
    }

    /// A prose block that opens with a line of dashes (a thematic break, e.g. after a cell) once crashed Ink, which read
    /// it as an unclosed metadata block.
    func testProseOpeningWithDashesIsARule() {
        for text in ["---\n\n## Next\n", "\n---\n\nText.\n", "\n\n----\nText.\n", "---\ntitle: x\n"] {
            XCTAssertTrue(ProseHTML.render(text).contains("<hr"), text)
        }
        XCTAssertTrue(ProseHTML.render("---\n\n## Next\n").contains("Next</h2>"))
    }

    func testMarkdownSurvives() {
        let html = ProseHTML.render("# T\n\nSome *em* and **strong** and `a < b` and [link](#x).\n\n- one\n- two\n")
        XCTAssertTrue(html.contains("<em>em</em>"), html)
        XCTAssertTrue(html.contains("<strong>strong</strong>"), html)
        XCTAssertTrue(html.contains("<a href=\"#x\">link</a>"), html)
        XCTAssertTrue(html.contains("<li>one</li>"), html)
        XCTAssertFalse(html.contains("a < b"), html)
    }

    func testDangerousLinksAndRemoteImages() {
        let html = ProseHTML.sanitize("<a href=\"javascript:alert(1)\">x</a><img src=\"//evil/x.png\" alt=\"a\"><img src=\"figures/a.png\" alt=\"b\" onerror=\"y\"><!-- c -->")
        XCTAssertEqual(html, "<a>x</a>&lt;img src=&quot;//evil/x.png&quot; alt=&quot;a&quot;&gt;<img src=\"figures/a.png\" alt=\"b\"/>&lt;!-- c --&gt;")
        XCTAssertEqual(ProseHTML.sanitize("a > b < c"), "a &gt; b &lt; c")
    }
}
