import Foundation
import GlassboxCore

/// A NumPy array as a `.npy` file stores it: element type, shape and the elements' bytes in C order.
///
/// Reading (format versions 1–3) accepts booleans, signed and unsigned integers of 1–8 bytes, float16/32/64 in either
/// byte order, and fixed-width strings (`<U`, `|S`); C or Fortran order (Fortran is reordered to C on reading).
/// Object arrays (`|O`, which NumPy pickles) and structured types are refused with a message saying how to save the
/// array instead. Every size in the header is checked with overflow-safe arithmetic against the bytes present.
public struct NumpyArray: Sendable, Equatable {
    public enum Kind: Character, Sendable {
        case bool = "b", int = "i", uint = "u", float = "f", unicode = "U", bytes = "S"
    }

    public var kind: Kind
    /// Bytes per element (4 × characters for `U`).
    public var itemSize: Int
    public var bigEndian: Bool
    public var shape: [Int]
    /// The elements in C order, `count × itemSize` bytes.
    public var bytes: Data

    public var count: Int { shape.reduce(1, *) }

    /// NumPy's dtype string, e.g. `<f4`, `|u1`, `<U7`.
    public var dtype: String {
        let order = itemSize == 1 && kind != .unicode ? "|" : bigEndian ? ">" : "<"
        let width = kind == .unicode ? itemSize / 4 : itemSize
        return "\(order)\(kind.rawValue)\(width)"
    }

    public init(kind: Kind, itemSize: Int, bigEndian: Bool = false, shape: [Int], bytes: Data) {
        self.kind = kind; self.itemSize = itemSize; self.bigEndian = bigEndian; self.shape = shape; self.bytes = bytes
    }

    /// Largest array read: 2³¹ elements and 16 GiB.
    public static let maxElements = 1 << 31
    public static let maxBytes = 1 << 34

    // MARK: Reading

    /// Parses a `.npy` file's bytes; `source` names it in errors.
    public static func parse(_ data: Data, source: String) throws -> NumpyArray {
        func bad(_ field: String, _ expected: String, _ found: String) -> GlassboxError {
            .badFile(path: source, field: field, expected: expected, found: found)
        }
        let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]
        guard data.count >= 10, Array(data.prefix(6)) == magic else {
            throw bad("magic", "\\x93NUMPY (a .npy file)", "\(data.prefix(6).map { String(format: "%02x", $0) }.joined(separator: " "))")
        }
        let b = data.startIndex
        let major = data[b + 6]
        let headerLength: Int, headerStart: Int
        switch major {
        case 1: headerLength = Int(data[b + 8]) | Int(data[b + 9]) << 8; headerStart = 10
        case 2, 3:
            guard data.count >= 12 else { throw bad("header", "12 bytes", "\(data.count)") }
            headerLength = (0..<4).reduce(0) { $0 | Int(data[b + 8 + $1]) << (8 * $1) }; headerStart = 12
        default:
            throw bad("version", "1, 2 or 3", "\(major)")
        }
        guard headerLength <= data.count - headerStart else { throw bad("header", "\(headerLength) bytes", "a truncated file") }
        let text = String(decoding: data[(b + headerStart)..<(b + headerStart + headerLength)], as: UTF8.self)
        let header: [String: PythonLiteral]
        do { header = try PythonLiteral.parseDict(text) } catch let e as PythonLiteral.Failure {
            throw bad("header", "a Python dict {'descr': …, 'fortran_order': …, 'shape': (…)}", e.message)
        }
        guard case let .string(descr)? = header["descr"] else {
            throw bad("descr", "a dtype string such as '<f4'", header["descr"].map { "\($0)" } ?? "none (a structured dtype?)")
        }
        var (kind, itemSize, bigEndian) = try dtype(descr, source: source)
        guard case let .bool(fortran)? = header["fortran_order"] else { throw bad("fortran_order", "True or False", "\(header["fortran_order"].map { "\($0)" } ?? "none")") }
        guard case let .tuple(dims)? = header["shape"] else { throw bad("shape", "a tuple of sizes", "\(header["shape"].map { "\($0)" } ?? "none")") }
        var shape: [Int] = []
        var total = 1
        for d in dims {
            guard case let .int(v) = d, v >= 0 else { throw bad("shape", "non-negative whole numbers", "\(header["shape"]!)") }
            let (t, o) = total.multipliedReportingOverflow(by: v)
            guard !o, t <= maxElements else { throw bad("shape", "at most \(maxElements) elements", "\(dims.map { "\($0)" }.joined(separator: " × "))") }
            total = t
            shape.append(v)
        }
        let (byteCount, o) = total.multipliedReportingOverflow(by: itemSize)
        guard !o, byteCount <= maxBytes else { throw bad("shape", "at most \(maxBytes) bytes of data", "\(total) elements of \(itemSize) bytes") }
        let start = headerStart + headerLength
        guard data.count - start == byteCount else {
            throw bad("data", "\(byteCount) bytes (\(shape) of \(descr))", "\(data.count - start) bytes")
        }
        var bytes = data.subdata(in: (b + start)..<data.endIndex)
        if fortran && shape.count > 1 { bytes = cOrder(fromFortran: bytes, shape: shape, itemSize: itemSize) }
        if kind == .bool { itemSize = 1; bigEndian = false }
        return NumpyArray(kind: kind, itemSize: itemSize, bigEndian: bigEndian, shape: shape, bytes: bytes)
    }

    /// Element kind, size and byte order of a dtype string; refuses what cannot be read, saying why.
    static func dtype(_ descr: String, source: String) throws -> (Kind, Int, Bool) {
        func bad(_ why: String) -> GlassboxError {
            .badFile(path: source, field: "descr", expected: "bool, integers, float16/32/64 or fixed-width strings\(why)", found: "'\(descr)'")
        }
        var chars = Array(descr)
        var bigEndian = false
        if let c = chars.first, "<>|=".contains(c) {
            bigEndian = c == ">"
            chars.removeFirst()
        }
        guard let k = chars.first else { throw bad("") }
        if k == "O" { throw bad(" (this is an object array, which NumPy pickles; save strings with np.array(names, dtype=str))") }
        guard let kind = Kind(rawValue: k), let n = Int(String(chars.dropFirst())), n > 0 else { throw bad("") }
        switch kind {
        case .bool: guard n == 1 else { throw bad("") }
        case .int, .uint: guard [1, 2, 4, 8].contains(n) else { throw bad("") }
        case .float: guard [2, 4, 8].contains(n) else { throw bad("") }
        case .unicode:
            let (s, o) = n.multipliedReportingOverflow(by: 4)
            guard !o, s <= 1 << 20 else { throw bad("") }
            return (kind, s, bigEndian)
        case .bytes: guard n <= 1 << 20 else { throw bad("") }
        }
        return (kind, n, bigEndian)
    }

    /// Fortran order (first index fastest) to C order (last index fastest).
    static func cOrder(fromFortran f: Data, shape: [Int], itemSize: Int) -> Data {
        let n = shape.reduce(1, *)
        var out = Data(count: f.count)
        var fStrides = [Int](repeating: 1, count: shape.count)
        for i in 1..<shape.count { fStrides[i] = fStrides[i - 1] * shape[i - 1] }
        var index = [Int](repeating: 0, count: shape.count)
        f.withUnsafeBytes { src in
            out.withUnsafeMutableBytes { dst in
                for c in 0..<n {
                    var fo = 0
                    for i in 0..<shape.count { fo += index[i] * fStrides[i] }
                    (dst.baseAddress! + c * itemSize).copyMemory(from: src.baseAddress! + fo * itemSize, byteCount: itemSize)
                    var d = shape.count - 1
                    while d >= 0 {
                        index[d] += 1
                        if index[d] < shape[d] { break }
                        index[d] = 0
                        d -= 1
                    }
                }
            }
        }
        return out
    }

    // MARK: Values

    /// The raw bits of element `i` as an unsigned integer of `itemSize` bytes (byte order applied).
    @inline(__always)
    func bits(_ raw: UnsafeRawBufferPointer, _ i: Int) -> UInt64 {
        let o = i * itemSize
        var v: UInt64 = 0
        if bigEndian {
            for k in 0..<itemSize { v = v << 8 | UInt64(raw[o + k]) }
        } else {
            for k in stride(from: itemSize - 1, through: 0, by: -1) { v = v << 8 | UInt64(raw[o + k]) }
        }
        return v
    }

    @inline(__always)
    func double(_ raw: UnsafeRawBufferPointer, _ i: Int) -> Double {
        let v = bits(raw, i)
        switch kind {
        case .bool, .uint: return Double(v)
        case .int:
            let shift = UInt64(64 - 8 * itemSize)
            return Double(Int64(bitPattern: v << shift) >> Int64(shift))
        case .float:
            switch itemSize {
            case 2: return Double(Float(Float16(bitPattern: UInt16(v))))
            case 4: return Double(Float(bitPattern: UInt32(v)))
            default: return Double(bitPattern: v)
            }
        case .unicode, .bytes: return .nan
        }
    }

    var isNumeric: Bool { kind != .unicode && kind != .bytes }

    /// Every element as a Float (numeric arrays only).
    public func floats(source: String) throws -> [Float] {
        guard isNumeric else { throw GlassboxError.badFile(path: source, field: "dtype", expected: "numbers", found: "'\(dtype)'") }
        return bytes.withUnsafeBytes { raw in (0..<count).map { Float(double(raw, $0)) } }
    }

    public func doubles(source: String) throws -> [Double] {
        guard isNumeric else { throw GlassboxError.badFile(path: source, field: "dtype", expected: "numbers", found: "'\(dtype)'") }
        return bytes.withUnsafeBytes { raw in (0..<count).map { double(raw, $0) } }
    }

    /// Every element as an Int64 (integer and bool arrays only; unsigned values above Int64.max are refused).
    public func integers(source: String) throws -> [Int64] {
        guard kind == .int || kind == .uint || kind == .bool else {
            throw GlassboxError.badFile(path: source, field: "dtype", expected: "integers", found: "'\(dtype)' (convert with .astype(np.int64))")
        }
        return try bytes.withUnsafeBytes { raw in
            try (0..<count).map { i -> Int64 in
                let v = bits(raw, i)
                if kind == .int {
                    let shift = UInt64(64 - 8 * itemSize)
                    return Int64(bitPattern: v << shift) >> Int64(shift)
                }
                guard v <= UInt64(Int64.max) else {
                    throw GlassboxError.badFile(path: source, field: "element \(i)", expected: "at most \(Int64.max)", found: "\(v)")
                }
                return Int64(v)
            }
        }
    }

    /// Every element as a String (`U`: UTF-32, `S`: bytes as UTF-8; trailing NULs removed).
    public func strings(source: String) throws -> [String] {
        guard kind == .unicode || kind == .bytes else {
            throw GlassboxError.badFile(path: source, field: "dtype", expected: "strings ('<U…' or '|S…')", found: "'\(dtype)'")
        }
        return try bytes.withUnsafeBytes { raw in
            try (0..<count).map { i -> String in
                let o = i * itemSize
                if kind == .bytes {
                    var end = o + itemSize
                    while end > o && raw[end - 1] == 0 { end -= 1 }
                    return String(decoding: UnsafeRawBufferPointer(rebasing: raw[o..<end]), as: UTF8.self)
                }
                var scalars = String.UnicodeScalarView()
                for c in 0..<(itemSize / 4) {
                    var v: UInt32 = 0
                    for k in 0..<4 { v |= UInt32(raw[o + 4 * c + k]) << (bigEndian ? 8 * (3 - k) : 8 * k) }
                    if v == 0 { break }
                    guard let s = Unicode.Scalar(v) else {
                        throw GlassboxError.badFile(path: source, field: "element \(i)", expected: "Unicode text", found: String(format: "code point %x", v))
                    }
                    scalars.append(s)
                }
                return String(scalars)
            }
        }
    }

    // MARK: Writing

    /// float32 elements.
    public init(floats: [Float], shape: [Int]) {
        precondition(shape.reduce(1, *) == floats.count, "\(floats.count) values for shape \(shape)")
        var d = Data(capacity: floats.count * 4)
        for v in floats { withUnsafeBytes(of: v.bitPattern.littleEndian) { d.append(contentsOf: $0) } }
        self.init(kind: .float, itemSize: 4, shape: shape, bytes: d)
    }

    /// int64 elements.
    public init(integers: [Int64], shape: [Int]) {
        precondition(shape.reduce(1, *) == integers.count, "\(integers.count) values for shape \(shape)")
        var d = Data(capacity: integers.count * 8)
        for v in integers { withUnsafeBytes(of: v.littleEndian) { d.append(contentsOf: $0) } }
        self.init(kind: .int, itemSize: 8, shape: shape, bytes: d)
    }

    /// uint8 elements.
    public init(bytes values: [UInt8], shape: [Int]) {
        precondition(shape.reduce(1, *) == values.count, "\(values.count) values for shape \(shape)")
        self.init(kind: .uint, itemSize: 1, shape: shape, bytes: Data(values))
    }

    /// A 1-D array of Unicode strings (`<U` + the longest length), as `np.array(names)` makes.
    public init(strings: [String]) {
        let width = max(1, strings.map { $0.unicodeScalars.count }.max() ?? 1)
        var d = Data(capacity: strings.count * width * 4)
        for s in strings {
            var n = 0
            for u in s.unicodeScalars { withUnsafeBytes(of: u.value.littleEndian) { d.append(contentsOf: $0) }; n += 1 }
            d.append(contentsOf: [UInt8](repeating: 0, count: 4 * (width - n)))
        }
        self.init(kind: .unicode, itemSize: 4 * width, shape: [strings.count], bytes: d)
    }

    /// The `.npy` file (format 1.0 when the header fits, else 2.0), header padded to 64 bytes as NumPy writes it.
    public func encoded() -> Data {
        let dims = shape.map(String.init).joined(separator: ", ") + (shape.count == 1 ? "," : "")
        var header = "{'descr': '\(dtype)', 'fortran_order': False, 'shape': (\(dims)), }"
        let version: UInt8 = header.utf8.count + 11 < 65536 ? 1 : 2
        let prefix = version == 1 ? 10 : 12
        while (prefix + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        var out = Data([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, version, 0])
        let n = header.utf8.count
        if version == 1 { out.append(contentsOf: [UInt8(n & 0xFF), UInt8(n >> 8)]) } else { for k in 0..<4 { out.append(UInt8(n >> (8 * k) & 0xFF)) } }
        out.append(Data(header.utf8))
        out.append(bytes)
        return out
    }

    public func write(to path: String) throws { try Files.writeAtomically(encoded(), to: path) }

    /// Reads a `.npy` file.
    public static func read(_ path: String) throws -> NumpyArray { try parse(Files.read(path), source: path) }
}

/// A `.npz` file: a zip archive of `.npy` files, one per array (`np.savez`: stored, `np.savez_compressed`: deflate).
public enum NumpyArchive {
    /// The arrays by name (the entry name without `.npy`), in archive order.
    public static func parse(_ data: Data, source: String) throws -> [(name: String, array: NumpyArray)] {
        let zip = try ZipArchive(data, source: source)
        return try zip.entries.map { e in
            let name = e.name.hasSuffix(".npy") ? String(e.name.dropLast(4)) : e.name
            return (name, try NumpyArray.parse(try zip.read(e), source: "\(source) (\(e.name))"))
        }
    }

    public static func read(_ path: String) throws -> [(name: String, array: NumpyArray)] { try parse(Files.read(path), source: path) }

    /// Writes arrays as `.npz` (deflated where that is smaller), readable with `np.load`.
    public static func encode(_ arrays: [(name: String, array: NumpyArray)]) throws -> Data {
        try ZipWriter.archive(arrays.map { ZipWriter.Entry(name: $0.name + ".npy", data: $0.array.encoded()) })
    }

    public static func write(_ arrays: [(name: String, array: NumpyArray)], to path: String) throws {
        try Files.writeAtomically(try encode(arrays), to: path)
    }
}

/// The few Python literals a `.npy` header holds: a dict of strings, booleans, integers and tuples.
enum PythonLiteral: Equatable, CustomStringConvertible {
    case string(String), bool(Bool), int(Int), tuple([PythonLiteral]), none

    struct Failure: Error { var message: String }

    var description: String {
        switch self {
        case let .string(s): return "'\(s)'"
        case let .bool(b): return b ? "True" : "False"
        case let .int(i): return "\(i)"
        case let .tuple(t): return "(\(t.map(\.description).joined(separator: ", ")))"
        case .none: return "None"
        }
    }

    static func parseDict(_ text: String) throws -> [String: PythonLiteral] {
        var p = Parser(chars: Array(text.unicodeScalars))
        return try p.dict()
    }

    struct Parser {
        let chars: [Unicode.Scalar]
        var i = 0

        mutating func skip() { while i < chars.count, chars[i].properties.isWhitespace { i += 1 } }

        mutating func expect(_ c: Unicode.Scalar) throws {
            skip()
            guard i < chars.count, chars[i] == c else { throw Failure(message: "'\(c)' expected at character \(i)") }
            i += 1
        }

        mutating func peek() -> Unicode.Scalar? { skip(); return i < chars.count ? chars[i] : nil }

        mutating func dict() throws -> [String: PythonLiteral] {
            try expect("{")
            var out: [String: PythonLiteral] = [:]
            while peek() != "}" {
                guard case let .string(key) = try value() else { throw Failure(message: "a string key expected at character \(i)") }
                try expect(":")
                out[key] = try value()
                if peek() == "," { i += 1 } else { break }
            }
            try expect("}")
            return out
        }

        mutating func value() throws -> PythonLiteral {
            guard let c = peek() else { throw Failure(message: "the header ends early") }
            if c == "'" || c == "\"" {
                i += 1
                var s = String.UnicodeScalarView()
                while i < chars.count, chars[i] != c { s.append(chars[i]); i += 1 }
                guard i < chars.count else { throw Failure(message: "an unclosed string") }
                i += 1
                return .string(String(s))
            }
            if c == "(" || c == "[" {
                if c == "[" { throw Failure(message: "a list (a structured dtype, which is not read)") }
                i += 1
                var items: [PythonLiteral] = []
                while peek() != ")" {
                    items.append(try value())
                    if peek() == "," { i += 1 } else { break }
                }
                try expect(")")
                return .tuple(items)
            }
            var word = String.UnicodeScalarView()
            while i < chars.count, chars[i].properties.isAlphabetic || ("0"..."9").contains(chars[i]) || chars[i] == "-" || chars[i] == "_" {
                word.append(chars[i]); i += 1
            }
            let w = String(word)
            switch w {
            case "True": return .bool(true)
            case "False": return .bool(false)
            case "None": return .none
            default:
                // NumPy writes sizes as plain integers (older versions with an L suffix).
                let digits = w.hasSuffix("L") ? String(w.dropLast()) : w
                guard let v = Int(digits) else { throw Failure(message: "'\(w)' at character \(i)") }
                return .int(v)
            }
        }
    }
}
