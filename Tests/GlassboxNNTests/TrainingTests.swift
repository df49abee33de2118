import Foundation
import XCTest
import GlassboxCore
import GlassboxData
import GlassboxNN

let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
/// `shared/` sits beside the repository (worktree or CI clone), unless GLASSBOX_TEST_MNIST names another folder
/// (as GlassboxTestSupport's `sharedMNIST` allows; worktrees under /work/wt have no `shared/` beside them).
let sharedMNIST = ProcessInfo.processInfo.environment["GLASSBOX_TEST_MNIST"] ?? ((repoRoot as NSString).deletingLastPathComponent as NSString).appendingPathComponent("shared/datasets/mnist")

/// The official 10k MNIST test set split into train 8000 / test 2000 (seed 0).
func mnistSplit() throws -> (train: Dataset, test: Dataset) {
    try DatasetRegistry.load(name: "mnist", split: .test, directory: sharedMNIST).split(trainCount: 8000, testCount: 2000, seed: 0)
}

final class TrainingTests: XCTestCase {
    override func setUp() { ProgressBar.quiet = true }

    func testSameSeedGivesBitIdenticalWeights() throws {
        let data = try mnistSplit().train.limit(1000)
        func run(threads: Int) throws -> [Tensor] {
            let saved = Parallel.threads
            Parallel.threads = threads
            defer { Parallel.threads = saved }
            let model = try Sequential(spec: ModelSpec.parse("input 1x28x28; conv 4 k5 p2; relu; maxpool 2; flatten; dropout 0.2; linear 10"), seed: 7)
            try Trainer(model: model, config: TrainConfig(epochs: 1, batchSize: 50, optimizer: .sgd(lr: 0.05, momentum: 0.9), seed: 3))
                .fit(train: data)
            return model.namedParameters.map(\.parameter.value)
        }
        let a = try run(threads: 2), b = try run(threads: 2)
        XCTAssertEqual(a, b, "same seed, same weights, bit for bit")
        // The shard split is fixed, so the thread count does not change the numbers either.
        XCTAssertEqual(a, try run(threads: 1))
    }

    func testShardedGradientEqualsWholeBatchGradient() throws {
        let data = try mnistSplit().train.limit(64)
        let spec = try ModelSpec.parse("input 1x28x28; conv 3 k3 p1; relu; maxpool 2; flatten; linear 10")
        var grads: [[Tensor]] = []
        for shards in [1, 2, 3] {
            let model = try Sequential(spec: spec, seed: 5)
            let t = Trainer(model: model, config: TrainConfig(epochs: 1, batchSize: 64, optimizer: .sgd(lr: 0), seed: 1, shards: shards))
            try t.fit(train: data)
            grads.append(model.namedParameters.map(\.parameter.grad))
        }
        for s in 1..<grads.count {
            for (a, b) in zip(grads[0], grads[s]) { XCTAssertLessThan(a.maxAbsDifference(b), 1e-5) }
        }
    }

    func testCheckpointsAtChosenStepsAndEvaluationBookkeeping() throws {
        let (train, test) = try mnistSplit()
        let model = try Sequential(spec: ModelSpec.parse("mlp 784-32-10"), seed: 1)
        let t = Trainer(model: model, config: TrainConfig(epochs: 1, batchSize: 100, optimizer: .sgd(lr: 0.1), seed: 0, checkpointSteps: [5, 80]))
        var seen: [Int] = []
        t.onCheckpoint = { step, _ in seen.append(step) }
        let h = try t.fit(train: train.limit(1000), test: test)
        XCTAssertEqual(seen, [5])  // 1000 samples / 100 = 10 steps: step 80 never comes
        XCTAssertEqual(h.steps, 10)
        let ev = try Trainer.evaluate(model, on: test)
        XCTAssertEqual(ev.confusion.flatMap { $0 }.reduce(0, +), 2000)
        XCTAssertEqual(ev.accuracy, Float((0..<10).reduce(0) { $0 + ev.confusion[$1][$1] }) / 2000, accuracy: 1e-6)
        for c in 0..<10 {
            let total = ev.confusion[c].reduce(0, +)
            XCTAssertEqual(ev.perClassAccuracy[c], Float(ev.confusion[c][c]) / Float(total), accuracy: 1e-6)
        }
        XCTAssertEqual(h.epochs.last?.testAccuracy, ev.accuracy)
    }

    func testIncompatibleDataGiveClearError() throws {
        let (train, _) = try mnistSplit()
        let model = try Sequential(spec: ModelSpec.parse("mlp 100-10"), seed: 1)
        XCTAssertThrowsError(try Trainer(model: model, config: TrainConfig()).fit(train: train)) { e in
            XCTAssertTrue("\(e)".contains("784") || "\(e)".contains("1x28x28"), "\(e)")
        }
    }

    /// Real learning on real digits: MLP 784-100-50-10 on the MNIST 8000/2000 split.
    func testMLPReachesNinetyPercentOnMNISTSplit() throws {
        let (train, test) = try mnistSplit()
        let model = try Sequential(spec: ModelSpec.parse("mlp 784-100-50-10 relu"), seed: 0)
        let t = Trainer(model: model, config: TrainConfig(epochs: 10, batchSize: 32, optimizer: .sgd(lr: 0.05, momentum: 0.9), seed: 0))
        try t.fit(train: train, test: test)
        let acc = try Trainer.evaluate(model, on: test).accuracy
        print("MNIST 8000/2000 MLP 784-100-50-10 test accuracy: \(acc)")
        XCTAssertGreaterThanOrEqual(acc, 0.90)
    }

    /// Fashion-MNIST (Debian's dataset-fashion-mnist): the MLP reaches ≥ 84% after 5 epochs.
    func testMLPReaches84PercentOnFashionMNIST() throws {
        let train: Dataset, test: Dataset
        do {
            train = try DatasetRegistry.load(name: "fashion-mnist", split: .train)
            test = try DatasetRegistry.load(name: "fashion-mnist", split: .test)
        } catch {
            throw XCTSkip("Fashion-MNIST not installed: \(error)")
        }
        let model = try Sequential(spec: ModelSpec.parse("mlp 784-100-50-10 relu"), seed: 0)
        try Trainer(model: model, config: TrainConfig(epochs: 5, batchSize: 100, optimizer: .sgd(lr: 0.1, momentum: 0.9),
                                                      schedule: .cosine(minimum: 0.001), seed: 0))
            .fit(train: train, test: test)
        let acc = try Trainer.evaluate(model, on: test).accuracy
        print("Fashion-MNIST MLP 784-100-50-10 test accuracy after 5 epochs: \(acc)")
        XCTAssertGreaterThanOrEqual(acc, 0.84)
    }
}
