import Foundation
import GlassboxCore

/// A folder of PNG images in torchvision's `ImageFolder` layout:
///
///     ROOT/train/<class>/*.png     ROOT/test/<class>/*.png     (test/ may be called val/)
///
/// or, without `train/` and `test/`, `ROOT/<class>/*.png` as one set, used as the test split. Class names are the
/// class folders' names in sorted order (byte order, as Python sorts them), so label i is the i-th name, exactly as
/// torchvision numbers them; both splits must have the same class folders. Inside a class folder, files (also in
/// subfolders) are taken in torchvision's order. Hidden files (`.name`) are skipped; any other file that is not a
/// `.png` is an error, as is a class folder without images.
public struct ImageFolder: Sendable {
    public struct Sample: Sendable, Equatable {
        public var path: String
        /// Path below ROOT, e.g. `train/cat/001.png` (for messages and the fingerprint).
        public var relative: String
        public var label: Int
    }

    public var root: String
    public var classNames: [String]
    /// Nil when the folder has no training split.
    public var train: [Sample]?
    public var test: [Sample]
    /// True for the `train/` + `test/` layout, false for class folders directly under ROOT.
    public var hasSplitFolders: Bool

    /// The marker `export-images` leaves in folders it writes (and may replace).
    public static let marker = ".glassbox-images"

    // MARK: Listing

    /// Lists the folder (no image is opened).
    public static func scan(_ root: String) throws -> ImageFolder {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root, isDirectory: &isDir) else {
            throw GlassboxError.missingFile(path: root, hint: "an image folder: ROOT/train/<class>/*.png and ROOT/test/<class>/*.png")
        }
        guard isDir.boolValue else { throw GlassboxError.badFile(path: root, field: "image folder", expected: "a folder", found: "a file") }
        let top = try visible(root)
        let dirs = Set(top.filter { isDirectory(join(root, $0)) })
        let testName = dirs.contains("test") ? "test" : dirs.contains("val") ? "val" : nil
        if dirs.contains("train") || testName != nil {
            guard let testName else {
                throw GlassboxError.badFile(path: root, field: "image folder", expected: "a test/ (or val/) folder beside train/", found: "train/ only")
            }
            let (testClasses, test) = try listSplit(root, testName)
            var train: [Sample]?
            if dirs.contains("train") {
                let (trainClasses, t) = try listSplit(root, "train")
                guard trainClasses == testClasses else {
                    let onlyTrain = trainClasses.filter { !testClasses.contains($0) }, onlyTest = testClasses.filter { !trainClasses.contains($0) }
                    throw GlassboxError.badFile(path: root, field: "class folders", expected: "the same classes in train/ and \(testName)/",
                                                found: "only in train/: \(onlyTrain.isEmpty ? "none" : onlyTrain.joined(separator: ", ")); "
                                                    + "only in \(testName)/: \(onlyTest.isEmpty ? "none" : onlyTest.joined(separator: ", "))")
                }
                train = t
            }
            return ImageFolder(root: root, classNames: testClasses, train: train, test: test, hasSplitFolders: true)
        }
        let (classes, samples) = try listSplit(root, nil)
        return ImageFolder(root: root, classNames: classes, train: nil, test: samples, hasSplitFolders: false)
    }

    /// The class folders of one split and their PNG files in torchvision's order.
    static func listSplit(_ root: String, _ split: String?) throws -> ([String], [Sample]) {
        let base = split.map { join(root, $0) } ?? root
        let classes = try visible(base).filter { isDirectory(join(base, $0)) }
        guard !classes.isEmpty else {
            throw GlassboxError.badFile(path: base, field: "class folders", expected: "one folder of PNG images per class", found: "none")
        }
        var samples: [Sample] = []
        for (label, name) in classes.enumerated() {
            let folder = join(base, name)
            let files = try walk(folder)
            guard !files.isEmpty else {
                throw GlassboxError.badFile(path: folder, field: "images", expected: "at least one .png image in each class folder", found: "none")
            }
            for rel in files {
                guard rel.lowercased().hasSuffix(".png") else {
                    throw GlassboxError.badFile(path: join(folder, rel), field: "image", expected: "PNG images (.png) only in class folders",
                                                found: "'\((rel as NSString).pathExtension)' file (convert it to PNG, or move it out)")
                }
                let relative = [split, name, rel].compactMap { $0 }.joined(separator: "/")
                samples.append(Sample(path: join(folder, rel), relative: relative, label: label))
            }
        }
        return (classes, samples)
    }

    /// Files below `folder` (relative paths), ordered as torchvision's `sorted(os.walk(...))` then `sorted(files)`.
    static func walk(_ folder: String) throws -> [String] {
        var out: [(dir: String, file: String)] = []
        var pending = [""]
        while let dir = pending.popLast() {
            let abs = dir.isEmpty ? folder : folder + dir
            for name in try visible(abs) {
                let path = join(abs, name)
                if isDirectory(path) { pending.append(dir + "/" + name) } else { out.append((dir, name)) }
            }
        }
        out.sort { a, b in a.dir == b.dir ? before(a.file, b.file) : before(a.dir, b.dir) }
        return out.map { $0.dir.isEmpty ? $0.file : String($0.dir.dropFirst()) + "/" + $0.file }
    }

    /// Names in a folder without hidden ones, in byte order (as Python sorts str).
    static func visible(_ folder: String) throws -> [String] {
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: folder) } catch {
            throw GlassboxError.badFile(path: folder, field: "folder", expected: "a readable folder", found: error.localizedDescription)
        }
        return names.filter { !$0.hasPrefix(".") }.sorted(by: before)
    }

    static func before(_ a: String, _ b: String) -> Bool { a.utf8.lexicographicallyPrecedes(b.utf8) }
    static func isDirectory(_ path: String) -> Bool {
        var d: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &d) && d.boolValue
    }
    static func join(_ a: String, _ b: String) -> String { (a as NSString).appendingPathComponent(b) }

    /// SHA-256 over every sample's split, class, path and content: moving a file to another class, renaming or
    /// editing one changes it (so a cached cell that read the folder runs again).
    public func fingerprint() throws -> String {
        var lines: [String] = []
        for s in (train ?? []) + test {
            lines.append("\(s.relative)\t\(s.label)\t\(try SHA256.hex(fileAt: s.path))")
        }
        return SHA256.hex(classNames.joined(separator: "\n") + "\n--\n" + lines.joined(separator: "\n"))
    }

    // MARK: Loading

    /// Loads the splits (the first `trainLimit` / `testLimit` samples of each; `train` false skips the training
    /// split). All images must have one size (the first image that differs is named); the data have one channel when
    /// every image is grey, else three (grey images repeated into RGB).
    public func load(name: String, train loadTrain: Bool = true, trainLimit: Int? = nil, testLimit: Int? = nil, scale: Bool = true) throws
        -> (train: Dataset?, test: Dataset) {
        let trainSamples = loadTrain ? train.map { Array($0.prefix(trainLimit ?? .max)) } : nil
        let testSamples = Array(test.prefix(testLimit ?? .max))
        let all = (trainSamples ?? []) + testSamples
        guard !all.isEmpty else { throw GlassboxError.invalidArgument(name: "limit", expected: "at least one image", found: "none") }
        let headers = try Self.headers(all)
        let first = headers[0]
        for (s, h) in zip(all, headers) where h.width != first.width || h.height != first.height {
            throw GlassboxError.badFile(path: s.path, field: "size", expected: "\(first.width)×\(first.height) like \(all[0].relative) (all images one size)",
                                        found: "\(h.width)×\(h.height)")
        }
        let channels = headers.allSatisfy(\.isGrey) ? 1 : 3
        let trainSet = try trainSamples.map { try Self.decode($0, headers: Array(headers[0..<$0.count]), channels: channels, scale: scale, name: name, classNames: classNames) }
        let testSet = try Self.decode(testSamples, headers: Array(headers[(trainSamples?.count ?? 0)...]), channels: channels, scale: scale, name: name,
                                      classNames: classNames)
        return (trainSet, testSet)
    }

    /// Every sample's PNG header, read in parallel; the first failure in file order is thrown.
    static func headers(_ samples: [Sample]) throws -> [PNGFile.Header] {
        var headers = [PNGFile.Header?](repeating: nil, count: samples.count)
        var errors = [Error?](repeating: nil, count: samples.count)
        headers.withUnsafeMutableBufferPointer { hs in
            errors.withUnsafeMutableBufferPointer { es in
                let (hp, ep) = (hs.baseAddress!, es.baseAddress!)
                Parallel.forChunks(samples.count) { _, range in
                    for i in range {
                        do { hp[i] = try PNGFile.readHeader(samples[i].path) } catch { ep[i] = error }
                    }
                }
            }
        }
        if let e = errors.compactMap({ $0 }).first { throw e }
        return headers.map { $0! }
    }

    /// Decodes samples into one `[N, C, H, W]` data set, in parallel (each image has its own slot, so the result does
    /// not depend on the thread count); the first failure in file order is thrown.
    static func decode(_ samples: [Sample], headers: [PNGFile.Header], channels: Int, scale: Bool, name: String, classNames: [String]) throws -> Dataset {
        let (h, w) = (headers.first?.height ?? 1, headers.first?.width ?? 1)
        let shape = [samples.count, channels, h, w]
        var total = 1
        for d in shape {
            let (t, o) = total.multipliedReportingOverflow(by: d)
            guard !o, t <= NumpyArray.maxElements else {
                throw GlassboxError.badFile(path: samples.first?.path ?? "", field: "images", expected: "at most \(NumpyArray.maxElements) values in all",
                                            found: "\(samples.count) images of \(channels)×\(h)×\(w)")
            }
            total = t
        }
        var errors = [Error?](repeating: nil, count: samples.count)
        let per = channels * h * w
        let images = Tensor(uninitializedShape: shape) { base, _ in
            errors.withUnsafeMutableBufferPointer { es in
                let ep = es.baseAddress!
                Parallel.forChunks(samples.count) { _, range in
                    for i in range {
                        do {
                            let data = try Files.read(samples[i].path)
                            try PNGFile.decode(data, source: samples[i].path, expected: headers[i], channels: channels, scale: scale, into: base + i * per)
                        } catch {
                            ep[i] = error
                            (base + i * per).initialize(repeating: 0, count: per)
                        }
                    }
                }
            }
        }
        if let e = errors.compactMap({ $0 }).first { throw e }
        return Dataset(name: name, images: images, labels: samples.map { Int32($0.label) }, classNames: classNames)
    }

    // MARK: Writing

    /// Folder names for class names: the names themselves (with `/`, `\` and a leading `.` replaced) when they are
    /// distinct and already sort in label order, else prefixed with the zero-padded label (`03-Dress`), so reading the
    /// folder back numbers the classes as before.
    public static func folderNames(_ classNames: [String]) -> [String] {
        let clean = classNames.map { n -> String in
            var s = n.replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "\\", with: "_").replacingOccurrences(of: "\0", with: "_")
            if s.hasPrefix(".") { s = "_" + s.dropFirst() }
            return s.isEmpty ? "class" : s
        }
        let sorted = zip(clean, clean.dropFirst()).allSatisfy { before($0, $1) }
        if sorted { return clean }
        let width = String(max(0, classNames.count - 1)).count
        return clean.enumerated().map { String(repeating: "0", count: width - String($0.offset).count) + "\($0.offset)-\($0.element)" }
    }

    /// Writes data sets as `ROOT/<split>/<class>/<index>.png` (8-bit grey or RGB; normalised images are turned back
    /// into pixels first). The folder is written beside ROOT and renamed into place; an existing ROOT is replaced only
    /// if an earlier export wrote it (it holds `.glassbox-images`), and left untouched when it already holds exactly
    /// these images.
    public static func write(_ sets: [(split: String, data: Dataset)], to root: String, normalization: Normalization? = nil) throws {
        let fm = FileManager.default
        let rootURL = URL(fileURLWithPath: root).standardizedFileURL
        if fm.fileExists(atPath: rootURL.path), !fm.fileExists(atPath: rootURL.appendingPathComponent(marker).path) {
            throw GlassboxError.badFile(path: root, field: "image folder", expected: "a new folder, or one an earlier export wrote (holding \(marker))",
                                        found: "an existing folder that glassbox did not write")
        }
        let staging = rootURL.deletingLastPathComponent().appendingPathComponent(".\(rootURL.lastPathComponent).tmp-\(ProcessInfo.processInfo.processIdentifier)").path
        try? fm.removeItem(atPath: staging)
        do {
            try fm.createDirectory(atPath: staging, withIntermediateDirectories: true)
            try Data("written by glassbox export-images; may be replaced by the next export\n".utf8).write(to: URL(fileURLWithPath: join(staging, marker)))
            for (split, data) in sets { try writeSplit(data, to: join(staging, split), normalization: normalization ?? Normalization()) }
            if fm.fileExists(atPath: rootURL.path) {
                if try scan(rootURL.path).fingerprint() == (try scan(staging).fingerprint()) {
                    try fm.removeItem(atPath: staging)
                    return
                }
                try fm.removeItem(at: rootURL)
            }
            guard rename(staging, rootURL.path) == 0 else { throw GlassboxError.message(String(cString: strerror(errno))) }
        } catch {
            try? fm.removeItem(atPath: staging)
            if error is GlassboxError { throw error }
            throw GlassboxError.badFile(path: root, field: "write", expected: "a writable location", found: "\(error.localizedDescription)")
        }
    }

    static func writeSplit(_ data: Dataset, to folder: String, normalization: Normalization) throws {
        let names = folderNames(data.classNames)
        var counts = [Int](repeating: 0, count: names.count)
        for l in data.labels where names.indices.contains(Int(l)) { counts[Int(l)] += 1 }
        if let empty = counts.firstIndex(of: 0) {
            throw GlassboxError.invalidArgument(name: "data", expected: "at least one image of every class (reading the folder back would renumber the classes)",
                                                found: "no image of class '\(data.classNames[empty])' in \((folder as NSString).lastPathComponent)")
        }
        for n in names { try FileManager.default.createDirectory(atPath: join(folder, n), withIntermediateDirectories: true) }
        let width = String(max(0, data.count - 1)).count
        let pixels = normalization.displayable(data.images)
        let (c, h, w) = (data.channels, data.height, data.width)
        var errors = [Error?](repeating: nil, count: data.count)
        errors.withUnsafeMutableBufferPointer { es in
            let ep = es.baseAddress!
            pixels.withUnsafeBufferPointer { px in
                Parallel.forChunks(data.count) { _, range in
                    for i in range {
                        do {
                            let label = Int(data.labels[i])
                            guard names.indices.contains(label) else {
                                throw GlassboxError.invalidArgument(name: "label", expected: "0…\(names.count - 1)", found: "\(label) (sample \(i))")
                            }
                            let png = try PNGFile.encode(image: UnsafeBufferPointer(rebasing: px[(i * c * h * w)..<((i + 1) * c * h * w)]), channels: c, height: h, width: w)
                            let file = String(repeating: "0", count: width - String(i).count) + "\(i).png"
                            try writePlainFile(png, to: join(join(folder, names[label]), file))
                        } catch { ep[i] = error }
                    }
                }
            }
        }
        if let e = errors.compactMap({ $0 }).first { throw e }
    }
}

/// Writes a file with plain POSIX calls: Foundation's `Data.write` syncs every file to disk, which made writing
/// thousands of small PNGs take a millisecond each; the folder as a whole is renamed into place instead.
func writePlainFile(_ data: Data, to path: String) throws {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    guard fd >= 0 else { throw GlassboxError.badFile(path: path, field: "write", expected: "a writable location", found: String(cString: strerror(errno))) }
    defer { close(fd) }
    try data.withUnsafeBytes { raw in
        var done = 0
        while done < raw.count {
            let n = write(fd, raw.baseAddress! + done, raw.count - done)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw GlassboxError.badFile(path: path, field: "write", expected: "a writable location", found: String(cString: strerror(errno))) }
            done += n
        }
    }
}
