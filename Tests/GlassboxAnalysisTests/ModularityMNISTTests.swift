import Foundation
import XCTest
import GlassboxCore
import GlassboxData
import GlassboxNN
@testable import GlassboxAnalysis

let analysisRepoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
let analysisMNIST = ((analysisRepoRoot as NSString).deletingLastPathComponent as NSString).appendingPathComponent("shared/datasets/mnist")

final class ModularityMNISTTests: XCTestCase {
    override func setUp() { ProgressBar.quiet = true }

    /// The reference setup (784→64→64→10, no biases, Adam 1e-3, batch 64, k = 4 on `2.weight`) on MNIST 8000/2000:
    /// the enmeshment loss (λ = 0.7, from scratch, contiguous blocks) lifts C of the middle layer from about its
    /// baseline to ≥ 0.9 at nearly the same test accuracy.
    func testEnmeshmentLossMakesMiddleLayerClusterable() throws {
        let (train, test) = try DatasetRegistry.load(name: "mnist", split: .test, directory: analysisMNIST)
            .split(trainCount: 8000, testCount: 2000, seed: 0)
        let spec = try ModelSpec.parse("mlp 784-64-64-10 nobias")
        let epochs = 6
        let config = TrainConfig(epochs: epochs, batchSize: 64, optimizer: .adam(lr: 1e-3), seed: 0, evaluateEachEpoch: false)

        let baseline = try Sequential(spec: spec, seed: 0)
        try Trainer(model: baseline, config: config).fit(train: train)
        let baseEval = try Trainer.evaluate(baseline, on: test)
        let baseRep = try Clusterability.assess(weight: ModelAccess.linear(baseline, "2.weight").weight.value, k: 4, seed: 0, nullDraws: 0)

        let modular = try Sequential(spec: spec, seed: 0)
        let result = try ModularTraining.train(modular, config: ModularTrainingConfig(train: config, lambda: 0.7, k: 4,
                                                                                       layers: ["2.weight"], mode: .fromScratch), train: train)
        let modEval = try Trainer.evaluate(modular, on: test)
        let blocks = result.clusters["2.weight"]!
        let cMod = try Clusterability.value(ModelAccess.linear(modular, "2.weight").weight.value, blocks)
        let cBaseBlocks = try Clusterability.value(ModelAccess.linear(baseline, "2.weight").weight.value, blocks)
        let perEpoch = result.clusterabilityPerEpoch["2.weight"]!
        print(String(format: "MNIST 8000/2000, %d epochs: baseline acc %.2f %%, C(contiguous) %.3f, C(BSGC) %.3f (baseline %.3f); "
                     + "modular acc %.2f %%, C %.3f; C per epoch %@", epochs, baseEval.accuracy * 100, cBaseBlocks,
                     baseRep.clusterability, baseRep.baseline, modEval.accuracy * 100, cMod,
                     perEpoch.map { String(format: "%.3f", $0) }.joined(separator: " ")))
        XCTAssertEqual(perEpoch.count, epochs + 1)
        XCTAssertEqual(perEpoch[0], 0.25, accuracy: 0.03, "C at initialisation ≈ 1/k")
        XCTAssertEqual(cBaseBlocks, 0.25, accuracy: 0.03)
        XCTAssertLessThan(baseRep.clusterability, 0.5)
        XCTAssertGreaterThanOrEqual(cMod, 0.9)
        XCTAssertEqual(perEpoch.last!, cMod)
        XCTAssertGreaterThan(baseEval.accuracy, 0.9)
        XCTAssertLessThanOrEqual(abs(modEval.accuracy - baseEval.accuracy), 0.015)

        // Fine-tune mode: pretrain, BSGC, then the loss on the found clusters.
        let ft = try Sequential(spec: spec, seed: 0)
        var ftConfig = config; ftConfig.epochs = 4
        let ftr = try ModularTraining.train(ft, config: ModularTrainingConfig(train: ftConfig, lambda: 0.7, k: 4, layers: ["2.weight"],
                                                                           mode: .fineTune(pretrainEpochs: 2)), train: train)
        let ftC = ftr.clusterabilityPerEpoch["2.weight"]!
        print("fine-tune C per epoch", ftC)
        XCTAssertEqual(ftC.count, 3)
        XCTAssertGreaterThan(ftC.last!, ftC.first!)
        XCTAssertEqual(ftr.history.epochs.map(\.epoch), [1, 2, 3, 4])
    }
}
