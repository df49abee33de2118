import Foundation
import GlassboxCore
import XCTest
@testable import GlassboxFigures

/// Known-answer pixel tests for the topology figures (no golden images).
final class TopologyFigureTests: XCTestCase {
    let size = FigureSize.pixels(width: 480, height: 360, dpi: 96)

    func render<K: FigureKind>(_ kind: K, capture: (K, Canvas, Rect) -> Void = { _, _, _ in }) throws -> RasterImage {
        let png = try Canvas.render(format: .png, size: size) { canvas in
            let page = Layout.page(canvas)
            capture(kind, canvas, page)
            try kind.draw(on: canvas, in: page)
        }
        return try RasterImage(png: png)
    }

    func pixel(_ img: RasterImage, _ p: Point) -> (Int, Int, Int) {
        let sx = Double(size.pixelWidth) / size.widthPoints, sy = Double(size.pixelHeight) / size.heightPoints
        let px = img.pixel(Int(p.x * sx), Int(p.y * sy))
        return (Int(px.r), Int(px.g), Int(px.b))
    }

    func assertColor(_ got: (Int, Int, Int), _ c: RGB, tolerance: Int = 2, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        let (r, g, b) = c.bytes
        let ok = abs(got.0 - Int(r)) <= tolerance && abs(got.1 - Int(g)) <= tolerance && abs(got.2 - Int(b)) <= tolerance
        XCTAssertTrue(ok, "\(what): got \(got), expected \(c.hex)", file: file, line: line)
    }

    func testInfiniteBarReachesRightEdgeAndFiniteBarStopsAtDeath() throws {
        // H0: one finite bar [0, 1) and one infinite bar; axis fixed to 0…2.
        let fig = Barcode(dimensions: [FigureBars(dimension: 0, bars: [FigureBar(birth: 0, death: nil), FigureBar(birth: 0, death: 1)])],
                          maxScale: 2)
        var panels: [(frame: PlotFrame, bars: [(rect: Rect, infinite: Bool)])] = []
        let img = try render(fig) { k, c, r in panels = k.panels(on: c, in: r) }
        XCTAssertEqual(panels.count, 1)
        let plot = panels[0].frame.plot
        guard case let .numeric(ax) = panels[0].frame.x else { return XCTFail("numeric axis") }
        XCTAssertEqual(ax.low, 0); XCTAssertEqual(ax.high, 2)
        // Sorted by (birth, death): the finite bar first.
        let finite = panels[0].bars[0], infinite = panels[0].bars[1]
        XCTAssertFalse(finite.infinite); XCTAssertTrue(infinite.infinite)
        XCTAssertEqual(infinite.rect.maxX, plot.maxX, accuracy: 1e-9)
        XCTAssertEqual(finite.rect.maxX, plot.minX + plot.width / 2, accuracy: 1e-9)   // death 1 on 0…2
        let blue = OkabeIto.series(0)
        assertColor(pixel(img, Point(plot.maxX - 3, infinite.rect.midY)), blue, "infinite bar near the right edge")
        assertColor(pixel(img, Point(plot.minX + plot.width * 0.25, finite.rect.midY)), blue, "finite bar inside")
        assertColor(pixel(img, Point(plot.minX + plot.width * 0.75, finite.rect.midY)), .white, "finite bar ends at its death")
    }

    func testManyBarsKeepTheLongestVisible() throws {
        // 500 short H1 bars and one long one: only the 100 longest are drawn, the long one among them, and it is
        // thick enough to see.
        var bars = (0..<500).map { i in FigureBar(birth: 0.3 + Double(i) * 1e-4, death: 0.4 + Double(i) * 1e-4) }
        bars.insert(FigureBar(birth: 0.35, death: 1.5), at: 250)
        let fig = Barcode(dimensions: [FigureBars(dimension: 1, bars: bars)], maxScale: 2)
        XCTAssertEqual(fig.shown(fig.dimensions[0]).count, 100)
        XCTAssertTrue(fig.shown(fig.dimensions[0]).contains(FigureBar(birth: 0.35, death: 1.5)))
        var panels: [(frame: PlotFrame, bars: [(rect: Rect, infinite: Bool)])] = []
        let img = try render(fig) { k, c, r in panels = k.panels(on: c, in: r) }
        XCTAssertEqual(panels[0].bars.count, 100)
        let long = try XCTUnwrap(panels[0].bars.max { $0.rect.width < $1.rect.width })
        let plot = panels[0].frame.plot
        XCTAssertEqual(long.rect.maxX, plot.minX + plot.width * 0.75, accuracy: 1e-9)
        assertColor(pixel(img, Point(plot.minX + plot.width * 0.6, long.rect.midY)), OkabeIto.series(1), tolerance: 40, "long bar visible")
    }

    func testPanelGridPlacesPanelsRowByRowAndRefusesNesting() throws {
        let bar = Figure.barcode(Barcode(dimensions: [FigureBars(dimension: 0, bars: [FigureBar(birth: 0, death: nil)])]))
        let grid = PanelGrid(panels: [bar, bar, bar], columns: 2)
        let body = Rect(x: 0, y: 0, width: 200, height: 100)
        XCTAssertEqual(grid.cell(0, in: body), Rect(x: 0, y: 0, width: 100, height: 50))
        XCTAssertEqual(grid.cell(1, in: body), Rect(x: 100, y: 0, width: 100, height: 50))
        XCTAssertEqual(grid.cell(2, in: body), Rect(x: 0, y: 50, width: 100, height: 50))
        let png = try Figure.panels(grid).render(to: .png, size: .screen(width: 400, height: 300))
        XCTAssertEqual(png, try Figure.panels(grid).render(to: .png, size: .screen(width: 400, height: 300)), "deterministic")
        XCTAssertThrowsError(try Figure.panels(PanelGrid(panels: [.panels(grid)], columns: 1)).render(to: .png, size: .screen(width: 100, height: 100))) { e in
            XCTAssertTrue("\(e)".contains("panels[0]"), "\(e)")
        }
    }

    func testDiagramPointLandsAtExpectedPixel() throws {
        // H1 point (1, √3) on axes 0…2: x at half the width, y at √3/2 of the height from the bottom.
        let fig = PersistenceDiagram(dimensions: [FigureBars(dimension: 1, bars: [FigureBar(birth: 1, death: 3.0.squareRoot())])], maxScale: 2)
        var frame: PlotFrame?
        let img = try render(fig) { k, c, r in frame = k.layout(on: c, in: r).frame }
        let plot = try XCTUnwrap(frame).plot
        XCTAssertEqual(try XCTUnwrap(frame).y.high, 2)
        let expected = Point(plot.minX + plot.width * 0.5, plot.maxY - plot.height * 3.0.squareRoot() / 2)
        assertColor(pixel(img, expected), OkabeIto.series(1), "H1 point at (1, √3)")
        // Mirror point below the diagonal stays empty.
        assertColor(pixel(img, Point(plot.minX + plot.width * 0.85, plot.maxY - plot.height * 0.15)), .white, "empty below the diagonal")
    }

    func testInfiniteDeathSitsOnTheInfinityLine() throws {
        let fig = PersistenceDiagram(dimensions: [FigureBars(dimension: 0, bars: [FigureBar(birth: 0.5, death: nil), FigureBar(birth: 0, death: 1)])])
        var l: (frame: PlotFrame, infinityY: Double, legend: Rect)?
        let img = try render(fig) { k, c, r in l = k.layout(on: c, in: r) }
        let lay = try XCTUnwrap(l)
        XCTAssertLessThan(lay.infinityY, lay.frame.plot.minY)
        let p = fig.position(fig.dimensions[0].bars[0], frame: lay.frame, infinityY: lay.infinityY)
        XCTAssertEqual(p.y, lay.infinityY)
        assertColor(pixel(img, p), OkabeIto.series(0), "∞ point")
    }

    func testMapperLensLayoutPatchesAndDeterminism() throws {
        // Two nodes at opposite corners; node 0's patch is +1 left column, −1 right column.
        let patch: [Double] = [1, 0, -1, 1, 0, -1, 1, 0, -1]
        let fig = MapperDiagram(nodes: [MapperDiagramNode(patch: patch, members: 10, value: 0, position: [0, 0]),
                                        MapperDiagramNode(patch: patch.map { -$0 }, members: 10, value: 1, position: [1, 1])],
                                edges: [MapperDiagramEdge(source: 0, target: 1, overlap: 3)], layout: .lens)
        XCTAssertNoThrow(try fig.validate())
        var geo: (centres: [Point], radii: [Double], plot: Rect, bar: Rect?, axis: Axis?)?
        let img = try render(fig) { k, c, r in geo = k.geometry(on: c, in: r) }
        let g = try XCTUnwrap(geo)
        // Lens layout: (0, 0) bottom-left, (1, 1) top-right of the square plot.
        XCTAssertEqual(g.centres[0].x, g.plot.minX, accuracy: 1e-9); XCTAssertEqual(g.centres[0].y, g.plot.maxY, accuracy: 1e-9)
        XCTAssertEqual(g.centres[1].x, g.plot.maxX, accuracy: 1e-9); XCTAssertEqual(g.centres[1].y, g.plot.minY, accuracy: 1e-9)
        let c = g.centres[0], s = g.radii[0] * 1.15
        XCTAssertEqual(pixel(img, Point(c.x - s / 3, c.y)).0, 255, "node 0 left column white")
        XCTAssertEqual(pixel(img, Point(c.x + s / 3, c.y)).0, 0, "node 0 right column black")
        XCTAssertEqual(pixel(img, Point(g.centres[1].x - s / 3, g.centres[1].y)).0, 0, "node 1 left column black")
        // Ring colours: viridis ends.
        assertColor(pixel(img, Point(c.x, c.y - g.radii[0] + 0.9)), ColorMap.viridis.color(at: 0), tolerance: 6, "ring of the low node")
        let spring = MapperDiagram(nodes: fig.nodes, edges: fig.edges, layout: .spring)
        let a = try Figure.mapperDiagram(spring).render(to: .png, size: size)
        let b = try Figure.mapperDiagram(spring).render(to: .png, size: size)
        XCTAssertEqual(a, b, "same figure, same bytes")
    }

    func testBadInputIsAClearError() {
        XCTAssertThrowsError(try Barcode(dimensions: [FigureBars(dimension: 1, bars: [FigureBar(birth: 2, death: 1)])]).validate()) { e in
            XCTAssertTrue("\(e)".contains("birth ≤ death"), "\(e)")
        }
        XCTAssertThrowsError(try MapperDiagram(nodes: [MapperDiagramNode(patch: [1, 2], members: 1, value: 0)], edges: []).validate())
        XCTAssertThrowsError(try MapperDiagram(nodes: [MapperDiagramNode(patch: Array(repeating: 0, count: 9), members: 1, value: 0)],
                                               edges: [MapperDiagramEdge(source: 0, target: 3, overlap: 1)]).validate())
        XCTAssertThrowsError(try PersistenceDiagram(dimensions: []).validate())
    }

    func testFiguresRoundTripAsJSON() throws {
        let f = Figure.barcode(Barcode(dimensions: [FigureBars(dimension: 0, bars: [FigureBar(birth: 0, death: nil)])]))
        let data = try JSONEncoder().encode(f)
        XCTAssertEqual(try JSONDecoder().decode(Figure.self, from: data), f)
    }
}
