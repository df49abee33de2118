import XCTest
import GlassboxCore
import GlassboxNN

final class ModelSpecTests: XCTestCase {
    func testMLPShorthandExpandsLikeTorchSequential() throws {
        let spec = try ModelSpec.parse("mlp 784-100-50-10 sigmoid")
        XCTAssertEqual(spec.description, "input 784; linear 100; sigmoid; linear 50; sigmoid; linear 10")
        let model = try Sequential(spec: spec, seed: 0)
        XCTAssertEqual(model.namedParameters.map(\.name), ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"])
        XCTAssertEqual(model.parameter(named: "0.weight")!.value.shape, [100, 784])
        XCTAssertEqual(model.parameterCount, 784 * 100 + 100 + 100 * 50 + 50 + 50 * 10 + 10)
        XCTAssertEqual(try ModelSpec.parse("mlp 784-64-64-10 nobias").description, "input 784; linear 64 nobias; relu; linear 64 nobias; relu; linear 10 nobias")
    }

    func testCNNSpecRoundTripsAndInfersShapes() throws {
        let text = "input 1x28x28; conv 16 k5 p2; relu; maxpool 2; conv 32 k5 p2; relu; maxpool 2; flatten; linear 10"
        let spec = try ModelSpec.parse(text)
        XCTAssertEqual(spec.description, text)
        XCTAssertEqual(try ModelSpec.parse(spec.description), spec)
        XCTAssertEqual(try spec.shapes().map { $0 }, [[16, 28, 28], [16, 28, 28], [16, 14, 14], [32, 14, 14], [32, 14, 14], [32, 7, 7], [1568], [10]])
        let model = try Sequential(spec: spec, seed: 0)
        XCTAssertEqual(model.parameter(named: "3.weight")!.value.shape, [32, 16, 5, 5])
        XCTAssertEqual(model.parameter(named: "7.weight")!.value.shape, [10, 1568])
    }

    func testBadSpecsGiveClearErrors() {
        let cases: [(String, String)] = [
            ("mlp 784", "mlp"),
            ("input 1x28x28; conv 16", "kernel"),
            ("input 1x28x28; linear ten", "linear OUT"),
            ("input 784; conv 4 k3", "image input"),
            ("input 1x4x4; conv 2 k5", "at least as large as the kernel"),
            ("input 1x28x28; softmax", "one of input"),
            ("linear 10", "starting with 'input"),
            ("input 1x28x28; dropout 1.5", "0 ≤ P < 1"),
        ]
        for (spec, needle) in cases {
            XCTAssertThrowsError(try ModelSpec.parse(spec), spec) { error in
                XCTAssertTrue("\(error)".contains(needle), "'\(spec)' gave '\(error)', expected mention of '\(needle)'")
            }
        }
    }

    func testSpecIsCodableAsItsText() throws {
        let spec = try ModelSpec.parse("mlp 4-3-2 tanh")
        let data = try JSONEncoder().encode(["spec": spec])
        XCTAssertEqual(String(decoding: data, as: UTF8.self), #"{"spec":"input 4; linear 3; tanh; linear 2"}"#)
        XCTAssertEqual(try JSONDecoder().decode([String: ModelSpec].self, from: data)["spec"], spec)
    }
}
