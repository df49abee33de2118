import Foundation
import XCTest
@testable import GlassboxCore
@testable import GlassboxNN

/// A state dict of `nn.Sequential(Conv2d(2, 3, 3, padding=1), ReLU(), MaxPool2d(2), Flatten(), Linear(27, 4))`,
/// written byte by byte as `safetensors.torch.save_file` lays it out, gives the logits of a direct computation
/// (cross-correlation, floor pooling, channel-major flatten); prefixed and extra names are refused or remapped.
final class PyTorchCheckpointTests: XCTestCase {
    var dir = ""
    override func setUpWithError() throws {
        dir = (NSTemporaryDirectory() as NSString).appendingPathComponent("glassbox-pt-\(UUID().uuidString)")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }
    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    let spec = "input 2x7x7; conv 3 k3 p1; relu; maxpool 2; flatten; linear 4"

    /// Deterministic, distinct values: v(i) = sin(1.3 i + offset) / 2.
    static func values(_ n: Int, _ offset: Float) -> [Float] { (0..<n).map { sin(1.3 * Float($0) + offset) / 2 } }
    func values(_ n: Int, _ offset: Float) -> [Float] { Self.values(n, offset) }

    let convW = values(3 * 2 * 3 * 3, 0.1)
    let convB = values(3, 2.0)
    let linW = values(4 * 27, 0.7)
    let linB = values(4, 3.3)

    /// The file: 8-byte header length, JSON header (tensors in the given order, PyTorch-style), raw little-endian data.
    func stateDict(_ tensors: [(String, String, [Int], [UInt8])], metadata: [String: String]? = nil) -> Data {
        var entries: [String] = []
        if let metadata {
            entries.append("\"__metadata__\":{" + metadata.sorted { $0.key < $1.key }.map { "\"\($0.key)\":\"\($0.value)\"" }.joined(separator: ",") + "}")
        }
        var offset = 0
        var body: [UInt8] = []
        for (name, dtype, shape, bytes) in tensors {
            entries.append("\"\(name)\":{\"dtype\":\"\(dtype)\",\"shape\":[\(shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(offset),\(offset + bytes.count)]}")
            offset += bytes.count
            body += bytes
        }
        var header = Array(("{" + entries.joined(separator: ",") + "}").utf8)
        while header.count % 8 != 0 { header.append(0x20) }
        return Data(withUnsafeBytes(of: UInt64(header.count).littleEndian, Array.init) + header + body)
    }

    func f32(_ v: [Float]) -> [UInt8] { v.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) } }

    func cnnTensors(prefix: String = "") -> [(String, String, [Int], [UInt8])] {
        [("\(prefix)4.bias", "F32", [4], f32(linB)), ("\(prefix)0.weight", "F32", [3, 2, 3, 3], f32(convW)),
         ("\(prefix)4.weight", "F32", [4, 27], f32(linW)), ("\(prefix)0.bias", "F32", [3], f32(convB))]
    }

    func save(_ d: Data, _ name: String = "net.safetensors") throws -> String {
        let path = (dir as NSString).appendingPathComponent(name)
        try d.write(to: URL(fileURLWithPath: path))
        return path
    }

    /// The network computed from its definition, for one 2×7×7 input `x` (channel, row, column).
    func direct(_ x: [Float]) -> (pooled: [Float], logits: [Float]) {
        func input(_ c: Int, _ i: Int, _ j: Int) -> Float { (0..<7).contains(i) && (0..<7).contains(j) ? x[c * 49 + i * 7 + j] : 0 }
        var conv = [Float](repeating: 0, count: 3 * 49)
        for o in 0..<3 {
            for i in 0..<7 {
                for j in 0..<7 {
                    var s = convB[o]
                    for c in 0..<2 {
                        for a in 0..<3 {
                            for b in 0..<3 {
                                let w: Float = convW[((o * 2 + c) * 3 + a) * 3 + b]
                                s += w * input(c, i + a - 1, j + b - 1)
                            }
                        }
                    }
                    conv[o * 49 + i * 7 + j] = max(0, s)
                }
            }
        }
        var pooled = [Float](repeating: 0, count: 27)   // 7 → 3 (floor): row and column 6 are dropped
        for o in 0..<3 {
            for i in 0..<3 {
                for j in 0..<3 {
                    let top: Int = o * 49 + 2 * i * 7 + 2 * j
                    let window: [Float] = [conv[top], conv[top + 1], conv[top + 7], conv[top + 8]]
                    pooled[o * 9 + i * 3 + j] = window.max()!
                }
            }
        }
        var logits = linB
        for k in 0..<4 { for i in 0..<27 { logits[k] += linW[k * 27 + i] * pooled[i] } }
        return (pooled, logits)
    }

    func inputs() -> Tensor { Tensor(shape: [2, 2, 7, 7], scalars: values(2 * 98, 5.0).map { $0 * 2 }) }

    func assertMatchesDefinition(_ model: Sequential, file: StaticString = #filePath, line: UInt = #line) throws {
        let x = inputs()
        let out = model.forward(x)
        for s in 0..<2 {
            let (pooled, logits) = direct(Array(x.scalars[(s * 98)..<((s + 1) * 98)]))
            for k in 0..<4 { XCTAssertEqual(out.scalars[s * 4 + k], logits[k], accuracy: 1e-5, file: file, line: line) }
            // The flatten layer's output is the pooled maps in channel-major order, as PyTorch's nn.Flatten gives them.
            let flat = try LayerOutputs.collect(model, layer: 3, images: x)
            XCTAssertEqual(flat.shape, [2, 27], file: file, line: line)
            for i in 0..<27 { XCTAssertEqual(flat.scalars[s * 27 + i], pooled[i], accuracy: 1e-6, file: file, line: line) }
        }
        // `collect` runs only the layers up to the one asked for; its outputs are those of a whole forward pass, bit for bit.
        for layer in 0..<model.layers.count {
            _ = model.forward(x)
            let whole = model.activations[layer].scalars.map(\.bitPattern)
            XCTAssertEqual(try LayerOutputs.collect(model, layer: layer, images: x).scalars.map(\.bitPattern), whole, file: file, line: line)
        }
    }

    func testAPyTorchCNNStateDictGivesTheLogitsOfTheDefinition() throws {
        let withSpec = try save(stateDict(cnnTensors(), metadata: ["format": "pt", "glassbox.spec": spec]))
        let (model, meta) = try Checkpoint.load(withSpec, options: StateDictOptions())
        XCTAssertEqual(meta["format"], "pt")
        try assertMatchesDefinition(model)
        // Without the spec in the file, it is passed in.
        let bare = try save(stateDict(cnnTensors()), "bare.safetensors")
        try assertMatchesDefinition(try Checkpoint.load(bare, spec: ModelSpec.parse(spec), options: StateDictOptions()).model)
        XCTAssertEqual("\(thrownError(try Checkpoint.load(bare, options: StateDictOptions()))!)",
                       "\(bare): __metadata__.glassbox.spec: expected a model spec (or pass one: --spec, or spec: in a load cell), found none")
        XCTAssertEqual(try LayerOutputs.index(model, "4.weight"), 4)
        XCTAssertEqual(try LayerOutputs.index(model, "2"), 2)
        XCTAssertThrowsError(try LayerOutputs.index(model, "5"))
        XCTAssertThrowsError(try LayerOutputs.index(model, "2.weight"))
    }

    func testPrefixedNamesAreRefusedWithTheFixAndLoadWithStripPrefix() throws {
        let path = try save(stateDict(cnnTensors(prefix: "module."), metadata: ["glassbox.spec": spec]))
        XCTAssertEqual("\(thrownError(try Checkpoint.load(path, options: StateDictOptions()))!)",
                       "\(path): module.0.bias: expected the model's parameter names (0.bias, 0.weight, 4.bias, 4.weight, …), found names that all "
                       + "start with 'module.' (e.g. from nn.DataParallel); the strip-prefix option 'module.' removes it")
        try assertMatchesDefinition(try Checkpoint.load(path, options: StateDictOptions(stripPrefix: "module.")).model)
    }

    func testExtraAndMissingTensorsAreRefusedOrLeftOutAsAsked() throws {
        // An integer counter as BatchNorm saves it: refused by its type with the fix, loads when ignored.
        let counter = ("1.num_batches_tracked", "I64", [Int](), withUnsafeBytes(of: Int64(7).littleEndian, Array.init))
        let path = try save(stateDict(cnnTensors() + [counter], metadata: ["glassbox.spec": spec]))
        XCTAssertEqual("\(thrownError(try Checkpoint.load(path, options: StateDictOptions()))!)",
                       "\(path): 1.num_batches_tracked.dtype: expected F32, F64, F16 or BF16, found I64 (a BatchNorm counter: leave it out with the ignore option)")
        try assertMatchesDefinition(try Checkpoint.load(path, options: StateDictOptions(ignore: ["num_batches_tracked"])).model)
        // BatchNorm statistics: not supported, said so.
        let bn = try save(stateDict(cnnTensors() + [("1.running_mean", "F32", [3], f32([0, 0, 0]))], metadata: ["glassbox.spec": spec]), "bn.safetensors")
        XCTAssertEqual("\(thrownError(try Checkpoint.load(bn, options: StateDictOptions()))!)",
                       "\(bn): 1.running_mean: expected tensors of Linear and Conv2d layers, found a BatchNorm buffer: BatchNorm layers are not "
                       + "supported yet (fold them into the layer before them)")
        // A tensor the spec has no place for, and a missing one.
        let extra = try save(stateDict(cnnTensors() + [("6.weight", "F32", [1], f32([1]))], metadata: ["glassbox.spec": spec]), "x.safetensors")
        XCTAssertTrue("\(thrownError(try Checkpoint.load(extra, options: StateDictOptions()))!)".hasPrefix("\(extra): 6.weight: expected one of the model's parameters"))
        try assertMatchesDefinition(try Checkpoint.load(extra, options: StateDictOptions(ignore: ["6.weight"])).model)
        let missing = try save(stateDict(Array(cnnTensors().dropFirst()), metadata: ["glassbox.spec": spec]), "m.safetensors")
        XCTAssertEqual(thrownError(try Checkpoint.load(missing, options: StateDictOptions())),
                       .badFile(path: missing, field: "4.bias", expected: "a tensor of shape [4]", found: "none"))
        // A shape that does not fit the spec names the tensor and both shapes.
        var wrong = cnnTensors()
        wrong[2] = ("4.weight", "F32", [4, 28], f32(values(4 * 28, 0)))
        let w = try save(stateDict(wrong, metadata: ["glassbox.spec": spec]), "w.safetensors")
        XCTAssertEqual(thrownError(try Checkpoint.load(w, options: StateDictOptions())),
                       .badFile(path: w, field: "4.weight", expected: "shape [4, 27]", found: "[4, 28]"))
        // A torch.save file is not a state dict in safetensors.
        let pickle = try save(Data([0x50, 0x4B, 0x03, 0x04] + [UInt8](repeating: 0xEE, count: 60)), "model.pt")
        XCTAssertTrue("\(thrownError(try Checkpoint.load(pickle, options: StateDictOptions()))!)".contains("written by torch.save"))
    }
}

private func thrownError<T>(_ body: @autoclosure () throws -> T, file: StaticString = #filePath, line: UInt = #line) -> GlassboxError? {
    do {
        _ = try body()
        XCTFail("expected an error", file: file, line: line)
    } catch let e as GlassboxError {
        return e
    } catch {
        XCTFail("expected a GlassboxError, got \(error)", file: file, line: line)
    }
    return nil
}
