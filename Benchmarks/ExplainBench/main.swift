import Foundation
import GlassboxCore
import GlassboxData
import GlassboxNN
import GlassboxAnalysis

// Explanation benchmark and study (release build).
//
//   ExplainBench speed [--images 10000] [--layer 2] [--units 16] [--no-exhaustive]
//     A 16-unit convolution layer (the tour CNN's first block, trained one epoch on MNIST when it is found, else at
//     random initialisation) over synthetic 28×28 probes with ≥ 100 concepts: probe generation, dissection,
//     compositional explanations (CoEx) and clustered explanations (5 ranges, beam 5, length 3) — times, IoU
//     evaluations per second, share of candidates the bound skips.
//   ExplainBench study [--epochs 2] [--probes 2000]
//     The tour CNN (both conv layers) and an MLP 784-100-50-10 trained on 8000 MNIST digits, explained with concepts
//     computed from 2000 held-out digits: detectors against the nulls, the beam's gap at length 2, IoU by range.
//
// MNIST: ../shared/datasets/mnist, or the data set folders ($GLASSBOX_DATA/mnist, …).
let args = CommandLine.arguments
func value(_ flag: String) -> String? { args.firstIndex(of: flag).flatMap { $0 + 1 < args.count ? args[$0 + 1] : nil } }
let mode = args.count > 1 && !args[1].hasPrefix("--") ? args[1] : "speed"
ProgressBar.quiet = true

func timed<T>(_ label: String, _ body: () throws -> T) rethrows -> (T, Double) {
    let t0 = Date()
    let r = try body()
    let s = Date().timeIntervalSince(t0)
    print(String(format: "  %-44@ %8.2f s", label as NSString, s))
    return (r, s)
}

func cpuSeconds() -> Double {
    var u = rusage()
    getrusage(RUSAGE_SELF.rawValue, &u)
    return Double(u.ru_utime.tv_sec) + Double(u.ru_utime.tv_usec) / 1e6 + Double(u.ru_stime.tv_sec) + Double(u.ru_stime.tv_usec) / 1e6
}

func loadMNIST() -> Dataset? {
    let shared = ((FileManager.default.currentDirectoryPath as NSString).deletingLastPathComponent as NSString).appendingPathComponent("shared/datasets/mnist")
    if let d = try? DatasetRegistry.load(name: "mnist", split: .test, directory: shared) { return d }
    return try? DatasetRegistry.load(name: "mnist", split: .test)
}

let tourSpec = "input 1x28x28; conv 16 k5 p2; relu; maxpool 2; conv 32 k5 p2; relu; maxpool 2; flatten; linear 10"

func trained(_ spec: String, on data: Dataset?, epochs: Int, seed: UInt64 = 0) throws -> Sequential {
    let model = try Sequential(spec: ModelSpec.parse(spec), seed: seed)
    guard let data, epochs > 0 else { return model }
    try Trainer(model: model, config: TrainConfig(epochs: epochs, batchSize: 50, optimizer: .sgd(lr: 0.05, momentum: 0.9), seed: seed,
                                                  evaluateEachEpoch: false)).fit(train: data)
    return model
}

func f(_ x: Double, _ d: Int = 3) -> String { String(format: "%.\(d)f", x) }

// MARK: - speed

func speed() throws {
    let n = Int(value("--images") ?? "") ?? 10_000
    let layerName = value("--layer") ?? "2"
    let unitCount = Int(value("--units") ?? "") ?? 16
    let exhaustive = !args.contains("--no-exhaustive")
    print("ExplainBench speed: \(n) synthetic 28×28 probe images, layer \(layerName), threads \(Parallel.threads), \(BLAS.configuration)")
    let cpu0 = cpuSeconds()
    let (probes, _) = try timed("synthetic probes (drawn + computed)") { try ProbeSets.synthetic(SyntheticProbeConfig(count: n, seed: 1)) }
    print("    \(probes.concepts.count) concepts: " + probes.categoryCounts.map { "\($0.0.rawValue) \($0.1)" }.joined(separator: ", "))
    let (index, _) = try timed("concept index (counts, boxes)") { try ConceptIndex(probes) }
    _ = timed("pairwise intersections |A ∩ B|") { index.preparePairs() }
    let mnist = loadMNIST()
    let (model, _) = try timed(mnist == nil ? "model (random init: MNIST not found)" : "model (tour CNN, 1 epoch on 8000 MNIST digits)") {
        try trained(tourSpec, on: mnist?.subset(Array(0..<8000)), epochs: 1)
    }
    let li = try ExplainLayers.resolve(model, layerName)
    let (acts, _) = try timed("activations of layer \(li) (\(model.layers[li].kind))") { try ExplainLayers.activations(model, images: probes.images, layer: li) }
    print("    activations \(acts.values.shape)")
    let units = Array(0..<min(unitCount, acts.units))
    let (d, dt) = try timed("dissection (\(units.count) units, 1 shuffle draw)") {
        try Dissection.run(acts, index: index, config: DissectionConfig(units: units))
    }
    print("    detectors \(d.detectors), beating the shuffled null \(d.detectorsBeatingShuffle); dissection target < 30 s: \(dt < 30 ? "met" : "MISSED")")

    var coex = ExplanationConfig.coex(search: SearchConfig(exhaustiveLength2: exhaustive))
    coex.units = units
    coex.examples = 5
    let (c, ct) = try timed("CoEx (beam 5, length 3)") { try CompositionalExplanations.run(acts, index: index, config: coex) }
    print("    per unit \(f(ct / Double(units.count), 3)) s; evaluated \(c.search.evaluated) of \(c.search.candidates) candidates; bound skipped \(f(100 * c.search.skipShare, 1)) %")

    var cl = ExplanationConfig(clusters: 5, search: SearchConfig(exhaustiveLength2: exhaustive))
    cl.units = units
    let cpu1 = cpuSeconds()
    let (e, et) = try timed("clustered (5 ranges, beam 5, length 3)") { try CompositionalExplanations.run(acts, index: index, config: cl) }
    let cpuCl = cpuSeconds() - cpu1
    let ranges = e.units.reduce(0) { $0 + $1.ranges.count }
    print("    \(ranges) unit-ranges: \(f(et / Double(max(1, ranges)), 3)) s per unit and range (\(f(cpuCl / Double(max(1, ranges)), 3)) CPU-s); target < 1 s: \(et / Double(max(1, ranges)) < 1 ? "met" : "MISSED")")
    print("    beam: \(e.search.candidates) candidates, \(e.search.evaluated) IoUs computed, \(e.search.skipped) skipped by the bound (\(f(100 * e.search.skipShare, 1)) %: global \(e.search.skippedGlobal), per image \(e.search.skippedPerImage))")
    print("    IoU evaluations per second (beam, wall clock incl. masks): \(f(Double(e.search.evaluated) / et, 0))")
    if let x = e.exhaustiveSearch {
        print("    exhaustive length 2: \(x.candidates) candidates, \(x.evaluated) evaluated (\(f(100 * Double(x.evaluated) / Double(max(1, x.candidates)), 2)) %)")
    }
    if let g = e.gap { print("    beam suboptimal at length 2 in \(g.suboptimal) of \(g.compared) unit-ranges (mean gap \(f(g.meanGap, 4)), max \(f(g.maxGap, 4)))") }
    // Without the bound, for the speed-up it brings.
    cl.search.useBound = false
    let cpu2 = cpuSeconds()
    let (u, ut) = try timed("clustered without the bound") { try CompositionalExplanations.run(acts, index: index, config: cl) }
    print("    CPU time with the bound \(f(cpuCl, 2)) s, without \(f(cpuSeconds() - cpu2, 2)) s")
    print("    same formulas as with the bound: \(u.units.map { $0.ranges.map { $0.best?.text ?? "-" } } == e.units.map { $0.ranges.map { $0.best?.text ?? "-" } }); bound speed-up \(f(ut / et, 2))×")
    print("    every candidate's IoU computed: \(u.search.evaluated) in \(f(ut, 2)) s = \(f(Double(u.search.evaluated) / ut, 0)) IoU evaluations per second (wall clock, all work included)")
    print(String(format: "  total CPU time %.1f s", cpuSeconds() - cpu0))
}

// MARK: - study

func layerStudy(_ label: String, model: Sequential, null: Sequential, layer: String, probes: ProbeSet, index: ConceptIndex) throws {
    let li = try ExplainLayers.resolve(model, layer)
    let acts = try ExplainLayers.activations(model, images: probes.images, layer: li)
    let nullActs = try ExplainLayers.activations(null, images: probes.images, layer: li)
    let d = try Dissection.run(acts, index: index, config: DissectionConfig(shuffleDraws: 5), nullActivations: nullActs)
    let dc = try Dissection.run(acts, index: index, config: DissectionConfig(denominator: .perCategory, shuffleDraws: 0))
    print("\n## \(label) — layer \(layer) (index \(li), \(acts.values.shape.dropFirst().map(String.init).joined(separator: "×")))")
    let mean = d.units.reduce(0.0) { $0 + ($1.best?.iou ?? 0) } / Double(d.units.count)
    print("dissection: \(d.detectors)/\(d.units.count) detectors (IoU > 0.04), mean best IoU \(f(mean)); per-category denominator: \(dc.detectors)")
    print("  by category: " + d.detectorsByCategory.map { "\($0.category.rawValue) \($0.count)" }.joined(separator: ", "))
    print("  null, masks shuffled (5 draws): detectors per draw \(d.shuffledDetectors); detectors above every draw \(d.detectorsBeatingShuffle)")
    if let r = d.randomInit {
        print("  null, random init: \(r.detectors) detectors, max best IoU \(f(r.maxBestIoU)); trained detectors above it \(d.detectorsBeatingRandomInit ?? 0)")
    }
    let best = d.units.sorted { ($0.best?.iou ?? 0) > ($1.best?.iou ?? 0) }.prefix(6)
    print("  best units: " + best.map { "u\($0.unit) \($0.best?.name ?? "-") \(f($0.best?.iou ?? 0))" }.joined(separator: "; "))
    let coex = try CompositionalExplanations.run(acts, index: index, config: .coex())
    let meanCoex = coex.units.reduce(0.0) { $0 + ($1.ranges.first?.best?.iou ?? 0) } / Double(coex.units.count)
    print("CoEx (length 3): mean IoU \(f(meanCoex)); gap at length 2: beam suboptimal in \(coex.gap!.suboptimal)/\(coex.gap!.compared) units (mean gap \(f(coex.gap!.meanGap, 4)), max \(f(coex.gap!.maxGap, 4)))")
    for u in coex.units.prefix(4) { print("  u\(u.unit): \(u.ranges.first?.best?.text ?? "-") (\(f(u.ranges.first?.best?.iou ?? 0)))") }
    var cfg = ExplanationConfig(clusters: 5, labelMaskingImages: 50)
    cfg.examples = 0
    let t0 = Date()
    let cl = try CompositionalExplanations.run(model, layer: "\(li)", probes: probes, config: cfg, index: index)
    print("clustered (k = 5, length 3) in \(f(Date().timeIntervalSince(t0), 1)) s; bound skipped \(f(100 * cl.search.skipShare, 1)) %; gap at length 2: \(cl.gap!.suboptimal)/\(cl.gap!.compared) (\(f(100 * cl.gap!.share, 1)) %)")
    print("  range | units | mean IoU | median | unit size | formula size | length | distinct | commonest formula | act.cov | expl.cov | label masking")
    for p in cl.specialisation {
        let rs = cl.units.compactMap { $0.ranges.count > p.range ? $0.ranges[p.range] : nil }
        func avg(_ k: KeyPath<ExplanationMetrics, Double?>) -> String {
            let v = rs.compactMap { $0.metrics?[keyPath: k] }
            return v.isEmpty ? "-" : f(v.reduce(0, +) / Double(v.count), 2)
        }
        print("  \(p.range) | \(p.units) | \(f(p.meanIoU)) | \(f(p.medianIoU)) | \(p.meanUnitSize.map { f($0, 3) } ?? "-") | \(p.meanFormulaSize.map { f($0, 3) } ?? "-") | \(f(p.meanLength, 1)) | \(p.distinctFormulas) | \(p.commonestFormula ?? "-") ×\(p.commonestCount) | \(avg(\.activationCoverage)) | \(avg(\.explanationCoverage)) | \(avg(\.labelMasking))")
    }
}

func study() throws {
    guard let mnist = loadMNIST() else { print("MNIST not found: set GLASSBOX_DATA or put it in ../shared/datasets/mnist"); return }
    let epochs = Int(value("--epochs") ?? "") ?? 2
    let probeCount = Int(value("--probes") ?? "") ?? 2000
    let (train, held) = try mnist.split(trainCount: 8000, testCount: 2000, seed: 0)
    let probesData = held.subset(Array(0..<probeCount))
    print("ExplainBench study: MNIST 8000 train, \(probeCount) held-out probe digits, \(epochs) epochs, threads \(Parallel.threads)")
    let probes = try ProbeSets.fromImages(probesData)
    print("probe concepts (\(probes.concepts.count)): " + probes.categoryCounts.map { "\($0.0.rawValue) \($0.1)" }.joined(separator: ", "))
    let index = try ConceptIndex(probes)
    let cnn = try trained(tourSpec, on: train, epochs: epochs)
    print("CNN test accuracy \(f(Double(try Trainer.evaluate(cnn, on: held).accuracy) * 100, 2)) %")
    let cnnNull = try Sequential(spec: ModelSpec.parse(tourSpec), seed: 99)
    try layerStudy("tour CNN", model: cnn, null: cnnNull, layer: "0.weight", probes: probes, index: index)
    try layerStudy("tour CNN", model: cnn, null: cnnNull, layer: "3.weight", probes: probes, index: index)
    let mlpSpec = "mlp 784-100-50-10"
    let mlp = try trained(mlpSpec, on: train, epochs: epochs)
    print("\nMLP test accuracy \(f(Double(try Trainer.evaluate(mlp, on: held).accuracy) * 100, 2)) %")
    let mlpNull = try Sequential(spec: ModelSpec.parse(mlpSpec), seed: 99)
    try layerStudy("MLP 784-100-50-10", model: mlp, null: mlpNull, layer: "0.weight", probes: probes, index: index)
    try layerStudy("MLP 784-100-50-10", model: mlp, null: mlpNull, layer: "2.weight", probes: probes, index: index)
}

/// Quantiles of the Morpho-MNIST measurements over MNIST, which the default bin edges of thickness and slant
/// (`ImageConceptConfig`) are read from.
func morphometry() throws {
    guard let mnist = loadMNIST() else { print("MNIST not found"); return }
    var thick: [Double] = [], slant: [Double] = []
    for s in 0..<mnist.count {
        let img = Array(mnist.images.scalars[(s * 784)..<((s + 1) * 784)])
        let fg = img.withUnsafeBufferPointer { ImageOps.foreground($0, threshold: nil) }
        let sk = Skeleton.thin(fg, height: 28, width: 28)
        let d = ImageOps.distanceTransform(fg, height: 28, width: 28)
        if let t = Morphometry.thickness(skeleton: sk, distance: d) { thick.append(t) }
        if let a = Morphometry.slantDegrees(foreground: fg, height: 28, width: 28) { slant.append(a) }
    }
    thick.sort(); slant.sort()
    func q(_ v: [Double], _ p: Double) -> String { f(v[min(v.count - 1, Int(p * Double(v.count)))], 2) }
    print("MNIST test set, \(mnist.count) digits")
    print("thickness (px): " + [0.05, 0.25, 1.0 / 3, 0.5, 2.0 / 3, 0.75, 0.95].map { "q\(f($0, 2)) \(q(thick, $0))" }.joined(separator: ", "))
    print("slant (deg):    " + [0.05, 0.25, 1.0 / 3, 0.5, 2.0 / 3, 0.75, 0.95].map { "q\(f($0, 2)) \(q(slant, $0))" }.joined(separator: ", "))
}

do {
    switch mode {
    case "speed": try speed()
    case "study": try study()
    case "morphometry": try morphometry()
    default: print("usage: ExplainBench speed|study [options]")
    }
} catch {
    print("ExplainBench: \(error)")
    exit(1)
}
