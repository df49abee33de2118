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
}
