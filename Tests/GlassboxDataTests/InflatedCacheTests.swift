import Foundation
import XCTest
import GlassboxCore
@testable import GlassboxData

/// The cache of inflated gzip files: a hit gives the same data as the source, an edited source is never answered
/// from an old entry, a damaged entry is ignored and replaced, and `GLASSBOX_CACHE_DIR=off` writes nothing.
final class InflatedCacheTests: XCTestCase {
    private var dir = ""

    override func setUp() {
        dir = (NSTemporaryDirectory() as NSString).appendingPathComponent("glassbox-inflated-\(UUID().uuidString)")
        setenv("GLASSBOX_CACHE_DIR", dir + "/cache", 1)
    }

    override func tearDown() {
        unsetenv("GLASSBOX_CACHE_DIR")
        try? FileManager.default.removeItem(atPath: dir)
    }

    private func entries() -> [String] { (try? FileManager.default.contentsOfDirectory(atPath: dir + "/cache/inflated")) ?? [] }

    private func writeImages(_ seed: UInt8, to path: String) throws -> [UInt8] {
        let pixels = (0..<(5 * 3 * 4)).map { UInt8(truncatingIfNeeded: Int($0) * 37 + Int(seed)) }
        try IDX.writeImages(pixels, count: 5, rows: 3, columns: 4, to: path, gzip: true)
        return pixels
    }

    func testHitsMatchTheSourceAndEditsAreNotServedStale() throws {
        let path = dir + "/images.gz"
        let first = try writeImages(1, to: path)
        let a = try IDX.readImages(path)
        XCTAssertEqual(entries().count, 1, "the first read stores the inflated file")
        let entry = try XCTUnwrap(InflatedCache.entryPath(for: path))
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: entry)), try IDX.encode(first, dims: [5, 3, 4]))
        let b = try IDX.readImages(path)
        XCTAssertEqual(a.tensor.scalars, b.tensor.scalars)
        XCTAssertEqual(a.tensor.scalars, first.map { Float($0) / 255 })
        // A new version of the file (other pixels) has its own key: it is read from the source, not the old entry.
        Thread.sleep(forTimeInterval: 0.01)
        let second = try writeImages(2, to: path)
        XCTAssertNotEqual(InflatedCache.entryPath(for: path), entry)
        XCTAssertEqual(try IDX.readImages(path).tensor.scalars, second.map { Float($0) / 255 })
    }

    func testDamagedEntriesAreIgnoredAndReplaced() throws {
        let path = dir + "/images.gz"
        let pixels = try writeImages(3, to: path)
        _ = try IDX.readImages(path)
        let entry = try XCTUnwrap(InflatedCache.entryPath(for: path))
        for damage in [Data([1, 2, 3]), try IDX.encode(Array(pixels.prefix(24)), dims: [2, 3, 4]), Files.gzip(Data(count: 76))] {
            try damage.write(to: URL(fileURLWithPath: entry))
            XCTAssertEqual(try IDX.readImages(path).tensor.scalars, pixels.map { Float($0) / 255 })
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: entry)), try IDX.encode(pixels, dims: [5, 3, 4]), "rewritten")
        }
    }

    func testOffWritesNothingAndRawFilesAreNotCached() throws {
        let path = dir + "/images.gz"
        let pixels = try writeImages(4, to: path)
        setenv("GLASSBOX_CACHE_DIR", "off", 1)
        XCTAssertNil(InflatedCache.directory)
        XCTAssertEqual(try IDX.readImages(path).tensor.scalars, pixels.map { Float($0) / 255 })
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/cache"))
        setenv("GLASSBOX_CACHE_DIR", dir + "/cache", 1)
        try IDX.writeImages(pixels, count: 5, rows: 3, columns: 4, to: dir + "/raw-images", gzip: false)
        _ = try IDX.readImages(dir + "/raw-images")
        XCTAssertEqual(entries(), [], "an uncompressed file is read as is")
    }
}
