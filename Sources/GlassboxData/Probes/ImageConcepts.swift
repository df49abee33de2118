import Foundation
import GlassboxCore

/// Settings of the concepts computed from real images (`ProbeSets.fromImages`). Every threshold is stated in
/// pixels or in image values in [0, 1]; the defaults are here and nowhere else.
public struct ImageConceptConfig: Codable, Equatable, Sendable {
    /// Foreground = value > threshold; nil: Otsu's threshold per image (`ImageOps.otsuBin`). Colour images use
    /// the luminance 0.299 R + 0.587 G + 0.114 B.
    public var foregroundThreshold: Float?
    /// A pixel is an edge pixel when its Sobel gradient magnitude is ≥ this (a clean 0→1 step gives 4).
    public var edgeThreshold: Float
    /// Endpoints and junctions are marked with a (2r+1)×(2r+1) square around each skeleton keypoint.
    public var keypointRadius: Int
    /// Foreground pixels whose local stroke width (`Skeleton.strokeWidths`) is > this are "stroke-thick", the
    /// rest "stroke-thin" (2: strokes three or more pixels across are thick).
    public var thickStrokeWidth: Double
    /// Ascending bin edges of pixel intensity (luminance for colour images): bin i holds edges[i−1] ≤ v < edges[i].
    public var intensityEdges: [Float]
    /// One image-level concept per class ("class-NAME") when the data have labels.
    public var classConcepts: Bool
    /// Image-level thickness and slant bins (Morpho-MNIST); nil: on for one-channel data whose name starts
    /// with "mnist" (digits), off otherwise.
    public var morphometry: Bool?
    /// Ascending edges (pixels) of the mean-stroke-thickness bins. The defaults 1.6 and 2.25 are the terciles over the
    /// MNIST test set (`ExplainBench morphometry`), so thin, medium and thick digits are about equally common.
    public var thicknessEdges: [Double]
    /// Ascending edges (degrees, positive = top leaning right) of the slant bins. Defaults 0° and 10°: MNIST digits
    /// lean right by 5° at the median; about 37 % lean left of vertical and 37 % more than 10° right.
    public var slantEdgesDegrees: [Double]
    /// Leave out concepts that hold nowhere in the probe set.
    public var dropEmpty: Bool

    public init(foregroundThreshold: Float? = nil, edgeThreshold: Float = 1.0, keypointRadius: Int = 1, thickStrokeWidth: Double = 2.0,
                intensityEdges: [Float] = [0.25, 0.5, 0.75], classConcepts: Bool = true, morphometry: Bool? = nil,
                thicknessEdges: [Double] = [1.6, 2.25], slantEdgesDegrees: [Double] = [0, 10], dropEmpty: Bool = true) {
        self.foregroundThreshold = foregroundThreshold; self.edgeThreshold = edgeThreshold; self.keypointRadius = keypointRadius
        self.thickStrokeWidth = thickStrokeWidth; self.intensityEdges = intensityEdges; self.classConcepts = classConcepts
        self.morphometry = morphometry; self.thicknessEdges = thicknessEdges; self.slantEdgesDegrees = slantEdgesDegrees
        self.dropEmpty = dropEmpty
    }

    public func validate() throws {
        if let t = foregroundThreshold, !(t >= 0 && t < 1) {
            throw GlassboxError.invalidArgument(name: "foreground-threshold", expected: "a value in [0, 1)", found: "\(t)")
        }
        guard edgeThreshold.isFinite, edgeThreshold > 0 else {
            throw GlassboxError.invalidArgument(name: "edge-threshold", expected: "a number > 0", found: "\(edgeThreshold)")
        }
        guard (0...8).contains(keypointRadius) else {
            throw GlassboxError.invalidArgument(name: "keypoint-radius", expected: "0…8 pixels", found: "\(keypointRadius)")
        }
        guard thickStrokeWidth.isFinite, thickStrokeWidth > 0 else {
            throw GlassboxError.invalidArgument(name: "thick-stroke-width", expected: "a width > 0 pixels", found: "\(thickStrokeWidth)")
        }
        try Self.checkEdges(intensityEdges.map(Double.init), "intensity-edges", within: 0...1)
        try Self.checkEdges(thicknessEdges, "thickness-edges", within: 0...1000)
        try Self.checkEdges(slantEdgesDegrees, "slant-edges", within: -90...90)
    }

    static func checkEdges(_ e: [Double], _ name: String, within r: ClosedRange<Double>) throws {
        guard !e.isEmpty, e.count <= 16, e.allSatisfy({ r.contains($0) }), zip(e, e.dropFirst()).allSatisfy({ $0 < $1 }) else {
            throw GlassboxError.invalidArgument(name: name, expected: "1–16 strictly ascending numbers in \(r.lowerBound)…\(r.upperBound)",
                                                found: "\(e)")
        }
    }

    /// Names of the bins of `edges` (3 intensity bins, thickness and slant with 2 edges get words).
    static func binNames(_ prefix: String, _ edges: [Double], words: [String]?) -> [String] {
        if let words, words.count == edges.count + 1 { return words.map { "\(prefix)-\($0)" } }
        return (0...edges.count).map { "\(prefix)-bin\($0)" }
    }
}

/// Entry points that build probe sets.
public enum ProbeSets {
    public static let gridNames = ["top-left", "top", "top-right", "left", "centre", "right", "bottom-left", "bottom", "bottom-right"]
    public static let edgeNames = ["edge-vertical", "edge-rising", "edge-horizontal", "edge-falling"]

    /// Concepts computed from the images of a data set (see `ImageConceptConfig` and `ImageConceptComputer`).
    public static func fromImages(_ data: Dataset, config: ImageConceptConfig = ImageConceptConfig()) throws -> ProbeSet {
        try fromImages(images: data.images, labels: data.labels, classNames: data.classNames, name: data.name, config: config)
    }

    /// The same for bare images `[N, C, H, W]` in [0, 1] (C = 1 or 3), with optional labels.
    public static func fromImages(images: Tensor, labels: [Int32]?, classNames: [String], name: String,
                                  config: ImageConceptConfig = ImageConceptConfig()) throws -> ProbeSet {
        try config.validate()
        guard images.rank == 4, images.shape[1] == 1 || images.shape[1] == 3, images.shape[2] >= 3, images.shape[3] >= 3,
              images.shape[2] <= 1024, images.shape[3] <= 1024 else {
            throw GlassboxError.invalidArgument(name: "probe images", expected: "[N, 1 or 3, H, W] with 3 ≤ H, W ≤ 1024", found: "\(images.shape)")
        }
        if let i = images.scalars.firstIndex(where: { !($0 >= 0 && $0 <= 1) }) {
            throw GlassboxError.invalidArgument(name: "probe images", expected: "values in [0, 1]", found: "\(images.scalars[i]) at \(i)")
        }
        if let labels, !classNames.isEmpty, let bad = labels.first(where: { $0 < 0 || Int($0) >= classNames.count }) {
            throw GlassboxError.invalidArgument(name: "probe labels", expected: "labels in 0..<\(classNames.count)", found: "\(bad)")
        }
        let morph = config.morphometry ?? (images.shape[1] == 1 && name.lowercased().hasPrefix("mnist"))
        let computer = ImageConceptComputer(config: config, channels: images.shape[1], height: images.shape[2], width: images.shape[3])
        var concepts = computer.compute(images)
        let n = images.shape[0]
        let layout = MaskLayout(images: n, height: images.shape[2], width: images.shape[3])
        if config.classConcepts, let labels, !classNames.isEmpty {
            for (k, cname) in classNames.enumerated() {
                concepts.append(Concept(name: "class-\(cname)", category: .class, imageLevel: true, mask: layout.imageMask(labels.map { Int($0) == k })))
            }
        }
        if morph {
            concepts += computer.morphologyConcepts(layout: layout)
        }
        if config.dropEmpty { concepts.removeAll { $0.mask.isEmpty } }
        return try ProbeSet(name: name, images: images, labels: labels, classNames: classNames, concepts: concepts)
    }
}

/// Computes the pixel concepts of `ImageConceptConfig` image by image (in parallel over fixed chunks of images;
/// every image writes only its own words, so the result does not depend on the thread count).
final class ImageConceptComputer {
    let config: ImageConceptConfig
    let channels: Int, height: Int, width: Int
    /// Names and categories of the pixel-level concepts, in the order `analyse` fills them.
    let specs: [(String, ConceptCategory)]
    private(set) var thickness: [Double?] = []
    private(set) var slant: [Double?] = []

    init(config: ImageConceptConfig, channels: Int, height: Int, width: Int) {
        self.config = config; self.channels = channels; self.height = height; self.width = width
        var s: [(String, ConceptCategory)] = [("foreground", .region), ("background", .region), ("hole", .region)]
        s += ProbeSets.edgeNames.map { ($0, .edge) }
        s += [("skeleton", .stroke), ("endpoint", .stroke), ("junction", .stroke), ("stroke-thick", .stroke), ("stroke-thin", .stroke)]
        s += ProbeSets.gridNames.map { ($0, .position) }
        let iw = config.intensityEdges.count == 3 ? ["black", "dark", "light", "white"] : nil
        s += ImageConceptConfig.binNames("intensity", config.intensityEdges.map(Double.init), words: iw).map { ($0, .intensity) }
        if channels == 3 { s += ColourNames.names.map { ($0, .colour) } }
        specs = s
    }

    /// One mask per entry of `specs`.
    func compute(_ images: Tensor) -> [Concept] {
        let n = images.shape[0]
        let layout = MaskLayout(images: n, height: height, width: width)
        let wpi = layout.wordsPerImage, words = layout.wordCount
        var storage = [UInt64](repeating: 0, count: specs.count * words)
        var thick = [Double](repeating: .nan, count: n), slants = [Double](repeating: .nan, count: n)
        let parts = min(n, 64)
        images.withUnsafeBufferPointer { img in
            storage.withUnsafeMutableBufferPointer { st in
                thick.withUnsafeMutableBufferPointer { th in
                    slants.withUnsafeMutableBufferPointer { sl in
                        let base = st.baseAddress!, thp = th.baseAddress!, slp = sl.baseAddress!, src = img.baseAddress!
                        Parallel.forChunks(n, parts: parts) { _, range in
                            for i in range {
                                let r = self.analyse(src + i * self.channels * self.height * self.width)
                                for (k, m) in r.masks.enumerated() { Self.write(m, to: base + k * words + i * wpi) }
                                thp[i] = r.thickness ?? .nan
                                slp[i] = r.slant ?? .nan
                            }
                        }
                    }
                }
            }
        }
        thickness = thick.map { $0.isNaN ? nil : $0 }
        slant = slants.map { $0.isNaN ? nil : $0 }
        return specs.enumerated().map { k, spec in
            let m = try! BitMask(count: layout.bitCount, words: Array(storage[(k * words)..<((k + 1) * words)]))
            return Concept(name: spec.0, category: spec.1, mask: m)
        }
    }

    /// Image-level thickness and slant bins, from the last `compute`.
    func morphologyConcepts(layout: MaskLayout) -> [Concept] {
        var out: [Concept] = []
        let tn = ImageConceptConfig.binNames("thickness", config.thicknessEdges, words: ["thin", "medium", "thick"])
        for (b, name) in tn.enumerated() {
            out.append(Concept(name: name, category: .morphology, imageLevel: true,
                               mask: layout.imageMask(thickness.map { $0.map { Morphometry.bin($0, edges: config.thicknessEdges) == b } ?? false })))
        }
        let sn = ImageConceptConfig.binNames("slant", config.slantEdgesDegrees, words: ["left", "upright", "right"])
        for (b, name) in sn.enumerated() {
            out.append(Concept(name: name, category: .morphology, imageLevel: true,
                               mask: layout.imageMask(slant.map { $0.map { Morphometry.bin($0, edges: config.slantEdgesDegrees) == b } ?? false })))
        }
        return out
    }

    static func write(_ m: [Bool], to dst: UnsafeMutablePointer<UInt64>) {
        for (p, b) in m.enumerated() where b { dst[p >> 6] |= 1 << UInt64(p & 63) }
    }

    /// Every pixel concept of one image (planes `[C, H, W]` at `src`).
    func analyse(_ src: UnsafePointer<Float>) -> (masks: [[Bool]], thickness: Double?, slant: Double?) {
        let h = height, w = width, p = h * w
        var grey = [Float](repeating: 0, count: p)
        if channels == 3 {
            for i in 0..<p { grey[i] = 0.299 * src[i] + 0.587 * src[p + i] + 0.114 * src[2 * p + i] }
        } else {
            for i in 0..<p { grey[i] = src[i] }
        }
        let fg = grey.withUnsafeBufferPointer { ImageOps.foreground($0, threshold: config.foregroundThreshold) }
        var masks: [[Bool]] = [fg, fg.map { !$0 }, ImageOps.holes(foreground: fg, height: h, width: w).mask]
        let (gx, gy) = grey.withUnsafeBufferPointer { ImageOps.sobel($0, height: h, width: w) }
        var edges = [[Bool]](repeating: [Bool](repeating: false, count: p), count: 4)
        let t2 = config.edgeThreshold * config.edgeThreshold
        for i in 0..<p where gx[i] * gx[i] + gy[i] * gy[i] >= t2 { edges[ImageOps.orientationBin(gx: gx[i], gy: gy[i])][i] = true }
        masks += edges
        let skel = Skeleton.thin(fg, height: h, width: w)
        let dist = ImageOps.distanceTransform(fg, height: h, width: w)
        let r = config.keypointRadius
        masks.append(skel)
        masks.append(ImageOps.dilate(Skeleton.endpoints(skel, height: h, width: w), height: h, width: w, radius: r))
        masks.append(ImageOps.dilate(Skeleton.junctions(skel, height: h, width: w), height: h, width: w, radius: r))
        let widths = Skeleton.strokeWidths(foreground: fg, skeleton: skel, distance: dist, height: h, width: w)
        let thick = (0..<p).map { fg[$0] && widths[$0] > config.thickStrokeWidth }
        masks.append(thick)
        masks.append((0..<p).map { fg[$0] && !thick[$0] })
        var grid = [[Bool]](repeating: [Bool](repeating: false, count: p), count: 9)
        for y in 0..<h { for x in 0..<w { grid[ImageOps.gridCell(y: y, x: x, height: h, width: w)][y * w + x] = true } }
        masks += grid
        let ie = config.intensityEdges.map(Double.init)
        var bins = [[Bool]](repeating: [Bool](repeating: false, count: p), count: ie.count + 1)
        for i in 0..<p { bins[Morphometry.bin(Double(grey[i]), edges: ie)][i] = true }
        masks += bins
        if channels == 3 {
            var colours = [[Bool]](repeating: [Bool](repeating: false, count: p), count: ColourNames.names.count)
            for i in 0..<p { colours[ColourNames.index(r: src[i], g: src[p + i], b: src[2 * p + i])][i] = true }
            masks += colours
        }
        return (masks, Morphometry.thickness(skeleton: skel, distance: dist), Morphometry.slantDegrees(foreground: fg, height: h, width: w))
    }
}
