import Foundation
import XCTest
@testable import GlassboxCore
@testable import GlassboxData

final class RegistryTests: XCTestCase {
    func testKnownDataSets() throws {
        XCTAssertEqual(DatasetRegistry.builtIn.map(\.name), ["mnist", "fashion-mnist", "cifar10"])
        let fashion = try DatasetRegistry.info("fashion-mnist")
        XCTAssertEqual(fashion.classNames, ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                            "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"])
        XCTAssertEqual(try DatasetRegistry.info("cifar10").files.map(\.name), ["cifar-10-binary.tar.gz"])
        for info in DatasetRegistry.builtIn {
            for f in info.files {
                XCTAssertEqual(f.sha256.count, 64, f.name)
                XCTAssertTrue(f.sha256.allSatisfy { $0.isHexDigit && !$0.isUppercase }, f.name)
            }
        }
        assertThrows(.invalidArgument(name: "data set", expected: "one of mnist, fashion-mnist, cifar10", found: "'svhn'"),
                     try DatasetRegistry.info("svhn"))
    }

    /// The repository's checksums.txt lists exactly the registry's files and hashes.
    func testChecksumsFileMatchesRegistry() throws {
        let text = String(decoding: try Files.read(repoRoot + "/datasets/checksums.txt"), as: UTF8.self)
        var listed = Set<String>()
        for line in text.split(separator: "\n") where !line.hasPrefix("#") && !line.trimmingCharacters(in: .whitespaces).isEmpty {
            let parts = line.split(separator: " ", omittingEmptySubsequences: true)
            XCTAssertEqual(parts.count, 2, String(line))
            listed.insert(parts.joined(separator: " "))
        }
        var expected = Set<String>()
        for info in DatasetRegistry.builtIn {
            for f in info.files {
                expected.insert("\(f.sha256) \(info.name)/\(f.name)")
            }
        }
        XCTAssertEqual(listed, expected)
    }

    func testSearchOrder() throws {
        let root = try makeTempDir("search")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let cwd = root + "/project", env = root + "/data"
        XCTAssertEqual(DatasetRegistry.searchFolders(for: "mnist", environment: ["GLASSBOX_DATA": env], currentDirectory: cwd),
                       [cwd + "/datasets/mnist", env + "/mnist", "/usr/share/datasets/mnist"])
        XCTAssertEqual(DatasetRegistry.searchFolders(for: "mnist", environment: [:], currentDirectory: cwd),
                       [cwd + "/datasets/mnist", "/usr/share/datasets/mnist"])
        XCTAssertEqual(DatasetRegistry.searchFolders(for: "mnist", directory: "/x", environment: ["GLASSBOX_DATA": env], currentDirectory: cwd),
                       ["/x"])

        // Put a (tiny, raw, un-gzipped) MNIST test split under $GLASSBOX_DATA, then a different one under the project.
        func writeSplit(_ folder: String, label: UInt8) throws {
            try IDX.writeImages([UInt8](repeating: 9, count: 4), count: 1, rows: 2, columns: 2, to: folder + "/t10k-images-idx3-ubyte")
            try IDX.writeLabels([label], to: folder + "/t10k-labels-idx1-ubyte")
        }
        let info = try DatasetRegistry.info("mnist")
        XCTAssertNil(DatasetRegistry.locate(info, split: .test, environment: ["GLASSBOX_DATA": env], currentDirectory: cwd))
        try writeSplit(env + "/mnist", label: 3)
        XCTAssertEqual(DatasetRegistry.locate(info, split: .test, environment: ["GLASSBOX_DATA": env], currentDirectory: cwd), env + "/mnist")
        XCTAssertEqual(try DatasetRegistry.load(name: "mnist", split: .test, environment: ["GLASSBOX_DATA": env], currentDirectory: cwd).labels, [3])
        try writeSplit(cwd + "/datasets/mnist", label: 5)
        XCTAssertEqual(try DatasetRegistry.load(name: "mnist", split: .test, environment: ["GLASSBOX_DATA": env], currentDirectory: cwd).labels, [5])
        // An explicit directory overrides the search.
        XCTAssertEqual(try DatasetRegistry.load(name: "mnist", split: .test, directory: env + "/mnist",
                                                environment: [:], currentDirectory: cwd).labels, [3])
        // The train split is not there anywhere.
        XCTAssertNil(DatasetRegistry.locate(info, split: .train, environment: ["GLASSBOX_DATA": env], currentDirectory: cwd))
    }

    func testMissingDataSetSaysWhereAndHowToFetch() throws {
        let cwd = try makeTempDir("missing")
        defer { try? FileManager.default.removeItem(atPath: cwd) }
        // A registered entry whose name is not under /usr/share/datasets, so the result does not depend on the machine.
        var info = try DatasetRegistry.info("mnist")
        info.name = "mnist-missing-test"
        DatasetRegistry.register(info)
        defer { DatasetRegistry.unregister(info.name) }
        let e = thrownError(try DatasetRegistry.load(name: info.name, split: .train, environment: [:], currentDirectory: cwd))
        XCTAssertEqual(e, .missingFile(
            path: "data set mnist-missing-test (train split: train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz)",
            hint: "searched \(cwd)/datasets/mnist-missing-test, $GLASSBOX_DATA/mnist-missing-test (not set), "
                + "/usr/share/datasets/mnist-missing-test; download it with `glassbox datasets fetch mnist-missing-test`"))
        let withDir = thrownError(try DatasetRegistry.load(name: info.name, split: .test, directory: cwd + "/elsewhere", environment: [:]))
        guard case let .missingFile(_, hint)? = withDir else { return XCTFail("\(String(describing: withDir))") }
        XCTAssertEqual(hint, "searched \(cwd)/elsewhere; download it with `glassbox datasets fetch mnist-missing-test --dir \(cwd)/elsewhere`")
    }
}

final class RegistryHelpersTests: XCTestCase {
    func testSampleCountsAndChecksumDescriptions() throws {
        let mnist = try DatasetRegistry.info("mnist")
        XCTAssertEqual(try DatasetRegistry.sampleCount(mnist, split: .test, folder: sharedMNIST), 10_000)
        assertThrows(.missingFile(path: sharedMNIST + "/train-labels-idx1-ubyte.gz", hint: ""),
                     try DatasetRegistry.sampleCount(mnist, split: .train, folder: sharedMNIST))

        let dir = try makeTempDir("count")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try CIFARTests.writeAll(into: dir)
        let cifar = try DatasetRegistry.info("cifar10")
        XCTAssertEqual(try DatasetRegistry.sampleCount(cifar, split: .train, folder: dir), 10)
        XCTAssertEqual(try DatasetRegistry.sampleCount(cifar, split: .test, folder: dir), 3)

        let f = RemoteFile(name: "x", sha256: "AA", alternateSHA256: ["bb": "a re-pack"])
        XCTAssertEqual(f.sha256, "aa")
        XCTAssertEqual(DatasetRegistry.describeChecksum(f, found: "aa"), "checksum OK")
        XCTAssertEqual(DatasetRegistry.describeChecksum(f, found: "bb"), "checksum OK (a re-pack)")
        XCTAssertEqual(DatasetRegistry.describeChecksum(f, found: "cc"), "checksum MISMATCH: expected aa, found cc")
    }
}
