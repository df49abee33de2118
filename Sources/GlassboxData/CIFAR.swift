import Foundation
import GlassboxCore

/// Reader for the CIFAR-10 binary version (`cifar-10-batches-bin/`): each batch file is a sequence of 3073-byte
/// records, one label byte (0…9) followed by 3072 pixel bytes — the 32×32 red plane, then green, then blue,
/// each row-major. That is already `[C, H, W]` order, so a record maps straight onto one image of the tensor.
public enum CIFAR10 {
    public static let side = 32
    public static let channels = 3
    public static let pixelBytes = 3 * 32 * 32
    public static let recordSize = 1 + pixelBytes
    public static let trainFiles = (1...5).map { "data_batch_\($0).bin" }
    public static let testFiles = ["test_batch.bin"]
    /// The folder the official archive unpacks to.
    public static let archiveFolder = "cifar-10-batches-bin"
    public static let canonicalClassNames = ["airplane", "automobile", "bird", "cat", "deer",
                                             "dog", "frog", "horse", "ship", "truck"]

    private static let byteToUnit: [Float] = (0..<256).map { Float($0) / 255 }

    /// Reads one batch file as `[N, 3, 32, 32]` images in [0, 1] and labels. `limit` keeps the first records
    /// (the whole file is still validated: its size and every label).
    public static func readBatch(_ path: String, limit: Int? = nil) throws -> (images: Tensor, labels: [Int32]) {
        let data = try Files.read(path)
        guard !data.isEmpty else {
            throw GlassboxError.badFile(path: path, field: "size", expected: "a positive multiple of \(recordSize) bytes",
                                        found: "an empty file")
        }
        guard data.count % recordSize == 0 else {
            let whole = data.count / recordSize
            throw GlassboxError.badFile(path: path, field: "size",
                                        expected: "a multiple of \(recordSize) bytes (1 label byte + \(pixelBytes) pixel bytes per image)",
                                        found: "\(data.count) bytes (\(whole) whole records and \(data.count - whole * recordSize) bytes left over: truncated or not a CIFAR-10 binary batch)")
        }
        let n = data.count / recordSize
        let keep = min(n, max(0, limit ?? n))
        var labels = [Int32](repeating: 0, count: keep)
        var badLabel: (index: Int, value: UInt8)?
        data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            let src = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
            for r in 0..<n {
                let l = src[r * recordSize]
                if l >= 10 { badLabel = (r, l); break }
                if r < keep { labels[r] = Int32(l) }
            }
        }
        if let badLabel {
            throw GlassboxError.badFile(path: path, field: "label of record \(badLabel.index)",
                                        expected: "a class index 0…9", found: "\(badLabel.value)")
        }
        let images = Tensor(uninitializedShape: [keep, channels, side, side]) { dst, _ in
            byteToUnit.withUnsafeBufferPointer { table in
                data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
                    let src = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
                    let lut = table.baseAddress!
                    for r in 0..<keep {
                        let s = src + r * recordSize + 1
                        let d = dst + r * pixelBytes
                        for i in 0..<pixelBytes { d[i] = lut[Int(s[i])] }
                    }
                }
            }
        }
        return (images, labels)
    }

    /// The folder holding the batch files: `directory` itself or its `cifar-10-batches-bin/` child.
    public static func batchFolder(in directory: String, split: Split) -> String? {
        let needed = split == .train ? trainFiles : testFiles
        for folder in [directory, (directory as NSString).appendingPathComponent(archiveFolder)] {
            if needed.allSatisfy({ FileManager.default.fileExists(atPath: (folder as NSString).appendingPathComponent($0)) }) {
                return folder
            }
        }
        return nil
    }

    /// Class names from `batches.meta.txt` (one per line) when present and well formed, else the canonical ten.
    public static func classNames(in folder: String) throws -> [String] {
        let meta = (folder as NSString).appendingPathComponent("batches.meta.txt")
        guard FileManager.default.fileExists(atPath: meta) else { return canonicalClassNames }
        guard let text = String(data: try Files.read(meta), encoding: .utf8) else {
            throw GlassboxError.badFile(path: meta, field: "text", expected: "UTF-8 class names, one per line", found: "undecodable bytes")
        }
        let names = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard names.count == 10 else {
            throw GlassboxError.badFile(path: meta, field: "class names", expected: "10 non-empty lines", found: "\(names.count)")
        }
        return names
    }

    /// Loads the train split (the five data batches, in order) or the test split from `directory`.
    public static func load(directory: String, split: Split, limit: Int? = nil, name: String = "cifar10") throws -> Dataset {
        if let limit, limit < 0 {
            throw GlassboxError.invalidArgument(name: "limit", expected: "a count ≥ 0", found: "\(limit)")
        }
        guard let folder = batchFolder(in: directory, split: split) else {
            let needed = split == .train ? trainFiles : testFiles
            let missing = needed.first { !FileManager.default.fileExists(atPath: (directory as NSString).appendingPathComponent($0)) } ?? needed[0]
            throw GlassboxError.missingFile(path: (directory as NSString).appendingPathComponent(missing),
                                            hint: "CIFAR-10 \(split.rawValue) split needs \(needed.joined(separator: ", ")) here or in \(archiveFolder)/")
        }
        let files = split == .train ? trainFiles : testFiles
        var remaining = limit
        var parts: [(Tensor, [Int32])] = []
        for f in files {
            if let r = remaining, r == 0 { break }
            let part = try readBatch((folder as NSString).appendingPathComponent(f), limit: remaining)
            parts.append(part)
            if let r = remaining { remaining = r - part.1.count }
        }
        let total = parts.reduce(0) { $0 + $1.1.count }
        let images = Tensor(uninitializedShape: [total, channels, side, side]) { dst, _ in
            var offset = 0
            for (t, _) in parts {
                t.withUnsafeBufferPointer { src in
                    if src.count > 0 { (dst + offset).update(from: src.baseAddress!, count: src.count) }
                    offset += src.count
                }
            }
        }
        return Dataset(name: name, images: images, labels: parts.flatMap { $0.1 }, classNames: try classNames(in: folder))
    }

    /// Encodes records (for tests and tools): `pixels` holds `labels.count × 3072` bytes in CIFAR plane order.
    public static func encodeBatch(labels: [UInt8], pixels: [UInt8]) throws -> Data {
        guard pixels.count == labels.count * pixelBytes else {
            throw GlassboxError.invalidArgument(name: "pixels", expected: "\(labels.count * pixelBytes) bytes",
                                                found: "\(pixels.count)")
        }
        var out = Data(capacity: labels.count * recordSize)
        for (i, l) in labels.enumerated() {
            out.append(l)
            out.append(contentsOf: pixels[(i * pixelBytes)..<((i + 1) * pixelBytes)])
        }
        return out
    }
}
