import Foundation
import XCTest
@testable import GlassboxCore
@testable import GlassboxData

/// The official MNIST test set from `shared/datasets/mnist`, checked against its published facts.
final class MNISTTests: XCTestCase {
    static let officialTestCounts = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]

    /// Loaded once: every test here reads the same 10 000 images.
    static let mnist: Result<Dataset, Error> = Result {
        try DatasetRegistry.load(name: "mnist", split: .test, directory: sharedMNIST)
    }

    func load() throws -> Dataset {
        XCTAssertTrue(FileManager.default.fileExists(atPath: sharedMNIST), "expected the MNIST test set at \(sharedMNIST)")
        return try MNISTTests.mnist.get()
    }

    func testFilesMatchRegistryChecksums() throws {
        let info = try DatasetRegistry.info("mnist")
        for name in ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"] {
            let expected = try XCTUnwrap(info.files.first { $0.name == name }).sha256
            XCTAssertEqual(try SHA256.hex(fileAt: (sharedMNIST as NSString).appendingPathComponent(name)), expected)
        }
    }

    func testShapeRangeAndLabels() throws {
        let ds = try load()
        XCTAssertEqual(ds.images.shape, [10_000, 1, 28, 28])
        XCTAssertEqual(ds.count, 10_000)
        XCTAssertEqual(ds.classNames, (0...9).map(String.init))
        XCTAssertEqual(ds.classCounts, MNISTTests.officialTestCounts)
        XCTAssertEqual(ds.images.scalars.min(), 0)
        XCTAssertEqual(ds.images.scalars.max(), 1)
        // The first ten test labels are well known.
        XCTAssertEqual(Array(ds.labels.prefix(10)), [7, 2, 1, 0, 4, 1, 4, 9, 5, 9])
        // Every MNIST image has its border row empty and some ink in the middle.
        let first = ds.images.rows(0..<1).scalars
        XCTAssertEqual(first[0..<28].reduce(0, +), 0)
        XCTAssertGreaterThan(first.reduce(0, +), 10)
    }

    func testLimitKeepsFirstSamples() throws {
        let ds = try load()
        let small = try DatasetRegistry.load(name: "mnist", split: .test, limit: 100, directory: sharedMNIST)
        XCTAssertEqual(small.images.shape, [100, 1, 28, 28])
        XCTAssertEqual(small.labels, Array(ds.labels.prefix(100)))
        XCTAssertEqual(small.images.scalars, Array(ds.images.scalars.prefix(100 * 784)))
        XCTAssertEqual(ds.limit(100).labels, small.labels)
        XCTAssertEqual(ds.limit(100).images, small.images)
        XCTAssertEqual(ds.limit(20_000).count, 10_000)
        XCTAssertEqual(ds.limit(-3).count, 0)
    }

    func testSplit8000by2000() throws {
        let ds = try load()
        let (train, test) = try ds.split(trainCount: 8000, testCount: 2000, seed: 42)
        XCTAssertEqual(train.images.shape, [8000, 1, 28, 28])
        XCTAssertEqual(test.images.shape, [2000, 1, 28, 28])
        // Recover which original sample each split row is by its permutation, and check disjointness.
        var g = SeededGenerator(seed: 42)
        let order = g.permutation(10_000)
        XCTAssertEqual(Set(order[0..<8000]).intersection(order[8000..<10_000]).count, 0)
        XCTAssertEqual(Set(order).count, 10_000)
        for (row, original) in [(0, order[0]), (7999, order[7999])] {
            XCTAssertEqual(train.labels[row], ds.labels[original])
            XCTAssertEqual(train.images.rows(row..<(row + 1)).scalars, ds.images.rows(original..<(original + 1)).scalars)
        }
        XCTAssertEqual(test.images.rows(1999..<2000).scalars, ds.images.rows(order[9999]..<(order[9999] + 1)).scalars)
        // Together the two parts hold every label exactly as often as the whole set.
        let together = zip(train.classCounts, test.classCounts).map { $0 + $1 }
        XCTAssertEqual(together, MNISTTests.officialTestCounts)

        // Deterministic for a seed, different for another.
        let again = try ds.split(trainCount: 8000, testCount: 2000, seed: 42)
        XCTAssertEqual(again.train.labels, train.labels)
        XCTAssertEqual(again.test.images, test.images)
        let other = try ds.split(trainCount: 8000, testCount: 2000, seed: 7)
        XCTAssertNotEqual(other.test.labels, test.labels)
        XCTAssertNotEqual(other.train.images, train.images)
    }

    func testSplitTooLarge() throws {
        let ds = try load().limit(10)
        assertThrows(.invalidArgument(name: "split of mnist", expected: "train + test ≤ 10 samples, each ≥ 0",
                                      found: "train 8 + test 3"), try ds.split(trainCount: 8, testCount: 3, seed: 1))
    }
}

/// Fashion-MNIST from the Debian package (`dataset-fashion-mnist`), found through the standard search path.
final class FashionMNISTTests: XCTestCase {
    let systemFolder = "/usr/share/datasets/fashion-mnist"

    func testSystemCopyLoadsAndMatchesKnownChecksums() throws {
        try XCTSkipUnless(FileManager.default.fileExists(atPath: systemFolder),
                          "Fashion-MNIST not installed (apt-get install dataset-fashion-mnist)")
        let info = try DatasetRegistry.info("fashion-mnist")
        let empty = try makeTempDir("fm")
        defer { try? FileManager.default.removeItem(atPath: empty) }
        // With no project copy and no $GLASSBOX_DATA, the search falls through to /usr/share/datasets.
        XCTAssertEqual(DatasetRegistry.locate(info, split: .test, environment: [:], currentDirectory: empty), systemFolder)
        let test = try DatasetRegistry.load(name: "fashion-mnist", split: .test, environment: [:], currentDirectory: empty)
        XCTAssertEqual(test.images.shape, [10_000, 1, 28, 28])
        XCTAssertEqual(test.classCounts, [Int](repeating: 1000, count: 10))   // the test set is balanced
        XCTAssertEqual(test.classNames[0], "T-shirt/top")
        XCTAssertEqual(test.classNames[9], "Ankle boot")
        let trainLabels = try IDX.readLabels(systemFolder + "/train-labels-idx1-ubyte.gz")
        XCTAssertEqual(trainLabels.count, 60_000)
        XCTAssertEqual(Dataset(name: "l", images: Tensor(zeros: [60_000, 1, 1, 1]), labels: trainLabels,
                               classNames: info.classNames).classCounts, [Int](repeating: 6000, count: 10))
        // The label files are small enough to hash here: each is a known copy (upstream or the Debian re-pack).
        for f in info.files where f.name.contains("labels") {
            let h = try SHA256.hex(fileAt: systemFolder + "/" + f.name)
            XCTAssertTrue(h == f.sha256 || f.alternateSHA256[h] != nil, "\(f.name): unknown checksum \(h)")
        }
    }
}
