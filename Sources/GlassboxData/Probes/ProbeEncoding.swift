import Foundation
import GlassboxCore

/// A compact binary form of a `ProbeSet`, so a recipe step can cache one in a file.
///
/// Layout (little-endian): magic `GBPROBE1`; UInt32 version (1); UInt32 N, C, H, W; the name; UInt32 class count
/// and the class names; UInt8 1/0 and N Int32 labels when present; N·C·H·W Float32 image values; UInt32 concept
/// count and per concept: name, category, UInt8 image-level flag, UInt64 popcount, the mask's words (UInt64, whole
/// words per image as `MaskLayout`). Strings are UInt32 byte length + UTF-8. The last 32 bytes are the SHA-256 of
/// everything before them.
///
/// Decoding checks the checksum, every length against the bytes that remain, every value range and every mask
/// (padding bits, popcount), and throws `GlassboxError.badFile` naming the part; it never traps on bad bytes.
public extension ProbeSet {
    static let encodingMagic = Array("GBPROBE1".utf8)
    static let encodingVersion: UInt32 = 1

    func encoded() -> Data {
        var w = ByteWriter()
        w.bytes(ProbeSet.encodingMagic)
        w.u32(ProbeSet.encodingVersion)
        for d in images.shape { w.u32(UInt32(d)) }
        w.string(name)
        w.u32(UInt32(classNames.count))
        for c in classNames { w.string(c) }
        if let labels {
            w.u8(1)
            for l in labels { w.u32(UInt32(bitPattern: l)) }
        } else {
            w.u8(0)
        }
        images.withUnsafeBufferPointer { p in w.floats(p) }
        w.u32(UInt32(concepts.count))
        for c in concepts {
            w.string(c.name)
            w.string(c.category.rawValue)
            w.u8(c.imageLevel ? 1 : 0)
            w.u64(UInt64(c.mask.popcount))
            c.mask.words.withUnsafeBufferPointer { w.words($0) }
        }
        var h = SHA256()
        h.update(w.data)
        w.bytes(h.finalize())
        return w.data
    }

    /// SHA-256 (hex) of the encoding: equal probe sets have equal hashes.
    var contentHash: String { SHA256.hex(encoded()) }

    /// Decodes `encoded()` output; `source` names the file in error messages.
    static func decode(_ data: Data, source: String = "probe set") throws -> ProbeSet {
        func bad(_ field: String, _ expected: String, _ found: String) -> GlassboxError {
            .badFile(path: source, field: field, expected: expected, found: found)
        }
        let bytes = [UInt8](data)
        guard bytes.count >= encodingMagic.count + 32, Array(bytes[0..<encodingMagic.count]) == encodingMagic else {
            throw bad("magic", "a Glassbox probe set (GBPROBE1)", bytes.count < 8 ? "\(bytes.count) bytes" : "other bytes")
        }
        let body = bytes.count - 32
        var h = SHA256()
        bytes.withUnsafeBytes { h.update(UnsafeRawBufferPointer(rebasing: $0[0..<body])) }
        guard h.finalize() == Array(bytes[body...]) else { throw bad("checksum", "the SHA-256 stored at the end", "a different one (corrupt file)") }
        var r = ByteReader(bytes: bytes, end: body, source: source)
        r.offset = encodingMagic.count
        let version = try r.u32("version")
        guard version == encodingVersion else { throw bad("version", "\(encodingVersion)", "\(version)") }
        let dims = try (0..<4).map { i in Int(try r.u32("shape[\(i)]")) }
        guard dims[1] >= 1, dims[1] <= 4, dims[2] >= 1, dims[3] >= 1, dims[2] <= 4096, dims[3] <= 4096 else {
            throw bad("shape", "N×C×H×W with 1 ≤ C ≤ 4 and 1 ≤ H, W ≤ 4096", "\(dims)")
        }
        let n = dims[0]
        let valueCount = n * dims[1] * dims[2] * dims[3]
        guard valueCount <= r.remaining / 4 else { throw bad("images", "\(valueCount) values", "only \(r.remaining) bytes left") }
        let name = try r.string("name")
        let classCount = Int(try r.u32("class count"))
        guard classCount <= r.remaining / 4 else { throw bad("class count", "at most \(r.remaining / 4)", "\(classCount)") }
        let classNames = try (0..<classCount).map { i in try r.string("class name \(i)") }
        let hasLabels = try r.u8("labels flag")
        guard hasLabels <= 1 else { throw bad("labels flag", "0 or 1", "\(hasLabels)") }
        var labels: [Int32]?
        if hasLabels == 1 {
            guard n <= r.remaining / 4 else { throw bad("labels", "\(n) labels", "only \(r.remaining) bytes left") }
            labels = try (0..<n).map { _ in Int32(bitPattern: try r.u32("labels")) }
        }
        guard valueCount <= r.remaining / 4 else { throw bad("images", "\(valueCount) values", "only \(r.remaining) bytes left") }
        let values = try r.floats(valueCount, "images")
        if let i = values.firstIndex(where: { !($0 >= 0 && $0 <= 1) }) { throw bad("images", "values in [0, 1]", "\(values[i]) at \(i)") }
        let layout = MaskLayout(images: n, height: dims[2], width: dims[3])
        let conceptCount = Int(try r.u32("concept count"))
        guard conceptCount <= r.remaining / (17 + layout.wordCount * 8) else {
            throw bad("concept count", "at most what the remaining bytes hold", "\(conceptCount)")
        }
        var concepts: [Concept] = []
        for k in 0..<conceptCount {
            let cname = try r.string("concept \(k) name")
            let catName = try r.string("concept \(k) category")
            guard let cat = ConceptCategory(rawValue: catName) else {
                throw bad("concept '\(cname)' category", ConceptCategory.allCases.map(\.rawValue).joined(separator: "|"), "'\(catName)'")
            }
            let level = try r.u8("concept '\(cname)' flag")
            guard level <= 1 else { throw bad("concept '\(cname)' flag", "0 or 1", "\(level)") }
            let pop = try r.u64("concept '\(cname)' popcount")
            guard layout.wordCount <= r.remaining / 8 else { throw bad("concept '\(cname)' mask", "\(layout.wordCount) words", "only \(r.remaining) bytes left") }
            let words = try r.words(layout.wordCount, "concept '\(cname)' mask")
            let mask: BitMask
            do {
                mask = try BitMask(count: layout.bitCount, words: words)
                try layout.validate(mask, name: "concept '\(cname)'")
            } catch let e as GlassboxError {
                throw bad("concept '\(cname)' mask", "a mask of the probe layout", e.description)
            }
            guard UInt64(mask.popcount) == pop else { throw bad("concept '\(cname)' popcount", "\(pop)", "\(mask.popcount) set bits") }
            concepts.append(Concept(name: cname, category: cat, imageLevel: level == 1, mask: mask))
        }
        guard r.remaining == 0 else { throw bad("end", "the checksum after the last concept", "\(r.remaining) extra bytes") }
        do {
            return try ProbeSet(name: name, images: Tensor(shape: dims, scalars: values), labels: labels, classNames: classNames, concepts: concepts)
        } catch let e as GlassboxError {
            throw bad("contents", "a consistent probe set", e.description)
        }
    }
}

/// Appends little-endian values to a byte buffer.
struct ByteWriter {
    var data = Data()
    mutating func bytes(_ b: [UInt8]) { data.append(contentsOf: b) }
    mutating func u8(_ v: UInt8) { data.append(v) }
    mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { data.append(contentsOf: $0) } }
    mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { data.append(contentsOf: $0) } }
    mutating func floats(_ p: UnsafeBufferPointer<Float>) {
        #if _endian(little)
        data.append(UnsafeBufferPointer(start: UnsafeRawPointer(p.baseAddress)?.assumingMemoryBound(to: UInt8.self), count: p.count * 4))
        #else
        for v in p { u32(v.bitPattern) }
        #endif
    }
    mutating func words(_ p: UnsafeBufferPointer<UInt64>) {
        #if _endian(little)
        data.append(UnsafeBufferPointer(start: UnsafeRawPointer(p.baseAddress)?.assumingMemoryBound(to: UInt8.self), count: p.count * 8))
        #else
        for v in p { u64(v) }
        #endif
    }
    mutating func string(_ s: String) {
        let b = Array(s.utf8)
        u32(UInt32(b.count))
        bytes(b)
    }
}

/// Reads little-endian values with a bounds check before every read.
struct ByteReader {
    let bytes: [UInt8]
    let end: Int
    let source: String
    var offset = 0

    init(bytes: [UInt8], end: Int, source: String) { self.bytes = bytes; self.end = end; self.source = source }

    var remaining: Int { end - offset }

    private mutating func take(_ n: Int, _ field: String) throws -> Int {
        guard n >= 0, n <= remaining else {
            throw GlassboxError.badFile(path: source, field: field, expected: "\(n) more bytes", found: "\(remaining) (truncated)")
        }
        defer { offset += n }
        return offset
    }

    mutating func u8(_ field: String) throws -> UInt8 { bytes[try take(1, field)] }

    mutating func u32(_ field: String) throws -> UInt32 {
        let o = try take(4, field)
        return (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[o + $1]) << (8 * UInt32($1)) }
    }

    mutating func u64(_ field: String) throws -> UInt64 {
        let o = try take(8, field)
        return (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[o + $1]) << (8 * UInt64($1)) }
    }

    /// `count` Float32 values in one copy.
    mutating func floats(_ count: Int, _ field: String) throws -> [Float] {
        guard count >= 0, count <= remaining / 4 else {
            throw GlassboxError.badFile(path: source, field: field, expected: "\(count) values", found: "\(remaining) bytes (truncated)")
        }
        let o = try take(count * 4, field)
        return [Float](unsafeUninitializedCapacity: count) { buf, n in
            bytes.withUnsafeBytes { raw in
                for i in 0..<count { buf[i] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: o + 4 * i, as: UInt32.self))) }
            }
            n = count
        }
    }

    /// `count` UInt64 words in one pass.
    mutating func words(_ count: Int, _ field: String) throws -> [UInt64] {
        guard count >= 0, count <= remaining / 8 else {
            throw GlassboxError.badFile(path: source, field: field, expected: "\(count) words", found: "\(remaining) bytes (truncated)")
        }
        let o = try take(count * 8, field)
        return [UInt64](unsafeUninitializedCapacity: count) { buf, n in
            bytes.withUnsafeBytes { raw in
                for i in 0..<count { buf[i] = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: o + 8 * i, as: UInt64.self)) }
            }
            n = count
        }
    }

    mutating func string(_ field: String) throws -> String {
        let n = Int(try u32(field))
        guard n <= 1 << 16 else { throw GlassboxError.badFile(path: source, field: field, expected: "a string of at most 65536 bytes", found: "\(n) bytes") }
        let o = try take(n, field)
        guard let s = String(bytes: bytes[o..<(o + n)], encoding: .utf8) else {
            throw GlassboxError.badFile(path: source, field: field, expected: "UTF-8 text", found: "invalid bytes")
        }
        return s
    }
}
