import GlassboxCore
import GlassboxData

/// A probe set's concept masks prepared for the explanation methods: per-concept counts, per-image counts and
/// bounding boxes, the images each category annotates, and (on demand) every pairwise intersection |A ∩ B|.
///
/// Built once per probe set and shared read-only by the parallel workers.
public final class ConceptIndex: @unchecked Sendable {
    public let layout: MaskLayout
    public let names: [String]
    public let categories: [ConceptCategory]
    public let masks: [SampleMask]
    /// Every real pixel (the universe NOT is taken in).
    public let full: BitMask
    /// For each category, whether image s carries an annotation of it (some concept of the category is present).
    public let annotated: [ConceptCategory: [Bool]]
    private var pairs: [Int] = []

    public var count: Int { names.count }

    public init(_ probes: ProbeSet) throws {
        guard probes.concepts.count <= 99_999 else {
            throw GlassboxError.invalidArgument(name: "probe set", expected: "at most 99999 concepts", found: "\(probes.concepts.count)")
        }
        layout = probes.layout
        names = probes.concepts.map(\.name)
        categories = probes.concepts.map(\.category)
        let concepts = probes.concepts
        let L = layout
        var built = [SampleMask?](repeating: nil, count: concepts.count)
        built.withUnsafeMutableBufferPointer { out in
            let p = out.baseAddress!
            Parallel.forChunks(concepts.count) { _, r in for k in r { p[k] = SampleMask(concepts[k].mask, layout: L, boxes: true) } }
        }
        masks = built.map { $0! }
        full = layout.fullMask()
        var ann: [ConceptCategory: [Bool]] = [:]
        for (k, m) in masks.enumerated() {
            var flags = ann[categories[k]] ?? [Bool](repeating: false, count: layout.images)
            for s in m.images { flags[Int(s)] = true }
            ann[categories[k]] = flags
        }
        annotated = ann
    }

    /// Computes every |A ∩ B| (once; later calls return at once). Rows run in parallel over fixed chunks.
    public func preparePairs() {
        guard pairs.isEmpty, count > 0 else { return }
        let c = count, wpi = layout.wordsPerImage
        var table = [Int](repeating: 0, count: c * c)
        let ms = masks
        table.withUnsafeMutableBufferPointer { t in
            let tp = t.baseAddress!
            Parallel.forChunks(c, parts: min(c, 4 * Parallel.threads)) { _, rows in
                for a in rows {
                    tp[a * c + a] = ms[a].count
                    for b in (a + 1)..<max(a + 1, c) {
                        var x = 0
                        ms[a].mask.withWords { wa in
                            ms[b].mask.withWords { wb in
                                forCommonImages(ms[a], ms[b]) { s in x &+= BitMask.intersectionCount(wa + s * wpi, wb + s * wpi, wpi) }
                            }
                        }
                        tp[a * c + b] = x
                    }
                }
            }
        }
        for a in 0..<c { for b in 0..<a { table[a * c + b] = table[b * c + a] } }
        pairs = table
    }

    /// |A ∩ B| (after `preparePairs`).
    @inline(__always) func pair(_ a: Int, _ b: Int) -> Int { pairs[a * count + b] }
    var hasPairs: Bool { !pairs.isEmpty }

    /// Index of a concept by name.
    public func index(of name: String) -> Int? { names.firstIndex(of: name) }
}
