import Foundation
import XCTest
import GlassboxTestSupport
@testable import GlassboxCore
@testable import GlassboxReport

/// `glassbox diff` and `glassbox publish` through the built binary: output, exit status 3 for a failed gate.
final class DiffCLITests: XCTestCase {
    var dir = ""
    override func setUpWithError() throws { dir = try makeTempDir("diff-cli") }
    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    /// `.build/<config>/glassbox`, next to the test bundle; skips when it is not built.
    func binary() throws -> String {
        let bundle = Bundle(for: DiffCLITests.self).bundleURL
        let candidates = [bundle, bundle.deletingLastPathComponent(), bundle.deletingLastPathComponent().deletingLastPathComponent()]
            .map { $0.appendingPathComponent("glassbox").path }
        guard let b = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw XCTSkip("glassbox binary not built beside the tests")
        }
        return b
    }

    func run(_ args: [String]) throws -> (status: Int32, out: String, err: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try binary())
        p.arguments = args
        p.currentDirectoryURL = URL(fileURLWithPath: dir)
        let out = Pipe(), err = Pipe()
        p.standardOutput = out; p.standardError = err
        try p.run()
        nonisolated(unsafe) var e = Data()
        let reader = Thread { e = err.fileHandleForReading.readDataToEndOfFile() }
        reader.start()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        while !reader.isFinished { usleep(10_000) }
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }

    func testDiffExitStatusAndPublish() throws {
        let (site, a, b) = try DiffFixture.runs()
        _ = try binary()
        let d = try RunDiff.compare(try RunFolder.load(a), try RunFolder.load(b))
        let ok = try run(["diff", a, b, "--format", "md"])
        XCTAssertEqual(ok.status, 0, ok.err)
        XCTAssertTrue(ok.out.hasPrefix("## Glassbox diff: "), ok.out)
        // A gate on a metric that got worse fails with status 3 (reversed runs: every better metric is worse).
        let better = try XCTUnwrap(d.metrics.first { $0.status == "better" })
        let failed = try run(["diff", b, a, "--format", "json", "--fail-on", "\(better.name):0"])
        XCTAssertEqual(failed.status, 3, failed.err)
        XCTAssertTrue(failed.err.contains("glassbox: fail-on: \(better.name): worse by"), failed.err)
        XCTAssertEqual(try ReportJSON.decoder().decode(RunDiff.self, from: Data(failed.out.utf8)).schema, "glassbox-diff/1")
        let loose = try run(["diff", b, a, "--fail-on", "\(better.name):1000"])
        XCTAssertEqual(loose.status, 0, loose.err)
        let unknown = try run(["diff", a, b, "--fail-on", "nope:1"])
        XCTAssertEqual(unknown.status, 1)
        XCTAssertTrue(unknown.err.hasPrefix("glassbox: error: --fail-on: expected one of the runs' metrics"), unknown.err)
        let html = try run(["diff", a, b, "--out", "d/diff.html"])
        XCTAssertEqual(html.status, 0, html.err)
        XCTAssertTrue(FileManager.default.fileExists(atPath: (dir as NSString).appendingPathComponent("d/diff-figures/fig-curves-diff.png")))
        // publish with no runs named reads reports/site of the working folder.
        try FileManager.default.createDirectory(atPath: (dir as NSString).appendingPathComponent("reports"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: site, toPath: (dir as NSString).appendingPathComponent("reports/site"))
        let pub = try run(["publish", "--out", "public", "--zip", "public.zip"])
        XCTAssertEqual(pub.status, 0, pub.err)
        XCTAssertTrue(pub.out.hasPrefix("2 runs, 1 diffs, "), pub.out)
        XCTAssertTrue(FileManager.default.fileExists(atPath: (dir as NSString).appendingPathComponent("public/diffs/tiny/default--epochs-2.html")))
        XCTAssertTrue(FileManager.default.fileExists(atPath: (dir as NSString).appendingPathComponent("public.zip")))
        let help = try run(["publish", "--help"])
        XCTAssertEqual(help.status, 0)
        XCTAssertTrue(help.out.contains("--zip"))
    }
}
