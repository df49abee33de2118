import Foundation
import GlassboxCore
import XCTest
@testable import GlassboxFigures

/// The image table's overlay colours at known values, its validation, and that outlines land on mask edges.
final class ImageTableTests: XCTestCase {
    func testSignedOverlayBlendsRedAndBlueByMagnitude() {
        // A 1×3 white image under the map [+1, −1, 0]: full red, full blue, and the dimmed image.
        let cell = ImageTableCell(image: FigureImage(channels: 1, height: 1, width: 3, values: [1, 1, 1]), overlay: [1, -1, 0])
        let table = ImageTable(rows: [[cell]], overlay: .signed)
        let px = table.pixels(cell, size: (1, 3))
        XCTAssertEqual(Array(px[0..<3]), [RGB.byte(MapColors.positive.r), RGB.byte(MapColors.positive.g), RGB.byte(MapColors.positive.b)])
        XCTAssertEqual(Array(px[3..<6]), [RGB.byte(MapColors.negative.r), RGB.byte(MapColors.negative.g), RGB.byte(MapColors.negative.b)])
        XCTAssertEqual(Array(px[6..<9]), [140, 140, 140], "0.55 × white where the map is 0")
        // Half the peak: half way between the backdrop and the colour.
        let half = ImageTableCell(image: FigureImage(channels: 1, height: 1, width: 2, values: [0, 0]), overlay: [2, 1])
        let p2 = ImageTable(rows: [[half]], overlay: .signed).pixels(half, size: (1, 2))
        XCTAssertEqual(Int(p2[3]), Int(RGB.byte(MapColors.positive.r * 0.5)))
    }

    func testUnsignedOverlayAndNoImage() {
        let cell = ImageTableCell(image: nil, overlay: [0, 4])
        let px = ImageTable(rows: [[cell]], overlay: .unsigned).pixels(cell, size: (1, 2))
        XCTAssertEqual(Array(px[0..<3]), [0, 0, 0], "zero over black")
        let top = MapColors.sequential(1)
        XCTAssertEqual(Array(px[3..<6]), [RGB.byte(top.r), RGB.byte(top.g), RGB.byte(top.b)])
    }

    func testValidationNamesTheProblem() {
        let im = FigureImage(channels: 1, height: 2, width: 2, values: [0, 0, 0, 0])
        XCTAssertThrowsError(try ImageTable(rows: [[ImageTableCell(image: im, overlay: [1, 2, 3])]]).validate()) { e in
            XCTAssertTrue("\(e)".contains("overlay"), "\(e)")
        }
        XCTAssertThrowsError(try ImageTable(rows: [[ImageTableCell(image: im, outlines: [ImageOutline(mask: [true, false, false, false], style: 1)])]],
                                            outlineStyles: [OutlineStyle(label: "unit", color: OkabeIto.orange)]).validate())
        XCTAssertThrowsError(try ImageTable(rows: [[ImageTableCell(image: im)]], rowTitles: ["a", "b"]).validate())
        XCTAssertThrowsError(try ImageTable(rows: [[ImageTableCell(image: nil)]]).validate())
    }

    /// A 4×4 image with a 2×2 mask in the middle: drawing the outline changes only pixels, all of them orange, and
    /// forming a square (the mask's edges).
    func testOutlineIsDrawnOnTheMaskEdge() throws {
        let im = FigureImage(channels: 1, height: 4, width: 4, values: [Float](repeating: 1, count: 16))
        var mask = [Bool](repeating: false, count: 16)
        for y in 1...2 { for x in 1...2 { mask[y * 4 + x] = true } }
        let styles = [OutlineStyle(label: "unit", color: OkabeIto.orange)]
        func render(_ outlines: [ImageOutline]) throws -> RasterImage {
            let t = ImageTable(rows: [[ImageTableCell(image: im, outlines: outlines)]], outlineStyles: styles)
            return try RasterImage(png: try Figure.imageTable(t).render(to: .png, size: .pixels(width: 400, height: 400, dpi: 96)))
        }
        let plain = try render([]), outlined = try render([ImageOutline(mask: mask, style: 0)])
        var changed: [(Int, Int)] = []
        for y in 0..<plain.height { for x in 0..<plain.width where plain.pixel(x, y) != outlined.pixel(x, y) { changed.append((x, y)) } }
        XCTAssertGreaterThan(changed.count, 100, "the outline is drawn")
        let xs = changed.map(\.0), ys = changed.map(\.1)
        // The cell is a centred square; the mask's outline spans its middle half in both directions.
        let spanX = Double(xs.max()! - xs.min()!), spanY = Double(ys.max()! - ys.min()!)
        XCTAssertEqual(spanX, spanY, accuracy: 4, "a square outline")
        for (x, y) in changed {
            let p = outlined.pixel(x, y)
            // Orange, or orange antialiased into the white image: red ≥ green ≥ blue, clearly tinted.
            XCTAssertTrue(p.r >= p.g && p.g >= p.b && Int(p.r) - Int(p.b) > 20, "non-orange change at (\(x), \(y)): \(p)")
        }
        XCTAssertEqual(ImageTable(rows: [[ImageTableCell(image: im)]], outlineStyles: styles).legend.map(\.label), ["unit"])
    }
}
