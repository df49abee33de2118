import XCTest
import GlassboxCore
import GlassboxNN

final class SafetensorsTests: XCTestCase {
    /// A file built byte by byte from the format's specification: u64 little-endian header length, JSON header,
    /// then the tensors' little-endian bytes. Written here without using our encoder.
    func testHandBuiltFileLoads() throws {
        let header = #"{"__metadata__":{"format":"pt"},"0.weight":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},"0.bias":{"dtype":"F64","shape":[2],"data_offsets":[16,32]},"h":{"dtype":"F16","shape":[2],"data_offsets":[32,36]},"b":{"dtype":"BF16","shape":[1],"data_offsets":[36,38]}}"#
        var bytes = [UInt8]()
        let n = UInt64(header.utf8.count)
        for i in 0..<8 { bytes.append(UInt8((n >> (8 * UInt64(i))) & 0xFF)) }
        bytes += Array(header.utf8)
        // F32 1.0, 2.0, -0.5, 0.25
        bytes += [0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0x00, 0xBF, 0x00, 0x00, 0x80, 0x3E]
        // F64 3.0, -1.0
        bytes += [0, 0, 0, 0, 0, 0, 0x08, 0x40, 0, 0, 0, 0, 0, 0, 0xF0, 0xBF]
        // F16 1.5 (0x3E00), -2.0 (0xC000)
        bytes += [0x00, 0x3E, 0x00, 0xC0]
        // BF16 1.0 (0x3F80)
        bytes += [0x80, 0x3F]
        let f = try Safetensors.decode(Data(bytes), name: "hand.safetensors")
        XCTAssertEqual(f.metadata, ["format": "pt"])
        XCTAssertEqual(f.tensors["0.weight"], Tensor(shape: [2, 2], scalars: [1, 2, -0.5, 0.25]))
        XCTAssertEqual(f.tensors["0.bias"], Tensor(shape: [2], scalars: [3, -1]))
        XCTAssertEqual(f.tensors["h"], Tensor(shape: [2], scalars: [1.5, -2]))
        XCTAssertEqual(f.tensors["b"], Tensor(shape: [1], scalars: [1]))
    }

    func testOurFilesFollowTheLayoutAndRoundTrip() throws {
        let model = try Sequential(spec: ModelSpec.parse("input 1x6x6; conv 2 k3; relu; flatten; linear 3"), seed: 4)
        model.parameter(named: "3.weight")!.setMask(Tensor(shape: [3, 32], scalars: (0..<96).map { $0 % 2 == 0 ? 1 : 0 }))
        let data = Safetensors.encode(Checkpoint.file(for: model, metadata: ["note": "a \"quoted\" value"]))
        // Header length is a multiple of 8 and the JSON names PyTorch-shaped tensors.
        let n = Int(data.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) })
        XCTAssertEqual(n % 8, 0)
        let header = String(decoding: data[8..<(8 + n)], as: UTF8.self)
        XCTAssertTrue(header.contains(#""0.weight":{"dtype":"F32","shape":[2,1,3,3],"data_offsets":[8,80]}"#), header)
        XCTAssertTrue(header.contains(#""glassbox.spec":"input 1x6x6; conv 2 k3; relu; flatten; linear 3""#))
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("st-\(UUID())")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("m.safetensors").path
        try Checkpoint.save(model, to: path, metadata: ["note": "a \"quoted\" value"])
        let (loaded, meta) = try Checkpoint.load(path)
        XCTAssertEqual(meta["note"], "a \"quoted\" value")
        for (a, b) in zip(model.namedParameters, loaded.namedParameters) {
            XCTAssertEqual(a.name, b.name)
            XCTAssertEqual(a.parameter.value, b.parameter.value)
            XCTAssertEqual(a.parameter.mask, b.parameter.mask)
        }
        // Same model, same bytes.
        XCTAssertEqual(try Files.read(path), Safetensors.encode(Checkpoint.file(for: model, metadata: ["note": "a \"quoted\" value"])))
    }

    func testCorruptFilesGiveClearErrors() throws {
        func header(_ json: String, body: [UInt8]) -> Data {
            var d = Data()
            var n = UInt64(json.utf8.count).littleEndian
            withUnsafeBytes(of: &n) { d.append(contentsOf: $0) }
            d.append(contentsOf: Array(json.utf8))
            d.append(contentsOf: body)
            return d
        }
        let cases: [(Data, String)] = [
            (Data([1, 2, 3]), "header length"),
            (header("{not json", body: []), "JSON"),
            (header(#"{"a":{"dtype":"I8","shape":[1],"data_offsets":[0,1]}}"#, body: [0]), "dtype"),
            (header(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}"#, body: [0, 0, 0, 0]), "8 bytes"),
            (header(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, body: [0, 0]), "buffer"),
            (header(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, body: [0, 0, 0, 0, 0, 0, 0, 0]), "no holes"),
        ]
        for (data, needle) in cases {
            XCTAssertThrowsError(try Safetensors.decode(data, name: "bad.safetensors")) { e in
                XCTAssertTrue("\(e)".contains("bad.safetensors") && "\(e)".contains(needle), "\(e) should mention \(needle)")
            }
        }
        // A checkpoint whose tensor shape does not fit the spec.
        let model = try Sequential(spec: ModelSpec.parse("mlp 4-3-2"), seed: 0)
        var f = Checkpoint.file(for: model)
        f.tensors["0.weight"] = Tensor(zeros: [3, 5])
        XCTAssertThrowsError(try Checkpoint.assign(f, to: model, path: "m.safetensors")) { e in
            XCTAssertEqual(e as? GlassboxError, .badFile(path: "m.safetensors", field: "0.weight", expected: "shape [3, 4]", found: "[3, 5]"))
        }
    }
}
