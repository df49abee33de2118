import Foundation
import GlassboxCore

/// Which half of a data set's official split.
public enum Split: String, CaseIterable, Sendable {
    case train, test
}

/// One file a data set is downloaded as.
public struct RemoteFile: Sendable, Equatable {
    /// File name on the server and on disk.
    public var name: String
    /// SHA-256 of the file as published upstream; a download must match it.
    public var sha256: String
    /// Other known-good copies of the same content with different bytes (e.g. a distribution's re-compressed
    /// gzip), as hash → where it comes from. Accepted by `info`, never by a download.
    public var alternateSHA256: [String: String]
    /// Size in bytes upstream, when known (for messages only).
    public var size: Int?

    public init(name: String, sha256: String, alternateSHA256: [String: String] = [:], size: Int? = nil) {
        self.name = name
        self.sha256 = sha256.lowercased()
        self.alternateSHA256 = alternateSHA256
        self.size = size
    }
}

/// How the files of a data set are laid out and read.
public enum DatasetFormat: Sendable, Equatable {
    /// Four IDX files (images/labels × train/test), raw or gzip; the names are the gzip names, and the same name
    /// without `.gz` is accepted too.
    case idx(trainImages: String, trainLabels: String, testImages: String, testLabels: String)
    /// CIFAR-10 binary batches, downloaded as one tar.gz that `fetch` unpacks.
    case cifar10Binary
}

/// A known data set: where it comes from, its checksums, its classes, and how to read it.
public struct DatasetInfo: Sendable {
    public var name: String
    public var summary: String
    /// Base URL that each remote file name is appended to.
    public var baseURL: String
    public var files: [RemoteFile]
    public var classNames: [String]
    public var format: DatasetFormat
    /// Official sample counts, when known (for `info`).
    public var trainCount: Int?
    public var testCount: Int?

    public init(name: String, summary: String, baseURL: String, files: [RemoteFile], classNames: [String],
                format: DatasetFormat, trainCount: Int? = nil, testCount: Int? = nil) {
        self.name = name
        self.summary = summary
        self.baseURL = baseURL
        self.files = files
        self.classNames = classNames
        self.format = format
        self.trainCount = trainCount
        self.testCount = testCount
    }

    /// The local files needed to load `split` (without the `.gz`-less alternatives).
    public func localFiles(for split: Split) -> [String] {
        switch format {
        case let .idx(trI, trL, teI, teL): return split == .train ? [trI, trL] : [teI, teL]
        case .cifar10Binary: return split == .train ? CIFAR10.trainFiles : CIFAR10.testFiles
        }
    }

    /// The command that downloads this data set.
    public var fetchCommand: String { "glassbox datasets fetch \(name)" }
}

/// The data sets Glassbox knows, where their files are looked for, and loading by name.
///
/// Lookup order for a data set's folder: an explicit directory (which overrides everything), else
/// `datasets/<name>/` under the current directory (the project root), then `$GLASSBOX_DATA/<name>/`, then
/// `/usr/share/datasets/<name>/`. The first folder that holds the files of the requested split wins.
public enum DatasetRegistry {
    static let mnistClasses = (0...9).map(String.init)
    static let fashionClasses = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                 "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]

    /// The built-in entries. Every SHA-256 below is of the file exactly as published upstream. The MNIST test
    /// pair was verified here against the copies in `shared/datasets/mnist`; the MNIST train pair, the four
    /// Fashion-MNIST files and the CIFAR-10 archive are the widely published upstream values (each cross-checked
    /// in several independent projects) and are verified again by `fetch` on every download.
    public static let builtIn: [DatasetInfo] = [
        DatasetInfo(
            name: "mnist", summary: "handwritten digits, 28×28 grey, 10 classes, 60 000 train / 10 000 test",
            baseURL: "https://ossci-datasets.s3.amazonaws.com/mnist/",
            files: [
                RemoteFile(name: "train-images-idx3-ubyte.gz", sha256: "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609", size: 9_912_422),
                RemoteFile(name: "train-labels-idx1-ubyte.gz", sha256: "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c", size: 28_881),
                RemoteFile(name: "t10k-images-idx3-ubyte.gz", sha256: "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6", size: 1_648_877),
                RemoteFile(name: "t10k-labels-idx1-ubyte.gz", sha256: "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6", size: 4_542),
            ],
            classNames: mnistClasses,
            format: .idx(trainImages: "train-images-idx3-ubyte.gz", trainLabels: "train-labels-idx1-ubyte.gz",
                         testImages: "t10k-images-idx3-ubyte.gz", testLabels: "t10k-labels-idx1-ubyte.gz"),
            trainCount: 60_000, testCount: 10_000),
        DatasetInfo(
            name: "fashion-mnist", summary: "Zalando clothing images, 28×28 grey, 10 classes, 60 000 train / 10 000 test",
            baseURL: "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
            files: [
                RemoteFile(name: "train-images-idx3-ubyte.gz", sha256: "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
                           alternateSHA256: ["b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7": debianFashion],
                           size: 26_421_880),
                RemoteFile(name: "train-labels-idx1-ubyte.gz", sha256: "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
                           alternateSHA256: ["0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056": debianFashion],
                           size: 29_515),
                RemoteFile(name: "t10k-images-idx3-ubyte.gz", sha256: "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
                           alternateSHA256: ["cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa": debianFashion]),
                RemoteFile(name: "t10k-labels-idx1-ubyte.gz", sha256: "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
                           alternateSHA256: ["8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05": debianFashion]),
            ],
            classNames: fashionClasses,
            format: .idx(trainImages: "train-images-idx3-ubyte.gz", trainLabels: "train-labels-idx1-ubyte.gz",
                         testImages: "t10k-images-idx3-ubyte.gz", testLabels: "t10k-labels-idx1-ubyte.gz"),
            trainCount: 60_000, testCount: 10_000),
        DatasetInfo(
            name: "cifar10", summary: "small colour photos, 32×32 RGB, 10 classes, 50 000 train / 10 000 test",
            baseURL: "https://www.cs.toronto.edu/~kriz/",
            files: [RemoteFile(name: "cifar-10-binary.tar.gz", sha256: "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd",
                               size: 170_052_171)],
            classNames: CIFAR10.canonicalClassNames,
            format: .cifar10Binary,
            trainCount: 50_000, testCount: 10_000),
    ]

    /// The Debian package `dataset-fashion-mnist` ships the same images re-compressed, so its gzip bytes differ.
    static let debianFashion = "Debian package dataset-fashion-mnist (re-compressed gzip)"

    private static let lock = NSLock()
    nonisolated(unsafe) private static var custom: [DatasetInfo] = []

    /// Adds (or replaces, by name) an entry — for tests and for projects with their own data sets.
    public static func register(_ info: DatasetInfo) {
        lock.lock(); defer { lock.unlock() }
        custom.removeAll { $0.name == info.name }
        custom.append(info)
    }

    /// Removes a custom entry.
    public static func unregister(_ name: String) {
        lock.lock(); defer { lock.unlock() }
        custom.removeAll { $0.name == name }
    }

    /// Built-in entries followed by registered ones (a registered entry with a built-in name replaces it).
    public static var all: [DatasetInfo] {
        lock.lock(); defer { lock.unlock() }
        return builtIn.filter { b in !custom.contains { $0.name == b.name } } + custom
    }

    public static func info(_ name: String) throws -> DatasetInfo {
        let entries = all
        guard let e = entries.first(where: { $0.name == name }) else {
            throw GlassboxError.invalidArgument(name: "data set", expected: "one of \(entries.map(\.name).joined(separator: ", "))",
                                                found: "'\(name)'")
        }
        return e
    }

    /// The folders searched for `name`, in order (an explicit directory replaces the search).
    public static func searchFolders(for name: String, directory: String? = nil,
                                     environment: [String: String] = ProcessInfo.processInfo.environment,
                                     currentDirectory: String = FileManager.default.currentDirectoryPath) -> [String] {
        if let directory { return [directory] }
        var folders = [(currentDirectory as NSString).appendingPathComponent("datasets/\(name)")]
        if let root = environment["GLASSBOX_DATA"], !root.isEmpty {
            folders.append((root as NSString).appendingPathComponent(name))
        }
        folders.append("/usr/share/datasets/\(name)")
        return folders
    }

    /// The on-disk path of a needed file in `folder`: the name itself, or (for `.gz` names) the name without `.gz`.
    public static func existingFile(_ file: String, in folder: String) -> String? {
        let fm = FileManager.default
        let path = (folder as NSString).appendingPathComponent(file)
        if fm.fileExists(atPath: path) { return path }
        if file.hasSuffix(".gz") {
            let raw = String(path.dropLast(3))
            if fm.fileExists(atPath: raw) { return raw }
        }
        return nil
    }

    /// True when `folder` holds everything needed to load `split` of `info`.
    public static func holds(_ info: DatasetInfo, split: Split, folder: String) -> Bool {
        switch info.format {
        case .idx: return info.localFiles(for: split).allSatisfy { existingFile($0, in: folder) != nil }
        case .cifar10Binary: return CIFAR10.batchFolder(in: folder, split: split) != nil
        }
    }

    /// The first searched folder that holds `split`, or nil.
    public static func locate(_ info: DatasetInfo, split: Split, directory: String? = nil,
                              environment: [String: String] = ProcessInfo.processInfo.environment,
                              currentDirectory: String = FileManager.default.currentDirectoryPath) -> String? {
        searchFolders(for: info.name, directory: directory, environment: environment, currentDirectory: currentDirectory)
            .first { holds(info, split: split, folder: $0) }
    }

    /// Loads `split` of the named data set (first `limit` samples when given).
    public static func load(name: String, split: Split, limit: Int? = nil, directory: String? = nil,
                            environment: [String: String] = ProcessInfo.processInfo.environment,
                            currentDirectory: String = FileManager.default.currentDirectoryPath) throws -> Dataset {
        let info = try info(name)
        if let limit, limit < 0 {
            throw GlassboxError.invalidArgument(name: "limit", expected: "a count ≥ 0", found: "\(limit)")
        }
        guard let folder = locate(info, split: split, directory: directory, environment: environment,
                                  currentDirectory: currentDirectory) else {
            throw missingError(info, split: split, directory: directory, environment: environment, currentDirectory: currentDirectory)
        }
        switch info.format {
        case let .idx(trI, trL, teI, teL):
            let (imgs, lbls) = split == .train ? (trI, trL) : (teI, teL)
            return try IDX.loadDataset(name: info.name, imagesPath: existingFile(imgs, in: folder)!,
                                       labelsPath: existingFile(lbls, in: folder)!, classNames: info.classNames, limit: limit)
        case .cifar10Binary:
            return try CIFAR10.load(directory: folder, split: split, limit: limit, name: info.name)
        }
    }

    /// The error for a data set that is not on disk: which folders were searched, what is missing, and the
    /// exact command that downloads it.
    public static func missingError(_ info: DatasetInfo, split: Split, directory: String?,
                                    environment: [String: String] = ProcessInfo.processInfo.environment,
                                    currentDirectory: String = FileManager.default.currentDirectoryPath) -> GlassboxError {
        let folders = searchFolders(for: info.name, directory: directory, environment: environment,
                                    currentDirectory: currentDirectory)
        var searched = folders
        if directory == nil && (environment["GLASSBOX_DATA"] ?? "").isEmpty { searched.insert("$GLASSBOX_DATA/\(info.name) (not set)", at: 1) }
        let files = info.localFiles(for: split).joined(separator: ", ")
        let fetch = directory.map { "\(info.fetchCommand) --dir \($0)" } ?? info.fetchCommand
        return .missingFile(path: "data set \(info.name) (\(split.rawValue) split: \(files))",
                            hint: "searched \(searched.joined(separator: ", ")); download it with `\(fetch)`")
    }
}

public extension DatasetRegistry {
    /// Number of samples of `split` stored in `folder` (read from the label file header, or from the CIFAR batch
    /// sizes), validating the files on the way.
    static func sampleCount(_ info: DatasetInfo, split: Split, folder: String) throws -> Int {
        switch info.format {
        case let .idx(_, trL, _, teL):
            let name = split == .train ? trL : teL
            guard let path = existingFile(name, in: folder) else {
                throw GlassboxError.missingFile(path: (folder as NSString).appendingPathComponent(name), hint: "")
            }
            return try IDX.readLabels(path).count
        case .cifar10Binary:
            guard let batches = CIFAR10.batchFolder(in: folder, split: split) else {
                throw GlassboxError.missingFile(path: folder, hint: "no CIFAR-10 \(split.rawValue) batches")
            }
            var total = 0
            for f in split == .train ? CIFAR10.trainFiles : CIFAR10.testFiles {
                let path = (batches as NSString).appendingPathComponent(f)
                let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
                guard size > 0, size % CIFAR10.recordSize == 0 else {
                    throw GlassboxError.badFile(path: path, field: "size", expected: "a positive multiple of \(CIFAR10.recordSize) bytes",
                                                found: "\(size) bytes")
                }
                total += size / CIFAR10.recordSize
            }
            return total
        }
    }

    /// What a present file's SHA-256 says about it: the upstream file, a known alternate copy, or unknown.
    static func describeChecksum(_ file: RemoteFile, found: String) -> String {
        if found == file.sha256 { return "checksum OK" }
        if let source = file.alternateSHA256[found] { return "checksum OK (\(source))" }
        return "checksum MISMATCH: expected \(file.sha256), found \(found)"
    }
}
