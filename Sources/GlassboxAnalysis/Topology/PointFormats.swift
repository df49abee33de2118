import Foundation
import GlassboxCore

/// Parsers for point clouds given as bytes (the caller reads the file; `source` only names it in errors).
public enum PointFormats {
    /// Chooses the parser from the extension of `source`: `.csv` or `.npy`.
    public static func parse(_ data: Data, source: String) throws -> PointCloud {
        switch (source as NSString).pathExtension.lowercased() {
        case "csv": return try parseCSV(data, source: source)
        case "npy": return try parseNPY(data, source: source)
        default:
            throw GlassboxError.badFile(path: source, field: "extension", expected: ".csv or .npy",
                                        found: "'.\((source as NSString).pathExtension)'")
        }
    }

    /// CSV: one point per line, values separated by commas (spaces around them allowed). Empty lines are skipped;
    /// a first line that is not all numbers is taken as a header and skipped. Every row needs the same length.
    public static func parseCSV(_ data: Data, source: String) throws -> PointCloud {
        if let (values, width) = parsePlainCSV(data) { return try PointCloud(values: values, dimension: width) }
        guard let text = String(data: data, encoding: .utf8) else {
            throw GlassboxError.badFile(path: source, field: "encoding", expected: "UTF-8 text", found: "binary data")
        }
        var values: [Double] = []
        var width: Int?
        for (number, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty { continue }
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
                .map { $0.trimmingCharacters(in: .whitespaces) }
            let parsed = fields.map { Double($0) }
            if parsed.contains(where: { $0 == nil }) {
                if width == nil && values.isEmpty && number == 0 { continue }   // header
                let bad = fields[parsed.firstIndex { $0 == nil }!]
                throw GlassboxError.badFile(path: source, field: "line \(number + 1)", expected: "numbers separated by commas",
                                            found: "'\(bad)'")
            }
            if let w = width, w != fields.count {
                throw GlassboxError.badFile(path: source, field: "line \(number + 1)", expected: "\(w) values",
                                            found: "\(fields.count)")
            }
            width = fields.count
            values += parsed.map { $0! }
        }
        guard let w = width else {
            throw GlassboxError.badFile(path: source, field: "rows", expected: "at least one row of numbers", found: "none")
        }
        return try PointCloud(values: values, dimension: w)
    }

    /// The common case of `parseCSV` without Foundation's string trimming and splitting (which cost about 4 µs a
    /// value): ASCII text whose every non-empty line is numbers separated by commas, all lines of one width. Lines
    /// are trimmed of ASCII whitespace and fields of spaces and tabs, as `parseCSV` does, and each field is read with
    /// `Double(_:)`, so the values are the same. Returns nil for anything else — a header, a bad field, ragged rows,
    /// non-ASCII bytes, no rows — and `parseCSV` then takes its general path, which also words the errors.
    static func parsePlainCSV(_ data: Data) -> ([Double], Int)? {
        data.withUnsafeBytes { raw -> ([Double], Int)? in
            let bytes = raw.bindMemory(to: UInt8.self)
            var values: [Double] = []
            var width = 0
            var lineStart = 0
            let count = bytes.count
            while lineStart < count {
                var lineEnd = lineStart
                while lineEnd < count && bytes[lineEnd] != 0x0A { lineEnd += 1 }
                // Trim the line of \t \n \v \f \r and spaces.
                var lo = lineStart, hi = lineEnd
                while lo < hi && (bytes[lo] == 0x20 || (0x09...0x0D).contains(bytes[lo])) { lo += 1 }
                while hi > lo && (bytes[hi - 1] == 0x20 || (0x09...0x0D).contains(bytes[hi - 1])) { hi -= 1 }
                if lo < hi {
                    var fields = 0
                    var start = lo
                    while true {
                        var end = start
                        while end < hi && bytes[end] != 0x2C { end += 1 }
                        var a = start, b = end
                        while a < b && (bytes[a] == 0x20 || bytes[a] == 0x09) { a += 1 }
                        while b > a && (bytes[b - 1] == 0x20 || bytes[b - 1] == 0x09) { b -= 1 }
                        for i in a..<b where bytes[i] >= 0x80 { return nil }
                        guard let x = Double(String(decoding: UnsafeBufferPointer(rebasing: bytes[a..<b]), as: UTF8.self))
                        else { return nil }
                        values.append(x)
                        fields += 1
                        if end == hi { break }
                        start = end + 1
                    }
                    if width == 0 { width = fields } else if fields != width { return nil }
                }
                lineStart = lineEnd + 1
            }
            return width == 0 ? nil : (values, width)
        }
    }

    /// NumPy `.npy` (format 1.0–3.0): a 2-D little-endian float32 (`<f4`) or float64 (`<f8`) array, C or Fortran order.
    public static func parseNPY(_ data: Data, source: String) throws -> PointCloud {
        let bytes = [UInt8](data)
        let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]
        guard bytes.count >= 10, Array(bytes[0..<6]) == magic else {
            throw GlassboxError.badFile(path: source, field: "magic", expected: "\\x93NUMPY", found: "\(bytes.prefix(6).map { String($0, radix: 16) })")
        }
        let major = bytes[6]
        let headerLength: Int, headerStart: Int
        switch major {
        case 1: headerLength = Int(bytes[8]) | Int(bytes[9]) << 8; headerStart = 10
        case 2, 3:
            guard bytes.count >= 12 else { throw GlassboxError.badFile(path: source, field: "header", expected: "12 bytes", found: "\(bytes.count)") }
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24; headerStart = 12
        default:
            throw GlassboxError.badFile(path: source, field: "version", expected: "1, 2 or 3", found: "\(major)")
        }
        guard bytes.count >= headerStart + headerLength else {
            throw GlassboxError.badFile(path: source, field: "header", expected: "\(headerLength) bytes", found: "a truncated file")
        }
        let header = String(decoding: bytes[headerStart..<(headerStart + headerLength)], as: UTF8.self)
        func field(_ key: String) -> String? {
            guard let r = header.range(of: "'\(key)':") else { return nil }
            let rest = header[r.upperBound...].trimmingCharacters(in: .whitespaces)
            if rest.hasPrefix("(") { return rest.firstIndex(of: ")").map { String(rest[...$0]) } }
            return rest.split(separator: ",", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces) }
        }
        guard let descr = field("descr")?.trimmingCharacters(in: CharacterSet(charactersIn: "'\"")) else {
            throw GlassboxError.badFile(path: source, field: "descr", expected: "a dtype", found: "none")
        }
        let width: Int
        switch descr {
        case "<f4": width = 4
        case "<f8": width = 8
        default: throw GlassboxError.badFile(path: source, field: "descr", expected: "'<f4' or '<f8' (little-endian float)", found: "'\(descr)'")
        }
        let fortran = field("fortran_order")?.hasPrefix("True") ?? false
        guard let shapeText = field("shape") else {
            throw GlassboxError.badFile(path: source, field: "shape", expected: "a shape tuple", found: "none")
        }
        let dims = shapeText.trimmingCharacters(in: CharacterSet(charactersIn: "()")).split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let shape = dims.compactMap { Int($0) }
        guard shape.count == 2, dims.count == 2, shape[0] >= 0, shape[1] > 0 else {
            throw GlassboxError.badFile(path: source, field: "shape", expected: "2-D (points, coordinates)", found: shapeText)
        }
        let (n, d) = (shape[0], shape[1])
        let start = headerStart + headerLength
        guard bytes.count - start == n * d * width else {
            throw GlassboxError.badFile(path: source, field: "data", expected: "\(n * d * width) bytes", found: "\(bytes.count - start)")
        }
        var raw = [Double](repeating: 0, count: n * d)
        for i in 0..<(n * d) {
            let o = start + i * width
            if width == 4 {
                var bits: UInt32 = 0
                for b in 0..<4 { bits |= UInt32(bytes[o + b]) << (8 * b) }
                raw[i] = Double(Float(bitPattern: bits))
            } else {
                var bits: UInt64 = 0
                for b in 0..<8 { bits |= UInt64(bytes[o + b]) << (8 * b) }
                raw[i] = Double(bitPattern: bits)
            }
        }
        if fortran {
            var c = [Double](repeating: 0, count: n * d)
            for i in 0..<n { for j in 0..<d { c[i * d + j] = raw[j * n + i] } }
            raw = c
        }
        return try PointCloud(values: raw, dimension: d)
    }
}
