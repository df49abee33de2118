/// A non-negative fraction of pixel counts — an IoU or a bound on one — compared exactly by cross-multiplication,
/// so ties and bounds never depend on floating-point rounding. A zero denominator means 0.
public struct Fraction: Comparable, Hashable, Sendable {
    public let numerator: Int
    public let denominator: Int

    public init(_ numerator: Int, _ denominator: Int) {
        if denominator <= 0 || numerator <= 0 { self.numerator = 0; self.denominator = 1 } else { self.numerator = numerator; self.denominator = denominator }
    }

    public static let zero = Fraction(0, 1)

    public var value: Double { Double(numerator) / Double(denominator) }

    /// Exact: a/b < c/d ⇔ a·d < c·b (counts stay far below 2^31, so the products fit in 64 bits).
    public static func < (a: Fraction, b: Fraction) -> Bool { a.numerator * b.denominator < b.numerator * a.denominator }
    public static func == (a: Fraction, b: Fraction) -> Bool { a.numerator * b.denominator == b.numerator * a.denominator }
    public func hash(into h: inout Hasher) { h.combine(value) }

    /// IoU of a formula with `intersection` pixels in common with a unit mask of `unit` pixels, the formula having
    /// `area` pixels: I / (area + unit − I).
    @inline(__always) public static func iou(intersection i: Int, area: Int, unit n: Int) -> Fraction { Fraction(i, area + n - i) }
}

/// A formula with its exact IoU, as results report it.
public struct FormulaScore: Codable, Equatable, Sendable {
    public var formula: Formula
    /// Readable form ("(disc OR ring) AND NOT top-left").
    public var text: String
    public var iou: Double
    /// Pixels in both the formula's mask and the unit's.
    public var intersection: Int
    /// Pixels in either.
    public var union: Int

    public init(formula: Formula, names: [String], iou: Fraction, intersection: Int, union: Int) {
        self.formula = formula
        text = formula.description(names)
        self.iou = iou.value
        self.intersection = intersection
        self.union = union
    }
}

/// The order of the searches' results: higher IoU first, then the shorter formula, then the canonical key (so
/// ties are broken the same way however candidates are visited).
@inline(__always)
func ranksBefore(_ a: (iou: Fraction, length: Int, key: String), _ b: (iou: Fraction, length: Int, key: String)) -> Bool {
    if a.iou != b.iou { return a.iou > b.iou }
    if a.length != b.length { return a.length < b.length }
    return a.key < b.key
}
