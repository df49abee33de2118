import Foundation
import XCTest

/// Runs the built `glassbox` binary: help everywhere, and bad input as one clear line with a non-zero exit.
final class CLITests: XCTestCase {
    /// `.build/<config>/glassbox`, next to the test bundle.
    var binary: String {
        let bundle = Bundle(for: CLITests.self).bundleURL
        let candidates = [bundle, bundle.deletingLastPathComponent(), bundle.deletingLastPathComponent().deletingLastPathComponent()]
            .map { $0.appendingPathComponent("glassbox").path }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) } ?? candidates[0]
    }

    func run(_ args: [String]) throws -> (status: Int32, out: String, err: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = args
        let out = Pipe(), err = Pipe()
        p.standardOutput = out; p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }

    func testHelpForEveryCommand() throws {
        XCTAssertTrue(FileManager.default.isExecutableFile(atPath: binary), "glassbox binary not built at \(binary)")
        for cmd in [[], ["train"], ["evaluate"], ["prune"], ["datasets"], ["datasets", "fetch"], ["run"], ["export-figures"], ["diff"], ["publish"]] {
            let r = try run(cmd + ["--help"])
            XCTAssertEqual(r.status, 0, "\(cmd) --help")
            XCTAssertTrue(r.out.contains("USAGE"), "\(cmd) --help printed \(r.out.prefix(200))")
        }
    }

    func testBadInputIsOneClearLine() throws {
        XCTAssertTrue(FileManager.default.isExecutableFile(atPath: binary), "glassbox binary not built at \(binary)")
        let cases: [([String], String)] = [
            (["train", "--model", "mlp 784", "--quiet"], "model spec"),
            (["train", "--optimizer", "rmsprop", "--quiet"], "--optimizer: expected sgd or adam"),
            (["train", "--quiet", "--data", "mnist", "--data-dir", "/nonexistent-dir"], "glassbox datasets fetch mnist"),
            (["evaluate", "/nonexistent/model.safetensors"], "/nonexistent/model.safetensors: no such file"),
            (["datasets", "info", "imagenet"], "imagenet"),
            (["train", "--schedule", "exp", "--quiet"], "schedule"),
        ]
        for (args, needle) in cases {
            let r = try run(args)
            XCTAssertNotEqual(r.status, 0, "\(args) should fail")
            let lines = r.err.split(separator: "\n")
            XCTAssertEqual(lines.count, 1, "\(args): expected one line, got \(r.err)")
            XCTAssertTrue(r.err.hasPrefix("glassbox: error: ") && r.err.contains(needle), "\(args): \(r.err)")
        }
    }
}
