import CZlib
import Foundation

// Zip archives: the reader behind NumPy's `.npz` files (stored or deflate entries, zip64 sizes, CRC-checked) and the
// writer behind `glassbox publish --zip` and `.npz` output.

/// A zip archive held in memory: its central directory, and each entry's bytes on request.
public struct ZipArchive {
    public struct Entry: Sendable, Equatable {
        public var name: String
        /// 0 stored, 8 deflate (the only two read).
        public var method: Int
        public var crc32: UInt32
        public var compressedSize: Int
        public var size: Int
        /// Offset of the entry's local header.
        public var localHeaderOffset: Int
    }

    public let entries: [Entry]
    let data: Data
    /// Names the archive in errors.
    let source: String

    /// Parses the end record and the central directory; `source` names the archive in errors.
    public init(_ data: Data, source: String) throws {
        self.data = data
        self.source = source
        let bytes = ZipBytes(data: data, source: source)
        let end = try bytes.endRecord()
        var entries: [Entry] = []
        var p = end.directoryOffset
        for i in 0..<end.count {
            let (entry, next) = try bytes.directoryEntry(at: p, index: i)
            entries.append(entry)
            p = next
        }
        self.entries = entries
    }

    public func entry(_ name: String) -> Entry? { entries.first { $0.name == name } }

    /// The entry's bytes, inflated when compressed, with the size and CRC-32 checked.
    public func read(_ e: Entry) throws -> Data {
        func bad(_ expected: String, _ found: String) -> GlassboxError { .badFile(path: "\(source) (\(e.name))", field: "zip entry", expected: expected, found: found) }
        let bytes = ZipBytes(data: data, source: source)
        let start = try bytes.entryDataStart(e)
        guard e.compressedSize <= data.count - start else { throw bad("\(e.compressedSize) bytes of data", "a truncated archive") }
        let body = data.subdata(in: (data.startIndex + start)..<(data.startIndex + start + e.compressedSize))
        let out: Data
        switch e.method {
        case 0:
            guard e.size == e.compressedSize else { throw bad("equal sizes for a stored entry", "\(e.compressedSize) and \(e.size) bytes") }
            out = body
        case 8:
            // Deflate never expands more than about 1032:1; a larger claimed size is a corrupt (or hostile) header.
            let (limit, overflow) = e.compressedSize.multipliedReportingOverflow(by: 1032)
            guard overflow || e.size <= limit + 64 else { throw bad("at most 1032× the \(e.compressedSize) compressed bytes", "\(e.size) bytes claimed") }
            out = try ZipArchive.inflateRaw(body, size: e.size, name: "\(source) (\(e.name))")
        default:
            throw bad("stored (0) or deflate (8) compression", "method \(e.method)")
        }
        guard ZipWriter.crc32(out) == e.crc32 else {
            throw bad(String(format: "CRC-32 %08x", e.crc32), String(format: "%08x (corrupt data)", ZipWriter.crc32(out)))
        }
        return out
    }

    /// Raw deflate (no zlib or gzip wrapper) into exactly `size` bytes. zlib counts in 32 bits, so input and output
    /// are handed over in pieces of at most 1 GiB.
    static func inflateRaw(_ input: Data, size: Int, name: String) throws -> Data {
        var stream = z_stream()
        guard inflateInit2_(&stream, -MAX_WBITS, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw GlassboxError.message("zlib could not start inflate")
        }
        defer { inflateEnd(&stream) }
        var out = Data(count: size)
        var status: Int32 = Z_OK
        var overrun = false
        let piece = 1 << 30
        input.withUnsafeBytes { (inp: UnsafeRawBufferPointer) in
            out.withUnsafeMutableBytes { (o: UnsafeMutableRawBufferPointer) in
                let inBase = inp.bindMemory(to: Bytef.self).baseAddress, outBase = o.bindMemory(to: Bytef.self).baseAddress
                // One spare byte past the end: inflate writing into it means the entry is longer than its header says.
                var spare = [Bytef](repeating: 0, count: 1)
                spare.withUnsafeMutableBufferPointer { sp in
                    while true {
                        if stream.avail_in == 0, let inBase {
                            let done = Int(stream.total_in), n = min(piece, inp.count - done)
                            if n > 0 { stream.next_in = UnsafeMutablePointer(mutating: inBase + done); stream.avail_in = uInt(n) }
                        }
                        if stream.avail_out == 0 {
                            let done = Int(stream.total_out), n = min(piece, size - min(size, done))
                            if n > 0, let outBase { stream.next_out = outBase + done; stream.avail_out = uInt(n) }
                            else if done <= size { stream.next_out = sp.baseAddress; stream.avail_out = 1 }
                        }
                        status = inflate(&stream, Z_NO_FLUSH)
                        if Int(stream.total_out) > size { overrun = true; break }
                        if status != Z_OK { break }
                    }
                }
            }
        }
        let produced = Int(stream.total_out)
        guard status == Z_STREAM_END, !overrun, produced == size else {
            let reason = overrun ? "more data than the header's \(size) bytes"
                : status == Z_BUF_ERROR || (status == Z_STREAM_END && produced < size) ? "the data ends early (truncated)"
                : "corrupt deflate data (zlib status \(status))"
            throw GlassboxError.badFile(path: name, field: "zip entry", expected: "\(size) bytes of deflate data", found: reason)
        }
        return out
    }
}

/// Little-endian fields of a zip file, every offset checked against its length.
struct ZipBytes {
    let data: Data
    let source: String

    func bad(_ field: String, _ expected: String, _ found: String) -> GlassboxError {
        .badFile(path: source, field: field, expected: expected, found: found)
    }

    func u16(_ o: Int) -> Int { Int(data[data.startIndex + o]) | Int(data[data.startIndex + o + 1]) << 8 }
    func u32(_ o: Int) -> UInt32 { (0..<4).reduce(UInt32(0)) { $0 | UInt32(data[data.startIndex + o + $1]) << (8 * UInt32($1)) } }
    func u64(_ o: Int) -> UInt64 { (0..<8).reduce(UInt64(0)) { $0 | UInt64(data[data.startIndex + o + $1]) << (8 * UInt64($1)) } }

    /// `n` bytes at `o` lie inside the file.
    func need(_ o: Int, _ n: Int, _ field: String) throws {
        guard o >= 0, n >= 0, o <= data.count, n <= data.count - o else { throw bad(field, "\(n) bytes at offset \(o)", "a file of \(data.count) bytes (truncated?)") }
    }

    /// A 64-bit size or offset as an Int within the file.
    func offset(_ v: UInt64, _ field: String) throws -> Int {
        guard v <= UInt64(data.count) else { throw bad(field, "at most \(data.count)", "\(v)") }
        return Int(v)
    }

    /// The end-of-central-directory record (zip64 when the plain one is saturated): entry count and directory offset.
    func endRecord() throws -> (count: Int, directoryOffset: Int) {
        guard data.count >= 22 else {
            throw bad("end record", "a zip archive (at least 22 bytes)", data.count >= 4 && u32(0) == 0x0403_4B50 ? "a truncated archive" : "\(data.count) bytes")
        }
        var p = data.count - 22
        let lowest = max(0, data.count - 22 - 0xFFFF)
        while p >= lowest && u32(p) != 0x0605_4B50 { p -= 1 }
        guard p >= lowest else {
            let what = data.count >= 4 && u32(0) == 0x0403_4B50 ? "a truncated archive (no end record)" : "no zip end record (not a zip archive)"
            throw bad("end record", "a zip archive", what)
        }
        guard u16(p + 4) == 0, u16(p + 6) == 0 else { throw bad("end record", "a single-disk archive", "a multi-disk archive") }
        var count = u16(p + 10)
        var dirSize = UInt64(u32(p + 12)), dirOffset = UInt64(u32(p + 16))
        if count == 0xFFFF || dirSize == 0xFFFF_FFFF || dirOffset == 0xFFFF_FFFF {
            let locator = p - 20
            guard locator >= 0, u32(locator) == 0x0706_4B50 else { throw bad("zip64 locator", "one before the saturated end record", "none") }
            let record = try offset(u64(locator + 8), "zip64 end record offset")
            try need(record, 56, "zip64 end record")
            guard u32(record) == 0x0606_4B50 else { throw bad("zip64 end record", "signature 06064b50", String(format: "%08x", u32(record))) }
            let c = u64(record + 32)
            guard c <= UInt64(data.count / 46) else { throw bad("zip64 end record", "at most \(data.count / 46) entries", "\(c)") }
            count = Int(c)
            dirSize = u64(record + 40)
            dirOffset = u64(record + 48)
        }
        let o = try offset(dirOffset, "central directory offset")
        try need(o, try offset(dirSize, "central directory size"), "central directory")
        return (count, o)
    }

    /// One central-directory entry at `p` and the offset of the next one.
    func directoryEntry(at p: Int, index: Int) throws -> (ZipArchive.Entry, Int) {
        try need(p, 46, "central directory entry \(index)")
        guard u32(p) == 0x0201_4B50 else { throw bad("central directory entry \(index)", "signature 02014b50", String(format: "%08x", u32(p))) }
        let flags = u16(p + 8), method = u16(p + 10)
        let nameLength = u16(p + 28), extraLength = u16(p + 30), commentLength = u16(p + 32)
        try need(p + 46, nameLength + extraLength + commentLength, "central directory entry \(index)")
        let nameBytes = data.subdata(in: (data.startIndex + p + 46)..<(data.startIndex + p + 46 + nameLength))
        let name = String(decoding: nameBytes, as: UTF8.self)
        guard flags & 1 == 0 else { throw bad("entry '\(name)'", "an unencrypted entry", "an encrypted one") }
        var size = UInt64(u32(p + 24)), compressed = UInt64(u32(p + 20)), local = UInt64(u32(p + 42))
        // Zip64 extra field: the saturated fields, in the order size, compressed size, local header offset.
        var e = p + 46 + nameLength
        let extraEnd = e + extraLength
        while e + 4 <= extraEnd {
            let id = u16(e), length = u16(e + 2)
            guard e + 4 + length <= extraEnd else { throw bad("entry '\(name)' extra field", "\(length) bytes", "fewer") }
            if id == 0x0001 {
                var f = e + 4
                for field in [0, 1, 2] {
                    let saturated = field == 0 ? size == 0xFFFF_FFFF : field == 1 ? compressed == 0xFFFF_FFFF : local == 0xFFFF_FFFF
                    guard saturated else { continue }
                    guard f + 8 <= e + 4 + length else { throw bad("entry '\(name)' zip64 field", "8 more bytes", "the end of the field") }
                    if field == 0 { size = u64(f) } else if field == 1 { compressed = u64(f) } else { local = u64(f) }
                    f += 8
                }
            }
            e += 4 + length
        }
        guard size <= UInt64(Int.max / 2) else { throw bad("entry '\(name)' size", "a size this machine can hold", "\(size)") }
        let entry = ZipArchive.Entry(name: name, method: method, crc32: u32(p + 16), compressedSize: try offset(compressed, "entry '\(name)' compressed size"),
                                     size: Int(size), localHeaderOffset: try offset(local, "entry '\(name)' local header offset"))
        return (entry, p + 46 + nameLength + extraLength + commentLength)
    }

    /// Where an entry's data starts: after its local header, whose name and extra field lengths may differ from the
    /// central directory's.
    func entryDataStart(_ e: ZipArchive.Entry) throws -> Int {
        let p = e.localHeaderOffset
        try need(p, 30, "local header of '\(e.name)'")
        guard u32(p) == 0x0403_4B50 else { throw bad("local header of '\(e.name)'", "signature 04034b50", String(format: "%08x", u32(p))) }
        let start = p + 30 + u16(p + 26) + u16(p + 28)
        try need(start, 0, "data of '\(e.name)'")
        return start
    }
}

/// A minimal, reproducible zip writer: entries in the given order, every timestamp 1980-01-01 00:00, mode 0644,
/// UTF-8 names, deflate (zlib, raw) when it is smaller, else stored. No zip64 (the archive must stay under 4 GiB).
public enum ZipWriter {
    public struct Entry: Sendable {
        public var name: String
        public var data: Data
        public init(name: String, data: Data) { self.name = name; self.data = data }
    }

    public static func crc32(_ data: Data) -> UInt32 {
        data.withUnsafeBytes { UInt32(CZlib.crc32(0, $0.bindMemory(to: Bytef.self).baseAddress, uInt($0.count))) }
    }

    /// Raw deflate (no zlib or gzip wrapper), level 9.
    static func deflateRaw(_ data: Data) throws -> Data {
        try Files.deflate(data, level: 9, windowBits: -MAX_WBITS)
    }

    public static func archive(_ entries: [Entry]) throws -> Data {
        var names = Set<String>()
        for e in entries {
            guard !e.name.isEmpty, !e.name.hasPrefix("/"), !e.name.split(separator: "/").contains(".."), names.insert(e.name).inserted else {
                throw GlassboxError.invalidArgument(name: "zip entry", expected: "a unique relative path", found: "'\(e.name)'")
            }
        }
        var out = Data(), central = Data()
        func u16(_ v: Int, _ d: inout Data) { d.append(UInt8(v & 0xFF)); d.append(UInt8(v >> 8 & 0xFF)) }
        func u32(_ v: UInt32, _ d: inout Data) { for s in stride(from: 0, to: 32, by: 8) { d.append(UInt8(v >> UInt32(s) & 0xFF)) } }
        let dosTime = 0, dosDate = (0 << 9) | (1 << 5) | 1   // 1980-01-01 00:00:00
        let flags = 0x0800                                   // names are UTF-8
        for e in entries {
            let name = Data(e.name.utf8)
            let crc = crc32(e.data)
            let deflated = try deflateRaw(e.data)
            let (method, body) = deflated.count < e.data.count ? (8, deflated) : (0, e.data)
            guard out.count < Int(UInt32.max), body.count < Int(UInt32.max), e.data.count < Int(UInt32.max), name.count <= 0xFFFF else {
                throw GlassboxError.invalidArgument(name: "zip", expected: "entries and an archive under 4 GiB", found: e.name)
            }
            let offset = UInt32(out.count)
            u32(0x0403_4B50, &out); u16(20, &out); u16(flags, &out); u16(method, &out); u16(dosTime, &out); u16(dosDate, &out)
            u32(crc, &out); u32(UInt32(body.count), &out); u32(UInt32(e.data.count), &out); u16(name.count, &out); u16(0, &out)
            out.append(name); out.append(body)

            u32(0x0201_4B50, &central); u16(3 << 8 | 20, &central); u16(20, &central); u16(flags, &central); u16(method, &central)
            u16(dosTime, &central); u16(dosDate, &central); u32(crc, &central); u32(UInt32(body.count), &central)
            u32(UInt32(e.data.count), &central); u16(name.count, &central); u16(0, &central); u16(0, &central); u16(0, &central)
            u16(0, &central); u32(UInt32(0o100644) << 16, &central); u32(offset, &central); central.append(name)
        }
        guard entries.count <= 0xFFFF, out.count + central.count < Int(UInt32.max) else {
            throw GlassboxError.invalidArgument(name: "zip", expected: "at most 65535 entries under 4 GiB", found: "\(entries.count) entries")
        }
        let centralOffset = UInt32(out.count)
        out.append(central)
        u32(0x0605_4B50, &out); u16(0, &out); u16(0, &out); u16(entries.count, &out); u16(entries.count, &out)
        u32(UInt32(central.count), &out); u32(centralOffset, &out); u16(0, &out)
        return out
    }
}
