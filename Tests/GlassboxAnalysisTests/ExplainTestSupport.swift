import Foundation
import XCTest
import GlassboxCore
import GlassboxData
import GlassboxNN
@testable import GlassboxAnalysis

/// A probe set of random rectangles: `concepts` concepts, each present in an image with probability `p` as one
/// axis-aligned rectangle of side 5…13 at a random place, plus the left half of every image ("left-half").
func rectangleProbes(images n: Int = 200, side: Int = 28, concepts k: Int = 10, p: Float = 0.35, seed: UInt64 = 1) throws -> ProbeSet {
    var g = SeededGenerator(seed: seed)
    let L = MaskLayout(images: n, height: side, width: side)
    var masks = (0..<k).map { _ in L.emptyMask() }
    for s in 0..<n {
        for c in 0..<k where g.uniform() < p {
            let h = 5 + g.int(below: 9), w = 5 + g.int(below: 9)
            let y0 = g.int(below: side - h + 1), x0 = g.int(below: side - w + 1)
            for y in y0..<(y0 + h) { for x in x0..<(x0 + w) { masks[c][L.bit(image: s, pixel: y * side + x)] = true } }
        }
    }
    var left = L.emptyMask()
    for s in 0..<n { for y in 0..<side { for x in 0..<(side / 2) { left[L.bit(image: s, pixel: y * side + x)] = true } } }
    var concepts = masks.enumerated().map { Concept(name: "r\($0.offset)", category: .shape, mask: $0.element) }
    concepts.append(Concept(name: "left-half", category: .position, mask: left))
    var img = [Float](repeating: 0, count: n * side * side)
    for (k, c) in concepts.enumerated() { for bit in c.mask.setIndices { img[(bit / (L.wordsPerImage * 64)) * side * side + bit % (L.wordsPerImage * 64)] += Float(k + 1) / 100 } }
    return try ProbeSet(name: "rectangles", images: Tensor(shape: [n, 1, side, side], scalars: img.map { min(1, $0) }), concepts: concepts)
}

/// A mask as booleans over the real pixels only (image after image), for brute-force checks.
func realPixels(_ m: BitMask, _ L: MaskLayout) -> [Bool] {
    (0..<L.images).flatMap { s in (0..<L.pixelsPerImage).map { m[L.bit(image: s, pixel: $0)] } }
}

/// Activations `[N, 1, H, W]` that are 1 on `mask` and 0 elsewhere (a unit planted at image resolution).
func plantedActivations(_ mask: BitMask, _ L: MaskLayout) throws -> UnitActivations {
    let v = realPixels(mask, L).map { Float($0 ? 1 : 0) }
    return try UnitActivations(values: Tensor(shape: [L.images, 1, L.height, L.width], scalars: v))
}

/// A quantile that puts the threshold between the 0s and 1s of a planted unit covering `pixels` of `total`.
func plantedQuantile(_ pixels: Int, _ total: Int) -> Double { min(0.9, Double(pixels) / Double(total) + 0.0005) }

/// Brute-force IoU of boolean masks.
func bruteIoU(_ a: [Bool], _ b: [Bool]) -> Double {
    var i = 0, u = 0
    for k in a.indices { if a[k] && b[k] { i += 1 }; if a[k] || b[k] { u += 1 } }
    return u == 0 ? 0 : Double(i) / Double(u)
}

/// Evaluates a formula directly on boolean masks.
func bruteFormula(_ f: Formula, _ concepts: [[Bool]]) -> [Bool] {
    switch f {
    case .concept(let i): return concepts[i]
    case .not(let a): return bruteFormula(a, concepts).map { !$0 }
    case .and(let a, let b): return zip(bruteFormula(a, concepts), bruteFormula(b, concepts)).map { $0 && $1 }
    case .or(let a, let b): return zip(bruteFormula(a, concepts), bruteFormula(b, concepts)).map { $0 || $1 }
    }
}

/// The MNIST test set from `../shared/datasets/mnist`, else from the registry's folders (`datasets/mnist`,
/// `$GLASSBOX_DATA/mnist`, …); skips the test when neither has it.
func mnistOrSkip() throws -> Dataset {
    if FileManager.default.fileExists(atPath: analysisMNIST) { return try DatasetRegistry.load(name: "mnist", split: .test, directory: analysisMNIST) }
    do { return try DatasetRegistry.load(name: "mnist", split: .test) } catch GlassboxError.missingFile {
        throw XCTSkip("MNIST not found at \(analysisMNIST) nor in the data set folders")
    }
}
