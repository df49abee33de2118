import Foundation
import GlassboxCore

/// The kind of a concept, so that reports can group concepts (Broden's object/part/scene/texture/colour,
/// for our small images).
public enum ConceptCategory: String, Codable, CaseIterable, Sendable {
    /// A drawn shape (disc, square, triangle, cross, ring) or bar, by kind and size.
    case shape
    /// A patch filled with a pattern (stripes, checkers, dots).
    case texture
    /// A cell of the 3×3 grid of image regions.
    case position
    /// The stroke: skeleton, endpoints, junctions, thick and thin parts.
    case stroke
    /// A colour name (hue/saturation/value bins, or a drawn object's colour).
    case colour
    /// The image's class (image-level).
    case `class`
    /// An edge orientation bin (Sobel).
    case edge
    /// Foreground, background and enclosed regions (holes).
    case region
    /// An intensity bin.
    case intensity
    /// Image-level shape measurements of a digit: thickness and slant bins (Morpho-MNIST).
    case morphology
}

/// One named concept with its pixel mask over a whole probe set.
public struct Concept: Equatable, Sendable {
    public var name: String
    public var category: ConceptCategory
    /// True when the concept holds for whole images (class, thickness, slant): its mask sets every pixel of the
    /// images where it holds.
    public var imageLevel: Bool
    /// Pixels where the concept holds, in the probe set's `MaskLayout`.
    public var mask: BitMask

    public init(name: String, category: ConceptCategory, imageLevel: Bool = false, mask: BitMask) {
        self.name = name; self.category = category; self.imageLevel = imageLevel; self.mask = mask
    }
}

/// Images with exact per-pixel concept masks: the probe data of network dissection and compositional explanations.
///
/// `images` is `[N, C, H, W]` with values in [0, 1]. Every concept's mask covers all N·H·W pixels in `layout`
/// (whole words per image, see `MaskLayout`). Labels and class names are optional (synthetic probes have none).
public struct ProbeSet: Sendable, Equatable {
    public var name: String
    public var images: Tensor
    public var labels: [Int32]?
    public var classNames: [String]
    public var concepts: [Concept]

    /// Builds a probe set and checks that every part fits: image shape, labels, mask sizes, padding bits,
    /// unique concept names.
    public init(name: String, images: Tensor, labels: [Int32]? = nil, classNames: [String] = [], concepts: [Concept]) throws {
        guard images.rank == 4, images.shape[1] > 0, images.shape[2] > 0, images.shape[3] > 0 else {
            throw GlassboxError.invalidArgument(name: "probe images", expected: "[N, C, H, W] with C, H, W ≥ 1", found: "\(images.shape)")
        }
        if let labels {
            guard labels.count == images.shape[0] else {
                throw GlassboxError.invalidArgument(name: "probe labels", expected: "\(images.shape[0]) labels", found: "\(labels.count)")
            }
            if let bad = labels.first(where: { $0 < 0 || Int($0) >= max(classNames.count, 1) }), !classNames.isEmpty {
                throw GlassboxError.invalidArgument(name: "probe labels", expected: "labels in 0..<\(classNames.count)", found: "\(bad)")
            }
        }
        let layout = MaskLayout(images: images.shape[0], height: images.shape[2], width: images.shape[3])
        var seen = Set<String>()
        for c in concepts {
            guard !c.name.isEmpty, seen.insert(c.name).inserted else {
                throw GlassboxError.invalidArgument(name: "concept name", expected: "unique, non-empty names", found: "'\(c.name)' twice or empty")
            }
            try layout.validate(c.mask, name: "concept '\(c.name)'")
        }
        self.name = name; self.images = images; self.labels = labels; self.classNames = classNames; self.concepts = concepts
    }

    public var count: Int { images.shape[0] }
    public var channels: Int { images.shape[1] }
    public var height: Int { images.shape[2] }
    public var width: Int { images.shape[3] }
    public var layout: MaskLayout { MaskLayout(images: count, height: height, width: width) }

    public func concept(named n: String) -> Concept? { concepts.first { $0.name == n } }

    /// Adds the concepts of `other`, a probe set over the same images (e.g. concepts computed from the images of a
    /// synthetic set). Names must stay unique.
    public func merging(_ other: ProbeSet) throws -> ProbeSet {
        guard other.images == images else {
            throw GlassboxError.invalidArgument(name: "probe set '\(other.name)'", expected: "the same images as '\(name)'",
                                                found: "other images \(other.images.shape)")
        }
        return try ProbeSet(name: name, images: images, labels: labels ?? other.labels,
                            classNames: classNames.isEmpty ? other.classNames : classNames, concepts: concepts + other.concepts)
    }

    /// The probe set restricted to the images `indices` (in that order), masks included.
    public func subset(_ indices: [Int]) throws -> ProbeSet {
        guard indices.allSatisfy({ $0 >= 0 && $0 < count }) else {
            throw GlassboxError.invalidArgument(name: "probe subset", expected: "indices in 0..<\(count)", found: "\(indices.count) indices")
        }
        let old = layout
        let new = MaskLayout(images: indices.count, height: height, width: width)
        let wpi = old.wordsPerImage
        let cs = concepts.map { c -> Concept in
            var m = new.emptyMask()
            c.mask.withWords { src in
                m.withMutableWords { dst in
                    for (j, i) in indices.enumerated() { (dst + j * wpi).update(from: src + i * wpi, count: wpi) }
                }
            }
            return Concept(name: c.name, category: c.category, imageLevel: c.imageLevel, mask: m)
        }
        return try ProbeSet(name: name, images: images.gatherRows(indices), labels: labels.map { l in indices.map { l[$0] } },
                            classNames: classNames, concepts: cs)
    }

    /// Number of concepts per category, in `ConceptCategory.allCases` order (categories without concepts left out).
    public var categoryCounts: [(ConceptCategory, Int)] {
        ConceptCategory.allCases.compactMap { cat in
            let n = concepts.filter { $0.category == cat }.count
            return n == 0 ? nil : (cat, n)
        }
    }
}
