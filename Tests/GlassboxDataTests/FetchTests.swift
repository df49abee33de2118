import Foundation
import XCTest
@testable import GlassboxCore
@testable import GlassboxData

/// Downloads from a loopback HTTP server started by each test, through test-only registry entries.
final class FetchTests: XCTestCase {
    var dir = ""
    var registered: [String] = []
    override func setUpWithError() throws {
        dir = try makeTempDir("fetch")
        ProgressBar.quiet = true
    }
    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: dir)
        registered.forEach(DatasetRegistry.unregister)
    }

    /// A tiny IDX data set (4 gzip files) and its registry entry with the right checksums.
    func makeIDXSet(name: String) throws -> (info: DatasetInfo, bodies: [String: Data]) {
        let names = ["tr-img.gz", "tr-lbl.gz", "te-img.gz", "te-lbl.gz"]
        let bodies: [String: Data] = [
            names[0]: Files.gzip(try IDX.encode((0..<48).map { UInt8($0 * 5) }, dims: [3, 4, 4])),
            names[1]: Files.gzip(try IDX.encode([0, 1, 1], dims: [3])),
            names[2]: Files.gzip(try IDX.encode((0..<32).map { UInt8(255 - $0) }, dims: [2, 4, 4])),
            names[3]: Files.gzip(try IDX.encode([1, 0], dims: [2])),
        ]
        let info = DatasetInfo(name: name, summary: "loopback test set", baseURL: "http://127.0.0.1:9/unused/",
                               files: names.map { RemoteFile(name: $0, sha256: SHA256.hex(bodies[$0]!)) },
                               classNames: ["no", "yes"],
                               format: .idx(trainImages: names[0], trainLabels: names[1], testImages: names[2], testLabels: names[3]))
        DatasetRegistry.register(info)
        registered.append(name)
        return (info, bodies)
    }

    func routes(_ bodies: [String: Data], prefix: String = "/m/") -> [String: LoopbackHTTPServer.Route] {
        Dictionary(uniqueKeysWithValues: bodies.map { (prefix + $0.key, LoopbackHTTPServer.Route(body: $0.value)) })
    }

    func testDownloadsVerifiesAndSkipsPresentFiles() throws {
        let (info, bodies) = try makeIDXSet(name: "loop-good")
        let server = try LoopbackHTTPServer(routes: routes(bodies))
        defer { server.stop() }
        let target = dir + "/loop-good"
        let got = try Fetcher.fetch(name: info.name, into: target, mirror: server.baseURL + "m")   // no trailing slash on purpose
        XCTAssertEqual(got.map(\.action), [.downloaded, .downloaded, .downloaded, .downloaded])
        XCTAssertEqual(got.map(\.sha256), info.files.map(\.sha256))
        XCTAssertEqual(listing(target), info.files.map(\.name).sorted())   // no temporary files left
        for f in info.files { XCTAssertEqual(try Files.read(target + "/" + f.name), bodies[f.name]) }
        XCTAssertEqual(Set(server.requests), Set(bodies.keys.map { "/m/" + $0 }))

        let test = try DatasetRegistry.load(name: info.name, split: .test, directory: target)
        XCTAssertEqual(test.images.shape, [2, 1, 4, 4])
        XCTAssertEqual(test.labels, [1, 0])
        XCTAssertEqual(test.images[0, 0, 0, 0], 1)

        // A second fetch finds every file present with the right checksum and downloads nothing.
        let before = server.requests.count
        let again = try Fetcher.fetch(name: info.name, into: target, mirror: server.baseURL + "m/")
        XCTAssertEqual(again.map(\.action), [.alreadyPresent, .alreadyPresent, .alreadyPresent, .alreadyPresent])
        XCTAssertEqual(server.requests.count, before)

        // A present file with the wrong content is downloaded again and replaced.
        try Data("garbage".utf8).write(to: URL(fileURLWithPath: target + "/te-lbl.gz"))
        let repaired = try Fetcher.fetch(name: info.name, into: target, mirror: server.baseURL + "m/")
        XCTAssertEqual(repaired.map(\.action), [.alreadyPresent, .alreadyPresent, .alreadyPresent, .downloaded])
        XCTAssertEqual(try Files.read(target + "/te-lbl.gz"), bodies["te-lbl.gz"])
        XCTAssertEqual(listing(target), info.files.map(\.name).sorted())
    }

    func testBadChecksumIsRefusedAndDeleted() throws {
        var (info, bodies) = try makeIDXSet(name: "loop-badsum")
        let wrong = String(repeating: "ab", count: 32)
        info.files[0].sha256 = wrong
        DatasetRegistry.register(info)
        let server = try LoopbackHTTPServer(routes: routes(bodies))
        defer { server.stop() }
        let target = dir + "/loop-badsum"
        let actual = SHA256.hex(bodies["tr-img.gz"]!)
        assertThrows(.badFile(path: target + "/tr-img.gz", field: "sha256", expected: wrong,
                              found: "\(actual) (download from \(server.baseURL)m/tr-img.gz refused and deleted)"),
                     try Fetcher.fetch(name: info.name, into: target, mirror: server.baseURL + "m/"))
        XCTAssertEqual(listing(target), [])   // neither the file nor its temporary file
        let message = GlassboxError.badFile(path: target + "/tr-img.gz", field: "sha256", expected: wrong, found: actual).description
        XCTAssertTrue(message.contains(wrong) && message.contains(actual))
    }

    func testDroppedConnectionLeavesNoPartialFile() throws {
        let (info, bodies) = try makeIDXSet(name: "loop-drop")
        var r = routes(bodies)
        // The server announces 4 KiB more than it sends, then closes the connection.
        r["/m/tr-img.gz"]!.announcedLength = bodies["tr-img.gz"]!.count + 4096
        let server = try LoopbackHTTPServer(routes: r)
        defer { server.stop() }
        let target = dir + "/loop-drop"
        guard case let .network(url, reason)? = thrownError(try Fetcher.fetch(name: info.name, into: target, mirror: server.baseURL + "m/"))
        else { return }
        XCTAssertEqual(url, server.baseURL + "m/tr-img.gz")
        XCTAssertTrue(reason.contains("nothing was saved"), reason)
        XCTAssertEqual(listing(target), [])
    }

    func testHTTPErrorAndBadMirror() throws {
        let (info, bodies) = try makeIDXSet(name: "loop-404")
        let server = try LoopbackHTTPServer(routes: routes(bodies, prefix: "/other/"))
        defer { server.stop() }
        let target = dir + "/loop-404"
        assertThrows(.network(url: server.baseURL + "m/tr-img.gz", reason: "HTTP status 404 (expected 200)"),
                     try Fetcher.fetch(name: info.name, into: target, mirror: server.baseURL + "m/"))
        XCTAssertEqual(listing(target), [])
        assertThrows(.invalidArgument(name: "--mirror", expected: "an http:// or https:// URL", found: "ftp://example/"),
                     try Fetcher.fetch(name: info.name, into: target, mirror: "ftp://example"))
    }

    func testConnectionRefused() throws {
        let (info, _) = try makeIDXSet(name: "loop-refused")
        // Take an ephemeral port, then free it: nothing listens there afterwards.
        let server = try LoopbackHTTPServer(routes: [:])
        let base = server.baseURL
        server.stop()
        let target = dir + "/loop-refused"
        guard case let .network(url, _)? = thrownError(try Fetcher.fetch(name: info.name, into: target, mirror: base)) else { return }
        XCTAssertEqual(url, base + "tr-img.gz")
        XCTAssertEqual(listing(target), [])
    }

    /// CIFAR-style: one tar.gz that is verified, kept, and unpacked into the folder.
    func testFetchUnpacksCIFARArchive() throws {
        var archive = TarBuilder.header("cifar-10-batches-bin/", size: 0, type: "5")
        for b in 1...5 { archive += TarBuilder.file("cifar-10-batches-bin/data_batch_\(b).bin", [UInt8](try CIFARTests.batch(b, records: 1))) }
        archive += TarBuilder.file("cifar-10-batches-bin/test_batch.bin", [UInt8](try CIFARTests.batch(0, records: 2)))
        archive += TarBuilder.end()
        let tgz = Files.gzip(Data(archive))
        var info = try DatasetRegistry.info("cifar10")
        info.name = "loop-cifar"
        info.files = [RemoteFile(name: "cifar-10-binary.tar.gz", sha256: SHA256.hex(tgz))]
        DatasetRegistry.register(info)
        registered.append(info.name)
        let server = try LoopbackHTTPServer(routes: ["/kriz/cifar-10-binary.tar.gz": .init(body: tgz)])
        defer { server.stop() }
        let target = dir + "/loop-cifar"
        _ = try Fetcher.fetch(name: info.name, into: target, mirror: server.baseURL + "kriz/")
        XCTAssertEqual(listing(target), ["cifar-10-batches-bin", "cifar-10-binary.tar.gz"])
        let test = try DatasetRegistry.load(name: info.name, split: .test, directory: target)
        XCTAssertEqual(test.labels, [0, 1])
        XCTAssertEqual(try DatasetRegistry.load(name: info.name, split: .train, directory: target).labels, [1, 2, 3, 4, 5])
    }

    /// The progress bar's total comes from the last response's Content-Length (a redirect writes a block of its own).
    func testAnnouncedLengthIsTheLastResponses() throws {
        let path = dir + "/headers.txt"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try "HTTP/1.1 302 Found\r\nContent-Length: 12\r\nLocation: /b\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length:  4096\r\n\r\n"
            .write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertEqual(Curl.announcedLength(path), 4096)
        try "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertNil(Curl.announcedLength(path))
        XCTAssertNil(Curl.announcedLength(dir + "/no-such-file"))
    }

    func testCurlExitCodesReadAsReasons() {
        XCTAssertEqual(Curl.reason(exitCode: 7, stderr: "x", timeout: 60), "could not connect to the server")
        XCTAssertEqual(Curl.reason(exitCode: 28, stderr: "", timeout: 30), "timed out (no connection, or no data for 30 s)")
        XCTAssertEqual(Curl.reason(exitCode: 99, stderr: "curl: (99) odd\n", timeout: 60), "curl exit 99: curl: (99) odd")
        XCTAssertEqual(Curl.reason(exitCode: 99, stderr: "", timeout: 60), "curl exit 99")
    }
}
