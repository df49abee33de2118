/// A boolean mask over a fixed number of bits, packed 64 to a `UInt64` word (bit `i` is bit `i % 64` of word
/// `i / 64`). Bits past `count` in the last word are always zero, so every count is a plain popcount.
///
/// Concept and unit masks are sets of pixels; intersection, union and difference sizes of two masks are then
/// AND / OR / AND-NOT plus `nonzeroBitCount` per word, and the counting functions never allocate.
public struct BitMask: Equatable, Hashable, Sendable, Codable {
    /// Number of bits.
    public let count: Int
    /// The packed bits, `(count + 63) / 64` words.
    public private(set) var words: [UInt64]

    /// An all-false mask of `count` bits.
    public init(count: Int) {
        precondition(count >= 0, "negative bit count")
        self.count = count
        words = [UInt64](repeating: 0, count: (count + 63) / 64)
    }

    /// Wraps packed words. Throws when the number of words is wrong or bits past `count` are set.
    public init(count: Int, words: [UInt64]) throws {
        guard count >= 0, words.count == (count + 63) / 64 else {
            throw GlassboxError.invalidArgument(name: "bit mask", expected: "\((max(0, count) + 63) / 64) words for \(count) bits",
                                                found: "\(words.count) words")
        }
        if count % 64 != 0, let last = words.last, last & ~BitMask.tailMask(count) != 0 {
            throw GlassboxError.invalidArgument(name: "bit mask", expected: "no bits set past bit \(count)", found: "stray bits in the last word")
        }
        self.count = count
        self.words = words
    }

    private enum CodingKeys: String, CodingKey { case count, words }

    /// Decodes and validates (word count, no stray bits).
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try self.init(count: try c.decode(Int.self, forKey: .count), words: try c.decode([UInt64].self, forKey: .words))
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(count, forKey: .count)
        try c.encode(words, forKey: .words)
    }

    /// A mask from booleans.
    public init(_ bits: [Bool]) {
        self.init(count: bits.count)
        for (i, b) in bits.enumerated() where b { words[i >> 6] |= 1 << UInt64(i & 63) }
    }

    /// The valid bits of the last word (all ones when `count` is a multiple of 64).
    @inline(__always) static func tailMask(_ count: Int) -> UInt64 {
        count % 64 == 0 ? ~0 : (1 << UInt64(count % 64)) - 1
    }

    public subscript(i: Int) -> Bool {
        get { words[i >> 6] & (1 << UInt64(i & 63)) != 0 }
        set {
            if newValue { words[i >> 6] |= 1 << UInt64(i & 63) } else { words[i >> 6] &= ~(1 << UInt64(i & 63)) }
        }
    }

    /// Number of set bits.
    public var popcount: Int { words.withUnsafeBufferPointer { BitMask.popcount($0.baseAddress!, $0.count) } }

    public var isEmpty: Bool { words.allSatisfy { $0 == 0 } }

    /// The bits as booleans (for tests and small masks).
    public var bools: [Bool] { (0..<count).map { self[$0] } }

    /// Indices of the set bits, ascending.
    public var setIndices: [Int] {
        var out: [Int] = []
        for (w, word) in words.enumerated() {
            var x = word
            while x != 0 {
                out.append(w * 64 + x.trailingZeroBitCount)
                x &= x - 1
            }
        }
        return out
    }

    /// Sets or clears every bit in `range`.
    public mutating func setRange(_ range: Range<Int>, to value: Bool = true) {
        for i in range { self[i] = value }
    }

    /// Read access to the words for hot loops.
    @inlinable
    public func withWords<R>(_ body: (UnsafePointer<UInt64>) throws -> R) rethrows -> R {
        try words.withUnsafeBufferPointer { try body($0.baseAddress ?? UnsafePointer(bitPattern: 8)!) }
    }

    /// Write access to the words; the caller must leave bits past `count` zero.
    public mutating func withMutableWords<R>(_ body: (UnsafeMutablePointer<UInt64>) throws -> R) rethrows -> R {
        try words.withUnsafeMutableBufferPointer { try body($0.baseAddress ?? UnsafeMutablePointer(bitPattern: 8)!) }
    }

    // MARK: In-place and value operations

    public mutating func formIntersection(_ other: BitMask) {
        precondition(count == other.count, "bit masks of \(count) and \(other.count) bits")
        other.words.withUnsafeBufferPointer { o in words.withUnsafeMutableBufferPointer { w in for i in 0..<w.count { w[i] &= o[i] } } }
    }

    public mutating func formUnion(_ other: BitMask) {
        precondition(count == other.count, "bit masks of \(count) and \(other.count) bits")
        other.words.withUnsafeBufferPointer { o in words.withUnsafeMutableBufferPointer { w in for i in 0..<w.count { w[i] |= o[i] } } }
    }

    /// Removes the bits of `other` (self AND NOT other).
    public mutating func subtract(_ other: BitMask) {
        precondition(count == other.count, "bit masks of \(count) and \(other.count) bits")
        other.words.withUnsafeBufferPointer { o in words.withUnsafeMutableBufferPointer { w in for i in 0..<w.count { w[i] &= ~o[i] } } }
    }

    /// The complement within the first `count` bits.
    public func complement() -> BitMask {
        var m = self
        m.words.withUnsafeMutableBufferPointer { w in for i in 0..<w.count { w[i] = ~w[i] } }
        if let last = m.words.indices.last { m.words[last] &= BitMask.tailMask(count) }
        return m
    }

    public static func & (a: BitMask, b: BitMask) -> BitMask { var m = a; m.formIntersection(b); return m }
    public static func | (a: BitMask, b: BitMask) -> BitMask { var m = a; m.formUnion(b); return m }
    /// a AND NOT b.
    public static func andNot(_ a: BitMask, _ b: BitMask) -> BitMask { var m = a; m.subtract(b); return m }

    // MARK: Counting without allocating

    /// |a ∩ b|.
    public static func intersectionCount(_ a: BitMask, _ b: BitMask) -> Int {
        precondition(a.count == b.count, "bit masks of \(a.count) and \(b.count) bits")
        return a.withWords { x in b.withWords { y in intersectionCount(x, y, a.words.count) } }
    }

    /// |a ∪ b|.
    public static func unionCount(_ a: BitMask, _ b: BitMask) -> Int {
        precondition(a.count == b.count, "bit masks of \(a.count) and \(b.count) bits")
        var s = 0
        a.withWords { x in b.withWords { y in for i in 0..<a.words.count { s &+= (x[i] | y[i]).nonzeroBitCount } } }
        return s
    }

    /// |a ∖ b| = |a AND NOT b|.
    public static func differenceCount(_ a: BitMask, _ b: BitMask) -> Int {
        precondition(a.count == b.count, "bit masks of \(a.count) and \(b.count) bits")
        var s = 0
        a.withWords { x in b.withWords { y in for i in 0..<a.words.count { s &+= (x[i] & ~y[i]).nonzeroBitCount } } }
        return s
    }

    /// |a ∩ b ∩ c|.
    public static func intersectionCount(_ a: BitMask, _ b: BitMask, _ c: BitMask) -> Int {
        precondition(a.count == b.count && b.count == c.count, "bit masks of different sizes")
        var s = 0
        a.withWords { x in b.withWords { y in c.withWords { z in for i in 0..<a.words.count { s &+= (x[i] & y[i] & z[i]).nonzeroBitCount } } } }
        return s
    }

    /// Number of set bits in `n` words.
    @inline(__always)
    public static func popcount(_ p: UnsafePointer<UInt64>, _ n: Int) -> Int {
        var s = 0
        for i in 0..<n { s &+= p[i].nonzeroBitCount }
        return s
    }

    /// |a ∩ b| over `n` words.
    @inline(__always)
    public static func intersectionCount(_ a: UnsafePointer<UInt64>, _ b: UnsafePointer<UInt64>, _ n: Int) -> Int {
        var s = 0
        for i in 0..<n { s &+= (a[i] & b[i]).nonzeroBitCount }
        return s
    }
}

/// How the pixel masks of a set of equally sized images are laid out in one `BitMask`: each image takes a whole
/// number of words (`wordsPerImage = ⌈H·W / 64⌉`), pixel `(y, x)` of image `i` is bit
/// `i · wordsPerImage · 64 + y · W + x`, and the bits that pad an image to whole words stay zero.
///
/// Whole words per image let per-image counts, bounding boxes and shuffles work on word blocks; the padding costs
/// 1/49 of the bits at 28×28 and none at 32×32.
public struct MaskLayout: Equatable, Hashable, Codable, Sendable {
    public let images: Int
    public let height: Int
    public let width: Int

    public init(images: Int, height: Int, width: Int) {
        precondition(images >= 0 && height > 0 && width > 0, "mask layout \(images)×\(height)×\(width)")
        self.images = images; self.height = height; self.width = width
    }

    public var pixelsPerImage: Int { height * width }
    public var wordsPerImage: Int { (height * width + 63) / 64 }
    public var wordCount: Int { images * wordsPerImage }
    public var bitCount: Int { wordCount * 64 }
    /// Number of real pixels (padding excluded).
    public var pixelCount: Int { images * pixelsPerImage }

    @inline(__always) public func bit(image: Int, pixel: Int) -> Int { image * wordsPerImage * 64 + pixel }

    /// An empty mask of this layout.
    public func emptyMask() -> BitMask { BitMask(count: bitCount) }

    /// Every real pixel of every image set (the universe a NOT is taken in).
    public func fullMask() -> BitMask {
        var m = emptyMask()
        let p = pixelsPerImage, wpi = wordsPerImage
        m.withMutableWords { w in
            for i in 0..<images {
                for k in 0..<wpi {
                    let bitsHere = min(64, p - k * 64)
                    w[i * wpi + k] = bitsHere == 64 ? ~0 : (1 << UInt64(bitsHere)) - 1
                }
            }
        }
        return m
    }

    /// Every pixel of the images where `flags` is true (an image-level concept).
    public func imageMask(_ flags: [Bool]) -> BitMask {
        precondition(flags.count == images)
        let full = fullMask()
        var m = emptyMask()
        let wpi = wordsPerImage
        full.withWords { f in
            m.withMutableWords { w in
                for i in 0..<images where flags[i] { for k in 0..<wpi { w[i * wpi + k] = f[i * wpi + k] } }
            }
        }
        return m
    }

    /// Checks that `mask` has this layout's size and no bit set in the padding.
    public func validate(_ mask: BitMask, name: String) throws {
        guard mask.count == bitCount else {
            throw GlassboxError.invalidArgument(name: name, expected: "a mask of \(bitCount) bits (\(images) images of \(height)×\(width))",
                                                found: "\(mask.count) bits")
        }
        let p = pixelsPerImage, wpi = wordsPerImage
        guard p % 64 != 0 else { return }
        let lastBits = p - (wpi - 1) * 64
        let pad = ~((1 << UInt64(lastBits)) - 1) as UInt64
        let bad: Int? = mask.withWords { w in
            for i in 0..<images where w[i * wpi + wpi - 1] & pad != 0 { return i }
            return nil
        }
        if let bad {
            throw GlassboxError.invalidArgument(name: name, expected: "no bits set in the padding past pixel \(p) of an image",
                                                found: "stray bits in image \(bad)")
        }
    }
}
