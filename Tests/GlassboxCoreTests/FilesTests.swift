import Foundation
import XCTest
@testable import GlassboxCore

final class FilesTests: XCTestCase {
    func testWriteAtomicallyCreatesAndReplaces() throws {
        let dir = (NSTemporaryDirectory() as NSString).appendingPathComponent("glassbox-files-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/sub/f.bin"
        try Files.writeAtomically(Data("first".utf8), to: path)
        XCTAssertEqual(try Files.read(path), Data("first".utf8))
        try Files.writeAtomically(Data("second, longer".utf8), to: path)
        XCTAssertEqual(try Files.read(path), Data("second, longer".utf8))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir + "/sub"), ["f.bin"])   // no temp file left
    }

    func testGzipRoundTrip() throws {
        let data = Data((0..<10_000).map { UInt8($0 % 7) })
        let z = Files.gzip(data)
        XCTAssertTrue(Files.isGzip(z))
        XCTAssertLessThan(z.count, data.count)
        XCTAssertEqual(try Files.gunzip(z, name: "z"), data)
    }

    func testCRC32CheckValueAndGzipTrailer() throws {
        XCTAssertEqual(Files.crc32(Data("123456789".utf8)), 0xCBF4_3926)   // the standard check value of CRC-32
        let data = Data((0..<5000).map { UInt8($0 % 251) })
        let path = NSTemporaryDirectory() + "/glassbox-trailer-\(UUID().uuidString).gz"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Files.gzip(data).write(to: URL(fileURLWithPath: path))
        let trailer = try XCTUnwrap(Files.gzipTrailer(path))
        XCTAssertEqual(trailer.crc, Files.crc32(data))
        XCTAssertEqual(trailer.size, 5000)
        try Data([0x1f, 0x8b, 8]).write(to: URL(fileURLWithPath: path))
        XCTAssertNil(Files.gzipTrailer(path), "too short for a gzip file")
    }
}
