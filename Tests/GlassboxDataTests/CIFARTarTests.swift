import Foundation
import XCTest
@testable import GlassboxCore
@testable import GlassboxData

/// Builds a ustar archive byte by byte, independently of the reader under test.
enum TarBuilder {
    static func octal(_ v: Int, width: Int) -> [UInt8] {
        // width-1 octal digits, zero padded, then NUL.
        let s = String(v, radix: 8)
        return Array((String(repeating: "0", count: width - 1 - s.count) + s).utf8) + [0]
    }

    static func header(_ name: String, size: Int, type: Character, prefix: String = "", corruptChecksum: Bool = false) -> [UInt8] {
        var h = [UInt8](repeating: 0, count: 512)
        func put(_ bytes: [UInt8], _ at: Int) { for (i, b) in bytes.enumerated() { h[at + i] = b } }
        put(Array(name.utf8), 0)
        put(octal(0o644, width: 8), 100)
        put(octal(0, width: 8), 108)
        put(octal(0, width: 8), 116)
        put(octal(size, width: 12), 124)
        put(octal(0, width: 12), 136)
        h[156] = type.asciiValue!
        put(Array("ustar".utf8) + [0], 257)
        put(Array("00".utf8), 263)
        put(Array(prefix.utf8), 345)
        for i in 148..<156 { h[i] = 32 }
        let sum = h.reduce(0) { $0 + Int($1) } + (corruptChecksum ? 1 : 0)
        put(octal(sum, width: 7) + [32], 148)
        return h
    }

    static func file(_ name: String, _ content: [UInt8], prefix: String = "") -> [UInt8] {
        header(name, size: content.count, type: "0", prefix: prefix) + content
            + [UInt8](repeating: 0, count: (512 - content.count % 512) % 512)
    }

    static func end() -> [UInt8] { [UInt8](repeating: 0, count: 1024) }
}

final class TarTests: XCTestCase {
    func testReadsHandBuiltArchive() throws {
        let big = (0..<600).map { UInt8($0 % 251) }
        let archive = TarBuilder.header("top/", size: 0, type: "5")
            + TarBuilder.file("top/a.txt", Array("hello\n".utf8))
            + TarBuilder.file("b.bin", big, prefix: "top/deep")
            + TarBuilder.header("top/link", size: 0, type: "2")
            + TarBuilder.file("empty", [])
            + TarBuilder.end()
        XCTAssertEqual(archive.count % 512, 0)
        let entries = try Tar.entries(Data(archive), name: "t.tar")
        XCTAssertEqual(entries.map(\.path), ["top/", "top/a.txt", "top/deep/b.bin", "top/link", "empty"])
        XCTAssertEqual(entries.map(\.kind), [.directory, .file, .file, .other(UInt8(ascii: "2")), .file])
        XCTAssertEqual(entries.map(\.size), [0, 6, 600, 0, 0])
        XCTAssertEqual(entries[1].dataOffset, 1024)
        XCTAssertEqual(entries[2].dataOffset, 2048)

        let dir = try makeTempDir("tar")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let written = try Tar.extract(Data(archive), name: "t.tar", into: dir)
        XCTAssertEqual(written, ["top/a.txt", "top/deep/b.bin", "empty"])
        XCTAssertEqual(try Files.read(dir + "/top/a.txt"), Data("hello\n".utf8))
        XCTAssertEqual(try Files.read(dir + "/top/deep/b.bin"), Data(big))
        XCTAssertEqual(try Files.read(dir + "/empty"), Data())
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/top/link"))
    }

    func testGzippedArchiveThroughReadMaybeGzip() throws {
        let archive = TarBuilder.file("x", [1, 2, 3]) + TarBuilder.end()
        let dir = try makeTempDir("tgz")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Files.writeAtomically(Files.gzip(Data(archive)), to: dir + "/x.tar.gz")
        XCTAssertEqual(try Tar.entries(Files.readMaybeGzip(dir + "/x.tar.gz"), name: "x").map(\.path), ["x"])
    }

    func testBadChecksum() {
        let archive = TarBuilder.header("a", size: 0, type: "0", corruptChecksum: true) + TarBuilder.end()
        guard case let .badFile(path, field, _, found)? = thrownError(try Tar.entries(Data(archive), name: "c.tar")) else { return }
        XCTAssertEqual(path, "c.tar")
        XCTAssertEqual(field, "header at byte 0 checksum")
        XCTAssertTrue(found.contains("corrupt"), found)
    }

    func testTruncatedArchive() {
        let archive = Array(TarBuilder.file("a", [UInt8](repeating: 7, count: 1000)).prefix(512 + 700))
        assertThrows(.badFile(path: "t.tar", field: "entry a", expected: "1000 bytes of data", found: "700 bytes (truncated archive)"),
                     try Tar.entries(Data(archive), name: "t.tar"))
    }

    func testNotATar() {
        let junk = Data((0..<1024).map { UInt8(($0 * 7 + 3) % 256) })
        guard case let .badFile(_, field, _, _)? = thrownError(try Tar.entries(junk, name: "j")) else { return }
        XCTAssertTrue(field.hasPrefix("header at byte 0"), field)
    }

    func testRefusesEscapingPaths() throws {
        let dir = try makeTempDir("esc")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for evil in ["../evil", "/etc/evil", "a/../../evil"] {
            let archive = TarBuilder.file(evil, [1]) + TarBuilder.end()
            assertThrows(.badFile(path: "e.tar", field: "entry \(evil)", expected: "a relative path inside the archive",
                                  found: "a path that escapes the target folder"),
                         try Tar.extract(Data(archive), name: "e.tar", into: dir))
        }
        XCTAssertEqual(listing(dir), [])
    }
}

final class CIFARTests: XCTestCase {
    var dir = ""
    override func setUpWithError() throws { dir = try makeTempDir("cifar") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    /// Record `r` of batch `b`: label (b + r) % 10 and pixel (c, y, x) = (b·7 + r·3 + c·50 + y·5 + x) mod 256.
    static func pixel(_ b: Int, _ r: Int, _ c: Int, _ y: Int, _ x: Int) -> UInt8 { UInt8((b * 7 + r * 3 + c * 50 + y * 5 + x) % 256) }

    static func batch(_ b: Int, records: Int) throws -> Data {
        var px = [UInt8]()
        for r in 0..<records { for c in 0..<3 { for y in 0..<32 { for x in 0..<32 { px.append(pixel(b, r, c, y, x)) } } } }
        return try CIFAR10.encodeBatch(labels: (0..<records).map { UInt8((b + $0) % 10) }, pixels: px)
    }

    /// Writes five 2-record train batches (batch index 1…5) and a 3-record test batch (index 0) into `folder`.
    static func writeAll(into folder: String) throws {
        for b in 1...5 { try Files.writeAtomically(batch(b, records: 2), to: folder + "/data_batch_\(b).bin") }
        try Files.writeAtomically(batch(0, records: 3), to: folder + "/test_batch.bin")
    }

    func testReadsBatchInPlaneOrder() throws {
        try Files.writeAtomically(CIFARTests.batch(4, records: 3), to: dir + "/b.bin")
        XCTAssertEqual(try Files.read(dir + "/b.bin").count, 3 * 3073)
        let (images, labels) = try CIFAR10.readBatch(dir + "/b.bin")
        XCTAssertEqual(images.shape, [3, 3, 32, 32])
        XCTAssertEqual(labels, [4, 5, 6])
        for (r, c, y, x) in [(0, 0, 0, 0), (1, 2, 31, 31), (2, 1, 7, 19), (0, 2, 0, 5)] {
            XCTAssertEqual(images[r, c, y, x], Float(CIFARTests.pixel(4, r, c, y, x)) / 255, "\((r, c, y, x))")
        }
        let first = try CIFAR10.readBatch(dir + "/b.bin", limit: 1)
        XCTAssertEqual(first.images.shape, [1, 3, 32, 32])
        XCTAssertEqual(first.images.scalars, Array(images.scalars.prefix(3072)))
    }

    func testLoadsSplitsWithCanonicalOrMetaClassNames() throws {
        try CIFARTests.writeAll(into: dir)
        let train = try CIFAR10.load(directory: dir, split: .train)
        XCTAssertEqual(train.images.shape, [10, 3, 32, 32])
        XCTAssertEqual(train.labels, [1, 2, 2, 3, 3, 4, 4, 5, 5, 6])   // batches 1…5 in order
        XCTAssertEqual(train.images[9, 1, 3, 4], Float(CIFARTests.pixel(5, 1, 1, 3, 4)) / 255)
        XCTAssertEqual(train.classNames, CIFAR10.canonicalClassNames)
        let limited = try CIFAR10.load(directory: dir, split: .train, limit: 3)
        XCTAssertEqual(limited.labels, [1, 2, 2])
        XCTAssertEqual(limited.images.scalars, Array(train.images.scalars.prefix(3 * 3072)))
        let test = try CIFAR10.load(directory: dir, split: .test)
        XCTAssertEqual(test.labels, [0, 1, 2])

        let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"]
        try Data((names.joined(separator: "\n") + "\n\n").utf8).write(to: URL(fileURLWithPath: dir + "/batches.meta.txt"))
        XCTAssertEqual(try CIFAR10.load(directory: dir, split: .test).classNames, names)
        try Data("only\ntwo\n".utf8).write(to: URL(fileURLWithPath: dir + "/batches.meta.txt"))
        assertThrows(.badFile(path: dir + "/batches.meta.txt", field: "class names", expected: "10 non-empty lines", found: "2"),
                     try CIFAR10.load(directory: dir, split: .test))
    }

    func testTruncatedBatch() throws {
        let d = try CIFARTests.batch(1, records: 2)
        try d.prefix(3073 + 100).write(to: URL(fileURLWithPath: dir + "/t.bin"))
        guard case let .badFile(path, field, expected, found)? = thrownError(try CIFAR10.readBatch(dir + "/t.bin")) else { return }
        XCTAssertEqual(path, dir + "/t.bin")
        XCTAssertEqual(field, "size")
        XCTAssertTrue(expected.hasPrefix("a multiple of 3073 bytes"), expected)
        XCTAssertTrue(found.hasPrefix("3173 bytes (1 whole records and 100 bytes left over"), found)
    }

    func testEmptyBatchAndBadLabel() throws {
        _ = FileManager.default.createFile(atPath: dir + "/e.bin", contents: Data())
        assertThrows(.badFile(path: dir + "/e.bin", field: "size", expected: "a positive multiple of 3073 bytes", found: "an empty file"),
                     try CIFAR10.readBatch(dir + "/e.bin"))
        var d = try CIFARTests.batch(1, records: 2)
        d[3073] = 12
        try d.write(to: URL(fileURLWithPath: dir + "/l.bin"))
        assertThrows(.badFile(path: dir + "/l.bin", field: "label of record 1", expected: "a class index 0…9", found: "12"),
                     try CIFAR10.readBatch(dir + "/l.bin"))
    }

    func testMissingBatchNamesFile() throws {
        try Files.writeAtomically(CIFARTests.batch(1, records: 1), to: dir + "/data_batch_1.bin")
        guard case let .missingFile(path, hint)? = thrownError(try CIFAR10.load(directory: dir, split: .train)) else { return }
        XCTAssertEqual(path, dir + "/data_batch_2.bin")
        XCTAssertTrue(hint.contains("cifar-10-batches-bin"), hint)
    }

    /// The official archive layout: a tar.gz with everything under `cifar-10-batches-bin/`, unpacked by the tar
    /// reader and then found by the registry through that subfolder.
    func testUnpackedArchiveLoadsThroughRegistry() throws {
        var archive = TarBuilder.header("cifar-10-batches-bin/", size: 0, type: "5")
        for b in 1...5 { archive += TarBuilder.file("cifar-10-batches-bin/data_batch_\(b).bin", [UInt8](try CIFARTests.batch(b, records: 2))) }
        archive += TarBuilder.file("cifar-10-batches-bin/test_batch.bin", [UInt8](try CIFARTests.batch(0, records: 3)))
        archive += TarBuilder.file("cifar-10-batches-bin/batches.meta.txt", Array((CIFAR10.canonicalClassNames.joined(separator: "\n") + "\n").utf8))
        archive += TarBuilder.end()
        try Files.writeAtomically(Files.gzip(Data(archive)), to: dir + "/c.tar.gz")
        try Tar.extract(Files.readMaybeGzip(dir + "/c.tar.gz"), name: "c.tar.gz", into: dir)
        let test = try DatasetRegistry.load(name: "cifar10", split: .test, directory: dir)
        XCTAssertEqual(test.images.shape, [3, 3, 32, 32])
        XCTAssertEqual(test.classNames, CIFAR10.canonicalClassNames)
        XCTAssertEqual(try DatasetRegistry.load(name: "cifar10", split: .train, limit: 4, directory: dir).labels, [1, 2, 2, 3])
    }
}
