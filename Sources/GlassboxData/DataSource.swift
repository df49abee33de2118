import Foundation
import GlassboxCore

/// A train/test pair under one name.
public struct DataPair: Sendable {
    public var train: Dataset
    public var test: Dataset
    public init(train: Dataset, test: Dataset) { self.train = train; self.test = test }
}

/// What to load: a registry data set or files (`folder:PATH`, `npz:PATH`, `npy:X.npy,Y.npy`, see `DataLocation`),
/// limits, an optional re-split of its test split, and how pixels become inputs. The one description of data shared
/// by recipes (`step: data`) and commands (`--data`, `--limit`, `--resplit`, `--normalize`).
public struct DataRequest: Codable, Equatable, Sendable {
    /// Registry name (`mnist`, `fashion-mnist`, `cifar10`) or a file location (`folder:PATH`, `npz:PATH`, `npy:…`).
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
    /// Scaling and mean/std normalisation of the pixels (nil: scaled to [0, 1], nothing else).
    public var normalization: Normalization?

    public init(dataset: String = "fashion-mnist", directory: String? = nil, trainLimit: Int? = nil, testLimit: Int? = nil,
                resplit: [Int]? = nil, seed: UInt64 = 0, normalization: Normalization? = nil) {
        self.dataset = dataset; self.directory = directory; self.trainLimit = trainLimit; self.testLimit = testLimit
        self.resplit = resplit; self.seed = seed; self.normalization = normalization
    }

    /// The workspace name a data step gives these data by default.
    public var defaultName: String { (try? DataLocation.parse(dataset).defaultName) ?? dataset }

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
        let r = try resolveInputs(fingerprint: false)
        return (r.source, r.files)
    }

    /// The source, the files whose hashes key a cache entry, and (with `fingerprint`) digests of what the files alone
    /// do not say: an image folder's listing and contents, so moving an image to another class changes the key.
    public func resolveInputs(fingerprint: Bool = true) throws -> (source: DataSource, files: [String], fingerprints: [String]) {
        try checkCounts()
        if let n = normalization { try n.validate() }
        let location = try DataLocation.parse(dataset)
        if location.isFile { return try resolveFiles(location, fingerprint: fingerprint) }
        let info: DatasetInfo
        do { info = try DatasetRegistry.info(dataset) } catch let e as GlassboxError {
            throw GlassboxError.invalidArgument(name: "dataset", expected: "a known data set", found: "\(e)")
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
        var source = DataSource(dataset: dataset, folder: folder, trainLimit: trainLimit, testLimit: testLimit, resplit: resplit,
                                seed: seed, classNames: info.classNames)
        source.normalization = normalization
        return (source, files, [])
    }

    func checkCounts() throws {
        for (name, v) in [("train-limit", trainLimit), ("test-limit", testLimit)] {
            if let v, v < 1 { throw GlassboxError.invalidArgument(name: name, expected: "a whole number ≥ 1", found: "\(v)") }
        }
        if let r = resplit, r.count != 2 || r.contains(where: { $0 < 1 }) {
            throw GlassboxError.invalidArgument(name: "resplit", expected: "TRAIN:TEST sample counts such as 8000:2000", found: "\(r)")
        }
    }

    /// A file location: the paths must exist; an image folder is listed (and fingerprinted), arrays are hashed as files.
    func resolveFiles(_ location: DataLocation, fingerprint: Bool) throws -> (source: DataSource, files: [String], fingerprints: [String]) {
        let paths = location.paths
        for p in paths where !FileManager.default.fileExists(atPath: p) {
            throw GlassboxError.invalidArgument(name: "dataset", expected: "an existing file or folder for '\(dataset)'", found: "nothing at \(p)")
        }
        var classNames: [String] = []
        var files: [String] = [], prints: [String] = []
        if case .folder = location {
            let folder: ImageFolder
            do { folder = try ImageFolder.scan(paths[0]) } catch let e as GlassboxError {
                throw GlassboxError.invalidArgument(name: "dataset", expected: "an image folder (ROOT/train/<class>/*.png, ROOT/test/<class>/*.png)", found: "\(e)")
            }
            classNames = folder.classNames
            if fingerprint { prints = ["image folder \(location.defaultName) \(try folder.fingerprint())"] }
        } else {
            files = paths
        }
        var source = DataSource(dataset: dataset, folder: paths[0], trainLimit: trainLimit, testLimit: testLimit, resplit: resplit, seed: seed,
                                classNames: classNames)
        source.paths = paths
        source.normalization = normalization
        return (source, files, prints)
    }

    /// Resolves and loads.
    public func load() throws -> DataPair { try resolve().source.load() }

    /// Resolves and loads the test split alone (`DataSource.loadTest`).
    public func loadTest() throws -> Dataset { try resolve().source.loadTest() }
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
    /// The registry's class names, an image folder's class folders (empty for arrays: known once loaded).
    public var classNames: [String]
    /// The absolute paths of a file location (nil for registry data sets).
    public var paths: [String]?
    /// How pixels became inputs (nil: scaled to [0, 1], nothing else).
    public var normalization: Normalization?

    public init(dataset: String, folder: String, trainLimit: Int?, testLimit: Int?, resplit: [Int]?, seed: UInt64, classNames: [String]) {
        self.dataset = dataset; self.folder = folder; self.trainLimit = trainLimit; self.testLimit = testLimit
        self.resplit = resplit; self.seed = seed; self.classNames = classNames
    }

    /// Loads the data and applies the normalisation.
    public func load() throws -> DataPair { try load(testOnly: false) }

    /// The test split alone, normalised (what evaluation needs): the training split is not read, unless a re-split
    /// makes both splits from the stored test split.
    public func loadTest() throws -> Dataset { try load(testOnly: true).test }

    private func load(testOnly: Bool) throws -> DataPair {
        var pair = try loadPixels(testOnly: testOnly)
        let n = normalization ?? Normalization()
        if !n.scale, paths == nil {
            // Registry readers scale to [0, 1]; their pixels are 8-bit, so ×255 recovers them exactly.
            for d in [\DataPair.train, \DataPair.test] {
                pair[keyPath: d].images.withUnsafeMutableBufferPointer { x in for i in 0..<x.count { x[i] = (x[i] * 255).rounded() } }
            }
        }
        try n.standardise(&pair.train.images)
        try n.standardise(&pair.test.images)
        return pair
    }

    /// The data as stored (scaled to [0, 1] unless a file location's normalisation says otherwise).
    func loadPixels(testOnly: Bool = false) throws -> DataPair {
        let location = try DataLocation.parse(dataset)
        if location.isFile {
            let name = location.defaultName, scale = normalization?.scale ?? true
            let (train, test) = try FileData.load(location, paths: paths ?? location.paths, name: name, train: resplit == nil && !testOnly,
                                                  trainLimit: trainLimit, testLimit: resplit == nil ? testLimit : nil, scale: scale)
            if let r = resplit {
                let (a, b) = try test.split(trainCount: r[0], testCount: r[1], seed: seed)
                return DataPair(train: a, test: b)
            }
            return DataPair(train: train ?? test.limit(0), test: test)
        }
        if let r = resplit {
            let all = try DatasetRegistry.load(name: dataset, split: .test, directory: folder)
            let (a, b) = try all.split(trainCount: r[0], testCount: r[1], seed: seed)
            return DataPair(train: a, test: b)
        }
        if testOnly {
            let test = try DatasetRegistry.load(name: dataset, split: .test, limit: testLimit, directory: folder)
            return DataPair(train: test.limit(0), test: test)
        }
        // The two splits load at the same time (gunzip and conversion are single-threaded); a failure of the training
        // split is reported first, as when they loaded one after the other.
        let (train, test) = Parallel.both(
            { try DatasetRegistry.load(name: dataset, split: .train, limit: trainLimit, directory: folder) },
            { try DatasetRegistry.load(name: dataset, split: .test, limit: testLimit, directory: folder) })
        return DataPair(train: try train.get(), test: try test.get())
    }
}
