import Foundation
import XCTest
@testable import GlassboxCore
@testable import GlassboxData

/// Normalisation: torchvision's ToTensor + Normalize on loading, and back to pixels for pictures.
final class NormalizationTests: XCTestCase {
    func testStandardiseIsTorchvisionsFormulaAndUnstandardiseUndoesIt() throws {
        let pixels: [Float] = (0..<24).map { Float($0 * 11 % 256) / 255 }
        var images = Tensor(shape: [2, 3, 2, 2], scalars: pixels)
        let n = Normalization(mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225])
        try n.standardise(&images)
        for (i, v) in pixels.enumerated() {
            let c = (i / 4) % 3
            XCTAssertEqual(images.scalars[i], (v - n.mean[c]) / n.std[c], "sample \(i / 12), channel \(c): (x − mean) / std, divided as torchvision divides")
        }
        let back = n.unstandardise(images)
        for (a, b) in zip(back.scalars, pixels) { XCTAssertEqual(a, b, accuracy: 1e-6) }
        XCTAssertEqual(n.displayable(images).scalars.map { ($0 * 255).rounded() }, pixels.map { ($0 * 255).rounded() })
        // One value applies to every channel.
        var grey = Tensor(shape: [1, 1, 1, 2], scalars: [0, 1])
        try Normalization(mean: [0.5], std: [0.5]).standardise(&grey)
        XCTAssertEqual(grey.scalars, [-1, 1])
    }

    func testTextFormAndValidation() throws {
        let p = try Normalization.parse("0.485,0.456,0.406/0.229,0.224,0.225")
        XCTAssertEqual(p.mean, [0.485, 0.456, 0.406])
        XCTAssertEqual(p.std, [0.229, 0.224, 0.225])
        XCTAssertThrowsError(try Normalization.parse("0.5"))
        XCTAssertThrowsError(try Normalization.parse("0.5/x"))
        XCTAssertEqual(thrownError(try Normalization(mean: [0.5], std: [0]).validate()),
                       .invalidArgument(name: "normalize", expected: "std values > 0", found: "0.0"))
        XCTAssertEqual(thrownError(try Normalization(mean: [0.5, 0.5], std: [1]).validate()),
                       .invalidArgument(name: "normalize", expected: "as many std values as mean values", found: "2 mean, 1 std"))
        XCTAssertEqual(thrownError(try Normalization(mean: [0, 0], std: [1, 1]).validate(channels: 3)),
                       .invalidArgument(name: "normalize", expected: "1 or 3 values (one per channel)", found: "2"))
        XCTAssertEqual(Normalization().description, "none")
        XCTAssertEqual(Normalization(scale: false, mean: [0.5], std: [0.25]).description, "pixels not scaled to [0, 1], mean 0.5 / std 0.25")
        // Recorded as JSON in checkpoints and run folders, and read back.
        let n = Normalization(scale: false, mean: [1], std: [2])
        XCTAssertEqual(try JSONDecoder().decode(Normalization.self, from: JSONEncoder().encode(n)), n)
    }

    func testUnscaledPixelsStayRawAndShowDividedByTheirRange() throws {
        let dir = try makeTempDir("norm")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try writeOnePixelFolder(dir)
        let raw = try DataRequest(dataset: "folder:\(dir)", normalization: Normalization(scale: false, mean: [100], std: [50])).load()
        XCTAssertEqual(raw.train.images.scalars, [2])
        XCTAssertEqual(raw.test.images.scalars, [0])
        let n = Normalization(scale: false, mean: [100], std: [50])
        XCTAssertEqual(n.displayable(raw.train.images).scalars, [200 / 255])
        // 16-bit values (above 255) show divided by 65 535.
        XCTAssertEqual(Normalization(scale: false).displayable(Tensor(shape: [1, 1, 1, 2], scalars: [65535, 0])).scalars, [1, 0])
    }

    /// Registry readers scale to [0, 1]; with `scale: false` the 8-bit pixels come back exactly.
    func testUnscaledRegistryDataAreTheBytes() throws {
        let folder = "/usr/share/datasets/fashion-mnist"
        try XCTSkipUnless(FileManager.default.fileExists(atPath: folder + "/t10k-labels-idx1-ubyte.gz"), "Fashion-MNIST not installed")
        let scaled = try DataRequest(dataset: "fashion-mnist", directory: folder, trainLimit: 3, testLimit: 3).load()
        let raw = try DataRequest(dataset: "fashion-mnist", directory: folder, trainLimit: 3, testLimit: 3,
                                  normalization: Normalization(scale: false)).load()
        XCTAssertEqual(raw.test.images.scalars, scaled.test.images.scalars.map { ($0 * 255).rounded() })
        XCTAssertTrue(raw.test.images.scalars.allSatisfy { $0 == $0.rounded() && $0 >= 0 && $0 <= 255 })
        XCTAssertEqual(raw.test.images.scalars.map { $0 / 255 }, scaled.test.images.scalars, "Float(b) / 255 both ways")
    }

    /// `loadTest` gives exactly the test split `load` gives (registry, re-split, image folder), without the training split.
    func testLoadTestEqualsTheTestSplitOfLoad() throws {
        var requests: [DataRequest] = []
        let folder = "/usr/share/datasets/fashion-mnist"
        if FileManager.default.fileExists(atPath: folder + "/t10k-labels-idx1-ubyte.gz") {
            requests.append(DataRequest(dataset: "fashion-mnist", directory: folder, trainLimit: 5, testLimit: 7,
                                        normalization: Normalization(scale: true, mean: [0.3], std: [0.4])))
        }
        if FileManager.default.fileExists(atPath: sharedMNIST + "/t10k-labels-idx1-ubyte.gz") {
            requests.append(DataRequest(dataset: "mnist", directory: sharedMNIST, resplit: [30, 20], seed: 4))
        }
        let dir = try makeTempDir("loadtest")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try writeOnePixelFolder(dir)
        requests.append(DataRequest(dataset: "folder:\(dir)"))
        for r in requests {
            let whole = try r.load().test, alone = try r.loadTest()
            XCTAssertEqual(alone.images.shape, whole.images.shape, r.dataset)
            XCTAssertEqual(alone.images.scalars.map(\.bitPattern), whole.images.scalars.map(\.bitPattern), r.dataset)
            XCTAssertEqual(alone.labels, whole.labels, r.dataset)
            XCTAssertEqual(alone.classNames, whole.classNames, r.dataset)
        }
        XCTAssertGreaterThanOrEqual(requests.count, 1)
    }

    /// An image folder with one 1×1 grey PNG per split: 200 in train/a, 100 in test/a.
    private func writeOnePixelFolder(_ dir: String) throws {
        for (split, v) in [("train", 200), ("test", 100)] {
            let folder = (dir as NSString).appendingPathComponent("\(split)/a")
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try PNGFile.encode(width: 1, height: 1, colorType: 0, bitDepth: 8, rows: [UInt8(v)], stride: 1)
                .write(to: URL(fileURLWithPath: (folder as NSString).appendingPathComponent("1.png")))
        }
    }
}
