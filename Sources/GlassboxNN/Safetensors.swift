import Foundation
import GlassboxCore

/// Reader and writer for the `.safetensors` format: an 8-byte little-endian header length, a JSON header
/// mapping tensor names to `{dtype, shape, data_offsets}` (plus an optional `__metadata__` string map), then
/// the raw little-endian tensor bytes, packed without gaps.
public enum Safetensors {
    public struct File: Equatable {
        public var tensors: [String: Tensor]
        public var metadata: [String: String]
        public init(tensors: [String: Tensor], metadata: [String: String] = [:]) {
            self.tensors = tensors
            self.metadata = metadata
        }
    }

    /// Serialises tensors as F32, names sorted so the same tensors always give the same bytes.
    public static func encode(_ file: File) -> Data {
        var header = "{"
        var entries: [String] = []
        if !file.metadata.isEmpty {
            let meta = file.metadata.keys.sorted().map { "\(jsonString($0)):\(jsonString(file.metadata[$0]!))" }
            entries.append("\"__metadata__\":{\(meta.joined(separator: ","))}")
        }
        var offset = 0
        let names = file.tensors.keys.sorted()
        for name in names {
            let t = file.tensors[name]!
            let bytes = t.count * 4
            entries.append("\(jsonString(name)):{\"dtype\":\"F32\",\"shape\":[\(t.shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(offset),\(offset + bytes)]}")
            offset += bytes
        }
        header += entries.joined(separator: ",") + "}"
        var headerBytes = Data(header.utf8)
        while headerBytes.count % 8 != 0 { headerBytes.append(0x20) }  // pad with spaces, as the reference does
        var out = Data(capacity: 8 + headerBytes.count + offset)
        var len = UInt64(headerBytes.count).littleEndian
        withUnsafeBytes(of: &len) { out.append(contentsOf: $0) }
        out.append(headerBytes)
        for name in names {
            file.tensors[name]!.withUnsafeBufferPointer { b in
                // Float is little-endian on every platform Swift on Linux supports; write the raw bits.
                out.append(UnsafeBufferPointer(start: UnsafeRawPointer(b.baseAddress!).assumingMemoryBound(to: UInt8.self), count: b.count * 4))
            }
        }
        return out
    }

    public static func write(_ file: File, to path: String) throws {
        try Files.writeAtomically(encode(file), to: path)
    }

    public static func read(_ path: String) throws -> File {
        try decode(Files.read(path), name: path)
    }

    /// Parses and validates a safetensors buffer. F32, F64, F16 and BF16 tensors are converted to Float. Tensors
    /// `include` rejects are skipped (their bytes are still checked to lie in place, their type is not), so a state
    /// dict's integer buffers such as BatchNorm's `num_batches_tracked` can be left out.
    ///
    /// Every size comes from the file, so every one is checked before use: the header length against the file,
    /// shapes and offsets as JSON integers (not floats or booleans), the element and byte counts in checked
    /// arithmetic, and each tensor's bytes against the buffer (so a tensor can never need more memory than the
    /// file has bytes).
    public static func decode(_ data: Data, name: String, include: (String) -> Bool = { _ in true }) throws -> File {
        func bad(_ field: String, _ expected: String, _ found: String) -> GlassboxError {
            .badFile(path: name, field: field, expected: expected, found: found)
        }
        guard data.count >= 8 else { throw bad("header length", "8 bytes", "\(data.count) bytes in the file") }
        let n = data.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard n <= UInt64(data.count - 8), n <= 100_000_000 else {
            let first = Array(data.prefix(4))
            if first == [0x50, 0x4B, 0x03, 0x04] || first.first == 0x80 {
                throw bad("format", "a .safetensors file", "a PyTorch checkpoint written by torch.save (a pickle); save the weights with "
                          + "safetensors.torch.save_file(model.state_dict(), PATH) instead")
            }
            throw bad("header length", "at most \(min(data.count - 8, 100_000_000)) bytes", "\(n)")
        }
        let headerData = data.subdata(in: (data.startIndex + 8)..<(data.startIndex + 8 + Int(n)))
        let header = try decodeHeader(headerData, name: name)
        let body = data.subdata(in: (data.startIndex + 8 + Int(n))..<data.endIndex)
        var file = File(tensors: [:], metadata: header.metadata)
        var ranges: [(Int, Int, String)] = []
        let widths = ["F32": 4, "F64": 8, "F16": 2, "BF16": 2, "I8": 1, "U8": 1, "BOOL": 1, "F8_E4M3": 1, "F8_E5M2": 1, "I16": 2, "U16": 2,
                      "I32": 4, "U32": 4, "I64": 8, "U64": 8]
        for (key, entry) in header.tensors {
            let included = include(key)
            guard let width = widths[entry.dtype], !included || ["F32", "F64", "F16", "BF16"].contains(entry.dtype) else {
                throw bad("\(key).dtype", "F32, F64, F16 or BF16",
                          entry.dtype + (key.hasSuffix("num_batches_tracked") ? " (a BatchNorm counter: leave it out with the ignore option)" : ""))
            }
            guard entry.shape.allSatisfy({ $0 >= 0 }) else { throw bad("\(key).shape", "non-negative integers", "\(entry.shape)") }
            guard entry.offsets.count == 2, entry.offsets.allSatisfy({ $0 >= 0 }) else {
                throw bad("\(key).data_offsets", "two non-negative integers [begin, end]", "\(entry.offsets)")
            }
            let (lo, hi) = (entry.offsets[0], entry.offsets[1])
            guard let count = Limits.product(entry.shape), let bytes = Limits.multiply(count, width) else {
                throw bad("\(key).shape", "a shape whose size fits in the file (\(body.count) bytes of data)", "\(entry.shape)")
            }
            guard hi >= lo, hi - lo == bytes else {
                throw bad("\(key).data_offsets", "\(bytes) bytes for shape \(entry.shape) \(entry.dtype)", hi >= lo ? "\(hi - lo) bytes" : "[\(lo), \(hi)]")
            }
            guard hi <= body.count else { throw bad("\(key).data_offsets", "within the \(body.count)-byte buffer", "end \(hi)") }
            ranges.append((lo, hi, key))
            guard included else { continue }
            let values: [Float] = body.withUnsafeBytes { all in
                let raw = UnsafeRawBufferPointer(rebasing: all[lo..<hi])
                switch entry.dtype {
                case "F32": return (0..<count).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) }
                case "F64": return (0..<count).map { Float(Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * $0, as: UInt64.self)))) }
                case "F16": return (0..<count).map { halfToFloat(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self))) }
                default: return (0..<count).map { Float(bitPattern: UInt32(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self))) << 16) }
                }
            }
            file.tensors[key] = Tensor(shape: entry.shape, scalars: values)
        }
        // The format forbids holes and overlaps: the ranges must tile the buffer exactly.
        var pos = 0
        for (lo, hi, key) in ranges.sorted(by: { ($0.0, $0.1) < ($1.0, $1.1) }) {
            guard lo == pos else { throw bad("\(key).data_offsets", "to start at byte \(pos) (no holes or overlaps)", "\(lo)") }
            pos = hi
        }
        guard pos == body.count else { throw bad("data", "\(pos) bytes of tensor data", "\(body.count)") }
        return file
    }

    /// One tensor's entry in the JSON header.
    struct HeaderEntry: Decodable {
        var dtype: String
        var shape: [Int]
        var offsets: [Int]
        enum CodingKeys: String, CodingKey { case dtype, shape, offsets = "data_offsets" }

        init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            dtype = try c.decode(String.self, forKey: .dtype)
            shape = try c.decode([ExactInt].self, forKey: .shape).map(\.value)
            offsets = try c.decode([ExactInt].self, forKey: .offsets).map(\.value)
        }
    }

    /// A JSON number that is a whole number fitting in `Int`; anything else (2.7, true, "3", 1e30) is a
    /// `FieldError` that names what was found.
    struct ExactInt: Decodable {
        var value: Int
        init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let v = try? c.decode(Int.self) { value = v; return }
            let found: String
            if let b = try? c.decode(Bool.self) { found = "\(b)" }
            else if let d = try? c.decode(Double.self) { found = "\(d)" }
            else if let t = try? c.decode(String.self) { found = "\"\(t)\"" }
            else { found = "another JSON value" }
            throw FieldError(path: decoder.codingPath, expected: "a whole number", found: found)
        }
    }

    struct FieldError: Error {
        var path: [CodingKey]
        var expected: String
        var found: String
    }

    /// The JSON header: tensors by name and the optional `__metadata__` string map.
    struct Header: Decodable {
        var tensors: [String: HeaderEntry] = [:]
        var metadata: [String: String] = [:]

        struct Key: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }

        init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: Key.self)
            for key in c.allKeys {
                if key.stringValue == "__metadata__" {
                    metadata = try c.decode([String: String].self, forKey: key)
                } else {
                    tensors[key.stringValue] = try c.decode(HeaderEntry.self, forKey: key)
                }
            }
        }
    }

    /// Decodes the header with `JSONDecoder`, whose integers are exact: `2.7`, `true` or `1e30` in a shape is an
    /// error naming the field, not a silently converted number.
    static func decodeHeader(_ data: Data, name: String) throws -> Header {
        func field(_ path: [CodingKey]) -> String {
            var s = ""
            for k in path { if let i = k.intValue { s += "[\(i)]" } else { s += (s.isEmpty ? "" : ".") + k.stringValue } }
            return s.isEmpty ? "header" : s
        }
        do { return try JSONDecoder().decode(Header.self, from: data) } catch let e as FieldError {
            throw GlassboxError.badFile(path: name, field: field(e.path), expected: e.expected, found: e.found)
        } catch let e as DecodingError {
            switch e {
            case let .keyNotFound(key, ctx):
                throw GlassboxError.badFile(path: name, field: field(ctx.codingPath + [key]), expected: "{dtype, shape, data_offsets}", found: "no '\(key.stringValue)'")
            case let .typeMismatch(t, ctx), let .valueNotFound(t, ctx):
                let what = t == Int.self ? "a non-negative integer" : t == String.self ? "a string" : "a \(t)"
                throw GlassboxError.badFile(path: name, field: field(ctx.codingPath), expected: what, found: "another JSON value")
            case let .dataCorrupted(ctx):
                throw GlassboxError.badFile(path: name, field: field(ctx.codingPath),
                                            expected: ctx.codingPath.isEmpty ? "a JSON object" : "a valid value", found: ctx.debugDescription)
            @unknown default:
                throw GlassboxError.badFile(path: name, field: "header", expected: "a JSON object", found: "\(e)")
            }
        } catch {
            throw GlassboxError.badFile(path: name, field: "header", expected: "a JSON object", found: "\(error)")
        }
    }

    static func halfToFloat(_ h: UInt16) -> Float {
        let sign = UInt32(h & 0x8000) << 16
        let exp = Int((h >> 10) & 0x1F), frac = UInt32(h & 0x3FF)
        if exp == 0 {
            let v = Float(frac) * Float(pow(2.0, -24.0))
            return sign != 0 ? -v : v
        }
        if exp == 31 { return Float(bitPattern: sign | 0x7F80_0000 | (frac << 13)) }
        return Float(bitPattern: sign | UInt32(exp - 15 + 127) << 23 | (frac << 13))
    }

    static func jsonString(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 { out += String(format: "\\u%04x", u.value) } else { out.unicodeScalars.append(u) }
            }
        }
        return out + "\""
    }
}

/// Saving and loading whole models: parameters under their PyTorch names, masks as `NAME_mask`, and the model
/// spec in the metadata (`glassbox.spec`), so `torch.nn.Sequential` with the same layers loads the weights with
/// `load_state_dict` (masks aside) and a PyTorch `state_dict` saved with `safetensors.torch.save_file` loads here.
public enum Checkpoint {
    public static let specKey = "glassbox.spec"

    public static func file(for model: Sequential, metadata: [String: String] = [:]) -> Safetensors.File {
        var tensors: [String: Tensor] = [:]
        for (name, p) in model.namedParameters {
            tensors[name] = p.value
            if let m = p.mask { tensors[name + "_mask"] = m }
        }
        var meta = metadata
        meta[specKey] = model.spec.description
        meta["format"] = "pt"
        return Safetensors.File(tensors: tensors, metadata: meta)
    }

    public static func save(_ model: Sequential, to path: String, metadata: [String: String] = [:]) throws {
        try Safetensors.write(file(for: model, metadata: metadata), to: path)
    }

    /// Loads a model. The spec comes from the file's metadata or, for files written elsewhere, from `spec`.
    public static func load(_ path: String, spec explicitSpec: ModelSpec? = nil) throws -> (model: Sequential, metadata: [String: String]) {
        let f = try Safetensors.read(path)
        let spec: ModelSpec
        if let explicitSpec { spec = explicitSpec }
        else if let s = f.metadata[specKey] {
            do { spec = try ModelSpec.parse(s) } catch let e as GlassboxError {
                throw GlassboxError.message("\(path): __metadata__.\(specKey): \(e)")
            }
        } else {
            throw GlassboxError.badFile(path: path, field: "__metadata__.\(specKey)", expected: "a model spec (or pass --spec)", found: "none")
        }
        let model = try Sequential(spec: spec, seed: 0)
        try assign(f, to: model, path: path)
        return (model, f.metadata)
    }

    /// Copies the file's tensors into the model's parameters, checking names and shapes both ways.
    public static func assign(_ f: Safetensors.File, to model: Sequential, path: String) throws {
        let names = Set(model.namedParameters.map(\.name))
        for key in f.tensors.keys.sorted() {
            let base = key.hasSuffix("_mask") ? String(key.dropLast(5)) : key
            guard names.contains(base) else {
                throw GlassboxError.badFile(path: path, field: key, expected: "one of the model's parameters \(names.sorted())", found: "an unknown tensor")
            }
        }
        for (name, p) in model.namedParameters {
            guard let t = f.tensors[name] else {
                throw GlassboxError.badFile(path: path, field: name, expected: "a tensor of shape \(p.value.shape)", found: "none")
            }
            guard t.shape == p.value.shape else {
                throw GlassboxError.badFile(path: path, field: name, expected: "shape \(p.value.shape)", found: "\(t.shape)")
            }
            p.value = t
            if let m = f.tensors[name + "_mask"] {
                guard m.shape == t.shape else {
                    throw GlassboxError.badFile(path: path, field: name + "_mask", expected: "shape \(t.shape)", found: "\(m.shape)")
                }
                p.setMask(m)
            }
        }
    }
}
