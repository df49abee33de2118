import Foundation
import GlassboxCore

/// Where a data set comes from: a registry name, or files named with a prefix.
///
/// - `folder:PATH` — PNG images in torchvision's ImageFolder layout (see `ImageFolder`);
/// - `npz:PATH` — a NumPy archive with `x_train`, `y_train`, `x_test`, `y_test` (Keras's layout) or one set `x`, `y`,
///   and optionally `class_names`;
/// - `npy:X.npy,Y.npy` (one set) or `npy:XTRAIN.npy,YTRAIN.npy,XTEST.npy,YTEST.npy`.
///
/// Images `x` are `[N, H, W]`, `[N, C, H, W]` or `[N, H, W, C]` (read as channels-last when the last size is 1 or 3
/// and the second is not; otherwise PyTorch's `[N, C, H, W]`), uint8, uint16 or float; labels `y` are integers `[N]`.
/// A single set is the test split; `resplit: TRAIN:TEST` splits it in two. Relative paths are relative to the current
/// folder.
public enum DataLocation: Equatable, Sendable {
    case registry(String)
    case folder(String)
    case npz(String)
    case npy([String])

    public static let prefixes = ["folder:", "npz:", "npy:"]

    public static func parse(_ text: String) throws -> DataLocation {
        func path(_ prefix: String) throws -> String {
            let p = String(text.dropFirst(prefix.count)).trimmingCharacters(in: .whitespaces)
            guard !p.isEmpty else { throw GlassboxError.invalidArgument(name: "dataset", expected: "a path after '\(prefix)'", found: "'\(text)'") }
            return p
        }
        if text.hasPrefix("folder:") { return .folder(try path("folder:")) }
        if text.hasPrefix("npz:") { return .npz(try path("npz:")) }
        if text.hasPrefix("npy:") {
            let files = try path("npy:").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            guard files.count == 2 || files.count == 4, !files.contains(where: \.isEmpty) else {
                throw GlassboxError.invalidArgument(name: "dataset", expected: "npy:X.npy,Y.npy or npy:XTRAIN.npy,YTRAIN.npy,XTEST.npy,YTEST.npy",
                                                    found: "'\(text)'")
            }
            return .npy(files)
        }
        return .registry(text)
    }

    public var isFile: Bool { if case .registry = self { return false }; return true }

    /// The paths named, made absolute against the current folder.
    public var paths: [String] {
        switch self {
        case .registry: return []
        case let .folder(p), let .npz(p): return [Self.absolute(p)]
        case let .npy(ps): return ps.map(Self.absolute)
        }
    }

    /// A workspace name for the data: the file or folder name without its extension (the registry name otherwise).
    public var defaultName: String {
        switch self {
        case let .registry(n): return n
        case let .folder(p), let .npz(p): return Self.stem(p)
        case let .npy(ps): return Self.stem(ps[0])
        }
    }

    /// The last path component without its extension.
    public static func stem(_ p: String) -> String {
        let last = (p as NSString).standardizingPath.split(separator: "/").last.map(String.init) ?? p
        let s = (last as NSString).deletingPathExtension
        return s.isEmpty ? last : s
    }

    static func absolute(_ p: String) -> String { URL(fileURLWithPath: (p as NSString).expandingTildeInPath).standardizedFileURL.path }
}

/// Reading data sets from files: image folders and NumPy arrays.
public enum FileData {
    /// Loads the splits of a file location. `train` false leaves the training split out (for a re-split).
    static func load(_ location: DataLocation, paths: [String], name: String, train: Bool, trainLimit: Int?, testLimit: Int?, scale: Bool) throws
        -> (train: Dataset?, test: Dataset) {
        switch location {
        case .registry: fatalError("registry data sets load through DatasetRegistry")
        case .folder:
            return try ImageFolder.scan(paths[0]).load(name: name, train: train, trainLimit: trainLimit, testLimit: testLimit, scale: scale)
        case .npz:
            let arrays = try NumpyArchive.read(paths[0])
            return limited(try fromNPZ(arrays, source: paths[0], name: name, scale: scale), train: train, trainLimit, testLimit)
        case .npy:
            let arrays = try paths.map { try NumpyArray.read($0) }
            var sets: [ArrayPair] = []
            for i in stride(from: 0, to: paths.count, by: 2) {
                sets.append(ArrayPair(x: (arrays[i], paths[i]), y: (arrays[i + 1], paths[i + 1])))
            }
            let made = try fromArrays(train: sets.count == 2 ? sets[0] : nil, test: sets[sets.count - 1], classNames: nil, name: name, scale: scale)
            return limited(made, train: train, trainLimit, testLimit)
        }
    }

    /// Images and labels, each with the name errors give it.
    typealias ArrayPair = (x: (NumpyArray, String), y: (NumpyArray, String))

    static func limited(_ sets: (train: Dataset?, test: Dataset), train: Bool, _ trainLimit: Int?, _ testLimit: Int?) -> (train: Dataset?, test: Dataset) {
        (train ? sets.train.map { $0.limit(trainLimit ?? .max) } : nil, sets.test.limit(testLimit ?? .max))
    }

    /// The sets of an `.npz`: `x_train`/`y_train`/`x_test`/`y_test` or `x`/`y`, with optional `class_names`.
    static func fromNPZ(_ arrays: [(name: String, array: NumpyArray)], source: String, name: String, scale: Bool) throws -> (train: Dataset?, test: Dataset) {
        var byName: [String: NumpyArray] = [:]
        for a in arrays { byName[a.name] = a.array }
        func pair(_ x: String, _ y: String) throws -> ArrayPair? {
            switch (byName[x], byName[y]) {
            case let (a?, b?): return ((a, "\(source) (\(x))"), (b, "\(source) (\(y))"))
            case (nil, nil): return nil
            default: throw GlassboxError.badFile(path: source, field: "arrays", expected: "both \(x) and \(y)", found: byName[x] == nil ? "\(y) only" : "\(x) only")
            }
        }
        let classNames = try byName["class_names"].map { a -> [String] in
            guard a.shape.count == 1 else { throw GlassboxError.badFile(path: source, field: "class_names", expected: "a 1-D array of strings", found: "shape \(a.shape)") }
            return try a.strings(source: "\(source) (class_names)")
        }
        let found = arrays.map(\.name).joined(separator: ", ")
        if let test = try pair("x_test", "y_test") {
            return try fromArrays(train: try pair("x_train", "y_train"), test: test, classNames: classNames, name: name, scale: scale)
        }
        if try pair("x_train", "y_train") != nil {
            throw GlassboxError.badFile(path: source, field: "arrays", expected: "x_test and y_test beside x_train and y_train", found: found)
        }
        guard let one = try pair("x", "y") else {
            throw GlassboxError.badFile(path: source, field: "arrays", expected: "x_train, y_train, x_test, y_test (or x, y; optional class_names)",
                                        found: found.isEmpty ? "none" : found)
        }
        return try fromArrays(train: nil, test: one, classNames: classNames, name: name, scale: scale)
    }

    /// Images and labels → data sets; classes are `classNames`, else "0"…"K−1" for K = the largest label + 1.
    static func fromArrays(train: ArrayPair?, test: ArrayPair,
                           classNames: [String]?, name: String, scale: Bool) throws -> (train: Dataset?, test: Dataset) {
        let sets = [train, test].compactMap { $0 }
        let images = try sets.map { try self.images($0.x.0, source: $0.x.1, scale: scale) }
        let labels = try zip(sets, images).map { s, im in try self.labels(s.y.0, count: im.shape[0], source: s.y.1) }
        if images.count == 2, Array(images[0].shape.dropFirst()) != Array(images[1].shape.dropFirst()) {
            throw GlassboxError.badFile(path: sets[1].x.1, field: "shape", expected: "images of \(Array(images[0].shape.dropFirst())) like the training images",
                                        found: "\(Array(images[1].shape.dropFirst()))")
        }
        let largest = labels.flatMap { $0 }.max() ?? 0
        let names = classNames ?? (0...Int(largest)).map(String.init)
        for (s, ls) in zip(sets, labels) {
            if let i = ls.firstIndex(where: { $0 >= Int64(names.count) }) {
                throw GlassboxError.badFile(path: s.y.1, field: "label \(i)", expected: "a class index below the \(names.count) class names", found: "\(ls[i])")
            }
        }
        let made = zip(images, labels).map { Dataset(name: name, images: $0, labels: $1.map { Int32($0) }, classNames: names) }
        return (made.count == 2 ? made[0] : nil, made.last!)
    }

    /// `[N, H, W]`, `[N, C, H, W]` or `[N, H, W, C]` pixels as `[N, C, H, W]` floats.
    static func images(_ a: NumpyArray, source: String, scale: Bool) throws -> Tensor {
        let divisor: Float
        switch (a.kind, a.itemSize) {
        case (.uint, 1): divisor = 255
        case (.uint, 2): divisor = 65535
        case (.float, _): divisor = 1
        default:
            throw GlassboxError.badFile(path: source, field: "dtype", expected: "uint8, uint16 or float images", found: "'\(a.dtype)'")
        }
        let s = a.shape
        let nchw: [Int], channelsLast: Bool
        switch s.count {
        case 3: nchw = [s[0], 1, s[1], s[2]]; channelsLast = false
        case 4:
            channelsLast = [1, 3].contains(s[3]) && ![1, 3].contains(s[1])
            nchw = channelsLast ? [s[0], s[3], s[1], s[2]] : s
        default:
            throw GlassboxError.badFile(path: source, field: "shape", expected: "[N, H, W], [N, C, H, W] or [N, H, W, C]", found: "\(s)")
        }
        guard nchw.dropFirst().allSatisfy({ $0 > 0 }) else { throw GlassboxError.badFile(path: source, field: "shape", expected: "non-empty images", found: "\(s)") }
        // Divided (not multiplied by the reciprocal), as the registry readers do, so the same pixels give the same floats.
        let d: Float = scale ? divisor : 1
        var values: [Float]
        if a.kind == .uint && a.itemSize == 1 {
            values = a.bytes.withUnsafeBytes { raw in raw.bindMemory(to: UInt8.self).map { Float($0) / d } }
        } else if a.kind == .float && a.itemSize == 4 && !a.bigEndian {
            // float32 as stored (little-endian on every platform Swift on Linux runs on).
            values = [Float](repeating: 0, count: a.count)
            values.withUnsafeMutableBytes { dst in a.bytes.withUnsafeBytes { dst.copyMemory(from: $0) } }
            if d != 1 { for i in values.indices { values[i] /= d } }
        } else {
            values = try a.floats(source: source)
            if d != 1 { for i in values.indices { values[i] /= d } }
        }
        if channelsLast { values = toChannelsFirst(values, n: nchw[0], c: nchw[1], plane: nchw[2] * nchw[3]) }
        return Tensor(shape: nchw, scalars: values)
    }

    static func toChannelsFirst(_ v: [Float], n: Int, c: Int, plane: Int) -> [Float] {
        var out = [Float](repeating: 0, count: v.count)
        v.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for s in 0..<n {
                    let base = s * c * plane
                    for p in 0..<plane { for ch in 0..<c { dst[base + ch * plane + p] = src[base + p * c + ch] } }
                }
            }
        }
        return out
    }

    /// Integer labels `[N]`, each ≥ 0.
    static func labels(_ a: NumpyArray, count: Int, source: String) throws -> [Int64] {
        guard a.shape == [count] else {
            throw GlassboxError.badFile(path: source, field: "shape", expected: "[\(count)] (one label per image)", found: "\(a.shape)")
        }
        let ls = try a.integers(source: source)
        if let i = ls.firstIndex(where: { $0 < 0 || $0 > Int64(Int32.max) }) {
            throw GlassboxError.badFile(path: source, field: "label \(i)", expected: "a class index ≥ 0", found: "\(ls[i])")
        }
        return ls
    }
}

public extension FileData {
    /// What `glassbox datasets info folder:PATH` (or `npz:`, `npy:`) prints: the layout, classes and sample counts,
    /// image size and type. Loading problems (odd sizes, bad files) are thrown after the listing is printed.
    static func describe(_ location: DataLocation, print: (String) -> Void) throws {
        switch location {
        case .registry: return
        case .folder:
            let root = location.paths[0]
            let folder = try ImageFolder.scan(root)
            print("\(root): image folder, \(folder.hasSplitFolders ? "train/ and test/ split folders" : "class folders only (one set, used as the test split)")")
            print("classes (\(folder.classNames.count)): \(folder.classNames.joined(separator: ", "))")
            var all: [ImageFolder.Sample] = []
            for (split, samples) in [("train", folder.train), ("test", folder.test as [ImageFolder.Sample]?)] {
                guard let samples else { print("\(split): none"); continue }
                let counts = folder.classNames.indices.map { c in samples.filter { $0.label == c }.count }
                print("\(split): \(samples.count) images (per class: \(counts.map(String.init).joined(separator: ", ")))")
                all += samples
            }
            let headers = try ImageFolder.headers(all)
            var kinds: [String: Int] = [:]
            for h in headers { kinds["\(h.width)×\(h.height) \(h.colorName)", default: 0] += 1 }
            print("images: " + kinds.sorted { $0.key < $1.key }.map { "\($0.value) × \($0.key)" }.joined(separator: "; "))
            print("loads as: \(headers.allSatisfy(\.isGrey) ? 1 : 3) channel(s) of \(headers[0].height)×\(headers[0].width)")
            _ = try folder.load(name: location.defaultName, trainLimit: 1, testLimit: 1)
            let first = headers[0]
            if let odd = zip(all, headers).first(where: { $0.1.width != first.width || $0.1.height != first.height }) {
                throw GlassboxError.badFile(path: odd.0.path, field: "size", expected: "\(first.width)×\(first.height) like \(all[0].relative) (all images one size)",
                                            found: "\(odd.1.width)×\(odd.1.height)")
            }
        case .npz, .npy:
            let paths = location.paths
            var arrays: [(String, NumpyArray)] = []
            if case .npz = location { arrays = try NumpyArchive.read(paths[0]).map { ($0.name, $0.array) } } else { arrays = try paths.map { ($0, try NumpyArray.read($0)) } }
            for (n, a) in arrays { print("\(n): \(a.dtype) \(a.shape)") }
            let (train, test) = try load(location, paths: paths, name: location.defaultName, train: true, trainLimit: nil, testLimit: nil, scale: true)
            print("classes (\(test.classCount)): \(test.classNames.joined(separator: ", "))")
            print("train: \(train.map { "\($0.count) samples" } ?? "none (one set: the test split; resplit splits it)")")
            print("test: \(test.count) samples of \(test.channels)×\(test.height)×\(test.width)")
        }
    }
}
