import Foundation
import GlassboxCore
import XCTest
@testable import GlassboxFigures

/// Known-answer tests: specific values must land as specific colours at known pixels.
final class PixelTests: XCTestCase {
    /// Renders a figure kind to PNG while capturing its cell frames (points), and decodes the pixels.
    func renderCapturing<K: FigureKind>(_ kind: K, size: FigureSize, frames: (K, Canvas, Rect) -> [Rect]) throws -> (RasterImage, [Rect]) {
        var captured: [Rect] = []
        let png = try Canvas.render(format: .png, size: size) { canvas in
            let page = Layout.page(canvas)
            captured = frames(kind, canvas, page)
            try kind.draw(on: canvas, in: page)
        }
        return (try RasterImage(png: png), captured)
    }

    /// Pixel at canvas point p (points → pixels at the figure's DPI).
    func pixel(_ img: RasterImage, _ p: Point, _ size: FigureSize) -> (r: UInt8, g: UInt8, b: UInt8, a: UInt8) {
        let sx = Double(size.pixelWidth) / size.widthPoints, sy = Double(size.pixelHeight) / size.heightPoints
        return img.pixel(Int(p.x * sx), Int(p.y * sy))
    }

    func assertRGB(_ px: (r: UInt8, g: UInt8, b: UInt8, a: UInt8), _ e: (Int, Int, Int), tolerance: Int = 1,
                   _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        let ok = abs(Int(px.r) - e.0) <= tolerance && abs(Int(px.g) - e.1) <= tolerance && abs(Int(px.b) - e.2) <= tolerance
        XCTAssertTrue(ok, "\(what): got (\(px.r), \(px.g), \(px.b)), expected \(e)", file: file, line: line)
    }

    func testWeightColorMapValues() {
        let m = WeightColorMap(scale: 0.5)
        XCTAssertEqual(m.color(0.5), RGB(1, 0, 0))
        XCTAssertEqual(m.color(-0.5), RGB(0, 0, 1))
        XCTAssertEqual(m.color(0), RGB(0, 0, 0))
        XCTAssertEqual(m.color(0.25), RGB(0.5, 0, 0))
        XCTAssertEqual(m.color(-2), RGB(0, 0, 1))          // clamped
        XCTAssertEqual(m.color(0.5, masked: true), .black)  // pruned
    }

    func testWeightImagesPixels() throws {
        // One 1×4 image: +max, −max, 0, and a pruned +max.
        let fig = WeightImages(weights: [0.8, -0.8, 0, 0.8], rows: 1, imageHeight: 1, imageWidth: 4, mask: [1, 1, 1, 0], scale: .shared)
        let size = FigureSize.pixels(width: 400, height: 200, dpi: 96)
        let (img, frames) = try renderCapturing(fig, size: size) { $0.cellFrames(on: $1, in: $2) }
        XCTAssertEqual(frames.count, 1)
        let cell = frames[0]
        func centre(_ i: Int) -> Point { Point(cell.minX + cell.width * (Double(i) + 0.5) / 4, cell.midY) }
        assertRGB(pixel(img, centre(0), size), (255, 0, 0), "+max")
        assertRGB(pixel(img, centre(1), size), (0, 0, 255), "−max")
        assertRGB(pixel(img, centre(2), size), (0, 0, 0), "zero")
        assertRGB(pixel(img, centre(3), size), (0, 0, 0), "pruned")
        XCTAssertTrue(fig.caption.contains("s = 0.8"), fig.caption)
    }

    func testFilterGridGreyLevels() throws {
        let size = FigureSize.pixels(width: 300, height: 300, dpi: 144)
        // 2×2 filter [[0, 1], [2, 3]]: min-max gives 0, 1/3, 2/3, 1 → 0, 85, 170, 255.
        let minMax = FilterGrid(filters: [FigureImage(channels: 1, height: 2, width: 2, values: [0, 1, 2, 3])])
        // Symmetric: [[-2, -1], [0, 2]] with max |v| = 2 → 0, 0.25, 0.5, 1 → 0, 64, 128, 255.
        let symmetric = FilterGrid(filters: [FigureImage(channels: 1, height: 2, width: 2, values: [-2, -1, 0, 2])], normalization: .symmetric)
        for (grid, expected) in [(minMax, [0, 85, 170, 255]), (symmetric, [0, 64, 128, 255])] {
            let (img, frames) = try renderCapturing(grid, size: size) { $0.cellFrames(on: $1, in: $2) }
            let cell = frames[0]
            XCTAssertEqual(cell.width, cell.height, accuracy: 1e-9)      // square filter, square cell
            for (i, e) in expected.enumerated() {
                let p = Point(cell.minX + cell.width * (Double(i % 2) + 0.5) / 2, cell.minY + cell.height * (Double(i / 2) + 0.5) / 2)
                assertRGB(pixel(img, p, size), (e, e, e), "\(grid.normalization) pixel \(i)")
            }
            // Outside the cell is the white page.
            assertRGB(pixel(img, Point(cell.minX - 3, cell.midY), size), (255, 255, 255), "page")
        }
    }

    func testRGBFilterKeepsChannels() throws {
        // A 1×1 RGB filter with values (0, 1, 0.5): min-max over all channels → (0, 255, 128).
        let grid = FilterGrid(filters: [FigureImage(channels: 3, height: 1, width: 1, values: [0, 1, 0.5])])
        let size = FigureSize.pixels(width: 100, height: 100, dpi: 72)
        let (img, frames) = try renderCapturing(grid, size: size) { $0.cellFrames(on: $1, in: $2) }
        assertRGB(pixel(img, Point(frames[0].midX, frames[0].midY), size), (0, 255, 128), "RGB filter")
    }

    func testSequentialMapEndpoints() {
        func hex(_ c: RGB) -> (Int, Int, Int) { let (r, g, b) = c.bytes; return (Int(r), Int(g), Int(b)) }
        func near(_ a: (Int, Int, Int), _ b: (Int, Int, Int), _ tol: Int) -> Bool {
            abs(a.0 - b.0) <= tol && abs(a.1 - b.1) <= tol && abs(a.2 - b.2) <= tol
        }
        XCTAssertEqual(ColorMap.viridis.color(at: 0).hex, "#440154")
        XCTAssertEqual(ColorMap.viridis.color(at: 1).hex, "#fde725")
        XCTAssertTrue(near(hex(ColorMap.viridis.color(at: 0.5)), (0x21, 0x91, 0x8c), 2), ColorMap.viridis.color(at: 0.5).hex)
        XCTAssertTrue(near(hex(ColorMap.cividis.color(at: 0)), (0x00, 0x20, 0x4d), 2), ColorMap.cividis.color(at: 0).hex)
        XCTAssertTrue(near(hex(ColorMap.cividis.color(at: 1)), (0xff, 0xea, 0x46), 2), ColorMap.cividis.color(at: 1).hex)
        XCTAssertEqual(ColorMap.viridis.table.count, 256)
        // Sequential maps get brighter monotonically (luminance), which is what makes them readable.
        for map in [ColorMap.viridis, .cividis] {
            let lum = map.table.map(\.luminance)
            XCTAssertTrue(zip(lum, lum.dropFirst()).allSatisfy { $0 < $1 + 1e-9 }, map.name)
        }
    }

    func testDivergingMapIsSymmetric() {
        let limits = ColorLimits.symmetric.resolve([-0.5, 2, 1])
        XCTAssertEqual(limits.low, -2); XCTAssertEqual(limits.high, 2)
        XCTAssertEqual(ColorMap.rdBu.color(at: 0.5).hex, "#f7f7f7")   // zero is the neutral centre
        XCTAssertEqual(ColorMap.rdBu.color(at: 0).hex, "#053061")     // most negative: dark blue
        XCTAssertEqual(ColorMap.rdBu.color(at: 1).hex, "#67001f")     // most positive: dark red
        XCTAssertEqual(OkabeIto.colors.map(\.hex), ["#000000", "#e69f00", "#56b4e9", "#009e73", "#f0e442", "#0072b2", "#d55e00", "#cc79a7"])
    }

    func testHeatMapCellColours() throws {
        // A 1×2 heat map [−1, 1] with symmetric RdBu: left cell dark blue, right dark red.
        let map = HeatMap(values: Matrix([[-1, 1]]), colorMap: .rdBu, limits: .symmetric)
        let size = FigureSize.pixels(width: 400, height: 200, dpi: 96)
        let png = try Figure.heatMap(map).render(to: .png, size: size)
        let img = try RasterImage(png: png)
        // Some row must run through dark blue (#053061, −1) and then dark red (#67001f, +1) to its right. The colour
        // bar is vertical, so only the cells can give both colours on one row, in this order.
        var found = false
        for y in 0..<img.height where !found {
            var blueX: Int?
            for x in 0..<img.width {
                let p = img.pixel(x, y)
                if p.r == 0x05 && p.g == 0x30 && p.b == 0x61 && blueX == nil { blueX = x }
                if p.r == 0x67 && p.g == 0x00 && p.b == 0x1f, let bx = blueX, x > bx { found = true; break }
            }
        }
        XCTAssertTrue(found)
    }
}
