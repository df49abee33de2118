import Foundation
import GlassboxCore

/// Where a probe set's images come from.
public enum ProbeSource: String, Codable, CaseIterable, Sendable {
    /// The first images of a data set's test split, with concepts computed from them (stroke, edges, regions,
    /// grid cells, intensity or colour names, class, and for digits thickness and slant).
    case images
    /// Shapes, bars and textures drawn with Cairo, several per image, with their exact masks (plus the concepts
    /// computed from the drawn images).
    case synthetic
}

/// A probe set as a user asks for it (`step: concepts`, `glassbox explain --probe`): the one description shared by
/// recipes and commands, with its defaults here.
public struct ProbeRequest: Codable, Equatable, Sendable {
    public var source = ProbeSource.images
    /// Images: the first N of the test split (fewer when the split is smaller); synthetic: N drawn.
    public var count = 2000
    /// Synthetic: the image side (nil: the data's, else 28).
    public var side: Int?
    /// Synthetic: colour images with named object colours (nil: when the data have 3 channels).
    public var colour: Bool?
    /// Synthetic: objects per image.
    public var minObjects = 1
    public var maxObjects = 3
    /// Image-level thickness and slant bins (nil: for digits, i.e. one-channel data named mnist*).
    public var morphometry: Bool?
    /// One image-level concept per class when the images have labels.
    public var classConcepts = true
    public var seed: UInt64 = 0

    public init() {}

    public func validate() throws {
        guard (1...200_000).contains(count) else { throw GlassboxError.invalidArgument(name: "count", expected: "1…200000 probe images", found: "\(count)") }
        if let side, !(8...256).contains(side) { throw GlassboxError.invalidArgument(name: "side", expected: "8…256 pixels", found: "\(side)") }
        guard minObjects >= 1, maxObjects >= minObjects, maxObjects <= 12 else {
            throw GlassboxError.invalidArgument(name: "objects", expected: "1 ≤ min-objects ≤ max-objects ≤ 12", found: "\(minObjects)…\(maxObjects)")
        }
    }
}

public extension ProbeSets {
    /// Makes the probe set a request describes; `data` (its test split) is needed for `images` and sets the synthetic
    /// images' size and colour when given.
    static func make(_ r: ProbeRequest, data: DataPair?) throws -> ProbeSet {
        try r.validate()
        var concepts = ImageConceptConfig(classConcepts: r.classConcepts, morphometry: r.morphometry)
        switch r.source {
        case .images:
            guard let test = data?.test else {
                throw GlassboxError.invalidArgument(name: "data", expected: "a data set whose test images are the probes", found: "none")
            }
            let n = min(r.count, test.count)
            guard n > 0 else { throw GlassboxError.invalidArgument(name: "data", expected: "test images", found: "an empty test split") }
            let images = n == test.count ? test : test.subset(Array(0..<n))
            return try fromImages(images, config: concepts)
        case .synthetic:
            let test = data?.test
            concepts.classConcepts = false
            concepts.morphometry = false
            let config = SyntheticProbeConfig(count: r.count, side: r.side ?? test?.height ?? 28, colour: r.colour ?? (test?.channels == 3),
                                              minObjects: r.minObjects, maxObjects: r.maxObjects, seed: r.seed, imageConcepts: concepts)
            if let test, test.height != config.side || test.width != config.side || (test.channels == 3) != config.colour {
                throw GlassboxError.invalidArgument(name: "side", expected: "probe images shaped like the model's data (\(test.channels)×\(test.height)×\(test.width))",
                                                    found: "\(config.colour ? 3 : 1)×\(config.side)×\(config.side)")
            }
            return try synthetic(config)
        }
    }
}
