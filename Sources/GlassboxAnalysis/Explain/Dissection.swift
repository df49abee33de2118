import Foundation
import GlassboxCore
import GlassboxData
import GlassboxNN

/// Which pixels of a unit's mask count in the IoU denominator.
public enum IoUDenominator: String, Codable, CaseIterable, Sendable {
    /// Every unit pixel of the probe set (compositional explanations, NetDissect-Lite's tally without categories).
    case global
    /// Only unit pixels in images that carry an annotation of the concept's category (the original NetDissect):
    /// IoU = |U ∩ C| / (Σ over annotated images |U_s| + |C| − |U ∩ C|).
    case perCategory = "per-category"
}

/// Settings of network dissection (Bau et al. 2017).
public struct DissectionConfig: Codable, Equatable, Sendable {
    /// Top quantile of each unit's activations that marks it firing (0.005: above the 99.5th percentile).
    public var quantile: Double
    public var upsampler: Upsampler
    /// A unit is a detector of its best concept when that IoU is > this.
    public var detectorThreshold: Double
    public var denominator: IoUDenominator
    /// Shuffled-mask null: how many seeded permutations of which image each concept mask belongs to (0: none).
    public var shuffleDraws: Int
    public var seed: UInt64
    /// Units to dissect (nil: all).
    public var units: [Int]?
    /// Best concepts listed per unit.
    public var topConcepts: Int
    /// Random-initialisation null for the model entry point: the same architecture initialised with this seed
    /// (nil: no such null unless a null model is passed).
    public var randomInitSeed: UInt64?

    public init(quantile: Double = 0.005, upsampler: Upsampler = .bilinear, detectorThreshold: Double = 0.04,
                denominator: IoUDenominator = .global, shuffleDraws: Int = 1, seed: UInt64 = 0, units: [Int]? = nil, topConcepts: Int = 5,
                randomInitSeed: UInt64? = nil) {
        self.quantile = quantile; self.upsampler = upsampler; self.detectorThreshold = detectorThreshold; self.denominator = denominator
        self.shuffleDraws = shuffleDraws; self.seed = seed; self.units = units; self.topConcepts = topConcepts
        self.randomInitSeed = randomInitSeed
    }

    public func validate(unitCount: Int) throws {
        try ExplainValidation.quantile(quantile)
        guard detectorThreshold.isFinite, detectorThreshold >= 0, detectorThreshold < 1 else {
            throw GlassboxError.invalidArgument(name: "detector-threshold", expected: "an IoU in [0, 1)", found: "\(detectorThreshold)")
        }
        guard (0...100).contains(shuffleDraws) else { throw GlassboxError.invalidArgument(name: "shuffle-draws", expected: "0…100", found: "\(shuffleDraws)") }
        guard (1...1000).contains(topConcepts) else { throw GlassboxError.invalidArgument(name: "top-concepts", expected: "1…1000", found: "\(topConcepts)") }
        _ = try ExplainValidation.units(units, count: unitCount)
    }
}

/// A concept with a unit's IoU.
public struct ConceptIoU: Codable, Equatable, Sendable {
    public var concept: Int
    public var name: String
    public var category: ConceptCategory
    public var iou: Double
}

public struct UnitDissection: Codable, Equatable, Sendable {
    public var unit: Int
    /// The top-quantile threshold T (pixels with upsampled activation > T form the unit's mask).
    public var threshold: Double
    public var maskPixels: Int
    public var firingImages: Int
    /// Best concept (highest IoU, ties to the lower index); nil when the mask is empty.
    public var best: ConceptIoU?
    public var top: [ConceptIoU]
    public var isDetector: Bool
    /// Best IoU over concepts with the masks shuffled across images, per draw.
    public var shuffledBestIoU: [Double]
    /// A detector whose IoU is above every shuffled draw's best IoU for this unit.
    public var beatsShuffle: Bool
    /// A detector whose IoU is above the best IoU of every unit of the random-initialisation null (nil without it).
    public var beatsRandomInit: Bool?
}

public struct CategoryCount: Codable, Equatable, Sendable {
    public var category: ConceptCategory
    public var count: Int
}

/// The same numbers for a null model.
public struct DissectionNull: Codable, Equatable, Sendable {
    /// Best IoU of each unit of the null.
    public var bestIoU: [Double]
    public var detectors: Int
    /// The largest of `bestIoU`: trained detectors above it beat the null.
    public var maxBestIoU: Double
}

public struct DissectionResult: Codable, Equatable, Sendable {
    public var config: DissectionConfig
    public var concepts: [String]
    public var categories: [ConceptCategory]
    public var units: [UnitDissection]
    /// IoU of every dissected unit (rows, in `units` order) with every concept (columns).
    public var iou: [[Double]]
    public var detectors: Int
    /// Detectors per category of their best concept (categories with none left out).
    public var detectorsByCategory: [CategoryCount]
    /// Detectors per shuffled draw.
    public var shuffledDetectors: [Int]
    public var detectorsBeatingShuffle: Int
    /// The same architecture at random initialisation (when its activations were given).
    public var randomInit: DissectionNull?
    public var detectorsBeatingRandomInit: Int?
}

/// Network dissection: each unit's mask (activation above its top-quantile threshold) against every concept.
public enum Dissection {
    /// Dissects the units of `activations` (over the probe images, in order) against the concepts of `probes`.
    /// `nullActivations`: the same layer of the same architecture at random initialisation, for the null.
    public static func run(_ activations: UnitActivations, probes: ProbeSet, config: DissectionConfig = DissectionConfig(),
                           nullActivations: UnitActivations? = nil) throws -> DissectionResult {
        try run(activations, index: try ConceptIndex(probes), config: config, nullActivations: nullActivations)
    }

    /// The same with a prepared concept index (reuse it across layers and methods).
    public static func run(_ activations: UnitActivations, index: ConceptIndex, config: DissectionConfig = DissectionConfig(),
                           nullActivations: UnitActivations? = nil) throws -> DissectionResult {
        try config.validate(unitCount: activations.units)
        try ExplainValidation.matches(activations, index.layout)
        if let na = nullActivations {
            try ExplainValidation.matches(na, index.layout)
            guard na.units == activations.units, na.plane == activations.plane else {
                throw GlassboxError.shapeMismatch(what: "null activations", expected: Array(activations.values.shape.dropFirst()),
                                                  found: Array(na.values.shape.dropFirst()))
            }
        }
        let units = try ExplainValidation.units(config.units, count: activations.units)
        let L = index.layout
        let perms: [[Int]] = (0..<config.shuffleDraws).map { d in
            var g = SeededGenerator.derived(seed: config.seed, stream: UInt64(d))
            return g.permutation(L.images)
        }
        var rows = [UnitRow?](repeating: nil, count: units.count)
        var nullBest = [Double](repeating: 0, count: units.count)
        var failure: Error?
        let lock = NSLock()
        rows.withUnsafeMutableBufferPointer { rp in
            nullBest.withUnsafeMutableBufferPointer { np in
                let r = rp.baseAddress!, nb = np.baseAddress!
                Parallel.forChunks(units.count) { _, range in
                    for k in range {
                        do {
                            r[k] = try unitRow(activations, unit: units[k], index: index, config: config, perms: perms)
                            if let na = nullActivations {
                                nb[k] = try unitRow(na, unit: units[k], index: index, config: config, perms: []).best?.iou ?? 0
                            }
                        } catch { lock.lock(); failure = failure ?? error; lock.unlock() }
                    }
                }
            }
        }
        if let failure { throw failure }
        let done = rows.map { $0! }
        var nullSummary: DissectionNull?
        if nullActivations != nil {
            nullSummary = DissectionNull(bestIoU: nullBest, detectors: nullBest.filter { $0 > config.detectorThreshold }.count,
                                         maxBestIoU: nullBest.max() ?? 0)
        }
        var unitResults: [UnitDissection] = []
        for row in done {
            var u = row.result
            if let ns = nullSummary { u.beatsRandomInit = u.isDetector && (u.best?.iou ?? 0) > ns.maxBestIoU }
            unitResults.append(u)
        }
        let detectors = unitResults.filter(\.isDetector)
        let byCat = ConceptCategory.allCases.compactMap { cat -> CategoryCount? in
            let n = detectors.filter { $0.best?.category == cat }.count
            return n == 0 ? nil : CategoryCount(category: cat, count: n)
        }
        let shuffled = (0..<config.shuffleDraws).map { d in unitResults.filter { $0.shuffledBestIoU[d] > config.detectorThreshold }.count }
        return DissectionResult(config: config, concepts: index.names, categories: index.categories, units: unitResults,
                                iou: done.map(\.ious), detectors: detectors.count, detectorsByCategory: byCat, shuffledDetectors: shuffled,
                                detectorsBeatingShuffle: unitResults.filter(\.beatsShuffle).count, randomInit: nullSummary,
                                detectorsBeatingRandomInit: nullSummary.map { _ in unitResults.filter { $0.beatsRandomInit == true }.count })
    }

    /// Model convenience: the layer named `layer` (`ExplainLayers.resolve`) of `model`, and for the null the same layer
    /// of `nullModel`, or else of the same architecture initialised with `config.randomInitSeed`.
    public static func run(_ model: Sequential, layer: String, probes: ProbeSet, config: DissectionConfig = DissectionConfig(),
                           nullModel: Sequential? = nil) throws -> DissectionResult {
        let li = try ExplainLayers.resolve(model, layer)
        let acts = try ExplainLayers.activations(model, images: probes.images, layer: li)
        if let m = nullModel, m.spec != model.spec {
            throw GlassboxError.invalidArgument(name: "null model", expected: "the architecture '\(model.spec)'", found: "'\(m.spec)'")
        }
        let null = try nullModel ?? config.randomInitSeed.map { try Sequential(spec: model.spec, seed: $0) }
        let nullActs = try null.map { try ExplainLayers.activations($0, images: probes.images, layer: li) }
        return try run(acts, probes: probes, config: config, nullActivations: nullActs)
    }

    struct UnitRow {
        var result: UnitDissection
        var ious: [Double]
        var best: ConceptIoU? { result.best }
    }

    /// One unit: threshold, mask, IoU with every concept, shuffled nulls.
    static func unitRow(_ acts: UnitActivations, unit u: Int, index: ConceptIndex, config: DissectionConfig, perms: [[Int]]) throws -> UnitRow {
        let L = index.layout
        let t = UnitMasks.topQuantile(acts.unitValues(u), q: config.quantile)
        let mask = try UnitMasks.masks(acts, unit: u, ranges: [.above(t)], layout: L, upsampler: config.upsampler)[0]
        let um = SampleMask(mask, layout: L)
        let ious = conceptIoUs(um, index: index, denominator: config.denominator)
        let order = (0..<ious.count).sorted { ious[$0] != ious[$1] ? ious[$0] > ious[$1] : $0 < $1 }
        let top = order.prefix(config.topConcepts).map { ConceptIoU(concept: $0, name: index.names[$0], category: index.categories[$0], iou: ious[$0].value) }
        let best = um.count > 0 && !order.isEmpty ? top.first : nil
        var shuffled: [Double] = []
        for p in perms {
            let sm = SampleMask(permuted(mask, p, L), layout: L)
            shuffled.append(conceptIoUs(sm, index: index, denominator: config.denominator).max()?.value ?? 0)
        }
        let isDetector = (best?.iou ?? 0) > config.detectorThreshold
        let result = UnitDissection(unit: u, threshold: t, maskPixels: um.count, firingImages: um.images.count, best: best, top: Array(top),
                                    isDetector: isDetector, shuffledBestIoU: shuffled,
                                    beatsShuffle: isDetector && shuffled.allSatisfy { (best?.iou ?? 0) > $0 }, beatsRandomInit: nil)
        return UnitRow(result: result, ious: ious.map(\.value))
    }

    /// IoU of a unit mask with every concept, by whole-mask popcounts (independent of the search's per-image path).
    static func conceptIoUs(_ u: SampleMask, index: ConceptIndex, denominator: IoUDenominator) -> [Fraction] {
        var unitIn: [ConceptCategory: Int] = [:]
        if denominator == .perCategory {
            for (cat, flags) in index.annotated { unitIn[cat] = u.images.reduce(0) { $0 + (flags[Int($1)] ? Int(u.perImage[Int($1)]) : 0) } }
        }
        return (0..<index.count).map { c in
            let i = BitMask.intersectionCount(u.mask, index.masks[c].mask)
            let n = denominator == .perCategory ? unitIn[index.categories[c]] ?? 0 : u.count
            return Fraction.iou(intersection: i, area: index.masks[c].count, unit: n)
        }
    }

    /// The mask whose image s is image p[s] of `m` (which image each concept mask meets is permuted).
    static func permuted(_ m: BitMask, _ p: [Int], _ L: MaskLayout) -> BitMask {
        var out = L.emptyMask()
        let wpi = L.wordsPerImage
        m.withWords { src in out.withMutableWords { dst in for s in 0..<L.images { (dst + s * wpi).update(from: src + p[s] * wpi, count: wpi) } } }
        return out
    }
}

/// Checks shared by the explanation entry points.
enum ExplainValidation {
    static func quantile(_ q: Double) throws {
        guard q.isFinite, q > 0, q < 1 else { throw GlassboxError.invalidArgument(name: "quantile", expected: "a fraction in (0, 1), e.g. 0.005", found: "\(q)") }
    }

    static func units(_ units: [Int]?, count: Int) throws -> [Int] {
        guard let units else { return Array(0..<count) }
        guard !units.isEmpty, Set(units).count == units.count, units.allSatisfy({ $0 >= 0 && $0 < count }) else {
            throw GlassboxError.invalidArgument(name: "units", expected: "distinct unit indices in 0…\(count - 1)", found: "\(units)")
        }
        return units
    }

    static func matches(_ acts: UnitActivations, _ L: MaskLayout) throws {
        guard acts.count == L.images else {
            throw GlassboxError.invalidArgument(name: "activations", expected: "one row per probe image (\(L.images))", found: "\(acts.count)")
        }
        guard L.pixelCount < 1 << 31 else {
            throw GlassboxError.invalidArgument(name: "probe set", expected: "fewer than 2^31 pixels", found: "\(L.pixelCount)")
        }
    }
}
