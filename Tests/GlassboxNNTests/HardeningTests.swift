import Foundation
import XCTest
@testable import GlassboxCore
import GlassboxData
@testable import GlassboxNN

/// Sizes from specs and checkpoints never wrap around or allocate more than a cap; training stops at the first
/// non-finite number; results do not depend on thread counts (issue 12).
final class SpecLimitTests: XCTestCase {
    func testOverflowingSpecsAreErrorsNotAllocations() {
        let cases: [(String, String)] = [
            ("input 1x4000000000x4000000000; flatten; linear 1", "fit in 64 bits"),
            ("input 3037000500x3037000500x2", "fit in 64 bits"),
            ("input 784; linear 100000000000", "GLASSBOX_MAX_PARAMETERS"),
            ("mlp 784-100000000000-10", "GLASSBOX_MAX_PARAMETERS"),
            ("input 1x28x28; conv 1 k3 p4611686018427387904", "fit in 64 bits"),
            ("input 1x28x28; conv 1 k3 s2 p4000000000000000000", "fit in 64 bits"),
            ("input 1x100000x100000; relu", "values per sample"),
        ]
        for (text, needle) in cases {
            XCTAssertThrowsError(try ModelSpec.parse(text), text) { e in
                XCTAssertTrue("\(e)".contains(needle), "'\(text)' gave '\(e)', expected '\(needle)'")
            }
        }
        // A spec made in code is checked before any layer is built.
        let direct = ModelSpec(input: [784], clauses: [.linear(out: 1 << 40, bias: true)])
        XCTAssertThrowsError(try Sequential(spec: direct, seed: 0))
        XCTAssertThrowsError(try ModelSpec(input: [1, 8, 8], clauses: [.conv(out: 2, kernel: 0, stride: 1, padding: 0, bias: true)]).validate())
    }

    func testParameterCountAndTheCapFromTheEnvironment() throws {
        let spec = try ModelSpec.parse("mlp 784-100-10")
        XCTAssertEqual(try spec.parameterCount(), 784 * 100 + 100 + 100 * 10 + 10)
        XCTAssertEqual(try spec.parameterCount(), try Sequential(spec: spec, seed: 0).parameterCount)
        setenv("GLASSBOX_MAX_PARAMETERS", "1000", 1)
        defer { unsetenv("GLASSBOX_MAX_PARAMETERS") }
        XCTAssertThrowsError(try ModelSpec.parse("mlp 784-100-10")) { e in
            XCTAssertEqual("\(e)", "model spec 'input 784; linear 100; relu; linear 10': expected at most 1000 parameters "
                           + "(raise the limit with GLASSBOX_MAX_PARAMETERS=N), found 79510 parameters")
        }
        XCTAssertNoThrow(try ModelSpec.parse("mlp 10-10-10"))
    }

    func testCheckedArithmetic() {
        XCTAssertEqual(Limits.product([3, 4, 5]), 60)
        XCTAssertEqual(Limits.product([1 << 62, 0]), 0)
        XCTAssertNil(Limits.product([1 << 32, 1 << 31]))
        XCTAssertNil(Limits.product([2, -1]))
        XCTAssertNil(Limits.multiply(Int.max, 2))
        XCTAssertNil(Limits.add(Int.max, 1))
    }
}

final class SafetensorsHardeningTests: XCTestCase {
    func file(_ header: String, body: [UInt8]) -> Data {
        var d = Data()
        var n = UInt64(header.utf8.count).littleEndian
        withUnsafeBytes(of: &n) { d.append(contentsOf: $0) }
        d.append(contentsOf: Array(header.utf8))
        d.append(contentsOf: body)
        return d
    }

    func testShapesThatDoNotFitTheFileAreErrors() {
        let cases: [(Data, String)] = [
            // The reproducer: a huge shape with empty offsets used to segfault `evaluate`.
            (file(#"{"a":{"dtype":"F32","shape":[4611686018427387904],"data_offsets":[0,0]}}"#, body: []), "a.shape"),
            (file(#"{"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,0]}}"#, body: []), "a.shape"),
            (file(#"{"a":{"dtype":"F64","shape":[2305843009213693952],"data_offsets":[0,0]}}"#, body: []), "a.shape"),
            (file(#"{"a":{"dtype":"F32","shape":[2.7,4],"data_offsets":[0,32]}}"#, body: Array(repeating: 0, count: 32)), "a.shape[0]: expected a whole number, found 2.7"),
            (file(#"{"a":{"dtype":"F32","shape":[true,4],"data_offsets":[0,16]}}"#, body: Array(repeating: 0, count: 16)), "a.shape[0]: expected a whole number, found true"),
            (file(#"{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#, body: [0, 0, 0, 0]), "non-negative"),
            (file(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[8,4]}}"#, body: [0, 0, 0, 0]), "data_offsets"),
            (file(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0]}}"#, body: [0, 0, 0, 0]), "data_offsets"),
            (file(#"{"__metadata__":{"x":1}}"#, body: []), "__metadata__.x"),
            (file(#"[1,2]"#, body: []), "header"),
        ]
        for (data, needle) in cases {
            XCTAssertThrowsError(try Safetensors.decode(data, name: "t.safetensors"), needle) { e in
                XCTAssertTrue("\(e)".hasPrefix("t.safetensors: ") && "\(e)".contains(needle), "\(e) should mention \(needle)")
            }
        }
    }

    /// A checkpoint whose metadata spec is hostile fails naming the file, before allocating the model.
    func testHostileSpecInMetadataNamesTheFile() throws {
        let dir = NSTemporaryDirectory() + "st-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/m.safetensors"
        try file(#"{"__metadata__":{"glassbox.spec":"input 1x4000000000x4000000000; flatten; linear 1"}}"#, body: [])
            .write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try Checkpoint.load(path)) { e in
            XCTAssertTrue("\(e)".hasPrefix("\(path): __metadata__.glassbox.spec: model spec clause"), "\(e)")
        }
    }
}

/// A small separable problem: 4 classes of 2×2 images.
func tinyDataset(count: Int = 64, seed: UInt64 = 1) -> Dataset {
    var g = SeededGenerator(seed: seed)
    var pixels: [Float] = []
    var labels: [Int32] = []
    for i in 0..<count {
        let c = i % 4
        for p in 0..<4 { pixels.append((p == c ? 1 : 0) + 0.1 * g.uniform()) }
        labels.append(Int32(c))
    }
    return Dataset(name: "tiny", images: Tensor(shape: [count, 1, 2, 2], scalars: pixels), labels: labels,
                   classNames: ["a", "b", "c", "d"])
}

final class DivergenceTests: XCTestCase {
    func testNonFiniteSettingsAreRefusedBeforeTraining() throws {
        let data = tinyDataset()
        let bad: [(OptimizerConfig, String)] = [
            (.sgd(lr: .infinity), "lr"), (.sgd(lr: .nan), "lr"), (.sgd(lr: 0.1, momentum: .nan), "momentum"),
            (.sgd(lr: -1), "lr"), (.sgd(lr: 0.1, weightDecay: .infinity), "weight-decay"),
            (.adam(lr: 0.001, beta1: 1), "beta1"), (.adam(lr: .nan), "lr"),
        ]
        for (opt, name) in bad {
            let model = try Sequential(spec: ModelSpec.parse("mlp 4-8-4"), seed: 0)
            let before = model.namedParameters.map(\.parameter.value)
            XCTAssertThrowsError(try Trainer(model: model, config: TrainConfig(epochs: 1, batchSize: 8, optimizer: opt)).fit(train: data)) { e in
                XCTAssertTrue("\(e)".hasPrefix("\(name): expected"), "\(e)")
            }
            XCTAssertEqual(model.namedParameters.map(\.parameter.value), before, "\(opt) changed the weights")
        }
        XCTAssertThrowsError(try TrainConfig(schedule: .step(every: 1, gamma: .infinity)).validate())
        XCTAssertThrowsError(try TrainConfig(schedule: .cosine(minimum: .nan)).validate())
        XCTAssertThrowsError(try TrainConfig(checkpointSteps: [0]).validate())
    }

    /// lr = 1e30 overflows within a few steps: the error names the epoch and the step, and no checkpoint with a
    /// non-finite value is ever handed out.
    func testDivergenceStopsAtTheFirstNonFiniteStep() throws {
        let data = tinyDataset()
        let model = try Sequential(spec: ModelSpec.parse("mlp 4-8-4"), seed: 0)
        let trainer = Trainer(model: model, config: TrainConfig(epochs: 3, batchSize: 8, optimizer: .sgd(lr: 1e30),
                                                                checkpointSteps: Array(1...24), evaluateEachEpoch: false))
        var checkpoints: [Int] = []
        trainer.onCheckpoint = { step, m in
            checkpoints.append(step)
            for (name, p) in m.namedParameters { XCTAssertTrue(p.value.scalars.allSatisfy(\.isFinite), "step \(step): \(name)") }
        }
        XCTAssertThrowsError(try trainer.fit(train: data)) { e in
            let text = "\(e)"
            XCTAssertTrue(text.hasPrefix("training diverged at epoch 1, step "), text)
            XCTAssertTrue(text.contains("lower the learning rate (1e+30)"), text)
            // The step named is the one after the last checkpoint handed out.
            XCTAssertTrue(text.contains("(optimiser step \((checkpoints.last ?? 0) + 1))"), "\(text) after checkpoints \(checkpoints)")
        }
        XCTAssertLessThan(checkpoints.count, 8)
    }

    func testAllFiniteSeesEveryLane() {
        for n in [0, 1, 7, 8, 9, 31] {
            let t = Tensor(shape: [n], scalars: [Float](repeating: 1, count: n))
            XCTAssertTrue(Divergence.allFinite(t))
            for bad in [Float.nan, .infinity, -.infinity] where n > 0 {
                for i in [0, n / 2, n - 1] {
                    var u = t
                    u.scalars[i] = bad
                    XCTAssertFalse(Divergence.allFinite(u), "n \(n), index \(i), \(bad)")
                }
            }
        }
    }
}

final class ThreadDeterminismTests: XCTestCase {
    override func tearDown() { Parallel.threads = max(1, ProcessInfo.processInfo.activeProcessorCount) }

    /// Conv2d's weight gradient is summed in fixed chunks: the same bits for 1, 2 and 5 threads.
    func testConvGradientDoesNotDependOnTheThreadCount() throws {
        var g = SeededGenerator(seed: 3)
        let x = Tensor.uniform([19, 2, 9, 9], low: -1, high: 1, using: &g)
        let dy = Tensor.uniform([19, 4, 9, 9], low: -1, high: 1, using: &g)
        var grads: [[Float]] = []
        for threads in [1, 2, 5] {
            Parallel.threads = threads
            var h = SeededGenerator(seed: 0)
            let conv = Conv2d(2, 4, kernel: 3, padding: 1, using: &h)
            _ = conv.forward(x, training: true)
            let dx = conv.backward(dy, needInputGradient: true)!
            grads.append(conv.weight.grad.scalars + conv.bias!.grad.scalars + dx.scalars)
        }
        XCTAssertEqual(grads[0], grads[1])
        XCTAssertEqual(grads[0], grads[2])
    }

    /// The trainer gives the same weights for 1 and 2 threads, MLP and CNN.
    func testTrainingDoesNotDependOnTheThreadCount() throws {
        let data = tinyDataset(count: 96)
        for spec in ["mlp 4-16-4", "input 1x2x2; conv 3 k2 p1; relu; flatten; linear 4"] {
            var weights: [[Tensor]] = []
            for threads in [1, 2] {
                Parallel.threads = threads
                let model = try Sequential(spec: ModelSpec.parse(spec), seed: 7)
                try Trainer(model: model, config: TrainConfig(epochs: 2, batchSize: 16, optimizer: .sgd(lr: 0.1, momentum: 0.9)))
                    .fit(train: data, test: data)
                weights.append(model.namedParameters.map(\.parameter.value))
            }
            XCTAssertEqual(weights[0], weights[1], spec)
        }
    }
}
