import Foundation
import XCTest
import GlassboxCore
import GlassboxData
import GlassboxNN
@testable import GlassboxAnalysis

/// Adjusted Rand index of two labelings (labels < 0 are their own group).
func adjustedRand(_ a: [Int], _ b: [Int]) -> Double {
    precondition(a.count == b.count)
    var table: [[Int]: Int] = [:], ra: [Int: Int] = [:], rb: [Int: Int] = [:]
    for (x, y) in zip(a, b) { table[[x, y], default: 0] += 1; ra[x, default: 0] += 1; rb[y, default: 0] += 1 }
    func c2(_ n: Int) -> Double { Double(n * (n - 1)) / 2 }
    let index = table.values.reduce(0) { $0 + c2($1) }
    let sa = ra.values.reduce(0) { $0 + c2($1) }, sb = rb.values.reduce(0) { $0 + c2($1) }
    let expected = sa * sb / c2(a.count), maxIndex = (sa + sb) / 2
    return maxIndex == expected ? 1 : (index - expected) / (maxIndex - expected)
}

/// A noisy k-block matrix whose rows and columns are randomly permuted; returns W and the true labels.
func plantedBlocks(rows m: Int, columns n: Int, k: Int, noise: Float, signed: Bool, seed: UInt64) -> (Tensor, [Int], [Int]) {
    var g = SeededGenerator(seed: seed)
    let rowPerm = g.permutation(m), colPerm = g.permutation(n)
    let rl = (0..<m).map { rowPerm[$0] % k }, cl = (0..<n).map { colPerm[$0] % k }
    var w = [Float](repeating: 0, count: m * n)
    for i in 0..<m { for j in 0..<n {
        var v = (rl[i] == cl[j] ? 1 : 0) + noise * abs(g.normal())
        if signed && g.uniform() < 0.5 { v = -v }
        w[i * n + j] = v
    } }
    return (Tensor(shape: [m, n], scalars: w), rl, cl)
}

final class ModularityTests: XCTestCase {
    override func setUp() { ProgressBar.quiet = true }

    func testPlantedCoClustersAreRecoveredExactly() throws {
        for k in 2...6 {
            let (w, rl, cl) = plantedBlocks(rows: 60, columns: 48, k: k, noise: 0.1, signed: false, seed: UInt64(k))
            let cc = try BSGC.coCluster(weight: w, k: k, seed: 0)
            // Rows and columns come from one clustering: the joint labeling must match too.
            XCTAssertEqual(adjustedRand(cc.rowLabels + cc.columnLabels, rl + cl), 1, accuracy: 1e-12, "k = \(k)")
            XCTAssertEqual(cc.singularValues.count, 1 + BSGC.vectorCount(k: k))
        }
        XCTAssertEqual([2, 3, 4, 5, 8, 9].map(BSGC.vectorCount), [1, 2, 2, 3, 3, 4])
    }

    func testTrapAbsoluteValueNotShift() throws {
        // Signed blocks: |W| has the structure, the sklearn-style shift W − min(W) destroys it.
        let (w, rl, cl) = plantedBlocks(rows: 60, columns: 48, k: 3, noise: 0.1, signed: true, seed: 11)
        let good = try BSGC.coCluster(weight: w, k: 3, seed: 0)
        XCTAssertEqual(adjustedRand(good.rowLabels + good.columnLabels, rl + cl), 1, accuracy: 1e-12)
        let mn = w.scalars.min()!
        let shifted = try BSGC.coCluster(affinity: Tensor(shape: w.shape, scalars: w.scalars.map { $0 - mn }), k: 3, seed: 0)
        XCTAssertLessThan(adjustedRand(shifted.rowLabels + shifted.columnLabels, rl + cl), 0.5)
        // A signed matrix passed as an affinity is refused with a clear error.
        XCTAssertThrowsError(try BSGC.coCluster(affinity: w, k: 3, seed: 0)) { e in
            XCTAssertTrue("\(e)".contains("pass |W|"), "\(e)")
        }
    }

    func testTrapSingularValuesDescendingAndTrivialDropped() throws {
        // A permuted diagonal: singular values 3, 2, 1 whatever their positions.
        let a: [Float] = [0, 1, 0, 0,
                          3, 0, 0, 0,
                          0, 0, 0, 2]
        let (u, s, v) = try LinearAlgebra.svd(a, m: 3, n: 4)
        XCTAssertEqual(s, [3, 2, 1])
        for i in 0..<3 { for j in 0..<4 {
            var r: Float = 0
            for t in 0..<3 { r += u[i * 3 + t] * s[t] * v[j * 3 + t] }
            XCTAssertEqual(r, a[i * 4 + j], accuracy: 1e-5)
        } }
        // The normalised affinity's leading singular value is the trivial 1, and the kept ones follow in order.
        let (w, _, _) = plantedBlocks(rows: 40, columns: 30, k: 4, noise: 0.2, signed: false, seed: 3)
        let cc = try BSGC.coCluster(weight: w, k: 4, seed: 0)
        XCTAssertEqual(cc.singularValues[0], 1, accuracy: 1e-4)
        XCTAssertEqual(cc.singularValues, cc.singularValues.sorted(by: >))
    }

    func testDeadUnitsAreReportedAndLeftOut() throws {
        var (w, rl, cl) = plantedBlocks(rows: 30, columns: 24, k: 3, noise: 0.1, signed: false, seed: 5)
        w.withUnsafeMutableBufferPointer { p in
            for j in 0..<24 { p[4 * 24 + j] = 0 }
            for i in 0..<30 { p[i * 24 + 7] = 0 }
        }
        let cc = try BSGC.coCluster(weight: w, k: 3, seed: 1)
        XCTAssertEqual(cc.deadRows, [4]); XCTAssertEqual(cc.deadColumns, [7])
        XCTAssertEqual(cc.rowLabels[4], -1); XCTAssertEqual(cc.columnLabels[7], -1)
        var r = rl, c = cl, fr = cc.rowLabels, fc = cc.columnLabels
        r.remove(at: 4); c.remove(at: 7); fr.remove(at: 4); fc.remove(at: 7)
        XCTAssertEqual(adjustedRand(fr + fc, r + c), 1, accuracy: 1e-12)
    }

    func testSameSeedSameClusters() throws {
        var g = SeededGenerator(seed: 9)
        let w = Tensor.normal([64, 64], using: &g)
        XCTAssertEqual(try BSGC.coCluster(weight: w, k: 4, seed: 2), try BSGC.coCluster(weight: w, k: 4, seed: 2))
    }

    func testClusterabilityOfIIDMatrixIsAboutOneOverK() throws {
        var g = SeededGenerator(seed: 1)
        for k in [2, 4, 8] {
            let w = Tensor.normal([256, 256], using: &g)
            let blocks = try CoClustering.contiguous(rows: 256, columns: 256, k: k)
            XCTAssertEqual(Clusterability.baseline(blocks), 1 / Float(k))
            XCTAssertEqual(try Clusterability.value(w, blocks), 1 / Float(k), accuracy: 0.02, "k = \(k)")
        }
        // BSGC's own clusters on an i.i.d. matrix: somewhat above their baseline (they are chosen to fit the noise),
        // which is why C is judged against the shuffle null, where it is not significant.
        let w = Tensor.normal([64, 64], using: &g)
        let rep = try Clusterability.assess(weight: w, k: 4, seed: 0, nullDraws: 20)
        XCTAssertGreaterThan(rep.clusterability, rep.baseline)
        XCTAssertLessThan(rep.clusterability, rep.baseline + 0.15)
        XCTAssertGreaterThan(rep.pValue!, 0.05)
        XCTAssertEqual(rep.nullValues.count, 20)
    }

    func testClusterabilityOfBlockDiagonalIsOne() throws {
        let (w, rl, cl) = plantedBlocks(rows: 64, columns: 64, k: 4, noise: 0, signed: true, seed: 4)
        XCTAssertEqual(try Clusterability.value(w, CoClustering(k: 4, rowLabels: rl, columnLabels: cl)), 1)
        let rep = try Clusterability.assess(weight: w, k: 4, seed: 0, nullDraws: 10)
        XCTAssertEqual(rep.clusterability, 1)
        XCTAssertEqual(rep.pValue!, 1 / 11, accuracy: 1e-6, "no shuffle reaches C = 1")
        XCTAssertEqual(rep.baseline, 0.25, accuracy: 1e-6)
    }

    func testContiguousBlocksLeaveRemainderUnassigned() throws {
        let b = try CoClustering.contiguous(rows: 10, columns: 7, k: 3)
        XCTAssertEqual(b.rowLabels, [0, 0, 0, 1, 1, 1, 2, 2, 2, -1])
        XCTAssertEqual(b.columnLabels, [0, 0, 1, 1, 2, 2, -1])
        XCTAssertEqual(Clusterability.baseline(b), Float(3 * 3 * 2) / 70)
        XCTAssertThrowsError(try CoClustering.contiguous(rows: 3, columns: 7, k: 4))
        XCTAssertThrowsError(try Clusterability.value(Tensor(zeros: [9, 7]), b)) { e in
            XCTAssertTrue("\(e)".contains("expected shape [10, 7]"), "\(e)")
        }
    }

    func testEnmeshmentGradientMatchesFiniteDifferences() throws {
        var g = SeededGenerator(seed: 3)
        let w = Tensor.normal([7, 6], using: &g)
        let cl = CoClustering(k: 3, rowLabels: [0, 1, 2, 0, 1, -1, 2], columnLabels: [2, 2, 1, 0, 0, 1])
        func enmeshment(_ x: [Double]) -> Double {
            var inside = 0.0, total = 0.0
            for i in 0..<7 { for j in 0..<6 {
                let s = x[i * 6 + j] * x[i * 6 + j]; total += s
                if cl.rowLabels[i] >= 0 && cl.rowLabels[i] == cl.columnLabels[j] { inside += s }
            } }
            return 1 - inside / total
        }
        var grad = Tensor(zeros: [7, 6])
        let c = try EnmeshmentLoss.addGradient(weight: w, clusters: cl, scale: 1, into: &grad)
        let x = w.scalars.map(Double.init)
        XCTAssertEqual(Double(c), 1 - enmeshment(x), accuracy: 1e-6)
        let h = 1e-6
        for q in 0..<x.count {
            var p = x, m = x
            p[q] += h; m[q] -= h
            let fd = (enmeshment(p) - enmeshment(m)) / (2 * h)
            XCTAssertEqual(Double(grad.scalars[q]), fd, accuracy: 1e-5 + 1e-3 * abs(fd), "entry \(q)")
        }
        // The loss term scales by λ and adds onto an existing gradient.
        var g2 = Tensor(repeating: 1, shape: [7, 6])
        try EnmeshmentLoss.addGradient(weight: w, clusters: cl, scale: 0.7, into: &g2)
        for q in 0..<x.count { XCTAssertEqual(g2.scalars[q], 1 + 0.7 * grad.scalars[q], accuracy: 1e-6) }
    }

    func smallData(features: Int, classes: Int, count: Int, seed: UInt64) -> (Tensor, [Int32]) {
        var g = SeededGenerator(seed: seed)
        // Non-negative inputs with exact zeros (like pixels), so the sparse path is exercised.
        let x = Tensor(shape: [count, features], scalars: (0..<(count * features)).map { _ in g.uniform() < 0.4 ? 0 : g.uniform() })
        return (x, (0..<count).map { _ in Int32(g.int(below: classes)) })
    }

    func testIncrementalECSEqualsBruteForce() throws {
        for (spec, seed) in [("mlp 12-7-6-3 nobias", UInt64(1)), ("mlp 30-12-10-4 nobias", 5), ("mlp 10-8-4 tanh", 2), ("mlp 9-6-5-4-3 relu", 3), ("mlp 8-5-3 sigmoid nobias", 4)] {
            let model = try Sequential(spec: ModelSpec.parse(spec), seed: seed)
            let ins = model.spec.input[0], out = try model.spec.shapes().last![0]
            let (x, y) = smallData(features: ins, classes: out, count: 25, seed: seed)
            let fast = try EffectiveCircuitSize.prune(model, images: x, labels: y)
            let slow = try EffectiveCircuitSize.pruneBruteForce(model, images: x, labels: y)
            XCTAssertEqual(fast.masks, slow, spec)
            let zeroed = slow.reduce(0) { $0 + $1.scalars.filter { $0 == 0 }.count }
            XCTAssertGreaterThan(zeroed, 0, "\(spec): the test should zero something")
            XCTAssertLessThan(zeroed, slow.reduce(0) { $0 + $1.count }, spec)
            XCTAssertLessThanOrEqual(fast.prunedLoss, fast.originalLoss)
        }
    }

    func testECSDenominatorAndClassErrors() throws {
        let model = try Sequential(spec: ModelSpec.parse("mlp 784-64-64-10 nobias"), seed: 0)
        XCTAssertEqual(try EffectiveCircuitSize.net(model).total, 54_912)
        let (x, y) = smallData(features: 784, classes: 10, count: 40, seed: 1)
        let data = Dataset(name: "toy", images: x.reshaped([40, 1, 28, 28]), labels: y, classNames: (0..<10).map(String.init))
        let r = try EffectiveCircuitSize.run(model, test: data, classes: [Int(y[0])])
        XCTAssertEqual(r.totalWeights, 54_912)
        XCTAssertEqual(r.layers, ["4.weight", "2.weight", "0.weight"])
        XCTAssertLessThanOrEqual(r.classes[0].ecs, 1)
        XCTAssertThrowsError(try EffectiveCircuitSize.run(model, test: data, classes: [12])) { e in
            XCTAssertTrue("\(e)".contains("classes"), "\(e)")
        }
    }

    func testAblationOnBlockDiagonalModel() throws {
        // Middle layer block-diagonal: block and unit ablation agree, and the intact model is restored.
        let model = try Sequential(spec: ModelSpec.parse("mlp 6-8-8-3 nobias"), seed: 5)
        let lin = try ModelAccess.linear(model, "2.weight")
        let cl = try CoClustering.contiguous(rows: 8, columns: 8, k: 2)
        var w = lin.weight.value
        w.withUnsafeMutableBufferPointer { p in for i in 0..<8 { for j in 0..<8 where cl.rowLabels[i] != cl.columnLabels[j] { p[i * 8 + j] = 0 } } }
        lin.weight.value = w
        let (x, y) = smallData(features: 6, classes: 3, count: 60, seed: 8)
        let data = Dataset(name: "toy", images: x.reshaped([60, 1, 1, 6]), labels: y, classNames: ["a", "b", "c"])
        let before = try Trainer.evaluate(model, on: data)
        let blockR = try ClusterAblation.run(model, layer: "2.weight", clusters: cl, test: data, mode: .block)
        let unitR = try ClusterAblation.run(model, layer: "2", clusters: cl, test: data, mode: .unit)
        XCTAssertEqual(lin.weight.value, w, "weights restored")
        XCTAssertEqual(blockR.ablatedPerClass, unitR.ablatedPerClass)
        XCTAssertEqual(blockR.perClassAccuracy, before.perClassAccuracy)
        for c in 0..<2 {
            for q in 0..<3 { XCTAssertEqual(blockR.delta[c][q], before.perClassAccuracy[q] - blockR.ablatedPerClass[c][q]) }
            XCTAssertGreaterThanOrEqual(blockR.specialisation[c], 0); XCTAssertLessThanOrEqual(blockR.specialisation[c], 1)
        }
        XCTAssertThrowsError(try ClusterAblation.run(model, layer: "1", clusters: cl, test: data)) { e in
            XCTAssertTrue("\(e)".contains("0.weight, 2.weight, 4.weight"), "\(e)")
        }
    }
}

final class ModularityNCutTests: XCTestCase {
    func testNCutIsZeroOnDisconnectedParts() throws {
        // Three disjoint chains through a 6-6-6 network: the graph has exactly 3 components.
        let model = try Sequential(spec: ModelSpec.parse("mlp 6-6-6 nobias"), seed: 0)
        for lin in model.layers.compactMap({ $0 as? Linear }) {
            var w = Tensor(zeros: [6, 6])
            w.withUnsafeMutableBufferPointer { p in for i in 0..<6 { for j in 0..<6 where i / 2 == j / 2 { p[i * 6 + j] = Float(1 + i + j) / 10 } } }
            lin.weight.value = w
        }
        let r = try NCut.assess(model, k: 3, seed: 0, nullDraws: 5)
        XCTAssertEqual(r.ncut, 0, accuracy: 1e-9)
        XCTAssertEqual(r.nodes, 18)
        XCTAssertEqual(r.nullValues.count, 5)
        XCTAssertEqual(r.pValue!, 1 / 6, accuracy: 1e-12, "no shuffle is below 0")
        // Every part is one cluster: units 0,1 of each layer together, etc.
        for l in 0..<3 { for pair in 0..<3 { XCTAssertEqual(r.labels[l * 6 + 2 * pair], r.labels[l * 6 + 2 * pair + 1]) } }
        // By hand: two nodes joined by weight 1 in a 2-cluster split of a path a–b–c (weights 1, 1): {a,b} | {c}.
        let a: [Double] = [0, 1, 0, 1, 0, 1, 0, 1, 0]
        XCTAssertEqual(NCut.value(adjacency: a, n: 3, labels: [0, 0, 1], k: 2), 1.0 / 3 + 1.0 / 1, accuracy: 1e-12)
    }
}
