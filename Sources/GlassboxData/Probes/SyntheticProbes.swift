import Foundation
import GlassboxCore

/// Settings of the synthetic probe set: images of several non-overlapping objects on black, each object's exact
/// mask kept as concepts. Deterministic from `seed`.
public struct SyntheticProbeConfig: Codable, Equatable, Sendable {
    /// Number of images.
    public var count: Int
    /// Image side in pixels (images are square).
    public var side: Int
    /// RGB images with named object colours (true), or grey images (false).
    public var colour: Bool
    /// Objects per image, drawn uniformly from minObjects…maxObjects (an object that finds no free place after
    /// 30 tries is left out).
    public var minObjects: Int
    public var maxObjects: Int
    /// The kinds drawn (raw values of `SyntheticKind`).
    public var kinds: [SyntheticKind]
    /// Edges of the size classes small, medium, large, as fractions of the side: an object of class k has a
    /// bounding square of side uniform in [edges[k], edges[k+1]) · side.
    public var sizeEdges: [Double]
    /// Texture cells in pixels: fine and coarse.
    public var textureCells: [Double]
    public var seed: UInt64
    /// Also compute the image concepts (edges, stroke, grid, intensity, colour names…) of the drawn images and add
    /// them; nil draws only the objects' concepts.
    public var imageConcepts: ImageConceptConfig?
    /// Leave out concepts that hold nowhere.
    public var dropEmpty: Bool

    public init(count: Int = 2000, side: Int = 28, colour: Bool = false, minObjects: Int = 1, maxObjects: Int = 3,
                kinds: [SyntheticKind] = SyntheticKind.allCases, sizeEdges: [Double] = [0.2, 0.32, 0.46, 0.62],
                textureCells: [Double] = [2, 3], seed: UInt64 = 0,
                imageConcepts: ImageConceptConfig? = ImageConceptConfig(classConcepts: false, morphometry: false),
                dropEmpty: Bool = true) {
        self.count = count; self.side = side; self.colour = colour; self.minObjects = minObjects; self.maxObjects = maxObjects
        self.kinds = kinds; self.sizeEdges = sizeEdges; self.textureCells = textureCells; self.seed = seed
        self.imageConcepts = imageConcepts; self.dropEmpty = dropEmpty
    }

    /// 32×32 colour images.
    public static func colour32(count: Int = 2000, seed: UInt64 = 0) -> SyntheticProbeConfig {
        SyntheticProbeConfig(count: count, side: 32, colour: true, seed: seed)
    }

    public func validate() throws {
        guard (1...1_000_000).contains(count) else { throw GlassboxError.invalidArgument(name: "count", expected: "1…1000000 images", found: "\(count)") }
        guard (8...512).contains(side) else { throw GlassboxError.invalidArgument(name: "side", expected: "8…512 pixels", found: "\(side)") }
        guard count * side * side * (colour ? 3 : 1) <= 1 << 28 else {
            throw GlassboxError.invalidArgument(name: "count", expected: "at most 2^28 image values (count × side² × channels)",
                                                found: "\(count) × \(side)² × \(colour ? 3 : 1)")
        }
        guard minObjects >= 1, maxObjects >= minObjects, maxObjects <= 16 else {
            throw GlassboxError.invalidArgument(name: "objects", expected: "1 ≤ min-objects ≤ max-objects ≤ 16", found: "\(minObjects)…\(maxObjects)")
        }
        guard !kinds.isEmpty, Set(kinds).count == kinds.count else {
            throw GlassboxError.invalidArgument(name: "kinds", expected: "one or more distinct kinds", found: "\(kinds.map(\.rawValue))")
        }
        guard sizeEdges.count == 4, sizeEdges.allSatisfy({ $0 > 0 && $0 <= 1 }), zip(sizeEdges, sizeEdges.dropFirst()).allSatisfy({ $0 < $1 }),
              sizeEdges[0] * Double(side) >= 3 else {
            throw GlassboxError.invalidArgument(name: "size-edges", expected: "4 ascending fractions in (0, 1], the smallest ≥ 3 pixels",
                                                found: "\(sizeEdges)")
        }
        guard textureCells.count == 2, textureCells.allSatisfy({ $0 >= 1 && $0 <= Double(side) / 4 }) else {
            throw GlassboxError.invalidArgument(name: "texture-cells", expected: "2 cell sizes in 1…side/4 pixels", found: "\(textureCells)")
        }
        try imageConcepts?.validate()
    }
}

public extension ProbeSets {
    static let sizeNames = ["small", "medium", "large"]

    /// Synthetic probes: objects (shapes, bars, textures) at several sizes and positions, several per image, drawn
    /// with Cairo. Concepts (category shape, texture or colour): each kind ("disc"), each kind at each size
    /// ("disc-small"), each texture at each scale ("checkers-fine"), any shape / bar / texture ("shape", "bar",
    /// "texture"), any object of a size ("small"), and in colour images each object colour ("red-object"). Masks are
    /// the pixels an object's region covers by at least 50 % (`SyntheticRenderer`); objects never overlap (their
    /// bounding squares keep one pixel apart), so every pixel belongs to at most one object.
    static func synthetic(_ config: SyntheticProbeConfig = SyntheticProbeConfig()) throws -> ProbeSet {
        try config.validate()
        let objects = SyntheticLayout.place(config)
        let side = config.side, n = config.count, c = config.colour ? 3 : 1
        let layout = MaskLayout(images: n, height: side, width: side)
        let specs = SyntheticLayout.conceptSpecs(config)
        let wpi = layout.wordsPerImage, words = layout.wordCount
        var storage = [UInt64](repeating: 0, count: specs.count * words)
        var pixels = [Float](repeating: 0, count: n * c * side * side)
        storage.withUnsafeMutableBufferPointer { st in
            pixels.withUnsafeMutableBufferPointer { px in
                let base = st.baseAddress!, img = px.baseAddress!
                Parallel.forChunks(n, parts: min(n, 64)) { _, range in
                    let renderer = SyntheticRenderer(width: side, height: side)
                    for i in range {
                        for o in objects[i] {
                            let (region, paint) = renderer.render(o)
                            SyntheticLayout.composite(paint, o.rgb, into: img + i * c * side * side, channels: c, pixels: side * side)
                            for k in SyntheticLayout.conceptIndices(o, specs) {
                                let dst = base + k * words + i * wpi
                                for (p, a) in region.enumerated() where a >= 128 { dst[p >> 6] |= 1 << UInt64(p & 63) }
                            }
                        }
                    }
                }
            }
        }
        var concepts = specs.enumerated().map { k, spec in
            Concept(name: spec.name, category: spec.category,
                    mask: try! BitMask(count: layout.bitCount, words: Array(storage[(k * words)..<((k + 1) * words)])))
        }
        if config.dropEmpty { concepts.removeAll { $0.mask.isEmpty } }
        let images = Tensor(shape: [n, c, side, side], scalars: pixels)
        let name = "synthetic-\(side)\(config.colour ? "-colour" : "")"
        var probes = try ProbeSet(name: name, images: images, concepts: concepts)
        if let ic = config.imageConcepts {
            var icc = ic
            icc.classConcepts = false
            icc.dropEmpty = config.dropEmpty
            probes = try probes.merging(try fromImages(images: images, labels: nil, classNames: [], name: name, config: icc))
        }
        return probes
    }
}

/// Placement of the synthetic objects and their concept names.
enum SyntheticLayout {
    struct Spec { let name: String; let category: ConceptCategory }

    /// Draws every image's objects from the seed, image after image (the only use of the generator).
    static func place(_ config: SyntheticProbeConfig) -> [[SyntheticObject]] {
        var g = SeededGenerator(seed: config.seed)
        let side = Double(config.side)
        return (0..<config.count).map { _ -> [SyntheticObject] in
            let want = config.minObjects + g.int(below: config.maxObjects - config.minObjects + 1)
            var placed: [SyntheticObject] = []
            for _ in 0..<want {
                let kind = config.kinds[g.int(below: config.kinds.count)]
                let sc = g.int(below: 3)
                let size = Double(g.uniform(Float(config.sizeEdges[sc]), Float(config.sizeEdges[sc + 1]))) * side
                let scale = g.int(below: 2)
                let colourIndex = config.colour ? g.int(below: SyntheticPalette.names.count) : -1
                let grey = g.uniform(0.5, 1)
                let rgb = colourIndex >= 0 ? SyntheticPalette.rgb[colourIndex] : (grey, grey, grey)
                for _ in 0..<30 {
                    let x = Double(g.uniform()) * (side - size), y = Double(g.uniform()) * (side - size)
                    let free = placed.allSatisfy { p in
                        x + size + 1 <= p.x || p.x + p.size + 1 <= x || y + size + 1 <= p.y || p.y + p.size + 1 <= y
                    }
                    if free {
                        placed.append(SyntheticObject(kind: kind, x: x, y: y, size: size, sizeClass: sc, cell: config.textureCells[scale],
                                                      scale: scale, rgb: rgb, colourIndex: colourIndex))
                        break
                    }
                }
            }
            return placed
        }
    }

    static func conceptSpecs(_ config: SyntheticProbeConfig) -> [Spec] {
        var s: [Spec] = []
        for k in config.kinds {
            let cat: ConceptCategory = k.isTexture ? .texture : .shape
            s.append(Spec(name: k.rawValue, category: cat))
            for size in ProbeSets.sizeNames { s.append(Spec(name: "\(k.rawValue)-\(size)", category: cat)) }
            if k.isTexture { for sc in ["fine", "coarse"] { s.append(Spec(name: "\(k.rawValue)-\(sc)", category: .texture)) } }
        }
        if config.kinds.contains(where: \.isShape) { s.append(Spec(name: "shape", category: .shape)) }
        if config.kinds.contains(where: \.isBar) { s.append(Spec(name: "bar", category: .shape)) }
        if config.kinds.contains(where: \.isTexture) { s.append(Spec(name: "texture", category: .texture)) }
        for size in ProbeSets.sizeNames { s.append(Spec(name: size, category: .shape)) }
        if config.colour { for c in SyntheticPalette.names { s.append(Spec(name: "\(c)-object", category: .colour)) } }
        return s
    }

    /// The concepts an object belongs to (indices into `specs`).
    static func conceptIndices(_ o: SyntheticObject, _ specs: [Spec]) -> [Int] {
        var names = [o.kind.rawValue, "\(o.kind.rawValue)-\(ProbeSets.sizeNames[o.sizeClass])", ProbeSets.sizeNames[o.sizeClass]]
        if o.kind.isTexture { names.append("\(o.kind.rawValue)-\(o.scale == 0 ? "fine" : "coarse")"); names.append("texture") }
        if o.kind.isShape { names.append("shape") }
        if o.kind.isBar { names.append("bar") }
        if o.colourIndex >= 0 { names.append("\(SyntheticPalette.names[o.colourIndex])-object") }
        return names.compactMap { n in specs.firstIndex { $0.name == n } }
    }

    /// Paints `rgb` over the image with the object's coverage as alpha (the OVER operator).
    static func composite(_ paint: [UInt8], _ rgb: (Float, Float, Float), into img: UnsafeMutablePointer<Float>, channels c: Int, pixels p: Int) {
        let colour = [rgb.0, rgb.1, rgb.2]
        for (i, a8) in paint.enumerated() where a8 > 0 {
            let a = Float(a8) / 255
            for ch in 0..<c { img[ch * p + i] = img[ch * p + i] * (1 - a) + colour[ch] * a }
        }
    }
}
