import CZlib
import Foundation

public enum Files {
    /// Reads a whole file, with a clear error naming it when it is missing or unreadable.
    public static func read(_ path: String) throws -> Data {
        guard FileManager.default.fileExists(atPath: path) else {
            throw GlassboxError.missingFile(path: path, hint: "")
        }
        // An empty regular file is read without Foundation: Data(contentsOf:) leaks a 4 KB buffer on it (found by
        // the fuzzer's leak checker, swift-foundation of Swift 6.3).
        if let attributes = try? FileManager.default.attributesOfItem(atPath: path),
           attributes[.type] as? FileAttributeType == .typeRegular, (attributes[.size] as? NSNumber)?.intValue == 0 {
            return Data()
        }
        do { return try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw GlassboxError.badFile(path: path, field: "file", expected: "a readable file", found: "\(error.localizedDescription)")
        }
    }

    /// Writes `data` atomically: to a temporary file beside `path`, then renamed over it, so a reader never
    /// sees half a file and an interrupted write leaves the old file (or none) in place.
    public static func writeAtomically(_ data: Data, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let tmp = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).tmp-\(ProcessInfo.processInfo.processIdentifier)")
        do {
            try data.write(to: tmp)
            // rename(2) replaces an existing file atomically. (FileManager.replaceItemAt fails on Linux when the
            // destination exists, and moveItem refuses to overwrite.)
            guard rename(tmp.path, url.path) == 0 else {
                throw GlassboxError.message(String(cString: strerror(errno)))
            }
        } catch {
            try? FileManager.default.removeItem(at: tmp)
            throw GlassboxError.badFile(path: path, field: "write", expected: "a writable location", found: "\(error.localizedDescription)")
        }
    }

    /// The CRC-32 (as gzip and zlib compute it) of `data`.
    public static func crc32(_ data: Data) -> UInt32 {
        data.withUnsafeBytes { raw in
            UInt32(CZlib.crc32_z(0, raw.bindMemory(to: UInt8.self).baseAddress, raw.count))
        }
    }

    /// The trailer of the gzip file at `path` (its last 8 bytes): the CRC-32 and the size modulo 2³² of what the last
    /// member inflates to. Nil when the file cannot be read or is shorter than a gzip file can be.
    public static func gzipTrailer(_ path: String) -> (crc: UInt32, size: UInt32)? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        guard let end = try? handle.seekToEnd(), end >= 18, (try? handle.seek(toOffset: end - 8)) != nil,
              let tail = try? handle.read(upToCount: 8), tail.count == 8 else { return nil }
        let b = [UInt8](tail)
        func le(_ o: Int) -> UInt32 { UInt32(b[o]) | UInt32(b[o + 1]) << 8 | UInt32(b[o + 2]) << 16 | UInt32(b[o + 3]) << 24 }
        return (le(0), le(4))
    }

    /// True when the data starts with the gzip magic bytes 1f 8b.
    public static func isGzip(_ data: Data) -> Bool {
        data.count >= 2 && data[data.startIndex] == 0x1F && data[data.startIndex + 1] == 0x8B
    }

    /// Decompresses a gzip stream (all members) with zlib. `name` is used in error messages. Inflating stops as
    /// soon as the output passes `Limits.decompressedBytes` (a small file can inflate to gigabytes), with an error
    /// naming the limit and how to raise it.
    public static func gunzip(_ data: Data, name: String) throws -> Data {
        let limit = Limits.decompressedBytes.value
        let (out, complete) = try gunzip(data, name: name, upTo: limit)
        guard complete else {
            throw GlassboxError.badFile(path: name, field: "gzip",
                                        expected: "at most \(limit) bytes once decompressed (raise the limit with \(Limits.decompressedBytes.variable)=N)",
                                        found: "more")
        }
        return out
    }

    /// Decompresses at most `limit` bytes of a gzip stream. `complete` is false when the stream holds more (inflating
    /// stopped within one chunk of the limit; `data` then holds the first `limit` bytes). A corrupt or truncated
    /// stream is an error unless more than `limit` bytes came out before the damage.
    public static func gunzip(_ data: Data, name: String, upTo limit: Int) throws -> (data: Data, complete: Bool) {
        var stream = z_stream()
        var status = inflateInit2_(&stream, 16 + MAX_WBITS, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else { throw GlassboxError.badFile(path: name, field: "gzip", expected: "zlib to start", found: "status \(status)") }
        defer { inflateEnd(&stream) }
        var out = Data()
        let chunk = 1 << 20
        var buffer = [UInt8](repeating: 0, count: chunk)
        return try data.withUnsafeBytes { (input: UnsafeRawBufferPointer) -> (Data, Bool) in
            guard let base = input.bindMemory(to: Bytef.self).baseAddress else {
                throw GlassboxError.badFile(path: name, field: "gzip", expected: "compressed data", found: "an empty file")
            }
            stream.next_in = UnsafeMutablePointer(mutating: base)
            stream.avail_in = uInt(input.count)
            repeat {
                let produced: Int = buffer.withUnsafeMutableBufferPointer { ob in
                    stream.next_out = ob.baseAddress
                    stream.avail_out = uInt(chunk)
                    status = inflate(&stream, Z_NO_FLUSH)
                    return chunk - Int(stream.avail_out)
                }
                out.append(contentsOf: buffer[0..<produced])
                if out.count > limit { return (out.prefix(limit), false) }
                if status == Z_STREAM_END && stream.avail_in > 0 {
                    // Another gzip member follows (concatenated gzip files are valid).
                    inflateReset(&stream)
                    status = Z_OK
                }
            } while status == Z_OK
            guard status == Z_STREAM_END else {
                let reason = status == Z_BUF_ERROR ? "the stream ends early (truncated file)" : "corrupt data (zlib status \(status))"
                throw GlassboxError.badFile(path: name, field: "gzip", expected: "a complete gzip stream", found: reason)
            }
            return (out, true)
        }
    }

    /// Compresses with zlib into the gzip format (deterministic: no file name, zero mtime).
    public static func gzip(_ data: Data, level: Int32 = 6) -> Data {
        // Deflating into a buffer of deflateBound bytes with Z_FINISH always completes.
        (try? deflate(data, level: level, windowBits: 16 + MAX_WBITS)) ?? Data()
    }

    /// zlib's deflate in one call: `windowBits` 16 + 15 writes gzip, −15 raw deflate (as zip entries use), 15 zlib.
    public static func deflate(_ data: Data, level: Int32, windowBits: Int32) throws -> Data {
        var stream = z_stream()
        guard deflateInit2_(&stream, level, Z_DEFLATED, windowBits, 8, Z_DEFAULT_STRATEGY, zlibVersion(),
                            Int32(MemoryLayout<z_stream>.size)) == Z_OK else { throw GlassboxError.message("zlib could not start deflate") }
        defer { deflateEnd(&stream) }
        let bound = Int(deflateBound(&stream, uLong(data.count))) + 64
        var out = [UInt8](repeating: 0, count: bound)
        var status: Int32 = 0
        var produced = 0
        data.withUnsafeBytes { (input: UnsafeRawBufferPointer) in
            stream.next_in = UnsafeMutablePointer(mutating: input.bindMemory(to: Bytef.self).baseAddress)
            stream.avail_in = uInt(input.count)
            out.withUnsafeMutableBufferPointer { ob in
                stream.next_out = ob.baseAddress
                stream.avail_out = uInt(bound)
                status = CZlib.deflate(&stream, Z_FINISH)
                produced = bound - Int(stream.avail_out)
            }
        }
        guard status == Z_STREAM_END else { throw GlassboxError.message("zlib deflate did not finish (status \(status))") }
        return Data(out[0..<produced])
    }

    /// `path` made absolute with every symlink resolved (realpath(3)). For a path that does not exist yet, the
    /// longest existing prefix is resolved and the rest appended, so a folder about to be created compares
    /// correctly with existing ones.
    public static func realPath(_ path: String) -> String {
        let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
        var head = absolute, tail: [String] = []
        while true {
            if let r = realpath(head, nil) {
                defer { free(r) }
                var out = String(cString: r)
                for t in tail.reversed() { out = (out as NSString).appendingPathComponent(t) }
                return out
            }
            let parent = (head as NSString).deletingLastPathComponent
            if parent == head || parent.isEmpty { return absolute }
            tail.append((head as NSString).lastPathComponent)
            head = parent
        }
    }

    /// Reads a file and transparently decompresses it when it is gzip.
    public static func readMaybeGzip(_ path: String) throws -> Data {
        let raw = try read(path)
        return isGzip(raw) ? try gunzip(raw, name: path) : raw
    }
}
