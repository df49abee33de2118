import Foundation
import XCTest

/// Runs the built `glassbox` binary: help everywhere, and bad input as one clear line with a non-zero exit.
final class CLITests: XCTestCase {
    var binary: String { GlassboxBinary.path }
    func run(_ args: [String]) throws -> (status: Int32, out: String, err: String) { try GlassboxBinary.run(args) }

    func testHelpForEveryCommand() throws {
        XCTAssertTrue(FileManager.default.isExecutableFile(atPath: binary), "glassbox binary not built at \(binary)")
        for cmd in [[], ["train"], ["evaluate"], ["prune"], ["cluster"], ["ecs"], ["topology", "ph"], ["topology", "mapper"], ["datasets"], ["datasets", "fetch"], ["run"], ["export-figures"], ["diff"], ["publish"]] {
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
            (["topology", "ph", "/nonexistent/points.csv"], "/nonexistent/points.csv"),
        ]
        for (args, needle) in cases {
            let r = try run(args)
            XCTAssertNotEqual(r.status, 0, "\(args) should fail")
            let lines = r.err.split(separator: "\n")
            XCTAssertEqual(lines.count, 1, "\(args): expected one line, got \(r.err)")
            XCTAssertTrue(r.err.hasPrefix("glassbox: error: ") && r.err.contains(needle), "\(args): \(r.err)")
        }
    }

    /// `topology ph` on a CSV of the unit square's corners: one H1 bar [1, √2).
    func testTopologyPersistenceOfASquare() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let csv = dir.appendingPathComponent("square.csv")
        try "x,y\n0,0\n1,0\n1,1\n0,1\n".write(to: csv, atomically: true, encoding: .utf8)
        let r = try run(["topology", "ph", csv.path, "--maxdim", "1"])
        XCTAssertEqual(r.status, 0, r.err)
        struct Bar: Decodable { var birth: Double; var death: Double? }
        struct Out: Decodable { var bars: [[Bar]] }
        let out = try JSONDecoder().decode(Out.self, from: Data(r.out.utf8))
        XCTAssertEqual(out.bars[1].count, 1)
        XCTAssertEqual(out.bars[1][0].birth, 1, accuracy: 1e-6)
        XCTAssertEqual(out.bars[1][0].death ?? .infinity, 2.0.squareRoot(), accuracy: 1e-6)
    }

    /// `topology ph` on a checkpoint: the k×k slices of a conv weight are the points (4 filters → 4 H0 bars);
    /// a missing or wrong --layer is one clear line.
    func testTopologyOfACheckpointLayer() throws {
        let mnist = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("shared/datasets/mnist").path
        try XCTSkipUnless(FileManager.default.fileExists(atPath: mnist), "MNIST test set not found at \(mnist)")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let model = dir.appendingPathComponent("cnn.safetensors").path
        let t = try run(["train", "--model", "input 1x28x28; conv 4 k3; flatten; linear 10", "--data", "mnist", "--data-dir", mnist,
                         "--resplit", "100:50", "--epochs", "1", "--quiet", "--out", model])
        XCTAssertEqual(t.status, 0, t.err)
        let r = try run(["topology", "ph", model, "--layer", "0.weight", "--maxdim", "0"])
        XCTAssertEqual(r.status, 0, r.err)
        struct Bar: Decodable { var birth: Double; var death: Double? }
        struct Out: Decodable { var bars: [[Bar]] }
        XCTAssertEqual(try JSONDecoder().decode(Out.self, from: Data(r.out.utf8)).bars[0].count, 4)
        let missing = try run(["topology", "ph", model])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.err.contains("--layer"), missing.err)
        let wrong = try run(["topology", "mapper", model, "--layer", "5.weight"])
        XCTAssertNotEqual(wrong.status, 0)
        XCTAssertTrue(wrong.err.contains("'5.weight'") && wrong.err.contains("0.weight"), wrong.err)
    }
}
