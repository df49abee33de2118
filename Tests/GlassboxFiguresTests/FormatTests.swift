import Foundation
import GlassboxCore
import XCTest
@testable import GlassboxFigures

final class FormatTests: XCTestCase {
    func testMagicBytes() throws {
        let fig = Fixtures.barChart
        let png = try fig.render(to: .png, size: Fixtures.size)
        XCTAssertEqual(Array(png.prefix(4)), [0x89, 0x50, 0x4E, 0x47])
        let svg = String(decoding: try fig.render(to: .svg, size: Fixtures.size), as: UTF8.self)
        XCTAssertTrue(svg.hasPrefix("<?xml"), String(svg.prefix(40)))
        XCTAssertTrue(svg.contains("<svg"))
        let pdf = try fig.render(to: .pdf, size: Fixtures.size)
        XCTAssertEqual(String(decoding: pdf.prefix(5), as: UTF8.self), "%PDF-")
    }

    func testEveryKindIsDeterministicInEveryFormat() throws {
        for (name, fig) in Fixtures.all {
            for format in FigureFormat.allCases {
                let a = try fig.render(to: format, size: Fixtures.size)
                // Render something else in between, so process-wide cairo counters (SVG ids, fonts) move on.
                _ = try Fixtures.linePlot.render(to: format, size: Fixtures.size)
                let b = try fig.render(to: format, size: Fixtures.size)
                XCTAssertEqual(a, b, "\(name).\(format.rawValue) differs between two renders")
                XCTAssertGreaterThan(a.count, 100, "\(name).\(format.rawValue)")
            }
        }
    }

    func testPDFDateIsPinned() throws {
        let pdf = String(decoding: try Fixtures.histogram.render(to: .pdf, size: Fixtures.size), as: UTF8.self)
        XCTAssertTrue(pdf.contains("2000"), "pinned creation date missing")
        XCTAssertTrue(pdf.contains("/CreationDate"))
        XCTAssertFalse(pdf.contains("/FontType3") || pdf.contains("/Subtype /Type3"), "Type 3 fonts in PDF")
    }

    func testPaperPNGSizeAndDPI() throws {
        let size = FigureSize.paper(columns: 1, heightMM: 60, dpi: 300)
        XCTAssertEqual(size.widthMM, 89)
        let png = try Fixtures.linePlot.render(to: .png, size: size)
        let phys = try XCTUnwrap(try PNGChunks.phys(png))
        XCTAssertEqual(phys.x, 11811)
        XCTAssertEqual(phys.y, 11811)
        XCTAssertEqual(phys.unit, 1)
        // pHYs sits right after IHDR, and every chunk CRC checks out (chunks() verifies them).
        let types = try PNGChunks.chunks(png).map(\.type)
        XCTAssertEqual(Array(types.prefix(2)), ["IHDR", "pHYs"])
        XCTAssertEqual(types.filter { $0 == "pHYs" }.count, 1)
        let img = try RasterImage(png: png)
        XCTAssertEqual(img.width, Int((89 / 25.4 * 300).rounded()))   // 1051
        XCTAssertEqual(img.width, 1051)
        XCTAssertEqual(img.height, Int((60 / 25.4 * 300).rounded()))  // 709
        // Two columns.
        let wide = FigureSize.paper(columns: 2, heightMM: 80)
        XCTAssertEqual(wide.pixelWidth, Int((183 / 25.4 * 300).rounded()))
    }

    func testScreenSizeIsTwiceCSSPixels() throws {
        let size = FigureSize.screen(width: 320, height: 220)
        XCTAssertEqual(size.dpi, 192)
        XCTAssertEqual(size.pixelWidth, 640)
        XCTAssertEqual(size.pixelHeight, 440)
        XCTAssertEqual(size.widthPoints, 240, accuracy: 1e-9)   // 320 CSS px = 240 pt
        let png = try Fixtures.barChart.render(to: .png, size: size)
        XCTAssertEqual(try PNGChunks.phys(png)?.x, UInt32((192 / 0.0254).rounded()))   // 7559 px/m
        let exact = FigureSize.pixels(width: 777, height: 333, dpi: 150)
        XCTAssertEqual(exact.pixelWidth, 777); XCTAssertEqual(exact.pixelHeight, 333)
    }

    func testSameFigureLooksTheSameAtAnyDPI() throws {
        // Drawing is in points: the 96-dpi render equals the 192-dpi render downsampled 2×2 (up to antialiasing).
        let lo = try RasterImage(png: Fixtures.barChart.render(to: .png, size: .screen(width: 320, height: 220, scale: 1)))
        let hi = try RasterImage(png: Fixtures.barChart.render(to: .png, size: .screen(width: 320, height: 220, scale: 2)))
        var px = [UInt8](repeating: 0, count: lo.width * lo.height * 4)
        for y in 0..<lo.height {
            for x in 0..<lo.width {
                for c in 0..<4 {
                    var s = 0
                    for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] { s += Int(hi.rgba[((2 * y + dy) * hi.width + 2 * x + dx) * 4 + c]) }
                    px[(y * lo.width + x) * 4 + c] = UInt8(s / 4)
                }
            }
        }
        let diff = lo.difference(from: RasterImage(width: lo.width, height: lo.height, rgba: px), tolerance: 64)
        XCTAssertLessThan(diff.differingShare, 0.02, "\(diff)")
    }

    func testSVGAndPDFPhysicalSize() throws {
        let size = FigureSize(widthMM: 89, heightMM: 50, dpi: 300)
        let svg = String(decoding: try Fixtures.histogram.render(to: .svg, size: size), as: UTF8.self)
        // 89 mm = 252.283465 pt, 50 mm = 141.732283 pt.
        XCTAssertTrue(svg.contains("width=\"252.283465pt\" height=\"141.732283pt\""), String(svg.prefix(300)))
        let pdf = String(decoding: try Fixtures.histogram.render(to: .pdf, size: size), as: UTF8.self)
        XCTAssertTrue(pdf.contains("/MediaBox [ 0 0 252.28"), "MediaBox should be 89 mm = 252.28 pt wide")
    }

    func testWriteAtomicallyUsesExtension() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("glassbox-fig-\(ProcessInfo.processInfo.processIdentifier)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("fig.svg").path
        let data = try Fixtures.imageGrid.write(to: path, size: Fixtures.size)
        XCTAssertEqual(try Files.read(path), data)
        // Overwriting an existing figure (a re-run) replaces it.
        let pdfData = try Fixtures.barChart.write(to: path, format: .pdf, size: Fixtures.size)
        XCTAssertEqual(try Files.read(path), pdfData)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["fig.svg"])   // no temp files left
        XCTAssertThrowsError(try Fixtures.imageGrid.write(to: dir.appendingPathComponent("fig.gif").path, size: Fixtures.size)) {
            XCTAssertTrue($0 is GlassboxError)
        }
    }

    func testFigureRoundTripsThroughJSON() throws {
        for (name, fig) in Fixtures.all {
            let enc = JSONEncoder(); enc.outputFormatting = [.sortedKeys]
            let json = try enc.encode(fig)
            let back = try JSONDecoder().decode(Figure.self, from: json)
            XCTAssertEqual(back, fig, name)
            // Re-rendered later at another format and DPI from the stored value.
            XCTAssertEqual(try back.render(to: .pdf, size: .paper(heightMM: 50)), try fig.render(to: .pdf, size: .paper(heightMM: 50)), name)
        }
    }

    func testInvalidFiguresThrowGlassboxErrors() {
        let bad: [Figure] = [
            .barChart(BarChart(categories: ["a", "b"], groups: [BarGroup(name: "g", values: [1])])),
            .heatMap(HeatMap(values: Matrix(rows: 2, columns: 2, values: [1, 2, 3]))),
            .filterGrid(FilterGrid(filters: [FigureImage(channels: 2, height: 1, width: 1, values: [0, 1])])),
            .weightImages(WeightImages(weights: [1, 2, 3], rows: 1, imageHeight: 2, imageWidth: 2)),
            .linePlot(LinePlot(series: [LineSeries(name: "s", x: [1, 2], y: [1])])),
            .histogram(Histogram(series: [HistogramSeries(name: "h", values: [1])], bins: .edges([1, 1]))),
            .imageGrid(ImageGrid(images: [], labels: nil)),
        ]
        for f in bad {
            XCTAssertThrowsError(try f.render(to: .png, size: Fixtures.size)) { XCTAssertTrue($0 is GlassboxError, "\($0)") }
        }
        XCTAssertThrowsError(try Fixtures.barChart.render(to: .png, size: FigureSize(widthMM: 0, heightMM: 10))) {
            XCTAssertTrue($0 is GlassboxError)
        }
        XCTAssertThrowsError(try WeightImages(weight: Tensor(zeros: [3, 10]), imageHeight: 3, imageWidth: 3))
    }
}
