import Foundation
import GlassboxAnalysis
import GlassboxCore
import GlassboxData
import GlassboxNN
import XCTest

final class PruningMagnitudeTests: XCTestCase {
    func target(_ v: [Float], rows: Int = 1, mask: [Float]? = nil, name: String = "w") throws -> PruningTarget {
        try PruningTarget(name: name, values: v, mask: mask, rows: rows)
    }

    func zeros(_ m: [Float]) -> Int { m.filter { $0 == 0 }.count }

    func testRoundHalfEvenMatchesPython() {
        // Python: round(0.5)=0, round(1.5)=2, round(2.5)=2, round(3.5)=4, round(-2.5)=-2.
        XCTAssertEqual([0.5, 1.5, 2.5, 3.5, -2.5, 2.4, 2.6].map(roundHalfEven), [0, 2, 2, 4, -2, 2, 3])
    }

    /// torch.nn.utils.prune: l1_unstructured(amount=0.2) twice on 100 weights leaves 36 pruned, the 36 smallest.
    func testTwentyThenTwentyPercentOf100Prunes36() throws {
        var g = SeededGenerator(seed: 3)
        let order = g.permutation(100)
        let values = order.map { Float($0 + 1) * (($0 % 2 == 0) ? 1 : -1) }  // |w| = 1…100, shuffled, mixed signs
        let m1 = try MagnitudePruning.prune([target(values)], criterion: .amount(0.2), scope: .layer)[0]
        XCTAssertEqual(zeros(m1), 20)
        let m2 = try MagnitudePruning.prune([target(values, mask: m1)], criterion: .amount(0.2), scope: .layer)[0]
        XCTAssertEqual(zeros(m2), 36)
        for i in 0..<100 { XCTAssertEqual(m2[i] == 0, abs(values[i]) <= 36, "weight \(values[i])") }
    }

    func testAmountRoundsHalfToEven() throws {
        let five = try MagnitudePruning.prune([target([5, 4, 3, 2, 1])], criterion: .amount(0.5), scope: .layer)[0]
        XCTAssertEqual(five, [1, 1, 1, 0, 0])  // round(2.5) = 2, not 3
        let seven = try MagnitudePruning.prune([target([7, 6, 5, 4, 3, 2, 1])], criterion: .amount(0.5), scope: .layer)[0]
        XCTAssertEqual(zeros(seven), 4)  // round(3.5) = 4
    }

    func testTiesArePrunedInIndexOrder() throws {
        let m = try MagnitudePruning.prune([target([0.5, -0.5, 0.5, 1])], criterion: .amount(0.5), scope: .layer)[0]
        XCTAssertEqual(m, [0, 0, 1, 1])
        let g = try MagnitudePruning.prune([target([1, 2], name: "a"), target([1, 3], name: "b")], criterion: .amount(0.25), scope: .global)
        XCTAssertEqual(g, [[0, 1], [1, 1]])  // the tie at |w| = 1 goes to the earlier layer
    }

    func testGlobalVersusPerLayer() throws {
        let small = try target([0.1, -0.4, 0.3, 0.2], name: "small"), big = try target([4, 1, -3, 2], name: "big")
        let perLayer = try MagnitudePruning.prune([small, big], criterion: .amount(0.5), scope: .layer)
        XCTAssertEqual(perLayer, [[0, 1, 1, 0], [1, 0, 1, 0]])
        let global = try MagnitudePruning.prune([small, big], criterion: .amount(0.5), scope: .global)
        XCTAssertEqual(global, [[0, 0, 0, 0], [1, 1, 1, 1]])
        // q × std: per layer each layer keeps its large weights; globally the pooled std removes all of `small`.
        let q = try MagnitudePruning.prune([small, big], criterion: .stdMultiple(1), scope: .global)
        XCTAssertEqual(q, [[0, 0, 0, 0], [1, 0, 1, 1]])
    }

    func testStdThresholdUsesKeptWeightsOnly() throws {
        // [1, -1, 3, -3]: mean 0, population std √5 ≈ 2.236; q = 0.5 → threshold 1.118 prunes ±1.
        let m1 = try MagnitudePruning.prune([target([1, -1, 3, -3])], criterion: .stdMultiple(0.5), scope: .layer)[0]
        XCTAssertEqual(m1, [0, 0, 1, 1])
        // Survivors ±3 have std 3: q = 1 prunes nothing (strictly below), q = 1.01 prunes both.
        XCTAssertEqual(try MagnitudePruning.prune([target([1, -1, 3, -3], mask: m1)], criterion: .stdMultiple(1), scope: .layer)[0], m1)
        XCTAssertEqual(try MagnitudePruning.prune([target([1, -1, 3, -3], mask: m1)], criterion: .stdMultiple(1.01), scope: .layer)[0], [0, 0, 0, 0])
    }

    func testStructuredPrunesWholeRowsByL2Norm() throws {
        let w = try target([3, 4, 1, 0, 0, 2], rows: 3)  // row norms 5, 1, 2
        XCTAssertEqual(MagnitudePruning.rowNorms(w), [5, 1, 2])
        XCTAssertEqual(try MagnitudePruning.prune([w], criterion: .amount(0.34), scope: .layer, granularity: .units)[0], [1, 1, 0, 0, 1, 1])
        XCTAssertEqual(try MagnitudePruning.prune([w], criterion: .amount(0.5), scope: .layer, granularity: .units)[0], [1, 1, 0, 0, 0, 0])
        XCTAssertThrowsError(try MagnitudePruning.prune([w], criterion: .amount(0.5), scope: .global, granularity: .units)) { e in
            XCTAssertTrue("\(e)".contains("scope"), "\(e)")
        }
    }

    func testStructuredInputsPrunesWholeColumnsByL2Norm() throws {
        let w = try target([3, 4, 1, 0, 0, 2], rows: 3)  // [[3, 4], [1, 0], [0, 2]]: column norms √10, √20
        XCTAssertEqual(MagnitudePruning.columnNorms(w)[0], 10.0.squareRoot(), accuracy: 1e-12)
        XCTAssertEqual(MagnitudePruning.columnNorms(w)[1], 20.0.squareRoot(), accuracy: 1e-12)
        XCTAssertEqual(try MagnitudePruning.prune([w], criterion: .amount(0.5), scope: .layer, granularity: .inputs)[0], [0, 1, 0, 1, 0, 1])
        // Already-pruned weights do not count: with row 0 masked the column norms are 1 and 2.
        let m = try target([3, 4, 1, 0, 0, 2], rows: 3, mask: [0, 0, 1, 1, 1, 1])
        XCTAssertEqual(MagnitudePruning.columnNorms(m), [1, 2])
        XCTAssertEqual(try MagnitudePruning.prune([m], criterion: .amount(0.5), scope: .layer, granularity: .inputs)[0], [0, 0, 0, 1, 0, 1])
        // q × std over the remaining columns' norms: norms 1 and 2 have std 0.5, so q = 3 prunes the column below 1.5.
        XCTAssertEqual(try MagnitudePruning.prune([m], criterion: .stdMultiple(3), scope: .layer, granularity: .inputs)[0], [0, 0, 0, 1, 0, 1])
        XCTAssertThrowsError(try MagnitudePruning.prune([w], criterion: .amount(0.5), scope: .global, granularity: .inputs)) { e in
            XCTAssertTrue("\(e)".contains("scope"), "\(e)")
        }
    }

    func testBadArgumentsNameTheField() {
        XCTAssertThrowsError(try MagnitudePruning.prune([target([1, 2])], criterion: .amount(1.5), scope: .layer)) { e in
            XCTAssertEqual(e as? GlassboxError, .invalidArgument(name: "amount", expected: "a fraction in [0, 1] of the remaining weights", found: "1.5"))
        }
        XCTAssertThrowsError(try MagnitudePruning.prune([target([1, 2])], criterion: .stdMultiple(-1), scope: .layer)) { e in
            XCTAssertTrue("\(e)".hasPrefix("q: expected"), "\(e)")
        }
        XCTAssertThrowsError(try PruningTarget(name: "0.weight", values: [1, 2, 3], rows: 2)) { e in
            XCTAssertTrue("\(e)".contains("0.weight"), "\(e)")
        }
    }

    /// Masked weights stay exactly zero through 100 optimiser steps with momentum and with Adam.
    func testPrunedWeightsStayZeroThroughOptimisers() throws {
        for opt in [OptimizerConfig.sgd(lr: 0.1, momentum: 0.9, weightDecay: 1e-3), .adam(lr: 0.01, weightDecay: 1e-3)] {
            let model = try Sequential(spec: try ModelSpec.parse("mlp 16-12-8-3 relu"), seed: 1)
            let targets = try PruningMeasure.targets(model)
            let current = try targets.map { try PruningTarget(name: $0.name, values: $0.parameter.value.scalars, rows: $0.rows) }
            let masks = try MagnitudePruning.prune(current, criterion: .amount(0.6), scope: .global)
            for (t, m) in zip(targets, masks) { t.parameter.setMask(Tensor(shape: t.parameter.value.shape, scalars: m)) }
            let optimizer = opt.make(for: model.namedParameters.map(\.parameter))
            var g = SeededGenerator(seed: 9)
            for _ in 0..<100 {
                let x = Tensor(shape: [8, 16], scalars: (0..<128).map { _ in g.normal() })
                let labels = (0..<8).map { _ in Int32(g.int(below: 3)) }
                let logits = model.forward(x, training: true)
                var grad = Tensor(zeros: [8, 3])
                let loss = logits.withUnsafeBufferPointer { l in
                    labels.withUnsafeBufferPointer { y in
                        grad.withUnsafeMutableBufferPointer { Ops.softmaxCrossEntropy(logits: l.baseAddress!, labels: y.baseAddress!, n: 8, k: 3, grad: $0.baseAddress!) }
                    }
                }
                XCTAssertTrue(loss.isFinite)
                model.backward(grad)
                optimizer.step()
            }
            for (t, m) in zip(targets, masks) {
                let v = t.parameter.value.scalars
                var moved = 0
                for i in v.indices {
                    if m[i] == 0 { XCTAssertEqual(v[i].bitPattern & 0x7FFF_FFFF, 0, "\(t.name)[\(i)] revived with \(opt)") }
                    else if v[i] != current.first { $0.name == t.name }!.values[i] { moved += 1 }
                }
                XCTAssertGreaterThan(moved, 0, "kept weights of \(t.name) should train")
                XCTAssertEqual(t.parameter.keptCount, m.filter { $0 != 0 }.count)
            }
        }
    }

    /// Retraining through the Trainer (sharded) keeps masks, and a saved pruned model loads pruned.
    func testPrunerRoundsAndCheckpointKeepMasks() throws {
        var g = SeededGenerator(seed: 5)
        // Two linearly separable classes of 4×4 images.
        let n = 200
        var pixels: [Float] = [], labels: [Int32] = []
        for i in 0..<n {
            let c = Int32(i % 2)
            for p in 0..<16 { pixels.append(g.uniform() * 0.5 + (c == 1 && p < 8 ? 0.5 : 0)) }
            labels.append(c)
        }
        let data = Dataset(name: "toy", images: Tensor(shape: [n, 1, 4, 4], scalars: pixels), labels: labels, classNames: ["a", "b"])
        let model = try Sequential(spec: try ModelSpec.parse("mlp 16-10-2 relu"), seed: 2)
        try Trainer(model: model, config: TrainConfig(epochs: 3, batchSize: 20, optimizer: .sgd(lr: 0.1), seed: 0)).fit(train: data)
        let config = MagnitudePruningConfig(criterion: .amount(0.5), scope: .layer, rounds: 2,
                                            retrain: RetrainConfig(epochs: 2, batchSize: 20, optimizer: .sgd(lr: 0.05, momentum: 0.9)))
        let result = try Pruner.magnitude(model, train: data, test: data, config: config)
        XCTAssertEqual(result.rounds.count, 3)
        // Layer 0: 160 → 80 → 40 kept; layer 2: 20 → 10 → 5 kept.
        XCTAssertEqual(result.rounds.map { $0.layers.map(\.kept) }, [[160, 20], [80, 10], [40, 5]])
        XCTAssertEqual(result.after.totalWeights, 180)
        XCTAssertEqual(result.after.compression, 4, accuracy: 1e-12)
        XCTAssertEqual(result.after.retraining.count, 2)
        XCTAssertEqual(result.unitPrunedFractions.count, 10)
        XCTAssertEqual(result.unitPrunedFractions.reduce(0, +) / 10, 0.75, accuracy: 1e-12)
        for t in try PruningMeasure.targets(model) {
            let m = t.parameter.mask!.scalars, v = t.parameter.value.scalars
            for i in v.indices where m[i] == 0 { XCTAssertEqual(v[i], 0) }
        }
        let json = try JSONEncoder().encode(result)
        XCTAssertEqual(try JSONDecoder().decode(PruningResult.self, from: json), result)

        let path = NSTemporaryDirectory() + "glassbox-pruned-\(getpid()).safetensors"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Checkpoint.save(model, to: path)
        let loaded = try Checkpoint.load(path).model
        XCTAssertEqual(PruningMeasure.sparsity(loaded), PruningMeasure.sparsity(model))
        XCTAssertEqual(loaded.predict(data.images), model.predict(data.images))
    }

    func testInputSurvivalAndRowFractions() throws {
        let p = Parameter(name: "weight", value: Tensor(repeating: 1, shape: [2, 3]))
        p.setMask(Tensor(shape: [2, 3], scalars: [1, 0, 0, 1, 1, 0]))
        XCTAssertEqual(PruningMeasure.inputSurvival(p), [1, 0.5, 0])
        XCTAssertEqual(PruningMeasure.rowPrunedFractions(p), [2.0 / 3, 1.0 / 3])
        let split = UnitSplit(prunedFractions: [0.95, 0.91, 0.9, 0.5, 0.39, 0])
        XCTAssertEqual([split.above90, split.between, split.below40], [2, 2, 2])
    }
}
