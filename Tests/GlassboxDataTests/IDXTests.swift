import Foundation
import XCTest
@testable import GlassboxCore
@testable import GlassboxData

final class IDXTests: XCTestCase {
    var dir = ""
    override func setUpWithError() throws { dir = try makeTempDir("idx") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    func path(_ name: String) -> String { (dir as NSString).appendingPathComponent(name) }

    /// 3 images of 2×4 pixels with distinct known bytes, including 0 and 255.
    let pixels: [UInt8] = (0..<24).map { UInt8(($0 * 11) % 256) } + []
    let labels: [UInt8] = [7, 0, 9]

    func writeSample(gzip: Bool, images: String = "img", labels labelName: String = "lbl") throws -> (String, String) {
        var px = pixels
        px[5] = 255
        try IDX.writeImages(px, count: 3, rows: 2, columns: 4, to: path(images), gzip: gzip)
        try IDX.writeLabels(labels, to: path(labelName), gzip: gzip)
        return (path(images), path(labelName))
    }

    func checkRoundTrip(gzip: Bool) throws {
        let (ip, lp) = try writeSample(gzip: gzip)
        let raw = try Files.read(ip)
        XCTAssertEqual(Files.isGzip(raw), gzip)
        let ds = try IDX.loadDataset(name: "toy", imagesPath: ip, labelsPath: lp, classNames: (0...9).map(String.init))
        XCTAssertEqual(ds.images.shape, [3, 1, 2, 4])
        XCTAssertEqual(ds.labels, [7, 0, 9])
        var px = pixels
        px[5] = 255
        XCTAssertEqual(ds.images.scalars, px.map { Float($0) / 255 })
        XCTAssertEqual(ds.images[0, 0, 0, 0], 0)
        XCTAssertEqual(ds.images[0, 0, 1, 1], 1)          // byte 255 → exactly 1
        XCTAssertEqual(ds.images[2, 0, 1, 3], Float(253) / 255)   // 23·11 = 253
        // limit keeps the first images only.
        let two = try IDX.loadDataset(name: "toy", imagesPath: ip, labelsPath: lp, classNames: (0...9).map(String.init), limit: 2)
        XCTAssertEqual(two.images.shape, [2, 1, 2, 4])
        XCTAssertEqual(two.labels, [7, 0])
        XCTAssertEqual(two.images.scalars, Array(ds.images.scalars[0..<16]))
    }

    func testRoundTripRaw() throws { try checkRoundTrip(gzip: false) }
    func testRoundTripGzip() throws { try checkRoundTrip(gzip: true) }

    func testHeaderBytesAreBigEndianIDX() throws {
        let d = try IDX.encode([1, 2, 3, 4, 5, 6], dims: [1, 2, 3])
        XCTAssertEqual([UInt8](d), [0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6])
    }

    func testTruncatedImages() throws {
        let (ip, _) = try writeSample(gzip: false)
        let d = try Files.read(ip)
        try d.prefix(d.count - 5).write(to: URL(fileURLWithPath: ip))
        assertThrows(.badFile(path: ip, field: "size", expected: "40 bytes (16-byte header + 3×2×4)",
                              found: "35 bytes (truncated file, 5 bytes missing)"), try IDX.readImages(ip))
    }

    func testTruncatedGzippedImages() throws {
        // Truncated *after* decompression: a complete gzip stream of a short IDX payload.
        let short = try IDX.encode(pixels, dims: [3, 2, 4]).dropLast(8)
        try Files.writeAtomically(Files.gzip(Data(short)), to: path("img.gz"))
        assertThrows(.badFile(path: path("img.gz"), field: "size", expected: "40 bytes (16-byte header + 3×2×4)",
                              found: "32 bytes (truncated file, 8 bytes missing)"), try IDX.readImages(path("img.gz")))
    }

    func testTruncatedHeader() throws {
        try Data([0, 0, 8, 3, 0, 0]).write(to: URL(fileURLWithPath: path("h")))
        assertThrows(.badFile(path: path("h"), field: "header", expected: "16 header bytes", found: "6 bytes (truncated file)"),
                     try IDX.readImages(path("h")))
    }

    func testExtraBytes() throws {
        let (_, lp) = try writeSample(gzip: false)
        var d = try Files.read(lp)
        d.append(contentsOf: [1, 2])
        try d.write(to: URL(fileURLWithPath: lp))
        assertThrows(.badFile(path: lp, field: "size", expected: "11 bytes (8-byte header + 3)", found: "13 bytes (2 extra bytes)"),
                     try IDX.readLabels(lp))
    }

    func testWrongMagic() throws {
        // A PNG signature is not an IDX file.
        try Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]).write(to: URL(fileURLWithPath: path("x")))
        assertThrows(.badFile(path: path("x"), field: "magic", expected: "0x00000803 (idx3 unsigned-byte images)", found: "0x89504E47"),
                     try IDX.readImages(path("x")))
    }

    func testLabelsFileGivenAsImages() throws {
        let (_, lp) = try writeSample(gzip: true)
        assertThrows(.badFile(path: lp, field: "magic", expected: "0x00000803 (idx3 unsigned-byte images)",
                              found: "0x00000801 (1 dimensions)"), try IDX.readImages(lp))
    }

    func testWrongDataType() throws {
        var d = try IDX.encode(pixels, dims: [3, 2, 4])
        d[2] = 0x0D   // float
        try d.write(to: URL(fileURLWithPath: path("f")))
        assertThrows(.badFile(path: path("f"), field: "data type", expected: "0x08 (unsigned byte)", found: "0x0D"),
                     try IDX.readImages(path("f")))
    }

    func testImageLabelCountMismatch() throws {
        let (ip, lp) = try writeSample(gzip: false)
        try IDX.writeLabels([1, 2], to: lp)
        assertThrows(.badFile(path: lp, field: "count", expected: "3 labels (one per image in \(ip))", found: "2 labels"),
                     try IDX.loadDataset(name: "t", imagesPath: ip, labelsPath: lp, classNames: (0...9).map(String.init)))
    }

    func testLabelOutOfRange() throws {
        let (ip, lp) = try writeSample(gzip: false)
        assertThrows(.badFile(path: lp, field: "label[0]", expected: "a class index below 5", found: "7"),
                     try IDX.loadDataset(name: "t", imagesPath: ip, labelsPath: lp, classNames: ["a", "b", "c", "d", "e"]))
    }

    func testCorruptGzip() throws {
        let (ip, _) = try writeSample(gzip: true)
        var d = try Files.read(ip)
        XCTAssertTrue(Files.isGzip(d))
        for i in 10..<min(d.count - 8, 30) { d[i] ^= 0x5A }   // scramble the deflate stream after the gzip header
        try d.write(to: URL(fileURLWithPath: ip))
        guard case let .badFile(p, field, expected, found)? = thrownError(try IDX.readImages(ip)) else { return }
        XCTAssertEqual(p, ip)
        XCTAssertEqual(field, "gzip")
        XCTAssertEqual(expected, "a complete gzip stream")
        XCTAssertTrue(found.contains("corrupt") || found.contains("truncated"), found)
    }

    func testTruncatedGzipStream() throws {
        let (ip, _) = try writeSample(gzip: true)
        let d = try Files.read(ip)
        try d.prefix(d.count / 2).write(to: URL(fileURLWithPath: ip))
        assertThrows(.badFile(path: ip, field: "gzip", expected: "a complete gzip stream", found: "the stream ends early (truncated file)"),
                     try IDX.readImages(ip))
    }

    func testEmptyFile() throws {
        _ = FileManager.default.createFile(atPath: path("empty"), contents: Data())
        assertThrows(.badFile(path: path("empty"), field: "header", expected: "an IDX header of 16 bytes (idx3 unsigned-byte images)",
                              found: "an empty file"), try IDX.readImages(path("empty")))
    }

    func testMissingFile() {
        assertThrows(.missingFile(path: path("nope"), hint: ""), try IDX.readLabels(path("nope")))
    }

    func testNegativeLimit() throws {
        let (ip, lp) = try writeSample(gzip: false)
        assertThrows(.invalidArgument(name: "limit", expected: "a count ≥ 0", found: "-1"),
                     try IDX.loadDataset(name: "t", imagesPath: ip, labelsPath: lp, classNames: (0...9).map(String.init), limit: -1))
    }
}
