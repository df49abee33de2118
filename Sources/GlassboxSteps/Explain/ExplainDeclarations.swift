import GlassboxAnalysis
import GlassboxCore
import GlassboxData

public extension ProbeRequest {
    /// `step: concepts` and `glassbox explain --probe …` read these.
    static let arguments = Arguments<ProbeRequest>(defaults: { ProbeRequest() }, [
        .choice("source", \.source, help: "images: the data's test images with concepts computed from them; synthetic: shapes, bars and textures drawn with Cairo"),
        .int("count", \.count, help: "probe images"),
        .int("side", \.side, min: 8, help: "synthetic: image side in pixels", default: "the data's, else 28"),
        .flag("colour", \.colourFlag, help: "synthetic: colour images with named object colours", default: "when the data have 3 channels"),
        .int("min-objects", \.minObjects, help: "synthetic: fewest objects per image"),
        .int("max-objects", \.maxObjects, help: "synthetic: most objects per image"),
        .flag("morphometry", \.morphometryFlag, help: "thickness and slant bins per image", default: "for digits"),
        .flag("class-concepts", \.classConcepts, help: "one image-level concept per class"),
        .seed(\.seed, help: "seed of the synthetic drawing"),
    ])

    /// Optional flags as plain booleans for the declarations (unset stays nil: the default rule applies).
    internal var colourFlag: Bool { get { colour ?? false } set { colour = newValue } }
    internal var morphometryFlag: Bool { get { morphometry ?? false } set { morphometry = newValue } }
}

public extension DissectionConfig {
    /// `step: dissect` and `glassbox explain --method dissect` read these.
    static let arguments = Arguments<DissectionConfig>(defaults: { DissectionConfig() }, [
        .number("quantile", \.quantile, 0, 1, openLow: true, openHigh: true, help: "top quantile of a unit's activations that marks it firing"),
        .choice("upsampler", \.upsampler, help: "how conv activation maps are scaled to the image"),
        .number("detector-threshold", \.detectorThreshold, 0, 1, openHigh: true, help: "a unit detects its best concept when that IoU is above this"),
        .choice("denominator", \.denominator, help: "unit pixels of the whole probe set, or only of images annotated with the concept's category"),
        .int("shuffles", \.shuffleDraws, min: 0, help: "draws of the null with concept masks shuffled across images"),
        .ints("units", \.units, min: 0, help: "units to dissect", default: "all"),
        .int("top", \.topConcepts, help: "best concepts listed per unit"),
        .seed(\.seed, help: "seed of the shuffled null"),
    ])
}

public extension ExplanationConfig {
    /// `step: explain` and `glassbox explain --method coex|clustered` read these.
    static let arguments = Arguments<ExplanationConfig>(defaults: { ExplanationConfig() }, [
        .int("clusters", \.clusters, help: "clustered: activation ranges per unit (exact 1-D k-means)"),
        .number("quantile", \.quantile, 0, 1, openLow: true, openHigh: true, help: "coex: top quantile of a unit's activations that marks it firing"),
        .choice("upsampler", \.upsampler, help: "how conv activation maps are scaled to the image"),
        .int("beam", \.search.beamWidth, help: "formulas kept by the beam search"),
        .int("length", \.search.maxLength, help: "most concepts in a formula"),
        .flag("bound", \.search.useBound, help: "skip candidates whose IoU upper bound cannot enter the beam (never changes a result)"),
        .flag("exhaustive", \.search.exhaustiveLength2, help: "also find the best formula of length ≤ 2 exhaustively, to measure the beam's gap"),
        .ints("units", \.units, min: 0, help: "units to explain", default: "all"),
        .int("examples", \.examples, min: 0, help: "dataset examples per unit and range"),
        .int("label-masking", \.labelMaskingImages, min: 0, help: "images per range for the label-masking metric (0: off)"),
        .seed(\.seed, help: "seed of the label-masking sample"),
    ])
}

/// Which explanation method: network dissection, compositional explanations, or clustered compositional explanations.
public enum ExplainMethod: String, Codable, CaseIterable, Sendable { case dissect, coex, clustered }
