import Foundation
import GlassboxCore
import GlassboxData
import GlassboxNN

/// Settings of compositional explanations (Mu & Andreas 2020) and clustered compositional explanations
/// (La Rosa et al. 2023): `clusters = 1` is CoEx (one mask per unit, activation above the top-quantile threshold);
/// `clusters = k > 1` splits each unit's non-zero activations into k ranges by optimal 1-D k-means and explains
/// each range.
///
/// Where the reference implementations differ, Glassbox does the following (so that one search serves both methods
/// and k = 1 reproduces CoEx exactly): a range's mask is the closed interval [min, max] of its cluster (the
/// clustered-explanations code uses strict inequalities on both ends, which leaves the extreme values out); the beam
/// keeps `beamWidth` formulas at every step (that code starts from 2·beam concepts and keeps 1 at the last step);
/// `maxLength` counts concepts, so AND NOT adds one like AND (compexp counts NOT as one more); candidates never reuse a
/// concept already in the formula, and formulas equal up to commutativity and associativity are searched once.
public struct ExplanationConfig: Codable, Equatable, Sendable {
    /// Activation ranges per unit (La Rosa et al.: 5); 1 = compositional explanations of the top quantile.
    public var clusters: Int
    /// Top quantile of the single range when `clusters == 1`.
    public var quantile: Double
    public var upsampler: Upsampler
    public var search: SearchConfig
    /// Units to explain (nil: all).
    public var units: [Int]?
    /// Dataset examples per unit and range.
    public var examples: Int
    /// Label masking (needs the model): images per range on which it is measured (0: off).
    public var labelMaskingImages: Int
    /// Seeds the label-masking noise and image sample.
    public var seed: UInt64

    public init(clusters: Int = 5, quantile: Double = 0.005, upsampler: Upsampler = .bilinear, search: SearchConfig = SearchConfig(),
                units: [Int]? = nil, examples: Int = 5, labelMaskingImages: Int = 100, seed: UInt64 = 0) {
        self.clusters = clusters; self.quantile = quantile; self.upsampler = upsampler; self.search = search; self.units = units
        self.examples = examples; self.labelMaskingImages = labelMaskingImages; self.seed = seed
    }

    /// Compositional explanations: one range (T, ∞) per unit.
    public static func coex(quantile: Double = 0.005, search: SearchConfig = SearchConfig()) -> ExplanationConfig {
        ExplanationConfig(clusters: 1, quantile: quantile, search: search)
    }

    public var method: String { clusters == 1 ? "coex" : "clustered" }

    public func validate(unitCount: Int) throws {
        guard (1...20).contains(clusters) else { throw GlassboxError.invalidArgument(name: "clusters", expected: "1…20", found: "\(clusters)") }
        try ExplainValidation.quantile(quantile)
        try search.validate()
        guard (0...100).contains(examples) else { throw GlassboxError.invalidArgument(name: "examples", expected: "0…100", found: "\(examples)") }
        guard (0...100_000).contains(labelMaskingImages) else {
            throw GlassboxError.invalidArgument(name: "label-masking-images", expected: "0…100000", found: "\(labelMaskingImages)")
        }
        _ = try ExplainValidation.units(units, count: unitCount)
    }
}

/// How well one formula explains one unit mask U (F = the formula's mask). Undefined ratios (0/0) are nil.
/// Definitions as in the clustered-explanations code (`src/metrics.py`):
public struct ExplanationMetrics: Codable, Equatable, Sendable {
    /// |U ∩ F| / |U ∪ F|.
    public var iou: Double
    /// |U ∩ F| / |U|: how much of the unit's firing the formula covers.
    public var activationCoverage: Double?
    /// |U ∩ F| / |F|: how much of the formula the unit covers (the reference's "label coverage").
    public var detectionAccuracy: Double?
    /// Images where U and F meet / images where F is present.
    public var sampleCoverage: Double?
    /// Images where U and F meet / images where U is present.
    public var explanationCoverage: Double?
    /// Mean share of an image's pixels in U, over images where U is present.
    public var meanUnitSize: Double?
    /// Mean share of an image's pixels in F, over images where F is present.
    public var meanFormulaSize: Double?
    /// Label masking: mean cosine similarity between the unit's activation map before and after the input is
    /// multiplied by a mask that is 1 on F's pixels and uniform noise in [0, 1) elsewhere, both maps kept only where
    /// the original activation is in the range; over (a sample of) the images where F is present. Near 1: the unit's
    /// response in this range comes from the formula's pixels. Needs the model; nil without it.
    public var labelMasking: Double?

    /// All but label masking, from two masks of the same layout.
    public static func measure(unit u: SampleMask, formula f: SampleMask) throws -> ExplanationMetrics {
        guard u.layout == f.layout else {
            throw GlassboxError.invalidArgument(name: "formula mask", expected: "the unit mask's layout \(u.layout)", found: "\(f.layout)")
        }
        return measureSameLayout(unit: u, formula: f)
    }

    static func measureSameLayout(unit u: SampleMask, formula f: SampleMask) -> ExplanationMetrics {
        let wpi = u.layout.wordsPerImage, P = Double(u.layout.pixelsPerImage)
        var inter = 0, both = 0
        u.mask.withWords { wu in
            f.mask.withWords { wf in
                forCommonImages(u, f) { s in
                    let x = BitMask.intersectionCount(wu + s * wpi, wf + s * wpi, wpi)
                    inter += x
                    if x > 0 { both += 1 }
                }
            }
        }
        func ratio(_ a: Int, _ b: Int) -> Double? { b == 0 ? nil : Double(a) / Double(b) }
        func meanSize(_ m: SampleMask) -> Double? { m.images.isEmpty ? nil : Double(m.count) / P / Double(m.images.count) }
        return ExplanationMetrics(iou: Fraction.iou(intersection: inter, area: f.count, unit: u.count).value,
                                  activationCoverage: ratio(inter, u.count), detectionAccuracy: ratio(inter, f.count),
                                  sampleCoverage: ratio(both, f.images.count), explanationCoverage: ratio(both, u.images.count),
                                  meanUnitSize: meanSize(u), meanFormulaSize: meanSize(f), labelMasking: nil)
    }
}

/// One probe image a unit range fires on most, with the masks a figure outlines.
public struct DatasetExample: Codable, Equatable, Sendable {
    public var image: Int
    /// Largest raw activation of the unit in this image within the range.
    public var activation: Float
    /// The unit's map values in this image that lie in the range (1 for a linear unit).
    public var valuesInRange: Int
    /// The unit's mask in this image (H·W bits, row-major).
    public var unitMask: BitMask
    /// The best formula's mask in this image.
    public var formulaMask: BitMask?
}

public struct RangeExplanation: Codable, Equatable, Sendable {
    /// 0 = lowest range.
    public var index: Int
    public var range: ActivationRange
    /// Raw activations (feature-map values over all images) in the range.
    public var activations: Int
    public var unitPixels: Int
    public var firingImages: Int
    /// The explanation: the best formula found by the beam search (nil when no concept meets the mask).
    public var best: FormulaScore?
    /// Best single concept (network dissection within this range).
    public var bestConcept: FormulaScore?
    /// Best formula in the beam after the length-2 step, and the optimum over all formulas of length ≤ 2.
    public var beamLength2: FormulaScore?
    public var exhaustiveLength2: FormulaScore?
    /// Exhaustive IoU − beam IoU at length 2 (≥ 0), and whether it is > 0.
    public var gapLength2: Double?
    public var beamSuboptimalAtLength2: Bool?
    public var metrics: ExplanationMetrics?
    public var search: SearchStats
    public var exhaustiveSearch: SearchStats?
    public var examples: [DatasetExample]
}

public struct UnitExplanation: Codable, Equatable, Sendable {
    public var unit: Int
    public var ranges: [RangeExplanation]
}

/// IoU by activation range across units: the specialisation curve.
public struct SpecialisationPoint: Codable, Equatable, Sendable {
    public var range: Int
    /// Units that have this range.
    public var units: Int
    public var meanIoU: Double
    public var medianIoU: Double
    public var meanUnitSize: Double?
    public var meanFormulaSize: Double?
    public var meanLength: Double
    /// Number of different best formulas among the units (few: the units share an unspecialised explanation).
    public var distinctFormulas: Int
    /// The most frequent best formula and how many units have it.
    public var commonestFormula: String?
    public var commonestCount: Int
    /// Categories of the best formulas' first concepts.
    public var categories: [CategoryCount]
    /// Mean label masking of the range over units (when it was measured).
    public var meanLabelMasking: Double?
}

/// How often the beam misses the best formula of length ≤ 2.
public struct GapSummary: Codable, Equatable, Sendable {
    public var compared: Int
    public var suboptimal: Int
    public var share: Double
    public var meanGap: Double
    public var maxGap: Double
}

public struct ExplanationResult: Codable, Equatable, Sendable {
    /// "coex" or "clustered".
    public var method: String
    public var config: ExplanationConfig
    public var concepts: [String]
    public var categories: [ConceptCategory]
    public var units: [UnitExplanation]
    public var specialisation: [SpecialisationPoint]
    public var gap: GapSummary?
    /// Work of the beam searches, summed over units and ranges.
    public var search: SearchStats
    public var exhaustiveSearch: SearchStats?
}
