import Foundation
import XCTest
@testable import GlassboxCore
@testable import GlassboxData

/// A small gzip file can inflate to gigabytes: inflating stops at the cap, and an IDX file is refused from its
/// header before its data are inflated (issue 12).
final class DecompressionLimitTests: XCTestCase {
    var dir = ""
    override func setUpWithError() throws { dir = try makeTempDir("gzip-limit") }
    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: dir)
        unsetenv("GLASSBOX_MAX_DECOMPRESSED_BYTES")
    }

    func path(_ name: String) -> String { (dir as NSString).appendingPathComponent(name) }

    /// `count` gzip members of 16 MiB of zeros each (about 16 KB compressed per member), after `head`.
    func bomb(head: Data, members count: Int) -> Data {
        var out = Files.gzip(head)
        let zeros = Files.gzip(Data(count: 16 << 20), level: 9)
        for _ in 0..<count { out.append(zeros) }
        return out
    }

    func testGunzipStopsAtTheLimit() throws {
        let data = bomb(head: Data([1, 2, 3]), members: 4)   // 64 MiB + 3 bytes inflated
        XCTAssertLessThan(data.count, 300_000)
        let (prefix, complete) = try Files.gunzip(data, name: "z", upTo: 10)
        XCTAssertFalse(complete)
        XCTAssertEqual(prefix, Data([1, 2, 3] + [UInt8](repeating: 0, count: 7)))
        let (all, done) = try Files.gunzip(data, name: "z", upTo: 64 << 21)
        XCTAssertTrue(done)
        XCTAssertEqual(all.count, (64 << 20) + 3)
        setenv("GLASSBOX_MAX_DECOMPRESSED_BYTES", "1000000", 1)
        XCTAssertThrowsError(try Files.gunzip(data, name: "z")) { e in
            XCTAssertEqual("\(e)", "z: gzip: expected at most 1000000 bytes once decompressed (raise the limit with GLASSBOX_MAX_DECOMPRESSED_BYTES=N), found more")
        }
    }

    /// The reproducer: a gzip IDX of about 1 MB that declares (and would inflate to) 1 GiB. Refused from its header,
    /// before inflating the data.
    func testIDXHeaderOverTheCapIsRefusedBeforeInflating() throws {
        var header = Data([0, 0, 8, 3])
        for d in [1, 32768, 32768] as [UInt32] { header.append(contentsOf: [UInt8(d >> 24), UInt8(d >> 16 & 0xFF), UInt8(d >> 8 & 0xFF), UInt8(d & 0xFF)]) }
        try bomb(head: header, members: 64).write(to: URL(fileURLWithPath: path("images.gz")))
        let start = Date()
        XCTAssertThrowsError(try IDX.readImages(path("images.gz"))) { e in
            XCTAssertTrue("\(e)".hasPrefix("\(self.path("images.gz")): size: expected at most 1073741824 bytes once decompressed (raise the limit with GLASSBOX_MAX_DECOMPRESSED_BYTES=N), found a header for 1073741840 bytes"), "\(e)")
        }
        XCTAssertLessThan(Date().timeIntervalSince(start), 1.0)
    }

    /// A small header followed by a gigabyte of data: inflating stops just past the declared size.
    func testIDXWithMoreDataThanDeclaredStopsAtTheDeclaredSize() throws {
        var header = Data([0, 0, 8, 1, 0, 0, 0, 3])
        header.append(contentsOf: [1, 2, 3])
        try bomb(head: header, members: 64).write(to: URL(fileURLWithPath: path("labels.gz")))
        let start = Date()
        XCTAssertThrowsError(try IDX.readLabels(path("labels.gz"))) { e in
            XCTAssertEqual("\(e)", "\(self.path("labels.gz")): size: expected 11 bytes (8-byte header + 3), found more once decompressed (extra bytes)")
        }
        XCTAssertLessThan(Date().timeIntervalSince(start), 1.0)
    }

    func testExactGzipIDXStillReads() throws {
        try IDX.writeLabels([4, 5, 6], to: path("ok.gz"), gzip: true)
        XCTAssertEqual(try IDX.readLabels(path("ok.gz")), [4, 5, 6])
        // Truncated: one byte short of the declared size.
        try Files.gzip(IDX.encode([4, 5, 6], dims: [3]).dropLast()).write(to: URL(fileURLWithPath: path("short.gz")))
        XCTAssertThrowsError(try IDX.readLabels(path("short.gz"))) { e in XCTAssertTrue("\(e)".contains("truncated file, 1 bytes missing"), "\(e)") }
    }
}
