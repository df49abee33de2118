import Foundation
import XCTest
import GlassboxTestSupport
import GlassboxCore
@testable import GlassboxReport

/// The default report itself (reports/tour.md, with small parameters so it runs in seconds) renders, and headless
/// Chromium opens it from file:// with every image present and nothing requested from the network.
final class TourTests: XCTestCase {
    func testTourReportLoadsInChromiumWithNoMissingImage() throws {
        guard FileManager.default.fileExists(atPath: "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz") else {
            throw XCTSkip("Fashion-MNIST (dataset-fashion-mnist) is not installed")
        }
        let dir = try makeTempDir("tour")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var opts = options(out: (dir as NSString).appendingPathComponent("run"),
                           parameters: ["train_limit=2000", "test_limit=500", "epochs=1"])
        opts.quiet = true
        opts.dataDirectory = nil   // the normal search path, which finds Debian's Fashion-MNIST
        let s = try Runner.run(recipe: (repoRoot as NSString).appendingPathComponent("reports/tour.md"), options: opts)
        XCTAssertGreaterThanOrEqual(s.manifest.figures.count, 8, "the tour has its figures")
        let html = try readText(s.indexPath)
        XCTAssertFalse(html.contains("http://") || html.contains("https://"), "the report names no web address")

        let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let chromium else { throw XCTSkip("chromium is not installed") }
        let page = try chromiumRequestedFiles(chromium, page: s.indexPath, scratch: dir)
        guard !page.files.isEmpty else { throw XCTSkip("this chromium does not log file loads at --v=1") }
        XCTAssertTrue(page.dom.contains("A tour of Glassbox"), "the page did not render")
        for f in page.files { XCTAssertTrue(FileManager.default.fileExists(atPath: f), "chromium asked for a missing file: \(f)") }
        for f in s.manifest.figures {
            XCTAssertTrue(page.files.contains { $0.hasSuffix(f.file) }, "\(f.file) was not loaded")
        }
    }
}
