import Foundation
import XCTest
import GlassboxTestSupport
import GlassboxAnalysis
@testable import GlassboxReport
@testable import GlassboxSteps

/// The step declarations are the one source of the step table in reports/README.md and of the allowed keys.
final class StepDocsTests: XCTestCase {
    func testReadmeStepTableMatchesTheDeclarations() throws {
        let readme = try readText((repoRoot as NSString).appendingPathComponent("reports/README.md"))
        guard let a = readme.range(of: "<!-- steps:begin -->\n"), let b = readme.range(of: "<!-- steps:end -->") else {
            return XCTFail("reports/README.md has no <!-- steps:begin --> … <!-- steps:end --> table")
        }
        XCTAssertEqual(String(readme[a.upperBound..<b.lowerBound]), StepDocs.markdown(),
                       "reports/README.md's step table differs from the declarations: regenerate it with `glassbox steps --markdown`")
    }

    func testEveryStepAndFigureKindDeclaresItsArgumentsOnce() {
        var names = Set<String>()
        for s in Steps.builtIn {
            XCTAssertTrue(names.insert(s.name).inserted, "step \(s.name) twice")
            for g in s.argumentGroups {
                let args = g.arguments.map(\.name)
                XCTAssertEqual(Set(args).count, args.count, "\(s.name) \(g.title ?? ""): an argument declared twice: \(args)")
                for a in g.arguments { XCTAssertFalse(a.help.isEmpty, "\(s.name).\(a.name) has no help") }
            }
        }
        let kinds = FigureStep.kinds.map(\.name)
        XCTAssertEqual(Set(kinds).count, kinds.count, "a figure kind name is used twice")
    }

    /// `layer` means a parameter name wherever it appears.
    func testLayerIsAParameterNameEverywhere() {
        for s in Steps.builtIn {
            for g in s.argumentGroups {
                for a in g.arguments where a.name == "layer" {
                    XCTAssertEqual(a.type, ArgumentType.layer.summary, "\(s.name) \(g.title ?? ""): layer is \(a.type)")
                }
            }
        }
    }

    func testArgumentErrorsNameTheLineAndTheExpectedType() throws {
        let recipe = try Recipe.parse("---\ntitle: t\n---\n```glassbox\nstep: prune\nmodel: m\nrounds: zero\n```\n", path: "r.md")
        let cell = recipe.cells[0]
        let args = try CellArgs(cell: cell, path: "r.md", parameters: [:])
        XCTAssertThrowsError(try PruneStep.arguments.decode(args, from: PruneStep.Options(settings: PruneSettings()))) { e in
            XCTAssertEqual("\(e)", "r.md:7: cell 1 'rounds': expected a whole number ≥ 1, found 'zero'")
        }
        let unknown = try CellArgs(cell: try Recipe.parse("---\ntitle: t\n---\n```glassbox\nstep: prune\nmodel: m\nrate: 1\n```\n", path: "r.md").cells[0],
                                   path: "r.md", parameters: [:])
        XCTAssertThrowsError(try PruneStep.arguments.decode(unknown, from: PruneStep.Options(settings: PruneSettings()))) { e in
            XCTAssertTrue("\(e)".hasPrefix("r.md:7: cell 1: expected arguments of step 'prune': model, data, name, method"), "\(e)")
        }
        // Flags go through the same declarations, with errors naming the flag.
        XCTAssertThrowsError(try PruneSettings.arguments.decode(FlagArguments([("granularity", "pixels")]), from: PruneSettings())) { e in
            XCTAssertEqual("\(e)", "--granularity: expected one of weights, units, inputs, found 'pixels'")
        }
        let s = try PruneSettings.arguments.decode(FlagArguments([("amount", "0.25"), ("layers", "0.weight, 2.weight")]), from: PruneSettings())
        XCTAssertEqual(s.amount, 0.25)
        XCTAssertEqual(s.layers, ["0.weight", "2.weight"])
    }
}
