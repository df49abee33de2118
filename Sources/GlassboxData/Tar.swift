import Foundation
import GlassboxCore

/// A minimal reader for POSIX ustar (and old GNU) tar archives: enough to unpack regular files and directories,
/// e.g. `cifar-10-binary.tar.gz`. Headers are 512-byte blocks; each file's data follows, padded to 512 bytes;
/// two zero blocks end the archive. Header checksums are verified; paths that would escape the target folder
/// (absolute, or containing `..`) are refused.
public enum Tar {
    public enum Kind: Equatable, Sendable { case file, directory, other(UInt8) }

    public struct Entry: Sendable {
        public var path: String
        public var kind: Kind
        public var size: Int
        /// Offset of the entry's data within the archive.
        public var dataOffset: Int
    }

    /// Lists the entries of an uncompressed tar archive. `name` is used in error messages.
    public static func entries(_ data: Data, name: String) throws -> [Entry] {
        let bytes = [UInt8](data)
        var entries = [Entry]()
        var offset = 0
        var longName: String?
        while offset + 512 <= bytes.count {
            let header = bytes[offset..<(offset + 512)]
            if header.allSatisfy({ $0 == 0 }) { return entries }   // end-of-archive marker
            let field = "header at byte \(offset)"
            let stored = try octal(header, 148, 8, name: name, field: "\(field) checksum")
            var sum = 0
            for (i, b) in header.enumerated() { sum += (i >= 148 && i < 156) ? 32 : Int(b) }
            guard sum == stored else {
                throw GlassboxError.badFile(path: name, field: "\(field) checksum", expected: "\(stored)",
                                            found: "\(sum) (not a tar archive, or corrupt)")
            }
            let size = try octal(header, 124, 12, name: name, field: "\(field) size")
            let type = header[offset + 156]
            var path = string(header, 0, 100)
            let magic = string(header, 257, 6)
            if magic == "ustar" {
                let prefix = string(header, 345, 155)
                if !prefix.isEmpty { path = prefix + "/" + path }
            }
            let dataOffset = offset + 512
            guard dataOffset + size <= bytes.count else {
                throw GlassboxError.badFile(path: name, field: "entry \(path)", expected: "\(size) bytes of data",
                                            found: "\(bytes.count - dataOffset) bytes (truncated archive)")
            }
            offset = dataOffset + (size + 511) / 512 * 512
            switch type {
            case UInt8(ascii: "L"):   // GNU long name: the data holds the next entry's path
                longName = String(decoding: bytes[dataOffset..<(dataOffset + size)].prefix { $0 != 0 }, as: UTF8.self)
                continue
            case UInt8(ascii: "x"), UInt8(ascii: "g"):   // pax headers: metadata only
                continue
            default:
                break
            }
            if let l = longName { path = l; longName = nil }
            let kind: Kind = (type == 0 || type == UInt8(ascii: "0") || type == UInt8(ascii: "7")) ? .file
                : type == UInt8(ascii: "5") ? .directory : .other(type)
            entries.append(Entry(path: path, kind: kind, size: size, dataOffset: dataOffset))
        }
        guard offset == bytes.count else {
            throw GlassboxError.badFile(path: name, field: "archive", expected: "whole 512-byte blocks",
                                        found: "\(bytes.count - offset) stray bytes at the end (truncated archive)")
        }
        return entries
    }

    /// Extracts regular files (and creates directories) under `directory`; returns the paths written, relative
    /// to `directory`. Links and special files are skipped. Each file is written atomically.
    @discardableResult
    public static func extract(_ data: Data, name: String, into directory: String) throws -> [String] {
        var written = [String]()
        for e in try entries(data, name: name) {
            let parts = e.path.split(separator: "/").filter { $0 != "." }
            guard !e.path.hasPrefix("/"), !parts.contains(".."), !parts.isEmpty else {
                throw GlassboxError.badFile(path: name, field: "entry \(e.path)", expected: "a relative path inside the archive",
                                            found: "a path that escapes the target folder")
            }
            let target = (directory as NSString).appendingPathComponent(parts.joined(separator: "/"))
            switch e.kind {
            case .directory:
                try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
            case .file:
                try Files.writeAtomically(data.subdata(in: (data.startIndex + e.dataOffset)..<(data.startIndex + e.dataOffset + e.size)),
                                          to: target)
                written.append(parts.joined(separator: "/"))
            case .other:
                continue
            }
        }
        return written
    }

    private static func string(_ header: ArraySlice<UInt8>, _ at: Int, _ length: Int) -> String {
        let start = header.startIndex + at
        return String(decoding: header[start..<(start + length)].prefix { $0 != 0 }, as: UTF8.self)
    }

    /// Parses an octal numeric field (NUL/space padded), or GNU base-256 when the high bit is set.
    private static func octal(_ header: ArraySlice<UInt8>, _ at: Int, _ length: Int, name: String, field: String) throws -> Int {
        let start = header.startIndex + at
        let f = header[start..<(start + length)]
        if let first = f.first, first & 0x80 != 0 {
            var v = Int(first & 0x7F)
            for b in f.dropFirst() { v = v << 8 | Int(b) }
            return v
        }
        var v = 0
        var seen = false
        for b in f {
            if b == 0 || b == 32 { if seen { break } else { continue } }
            guard b >= 48 && b <= 55 else {
                throw GlassboxError.badFile(path: name, field: field, expected: "an octal number",
                                            found: "\(Array(f)) (not a tar archive, or corrupt)")
            }
            v = v * 8 + Int(b - 48)
            seen = true
        }
        return v
    }
}
