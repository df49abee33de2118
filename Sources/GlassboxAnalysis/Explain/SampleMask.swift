import GlassboxCore

/// The bounding box of a mask inside one image: rows `y0..<y1`, columns `x0..<x1` (empty when y0 ≥ y1).
public struct PixelBox: Equatable, Sendable {
    public var y0: Int16, x0: Int16, y1: Int16, x1: Int16
    public static let empty = PixelBox(y0: 0, x0: 0, y1: 0, x1: 0)

    /// Area of the intersection of two boxes (0 when they do not meet).
    @inline(__always) public static func overlap(_ a: PixelBox, _ b: PixelBox) -> Int {
        let h = Int(min(a.y1, b.y1)) - Int(max(a.y0, b.y0)), w = Int(min(a.x1, b.x1)) - Int(max(a.x0, b.x0))
        return h > 0 && w > 0 ? h * w : 0
    }
}

/// A pixel mask over a probe set together with what the search reads per image: the set pixels per image, the
/// images where it is not empty (ascending), the total, and optionally each image's bounding box.
///
/// Every mask the explanation methods handle — concepts, unit masks, formulas — takes this form once, so that
/// intersections only visit the images both masks touch and the IoU bound can work image by image.
public struct SampleMask: Sendable {
    public let layout: MaskLayout
    public let mask: BitMask
    /// Set pixels of image s.
    public let perImage: [Int32]
    /// Images with at least one set pixel, ascending.
    public let images: [Int32]
    /// Set pixels in total.
    public let count: Int
    /// Bounding box per image (`PixelBox.empty` where the image has none); empty array when not computed.
    public let boxes: [PixelBox]

    /// Checks that `mask` has the layout's size and no padding bits set first.
    public init(checking mask: BitMask, layout: MaskLayout, boxes: Bool = false) throws {
        try layout.validate(mask, name: "mask")
        self.init(mask, layout: layout, boxes: boxes)
    }

    /// For masks known to fit the layout (built by Glassbox).
    init(_ mask: BitMask, layout: MaskLayout, boxes wantBoxes: Bool = false) {
        precondition(mask.count == layout.bitCount, "mask of \(mask.count) bits for layout \(layout)")
        self.layout = layout
        self.mask = mask
        let n = layout.images, wpi = layout.wordsPerImage
        var per = [Int32](repeating: 0, count: n)
        var imgs: [Int32] = []
        var total = 0
        mask.withWords { w in
            for s in 0..<n {
                let c = BitMask.popcount(w + s * wpi, wpi)
                per[s] = Int32(c)
                if c > 0 { imgs.append(Int32(s)); total += c }
            }
        }
        perImage = per
        images = imgs
        count = total
        if wantBoxes {
            var b = [PixelBox](repeating: .empty, count: n)
            mask.withWords { w in for s in imgs { b[Int(s)] = SampleMask.box(w + Int(s) * wpi, layout) } }
            boxes = b
        } else {
            boxes = []
        }
    }

    /// Bounding box of one image's pixels (`words` points at the image's first word).
    static func box(_ words: UnsafePointer<UInt64>, _ layout: MaskLayout) -> PixelBox {
        let h = layout.height, w = layout.width
        var y0 = h, y1 = 0, x0 = w, x1 = 0
        for y in 0..<h {
            var x = 0
            while x < w {
                let take = min(64, w - x)
                let bits = SampleMask.bits(words, from: y * w + x, count: take)
                if bits != 0 {
                    y0 = min(y0, y); y1 = y + 1
                    x0 = min(x0, x + bits.trailingZeroBitCount)
                    x1 = max(x1, x + 64 - bits.leadingZeroBitCount)
                }
                x += take
            }
        }
        return y0 >= y1 ? .empty : PixelBox(y0: Int16(y0), x0: Int16(x0), y1: Int16(y1), x1: Int16(x1))
    }

    /// `count` (≤ 64) bits starting at bit `start`, in the low bits of the result.
    @inline(__always)
    static func bits(_ words: UnsafePointer<UInt64>, from start: Int, count: Int) -> UInt64 {
        let w = start >> 6, o = UInt64(start & 63)
        var v = words[w] >> o
        if o != 0 && Int(o) + count > 64 { v |= words[w + 1] << (64 - o) }
        return count == 64 ? v : v & ((1 << UInt64(count)) - 1)
    }

    /// The pixels of image `s` as a mask of `height·width` bits (for figures).
    public func imageMask(_ s: Int) -> BitMask {
        var m = BitMask(count: layout.pixelsPerImage)
        let wpi = layout.wordsPerImage
        mask.withWords { src in m.withMutableWords { dst in (dst).update(from: src + s * wpi, count: wpi) } }
        return m
    }
}

/// Visits the images present in both masks: iterates the shorter image list and checks the other's count.
@inline(__always)
func forCommonImages(_ a: SampleMask, _ b: SampleMask, _ body: (Int) -> Void) {
    let (short, long) = a.images.count <= b.images.count ? (a, b) : (b, a)
    long.perImage.withUnsafeBufferPointer { lp in
        for s in short.images where lp[Int(s)] > 0 { body(Int(s)) }
    }
}
