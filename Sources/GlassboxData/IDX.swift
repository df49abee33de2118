import Foundation
import GlassboxCore

/// Reader and writer for the IDX format used by MNIST and Fashion-MNIST (unsigned-byte images and labels).
///
/// An IDX file is a 4-byte magic number `00 00 TT DD` (TT = data type, 0x08 for unsigned bytes; DD = number of
/// dimensions), then DD big-endian UInt32 sizes, then the values. Files may be gzip-compressed; compression is
/// detected from the gzip magic bytes, not from the file name.
public enum IDX {
    /// Magic number of an idx3 unsigned-byte file (images `[N, H, W]`).
    public static let imagesMagic: UInt32 = 0x0000_0803
    /// Magic number of an idx1 unsigned-byte file (labels `[N]`).
    public static let labelsMagic: UInt32 = 0x0000_0801

    /// Images read from an idx3 file as `[N, 1, H, W]` Float values in [0, 1] (byte / 255).
    public struct Images: Sendable {
        public var count: Int
        public var rows: Int
        public var columns: Int
        public var tensor: Tensor
    }

    /// `table[b] == Float(b) / 255` exactly, so the conversion loop is one load per pixel.
    private static let byteToUnit: [Float] = (0..<256).map { Float($0) / 255 }

    /// Reads an idx3-ubyte image file (raw or gzip). `limit` keeps only the first images (the whole file is still
    /// validated).
    public static func readImages(_ path: String, limit: Int? = nil) throws -> Images {
        let (data, dims) = try readValidated(path, dimensions: 3, magic: imagesMagic, what: "idx3 unsigned-byte images")
        return convertImages(data, dims: dims, limit: limit)
    }

    /// Reads an idx1-ubyte label file (raw or gzip). `limit` keeps only the first labels.
    public static func readLabels(_ path: String, limit: Int? = nil) throws -> [Int32] {
        let (data, dims) = try readValidated(path, dimensions: 1, magic: labelsMagic, what: "idx1 unsigned-byte labels")
        return convertLabels(data, count: dims[0], limit: limit)
    }

    /// Loads an image file and its label file as a `Dataset`, checking that the counts agree and every label
    /// names one of `classNames`. `limit` keeps the first images (both files are still validated in full).
    public static func loadDataset(name: String, imagesPath: String, labelsPath: String, classNames: [String],
                                   limit: Int? = nil) throws -> Dataset {
        if let limit, limit < 0 {
            throw GlassboxError.invalidArgument(name: "limit", expected: "a count ≥ 0", found: "\(limit)")
        }
        let (labelData, labelDims) = try readValidated(labelsPath, dimensions: 1, magic: labelsMagic,
                                                       what: "idx1 unsigned-byte labels")
        let (imageData, imageDims) = try readValidated(imagesPath, dimensions: 3, magic: imagesMagic,
                                                       what: "idx3 unsigned-byte images")
        guard labelDims[0] == imageDims[0] else {
            throw GlassboxError.badFile(path: labelsPath, field: "count",
                                        expected: "\(imageDims[0]) labels (one per image in \(imagesPath))",
                                        found: "\(labelDims[0]) labels")
        }
        let labels = convertLabels(labelData, count: labelDims[0], limit: limit)
        for (i, label) in labels.enumerated() where Int(label) >= classNames.count {
            throw GlassboxError.badFile(path: labelsPath, field: "label[\(i)]",
                                        expected: "a class index below \(classNames.count)", found: "\(label)")
        }
        let images = convertImages(imageData, dims: imageDims, limit: limit)
        return Dataset(name: name, images: images.tensor, labels: labels, classNames: classNames)
    }

    /// Reads (and gunzips) a file and validates its header and exact size.
    ///
    /// A gzip file is inflated in two steps: first only its header, which gives the exact size the data must have
    /// (checked against `Limits.decompressedBytes`), then the data, stopping at that size. A small file that would
    /// inflate to gigabytes is refused before it is inflated.
    /// Gzip files are inflated once per version of the file and then read from `InflatedCache`.
    static func readValidated(_ path: String, dimensions: Int, magic: UInt32, what: String) throws -> (Data, [Int]) {
        try InflatedCache.readValidated(path) { try validated($0, path: path, dimensions: dimensions, magic: magic, what: what) }
    }

    /// Images from the bytes of an idx3 file (raw or gzip); `name` is used in errors.
    public static func images(from data: Data, name: String, limit: Int? = nil) throws -> Images {
        let (raw, dims) = try validated(data, path: name, dimensions: 3, magic: imagesMagic, what: "idx3 unsigned-byte images")
        return convertImages(raw, dims: dims, limit: limit)
    }

    /// Labels from the bytes of an idx1 file (raw or gzip); `name` is used in errors.
    public static func labels(from data: Data, name: String, limit: Int? = nil) throws -> [Int32] {
        let (raw, dims) = try validated(data, path: name, dimensions: 1, magic: labelsMagic, what: "idx1 unsigned-byte labels")
        return convertLabels(raw, count: dims[0], limit: limit)
    }

    static func validated(_ raw: Data, path: String, dimensions: Int, magic: UInt32, what: String) throws -> (Data, [Int]) {
        guard Files.isGzip(raw) else {
            return (raw, try parseHeader(raw, path: path, dimensions: dimensions, magic: magic, what: what))
        }
        let headerSize = 4 + 4 * dimensions
        let head = try Files.gunzip(raw, name: path, upTo: headerSize).data
        let (dims, expected) = try headerDimensions(head, path: path, dimensions: dimensions, magic: magic, what: what)
        let limit = Limits.decompressedBytes
        guard expected <= limit.value else {
            throw GlassboxError.badFile(path: path, field: "size",
                                        expected: "at most \(limit.value) bytes once decompressed (raise the limit with \(limit.variable)=N)",
                                        found: "a header for \(expected) bytes (\(dims.map(String.init).joined(separator: "×")))")
        }
        let (data, complete) = try Files.gunzip(raw, name: path, upTo: expected)
        guard complete else {
            throw GlassboxError.badFile(path: path, field: "size", expected: "\(expected) bytes (\(headerSize)-byte header + \(dims.map(String.init).joined(separator: "×")))",
                                        found: "more once decompressed (extra bytes)")
        }
        return (data, try parseHeader(data, path: path, dimensions: dimensions, magic: magic, what: what))
    }

    private static func convertImages(_ data: Data, dims: [Int], limit: Int?) -> Images {
        let (n, h, w) = (dims[0], dims[1], dims[2])
        let keep = min(n, max(0, limit ?? n))
        let tensor = Tensor(uninitializedShape: [keep, 1, h, w]) { dst, total in
            byteToUnit.withUnsafeBufferPointer { table in
                data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
                    let src = raw.baseAddress!.assumingMemoryBound(to: UInt8.self) + 16
                    let lut = table.baseAddress!
                    for i in 0..<total { dst[i] = lut[Int(src[i])] }
                }
            }
        }
        return Images(count: keep, rows: h, columns: w, tensor: tensor)
    }

    private static func convertLabels(_ data: Data, count n: Int, limit: Int?) -> [Int32] {
        let keep = min(n, max(0, limit ?? n))
        return [Int32](unsafeUninitializedCapacity: keep) { buf, count in
            if keep > 0 {
                data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
                    let src = raw.baseAddress!.assumingMemoryBound(to: UInt8.self) + 8
                    for i in 0..<keep { buf[i] = Int32(src[i]) }
                }
            }
            count = keep
        }
    }

    /// Validates the header and the exact byte count; returns the dimensions.
    static func parseHeader(_ data: Data, path: String, dimensions: Int, magic: UInt32, what: String) throws -> [Int] {
        let headerSize = 4 + 4 * dimensions
        let (dims, expected) = try headerDimensions(data, path: path, dimensions: dimensions, magic: magic, what: what)
        if data.count != expected {
            let shape = dims.map(String.init).joined(separator: "×")
            let why = data.count < expected ? "truncated file, \(expected - data.count) bytes missing"
                                            : "\(data.count - expected) extra bytes"
            throw GlassboxError.badFile(path: path, field: "size", expected: "\(expected) bytes (\(headerSize)-byte header + \(shape))",
                                        found: "\(data.count) bytes (\(why))")
        }
        return dims
    }

    /// Validates the header (the first bytes of `data`); returns the dimensions and the file size they imply,
    /// computed without overflow.
    static func headerDimensions(_ data: Data, path: String, dimensions: Int, magic: UInt32, what: String) throws -> ([Int], Int) {
        let headerSize = 4 + 4 * dimensions
        let bytes = [UInt8](data.prefix(headerSize))
        guard bytes.count >= 4 else {
            throw GlassboxError.badFile(path: path, field: "header", expected: "an IDX header of \(headerSize) bytes (\(what))",
                                        found: data.isEmpty ? "an empty file" : "only \(data.count) bytes")
        }
        let found = UInt32(bytes[0]) << 24 | UInt32(bytes[1]) << 16 | UInt32(bytes[2]) << 8 | UInt32(bytes[3])
        let hex = String(format: "0x%08X", found)
        guard bytes[0] == 0, bytes[1] == 0 else {
            throw GlassboxError.badFile(path: path, field: "magic", expected: String(format: "0x%08X (%@)", magic, what),
                                        found: hex)
        }
        guard bytes[2] == 0x08 else {
            throw GlassboxError.badFile(path: path, field: "data type", expected: "0x08 (unsigned byte)",
                                        found: String(format: "0x%02X", bytes[2]))
        }
        guard Int(bytes[3]) == dimensions else {
            throw GlassboxError.badFile(path: path, field: "magic", expected: String(format: "0x%08X (%@)", magic, what),
                                        found: "\(hex) (\(bytes[3]) dimensions)")
        }
        guard bytes.count == headerSize else {
            throw GlassboxError.badFile(path: path, field: "header", expected: "\(headerSize) header bytes",
                                        found: "\(data.count) bytes (truncated file)")
        }
        var dims = [Int]()
        var payload = 1
        for d in 0..<dimensions {
            let o = 4 + 4 * d
            let v = Int(UInt32(bytes[o]) << 24 | UInt32(bytes[o + 1]) << 16 | UInt32(bytes[o + 2]) << 8 | UInt32(bytes[o + 3]))
            if d > 0 && v == 0 {
                throw GlassboxError.badFile(path: path, field: "dimension \(d)", expected: "a size ≥ 1", found: "0")
            }
            dims.append(v)
            let (p, overflow) = payload.multipliedReportingOverflow(by: v)
            guard !overflow else {
                throw GlassboxError.badFile(path: path, field: "dimensions", expected: "sizes that fit in memory",
                                            found: dims.map(String.init).joined(separator: "×"))
            }
            payload = p
        }
        return (dims, headerSize + payload)
    }

    // MARK: Writing

    /// Encodes unsigned-byte values of shape `dims` as an IDX file (magic 0x0000 08 DD).
    public static func encode(_ values: [UInt8], dims: [Int]) throws -> Data {
        guard dims.reduce(1, *) == values.count, !dims.isEmpty, dims.count < 256,
              dims.allSatisfy({ $0 >= 0 && $0 <= Int(UInt32.max) }) else {
            throw GlassboxError.invalidArgument(name: "IDX dims", expected: "sizes whose product is \(values.count)",
                                                found: "\(dims)")
        }
        var out = Data(capacity: 4 + 4 * dims.count + values.count)
        out.append(contentsOf: [0, 0, 0x08, UInt8(dims.count)])
        for d in dims {
            let v = UInt32(d)
            out.append(contentsOf: [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)])
        }
        out.append(contentsOf: values)
        return out
    }

    /// Writes `count` images of `rows`×`columns` bytes as idx3-ubyte, gzip-compressed when `gzip` is true.
    public static func writeImages(_ pixels: [UInt8], count: Int, rows: Int, columns: Int, to path: String,
                                   gzip: Bool = false) throws {
        let data = try encode(pixels, dims: [count, rows, columns])
        try Files.writeAtomically(gzip ? Files.gzip(data) : data, to: path)
    }

    /// Writes labels as idx1-ubyte, gzip-compressed when `gzip` is true.
    public static func writeLabels(_ labels: [UInt8], to path: String, gzip: Bool = false) throws {
        let data = try encode(labels, dims: [labels.count])
        try Files.writeAtomically(gzip ? Files.gzip(data) : data, to: path)
    }
}
