import Foundation
import GlassboxFuzzTargets
import XCTest

/// Every seed of the fuzz corpus (Fuzz/corpus/<target>/) and every input a fuzzer once crashed on
/// (Fuzz/regressions/<target>/) goes through its target again: none may crash or hang.
final class CorpusReplayTests: XCTestCase {
    static let fuzzFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fuzz").path

    func inputs(_ folder: String, _ target: String) -> [String] {
        let dir = ((Self.fuzzFolder as NSString).appendingPathComponent(folder) as NSString).appendingPathComponent(target)
        return ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted().map { (dir as NSString).appendingPathComponent($0) }
    }

    func testEveryTargetHasSeeds() {
        for target in FuzzTargets.all.keys {
            XCTAssertGreaterThanOrEqual(inputs("corpus", target).count, 2, target)
        }
    }

    func testCorpusAndRegressionsRunWithoutCrashing() throws {
        FuzzTargets.configure()
        defer {
            for v in ["GLASSBOX_MAX_PARAMETERS", "GLASSBOX_MAX_DECOMPRESSED_BYTES", "GLASSBOX_MAX_SIMPLICES", "GLASSBOX_MAX_PH_POINTS"] { unsetenv(v) }
        }
        var count = 0
        for (name, target) in FuzzTargets.all.sorted(by: { $0.key < $1.key }) {
            for file in inputs("corpus", name) + inputs("regressions", name) {
                let start = Date()
                target(try Data(contentsOf: URL(fileURLWithPath: file)))
                XCTAssertLessThan(Date().timeIntervalSince(start), 5, file)
                count += 1
            }
        }
        XCTAssertGreaterThan(count, 12)
    }
}
