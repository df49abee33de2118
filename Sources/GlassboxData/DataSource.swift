import Foundation
import GlassboxCore

/// A train/test pair under one name.
public struct DataPair: Sendable {
    public var train: Dataset
    public var test: Dataset
    public init(train: Dataset, test: Dataset) { self.train = train; self.test = test }
}

/// What to load: a registry data set, limits, and an optional re-split of its test split. The one description
/// of data shared by recipes (`step: data`) and commands (`--data`, `--limit`, `--resplit`).
public struct DataRequest: Codable, Equatable, Sendable {
    /// Registry name (`mnist`, `fashion-mnist`, `cifar10`).
    public var dataset: String
    /// Folder holding the files; nil: the registry's search path.
    public var directory: String?
    /// First N training / test samples.
    public var trainLimit: Int?
    public var testLimit: Int?
    /// Split the data set's test split into `[train, test]` sample counts with `seed` (e.g. the MNIST test set as
    /// 8000/2000).
    public var resplit: [Int]?
    public var seed: UInt64

    public init(dataset: String = "fashion-mnist", directory: String? = nil, trainLimit: Int? = nil, testLimit: Int? = nil,
                resplit: [Int]? = nil, seed: UInt64 = 0) {
        self.dataset = dataset; self.directory = directory; self.trainLimit = trainLimit; self.testLimit = testLimit
        self.resplit = resplit; self.seed = seed
    }

    /// Parses `TRAIN:TEST` sample counts such as `8000:2000`; the error names `argument`.
    public static func parseResplit(_ text: String, argument: String) throws -> [Int] {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.count == 2, let a = parts[0], let b = parts[1], a > 0, b > 0 else {
            throw GlassboxError.invalidArgument(name: argument, expected: "TRAIN:TEST sample counts such as 8000:2000", found: "'\(text)'")
        }
        return [a, b]
    }

    /// Finds the files on disk: the source to load (with the folder found) and the files it reads (for cache keys).
    public func resolve() throws -> (source: DataSource, files: [String]) {
        let info: DatasetInfo
        do { info = try DatasetRegistry.info(dataset) } catch let e as GlassboxError {
            throw GlassboxError.invalidArgument(name: "dataset", expected: "a known data set", found: "\(e)")
        }
        for (name, v) in [("train-limit", trainLimit), ("test-limit", testLimit)] {
            if let v, v < 1 { throw GlassboxError.invalidArgument(name: name, expected: "a whole number ≥ 1", found: "\(v)") }
        }
        if let r = resplit, r.count != 2 || r.contains(where: { $0 < 1 }) {
            throw GlassboxError.invalidArgument(name: "resplit", expected: "TRAIN:TEST sample counts such as 8000:2000", found: "\(r)")
        }
        let splits: [Split] = resplit == nil ? [.train, .test] : [.test]
        var folder = ""
        var files: [String] = []
        for split in splits {
            guard let f = DatasetRegistry.locate(info, split: split, directory: directory) else {
                do { _ = try DatasetRegistry.load(name: dataset, split: split, limit: 0, directory: directory) } catch let e as GlassboxError {
                    throw GlassboxError.invalidArgument(name: "dataset", expected: "the files of '\(dataset)' (\(split.rawValue) split) on disk",
                                                        found: "\(e)")
                }
                throw GlassboxError.invalidArgument(name: "dataset", expected: "the files of '\(dataset)' on disk", found: "none")
            }
            folder = f
            switch info.format {
            case .idx:
                files += info.localFiles(for: split).compactMap { DatasetRegistry.existingFile($0, in: f) }
            case .cifar10Binary:
                let batches = CIFAR10.batchFolder(in: f, split: split) ?? f
                files += info.localFiles(for: split).map { (batches as NSString).appendingPathComponent($0) }
            }
        }
        let source = DataSource(dataset: dataset, folder: folder, trainLimit: trainLimit, testLimit: testLimit, resplit: resplit,
                                seed: seed, classNames: info.classNames)
        return (source, files)
    }

    /// Resolves and loads.
    public func load() throws -> DataPair { try resolve().source.load() }
}

/// How a data set was found (enough to load it again identically; recorded in run.json and the cell cache).
public struct DataSource: Codable, Sendable, Equatable {
    public var dataset: String
    /// The folder the files were found in (recorded in run.json; the cache key uses the files' hashes).
    public var folder: String
    public var trainLimit: Int?
    public var testLimit: Int?
    /// Re-split the test split into train/test with `seed`.
    public var resplit: [Int]?
    public var seed: UInt64
    public var classNames: [String]

    public init(dataset: String, folder: String, trainLimit: Int?, testLimit: Int?, resplit: [Int]?, seed: UInt64, classNames: [String]) {
        self.dataset = dataset; self.folder = folder; self.trainLimit = trainLimit; self.testLimit = testLimit
        self.resplit = resplit; self.seed = seed; self.classNames = classNames
    }

    public func load() throws -> DataPair {
        if let r = resplit {
            let all = try DatasetRegistry.load(name: dataset, split: .test, directory: folder)
            let (a, b) = try all.split(trainCount: r[0], testCount: r[1], seed: seed)
            return DataPair(train: a, test: b)
        }
        let train = try DatasetRegistry.load(name: dataset, split: .train, limit: trainLimit, directory: folder)
        let test = try DatasetRegistry.load(name: dataset, split: .test, limit: testLimit, directory: folder)
        return DataPair(train: train, test: test)
    }
}
