import Foundation
import GlassboxCore
import GlassboxData

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
    /// Numbers are what Swift's `Double(String)` accepts; `parseNumber` reads the common decimal forms directly.
    public static func parseCSV(_ data: Data, source: String) throws -> PointCloud {
        var values: [Double] = []
        var width: Int?
        try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            let bytes = raw.bindMemory(to: UInt8.self)
            if bytes.contains(where: { $0 >= 0x80 }) && String(data: data, encoding: .utf8) == nil {
                throw GlassboxError.badFile(path: source, field: "encoding", expected: "UTF-8 text", found: "binary data")
            }
            guard let base = bytes.baseAddress else { return }
            values.reserveCapacity(bytes.count / 8)
            func isSpace(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 || c == 0x0D || c == 0x0B || c == 0x0C }
            let end = bytes.count
            var lineStart = 0, number = 0
            while lineStart <= end {
                var lineEnd = lineStart
                while lineEnd < end && base[lineEnd] != 0x0A { lineEnd += 1 }
                defer { lineStart = lineEnd + 1; number += 1 }
                var ls = lineStart, le = lineEnd
                while ls < le && isSpace(base[ls]) { ls += 1 }
                while le > ls && isSpace(base[le - 1]) { le -= 1 }
                if ls == le { continue }
                let rowStart = values.count
                var fields = 0
                var fs = ls
                while true {
                    var fe = fs
                    while fe < le && base[fe] != 0x2C { fe += 1 }
                    var a = fs, z = fe
                    while a < z && isSpace(base[a]) { a += 1 }
                    while z > a && isSpace(base[z - 1]) { z -= 1 }
                    fields += 1
                    if let v = parseNumber(UnsafeBufferPointer(start: base + a, count: z - a)) {
                        values.append(v)
                    } else {
                        if width == nil && rowStart == 0 && number == 0 {   // header
                            values.removeAll(keepingCapacity: true)
                            fields = -1
                            break
                        }
                        throw GlassboxError.badFile(path: source, field: "line \(number + 1)", expected: "numbers separated by commas",
                                                    found: "'\(String(decoding: UnsafeBufferPointer(start: base + a, count: z - a), as: UTF8.self))'")
                    }
                    if fe >= le { break }
                    fs = fe + 1
                }
                if fields < 0 { continue }
                if let bad = values[rowStart...].firstIndex(where: { !$0.isFinite }) {
                    throw GlassboxError.badFile(path: source, field: "line \(number + 1)", expected: "finite numbers",
                                                found: "\(values[bad]) in column \(bad - rowStart + 1)")
                }
                if let w = width, w != fields {
                    throw GlassboxError.badFile(path: source, field: "line \(number + 1)", expected: "\(w) values", found: "\(fields)")
                }
                width = fields
            }
        }
        guard let w = width else {
            throw GlassboxError.badFile(path: source, field: "rows", expected: "at least one row of numbers", found: "none")
        }
        return try PointCloud(values: values, dimension: w)
    }

    #if arch(x86_64)
    /// 10⁰ … 10²⁷, exact in Float80 (5²⁷ < 2⁶⁴).
    static let powersOfTen: [Float80] = (0...27).map { e in (0..<e).reduce(Float80(1)) { x, _ in x * 10 } }
    #endif

    /// A number in ASCII, as Swift's `Double(String)` reads it (correctly rounded), nil if it is none.
    ///
    /// Fast path for `[+-]digits[.digits][e[+-]digits]` with at most 19 significant digits and a decimal exponent
    /// q within ±27: the digits w < 2⁶⁴ and 10^|q| are exact in Float80, so w·10^q (or w / 10^|q|) is one correctly
    /// rounded Float80 operation, and rounding that to Double gives the correctly rounded Double unless the Float80
    /// result lies exactly halfway between two Doubles (then the true value may lie on either side). That case,
    /// anything else (more digits, larger exponents, inf, nan, hex) and platforms without Float80 go to
    /// `Double(String)`.
    static func parseNumber(_ s: UnsafeBufferPointer<UInt8>) -> Double? {
        let n = s.count
        if n == 0 { return nil }
        func slow() -> Double? { Double(String(decoding: s, as: UTF8.self)) }
        #if arch(x86_64)
        var i = 0
        var negative = false
        if s[0] == 0x2D || s[0] == 0x2B { negative = s[0] == 0x2D; i = 1 }
        var w: UInt64 = 0
        var significant = 0, digits = 0, exponent = 0
        while i < n, s[i] &- 0x30 < 10 {
            let v = UInt64(s[i] &- 0x30)
            if w != 0 || v != 0 { significant += 1; w = w &* 10 &+ v }
            digits += 1; i += 1
        }
        if i < n && s[i] == 0x2E {
            i += 1
            while i < n, s[i] &- 0x30 < 10 {
                let v = UInt64(s[i] &- 0x30)
                if w != 0 || v != 0 { significant += 1; w = w &* 10 &+ v }
                digits += 1; exponent -= 1; i += 1
            }
        }
        if digits == 0 || significant > 19 { return slow() }
        if i < n && (s[i] == 0x65 || s[i] == 0x45) {
            i += 1
            var eNegative = false
            if i < n && (s[i] == 0x2D || s[i] == 0x2B) { eNegative = s[i] == 0x2D; i += 1 }
            var e = 0, eDigits = 0
            while i < n, s[i] &- 0x30 < 10 {
                if e < 100_000 { e = e * 10 + Int(s[i] &- 0x30) }
                eDigits += 1; i += 1
            }
            if eDigits == 0 { return slow() }
            exponent += eNegative ? -e : e
        }
        if i != n { return slow() }
        if w == 0 { return negative ? -0.0 : 0.0 }
        guard abs(exponent) <= 27 else { return slow() }
        let x = Float80(w)
        let r = exponent >= 0 ? x * powersOfTen[exponent] : x / powersOfTen[-exponent]
        // Halfway between two Doubles: the 11 bits below Double's 52 fraction bits are 100 0000 0000.
        guard r.exponent > -1022, r.exponent < 1023, r.significandBitPattern & 0x7FF != 0x400 else { return slow() }
        let v = Double(r)
        return negative ? -v : v
        #else
        return slow()
        #endif
    }

    /// NumPy `.npy`: a 2-D numeric array (float32/float64, or any type GlassboxData's `NumpyArray` reads), C or Fortran order.
    public static func parseNPY(_ data: Data, source: String) throws -> PointCloud {
        let a = try NumpyArray.parse(data, source: source)
        guard a.shape.count == 2, a.shape[1] > 0 else {
            throw GlassboxError.badFile(path: source, field: "shape", expected: "2-D (points, coordinates)", found: "\(a.shape)")
        }
        guard a.kind != .unicode, a.kind != .bytes else {
            throw GlassboxError.badFile(path: source, field: "descr", expected: "numbers (e.g. '<f4' or '<f8')", found: "'\(a.dtype)'")
        }
        let d = a.shape[1]
        let raw = try a.doubles(source: source)
        if let bad = raw.firstIndex(where: { !$0.isFinite }) {
            throw GlassboxError.badFile(path: source, field: "data", expected: "finite values",
                                        found: "\(raw[bad]) at row \(bad / d), column \(bad % d)")
        }
        return try PointCloud(values: raw, dimension: d)
    }
}
