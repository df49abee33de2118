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
            throw bad("header length", "at most \(data.count - 8) bytes", "\(n)")
        }
        let headerData = data.subdata(in: (data.startIndex + 8)..<(data.startIndex + 8 + Int(n)))
        guard let json = try? JSONSerialization.jsonObject(with: headerData), let header = json as? [String: Any] else {
            throw bad("header", "a JSON object", "unparseable text")
        }
        let body = data.subdata(in: (data.startIndex + 8 + Int(n))..<data.endIndex)
        var file = File(tensors: [:])
        var ranges: [(Int, Int, String)] = []
        for (key, value) in header {
            if key == "__metadata__" {
                guard let m = value as? [String: Any] else { throw bad("__metadata__", "a map of strings", "\(type(of: value))") }
                for (mk, mv) in m {
                    guard let s = mv as? String else { throw bad("__metadata__.\(mk)", "a string", "\(mv)") }
                    file.metadata[mk] = s
                }
                continue
            }
            guard let entry = value as? [String: Any], let dtype = entry["dtype"] as? String,
                  let shapeAny = entry["shape"] as? [Any], let offsAny = entry["data_offsets"] as? [Any], offsAny.count == 2 else {
                throw bad(key, "{dtype, shape, data_offsets}", "\(value)")
            }
            let shape = try shapeAny.map { v -> Int in
                guard let i = (v as? NSNumber)?.intValue, i >= 0 else { throw bad("\(key).shape", "non-negative integers", "\(shapeAny)") }
                return i
            }
            let offs = try offsAny.map { v -> Int in
                guard let i = (v as? NSNumber)?.intValue, i >= 0 else { throw bad("\(key).data_offsets", "non-negative integers", "\(offsAny)") }
                return i
            }
            let widths = ["F32": 4, "F64": 8, "F16": 2, "BF16": 2, "I8": 1, "U8": 1, "BOOL": 1, "F8_E4M3": 1, "F8_E5M2": 1, "I16": 2, "U16": 2,
                          "I32": 4, "U32": 4, "I64": 8, "U64": 8]
            let included = include(key)
            guard let width = widths[dtype], !included || ["F32", "F64", "F16", "BF16"].contains(dtype) else {
                throw bad("\(key).dtype", "F32, F64, F16 or BF16", dtype + (key.hasSuffix("num_batches_tracked") ? " (a BatchNorm counter: leave it out with the ignore option)" : ""))
            }
            var count = 1
            for d in shape {
                let (c, o) = count.multipliedReportingOverflow(by: d)
                guard !o, c <= body.count else { throw bad("\(key).shape", "a shape whose data fit the \(body.count)-byte buffer", "\(shape)") }
                count = c
            }
            guard offs[1] >= offs[0], offs[1] - offs[0] == count * width else {
                throw bad("\(key).data_offsets", "\(count * width) bytes for shape \(shape) \(dtype)", "\(offs[1] - offs[0]) bytes")
            }
            guard offs[1] <= body.count else { throw bad("\(key).data_offsets", "within the \(body.count)-byte buffer", "end \(offs[1])") }
            ranges.append((offs[0], offs[1], key))
            guard included else { continue }
            let bytes = body.subdata(in: (body.startIndex + offs[0])..<(body.startIndex + offs[1]))
            let values: [Float] = bytes.withUnsafeBytes { raw in
                switch dtype {
                case "F32": return (0..<count).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) }
                case "F64": return (0..<count).map { Float(Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * $0, as: UInt64.self)))) }
                case "F16": return (0..<count).map { halfToFloat(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self))) }
                default: return (0..<count).map { Float(bitPattern: UInt32(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self))) << 16) }
                }
            }
            file.tensors[key] = Tensor(shape: shape, scalars: values)
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
        else if let s = f.metadata[specKey] { spec = try ModelSpec.parse(s) }
        else {
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
