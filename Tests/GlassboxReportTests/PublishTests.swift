import Foundation
import XCTest
import GlassboxTestSupport
@testable import GlassboxCore
@testable import GlassboxReport

final class PublishTests: XCTestCase {
    var dir = ""
    override func setUpWithError() throws { dir = try makeTempDir("publish") }
    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    func publish(_ name: String, zip: Bool = true, runs: [String]? = nil) throws -> (PublishSummary, String) {
        let (site, _, _) = try DiffFixture.runs()
        var o = PublishOptions(out: (dir as NSString).appendingPathComponent(name))
        o.siteRoot = site
        o.runs = runs ?? []
        o.title = "Results <&> \"tiny\""
        if zip { o.zip = (dir as NSString).appendingPathComponent("\(name).zip") }
        return (try Publisher.publish(o), o.out)
    }

    /// Every `href`/`src` of every page names a file of the site (fragments aside); nothing names a network address.
    func testEveryLinkResolvesAndNothingIsFetched() throws {
        let (s, out) = try publish("public")
        XCTAssertEqual(s.runs, ["runs/tiny/default", "runs/tiny/epochs-2"])
        XCTAssertEqual(s.diffs, ["diffs/tiny/default--epochs-2.html"])
        XCTAssertEqual(allFiles(out).filter { !$0.hasPrefix(".") }, s.files)
        XCTAssertFalse(s.files.contains { $0.contains("/cells/") }, "the cell cache was published")
        XCTAssertTrue(s.files.contains("runs/tiny/default/run.json"))
        XCTAssertTrue(s.files.contains("runs/tiny/epochs-2/figures/fig-curves.png"))
        XCTAssertTrue(s.files.contains("diffs/tiny/default--epochs-2-figures/fig-curves-diff.png"))
        var checked = 0
        for page in s.files where page.hasSuffix(".html") {
            let html = try readText((out as NSString).appendingPathComponent(page))
            let links = [("a", "href"), ("img", "src"), ("link", "href"), ("script", "src")].flatMap { attributeValues(html, tag: $0.0, attr: $0.1) }
            for link in links {
                XCTAssertFalse(link.contains(":"), "\(page): \(link) is not a relative link")
                let path = String(link.prefix { $0 != "#" })
                if path.isEmpty { continue }
                let target = URL(fileURLWithPath: ((out as NSString).appendingPathComponent(page) as NSString).deletingLastPathComponent)
                    .appendingPathComponent(path).standardizedFileURL.path
                XCTAssertTrue(target.hasPrefix(out + "/"), "\(page): \(link) leaves the site")
                XCTAssertTrue(FileManager.default.fileExists(atPath: target), "\(page): \(link) is missing")
                checked += 1
            }
        }
        XCTAssertGreaterThan(checked, 15)
        for f in s.files {
            let data = try Files.read((out as NSString).appendingPathComponent(f))
            for needle in ["http://", "https://"] { XCTAssertNil(data.range(of: Data(needle.utf8)), "\(f) contains \(needle)") }
        }
        // The index lists both runs with their metrics and links the diff; the title is escaped.
        let index = try readText((out as NSString).appendingPathComponent("index.html"))
        XCTAssertTrue(index.contains("<title>Results &lt;&amp;&gt; &quot;tiny&quot;</title>"), index)
        XCTAssertTrue(index.contains("href=\"runs/tiny/epochs-2/index.html\""))
        XCTAssertTrue(index.contains("href=\"diffs/tiny/default--epochs-2.html\""))
        XCTAssertTrue(index.contains("epochs=2"))
        let diffPage = try readText((out as NSString).appendingPathComponent(s.diffs[0]))
        XCTAssertTrue(diffPage.contains("href=\"../../runs/tiny/default/index.html\""))
    }

    func testPublishingTwiceGivesTheSameBytesAndAValidZip() throws {
        let (s1, out1) = try publish("one")
        let (s2, out2) = try publish("two")
        // Publishing again into the same folder replaces it with the same bytes.
        let (s3, out3) = try publish("one")
        XCTAssertEqual(s1.files, s2.files)
        XCTAssertEqual(s1.files, s3.files)
        XCTAssertEqual(out1, out3)
        for f in s1.files {
            XCTAssertEqual(try Files.read((out1 as NSString).appendingPathComponent(f)), try Files.read((out2 as NSString).appendingPathComponent(f)), f)
        }
        let zip1 = try Files.read(try XCTUnwrap(s1.zip)), zip2 = try Files.read(try XCTUnwrap(s2.zip))
        XCTAssertEqual(zip1, zip2)
        // The zip holds exactly the site's files, sorted, each with the right bytes and CRC.
        let entries = try readZip(zip1)
        XCTAssertEqual(entries.map(\.name), s1.files)
        for e in entries {
            XCTAssertEqual(e.data, try Files.read((out1 as NSString).appendingPathComponent(e.name)), e.name)
        }
        XCTAssertTrue(entries.contains { $0.method == 8 }, "nothing was deflated")
        // And unzip, when installed, agrees.
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/unzip") {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/unzip")
            p.arguments = ["-tq", try XCTUnwrap(s1.zip)]
            p.standardOutput = FileHandle.nullDevice
            try p.run(); p.waitUntilExit()
            XCTAssertEqual(p.terminationStatus, 0)
        }
    }

    func testZipWriterKnownAnswers() throws {
        XCTAssertEqual(ZipWriter.crc32(Data("123456789".utf8)), 0xCBF4_3926)
        let text = Data(String(repeating: "glassbox ", count: 200).utf8)
        let zip = try ZipWriter.archive([.init(name: "a.txt", data: Data("hi".utf8)), .init(name: "dir/b.txt", data: text)])
        let entries = try readZip(zip)
        XCTAssertEqual(entries.map(\.name), ["a.txt", "dir/b.txt"])
        XCTAssertEqual(entries.map(\.method), [0, 8])   // too short to shrink; repetitive text deflates
        XCTAssertEqual(entries[1].data, text)
        // Local header: signature, version 20, UTF-8 flag, stored, 1980-01-01 00:00.
        XCTAssertEqual(Array(zip.prefix(14)), [0x50, 0x4B, 0x03, 0x04, 20, 0, 0x00, 0x08, 0, 0, 0, 0, 0x21, 0])
        XCTAssertThrowsError(try ZipWriter.archive([.init(name: "../x", data: Data())]))
        XCTAssertThrowsError(try ZipWriter.archive([.init(name: "x", data: Data()), .init(name: "x", data: Data())]))
    }

    func testOutputFolderIsGuardedAndBadRunsWriteNothing() throws {
        let (site, a, _) = try DiffFixture.runs()
        // A folder with someone else's files is refused, untouched.
        let other = (dir as NSString).appendingPathComponent("other")
        try write("keep me", to: (other as NSString).appendingPathComponent("notes.txt"))
        var o = PublishOptions(out: other)
        o.siteRoot = site
        XCTAssertThrowsError(try Publisher.publish(o)) { e in XCTAssertTrue("\(e)".contains("made by glassbox publish"), "\(e)") }
        XCTAssertEqual(allFiles(other), ["notes.txt"])
        // Inside a run folder, or around one: refused.
        for bad in [(a as NSString).appendingPathComponent("public"), site] {
            o.out = bad
            XCTAssertThrowsError(try Publisher.publish(o)) { e in XCTAssertTrue("\(e)".contains("run folder"), "\(e)") }
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: (a as NSString).appendingPathComponent("public")))
        // A run with a path traversal: refused before anything is written, in the output or beside it.
        let evil = try DiffFixture.copy(a, into: dir, name: "evil")
        let path = (evil as NSString).appendingPathComponent("run.json")
        var object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Files.read(path)) as? [String: Any])
        var figs = object["figures"] as! [[String: Any]]
        figs[1]["json"] = "../../../etc/passwd"
        object["figures"] = figs
        try Files.writeAtomically(try JSONSerialization.data(withJSONObject: object), to: path)
        let before = allFiles(dir)
        o.out = (dir as NSString).appendingPathComponent("public")
        o.runs = [a, evil]
        o.zip = (dir as NSString).appendingPathComponent("public.zip")
        XCTAssertThrowsError(try Publisher.publish(o)) { e in
            XCTAssertTrue("\(e)".contains("figures[1].json: expected a relative path inside the run folder, found \"../../../etc/passwd\""), "\(e)")
        }
        XCTAssertEqual(allFiles(dir), before)
        // Two folders of the same run collide.
        o.runs = [a, try DiffFixture.copy(a, into: dir, name: "again")]
        XCTAssertThrowsError(try Publisher.publish(o)) { e in XCTAssertTrue("\(e)".contains("both publish to runs/tiny/default"), "\(e)") }
        // A successful publish writes only inside --out (and the zip asked for).
        o.runs = []
        let outside = allFiles(dir).filter { !$0.hasPrefix("public/") }
        let s = try Publisher.publish(o)
        XCTAssertEqual(allFiles(dir).filter { !$0.hasPrefix("public/") }.sorted(), (outside + ["public.zip"]).sorted())
        XCTAssertEqual(allFiles(o.out).filter { $0 != Publisher.marker }, s.files)
    }

    /// Headless Chromium opens the index and the diff page from file:// and asks only for files that exist.
    func testChromiumLoadsTheSiteWithoutMissingFiles() throws {
        let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let chromium else { throw XCTSkip("chromium is not installed") }
        let (s, out) = try publish("browse", zip: false)
        let index = try chromiumRequestedFiles(chromium, page: (out as NSString).appendingPathComponent("index.html"), scratch: dir)
        XCTAssertTrue(index.dom.contains("tiny.md"), String(index.dom.prefix(500)))
        for f in index.files { XCTAssertTrue(FileManager.default.fileExists(atPath: f), "missing: \(f)") }
        let diff = try chromiumRequestedFiles(chromium, page: (out as NSString).appendingPathComponent(s.diffs[0]), scratch: dir)
        XCTAssertTrue(diff.dom.contains("fig-curves"), String(diff.dom.prefix(500)))
        for f in diff.files { XCTAssertTrue(FileManager.default.fileExists(atPath: f), "missing: \(f)") }
        if !diff.files.isEmpty {   // this chromium logs file loads: the difference maps were among them
            XCTAssertTrue(diff.files.contains { $0.hasSuffix("fig-curves-diff.png") }, "\(diff.files)")
        }
    }
}

/// Reads a zip (no zip64) through its central directory, checking every local header and CRC.
func readZip(_ zip: Data) throws -> [(name: String, method: Int, data: Data)] {
    let b = [UInt8](zip)
    func u16(_ i: Int) -> Int { Int(b[i]) | Int(b[i + 1]) << 8 }
    func u32(_ i: Int) -> Int { u16(i) | u16(i + 2) << 16 }
    let eocd = b.count - 22
    guard eocd >= 0, u32(eocd) == 0x0605_4B50 else { throw GlassboxError.message("no end of central directory") }
    let count = u16(eocd + 10)
    var p = u32(eocd + 16)
    var out: [(String, Int, Data)] = []
    for _ in 0..<count {
        guard u32(p) == 0x0201_4B50 else { throw GlassboxError.message("bad central header at \(p)") }
        let method = u16(p + 10), crc = u32(p + 16), csize = u32(p + 20), usize = u32(p + 24), nlen = u16(p + 28)
        let elen = u16(p + 30), clen = u16(p + 32), offset = u32(p + 42)
        let name = String(decoding: b[(p + 46)..<(p + 46 + nlen)], as: UTF8.self)
        guard u32(offset) == 0x0403_4B50, u16(offset + 8) == method, u32(offset + 14) == crc else { throw GlassboxError.message("bad local header for \(name)") }
        let start = offset + 30 + u16(offset + 26) + u16(offset + 28)
        let body = Data(b[start..<(start + csize)])
        let data: Data
        if method == 0 { data = body } else {
            // Raw deflate → wrap as gzip with a made-up header and trailer so Files.gunzip can read it.
            var g = Data([0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 3]) + body
            for v in [UInt32(crc), UInt32(usize)] { for s in stride(from: 0, to: 32, by: 8) { g.append(UInt8(v >> UInt32(s) & 0xFF)) } }
            data = try Files.gunzip(g, name: name)
        }
        guard data.count == usize, Int(ZipWriter.crc32(data)) == crc else { throw GlassboxError.message("bad data for \(name)") }
        out.append((name, method, data))
        p += 46 + nlen + elen + clen
    }
    return out
}
