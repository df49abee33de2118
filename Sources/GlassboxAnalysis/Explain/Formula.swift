import GlassboxCore

/// A logical formula over concepts (Mu & Andreas 2020): a concept, its negation, or the AND / OR of two formulas.
/// The searches build left-deep formulas `((A op B) op C)` with op ∈ {OR, AND, AND NOT}.
///
/// JSON: `{"concept": 3}`, `{"not": F}`, `{"and": [F, G]}`, `{"or": [F, G]}`.
public indirect enum Formula: Hashable, Sendable, Codable {
    case concept(Int)
    case not(Formula)
    case and(Formula, Formula)
    case or(Formula, Formula)

    private enum CodingKeys: String, CodingKey { case concept, not, and, or }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .concept(let i): try c.encode(i, forKey: .concept)
        case .not(let f): try c.encode(f, forKey: .not)
        case .and(let a, let b): try c.encode([a, b], forKey: .and)
        case .or(let a, let b): try c.encode([a, b], forKey: .or)
        }
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        if let i = try c.decodeIfPresent(Int.self, forKey: .concept) {
            self = .concept(i)
        } else if let f = try c.decodeIfPresent(Formula.self, forKey: .not) {
            self = .not(f)
        } else if let p = try c.decodeIfPresent([Formula].self, forKey: .and), p.count == 2 {
            self = .and(p[0], p[1])
        } else if let p = try c.decodeIfPresent([Formula].self, forKey: .or), p.count == 2 {
            self = .or(p[0], p[1])
        } else {
            throw DecodingError.dataCorrupted(.init(codingPath: c.codingPath, debugDescription: "a formula: concept, not, and [2] or or [2]"))
        }
    }

    /// Number of concept occurrences (NOT adds nothing, as in the clustered-explanations code).
    public var length: Int {
        switch self {
        case .concept: return 1
        case .not(let f): return f.length
        case .and(let a, let b), .or(let a, let b): return a.length + b.length
        }
    }

    /// The concepts used, in order of appearance.
    public var concepts: [Int] {
        switch self {
        case .concept(let i): return [i]
        case .not(let f): return f.concepts
        case .and(let a, let b), .or(let a, let b): return a.concepts + b.concepts
        }
    }

    /// Readable form: "(disc OR ring) AND NOT top-left". Binary operands that are themselves binary get brackets.
    public func description(_ names: [String]) -> String {
        func operand(_ f: Formula) -> String {
            switch f {
            case .and, .or: return "(\(f.description(names)))"
            default: return f.description(names)
            }
        }
        switch self {
        case .concept(let i): return i >= 0 && i < names.count ? names[i] : "#\(i)"
        case .not(let f): return "NOT \(operand(f))"
        case .and(let a, .not(let b)): return "\(operand(a)) AND NOT \(operand(b))"
        case .and(let a, let b): return "\(operand(a)) AND \(operand(b))"
        case .or(let a, let b): return "\(operand(a)) OR \(operand(b))"
        }
    }

    /// A canonical text such that formulas equal up to commutativity and associativity of AND and OR get the same
    /// key: AND/OR chains are flattened and their operands sorted. Concept indices are zero-padded, so keys sort
    /// like the concept indices. Used to drop duplicate candidates and to break IoU ties deterministically.
    public var canonicalKey: String {
        switch self {
        case .concept(let i):
            let s = String(i)
            return "c" + String(repeating: "0", count: max(0, 5 - s.count)) + s
        case .not(let f): return "!" + f.canonicalKey
        case .and: return "&(" + flattened(and: true).map(\.canonicalKey).sorted().joined(separator: ",") + ")"
        case .or: return "|(" + flattened(and: false).map(\.canonicalKey).sorted().joined(separator: ",") + ")"
        }
    }

    private func flattened(and: Bool) -> [Formula] {
        switch (self, and) {
        case let (.and(a, b), true), let (.or(a, b), false): return a.flattened(and: and) + b.flattened(and: and)
        default: return [self]
        }
    }

    /// Checks that every concept index is in 0..<conceptCount (do this before `mask` on a formula from outside).
    public func validate(conceptCount: Int) throws {
        if let bad = concepts.first(where: { $0 < 0 || $0 >= conceptCount }) {
            throw GlassboxError.invalidArgument(name: "formula", expected: "concept indices in 0..<\(conceptCount)", found: "\(bad)")
        }
    }

    /// The formula's pixels, from the concept masks (NOT within `full`); indices must be valid (`validate`).
    public func mask(_ concepts: [BitMask], full: BitMask) -> BitMask {
        switch self {
        case .concept(let i): return concepts[i]
        case .not(let f): return BitMask.andNot(full, f.mask(concepts, full: full))
        case .and(let a, .not(let b)): return BitMask.andNot(a.mask(concepts, full: full), b.mask(concepts, full: full))
        case .and(let a, let b): return a.mask(concepts, full: full) & b.mask(concepts, full: full)
        case .or(let a, let b): return a.mask(concepts, full: full) | b.mask(concepts, full: full)
        }
    }

    public func mask(_ index: ConceptIndex) -> BitMask { mask(index.masks.map(\.mask), full: index.full) }
}

/// The operators a search step appends a concept with (new term on the right).
public enum FormulaOp: Int, CaseIterable, Sendable {
    case or = 0, and = 1, andNot = 2

    public func apply(_ f: Formula, _ c: Int) -> Formula {
        switch self {
        case .or: return .or(f, .concept(c))
        case .and: return .and(f, .concept(c))
        case .andNot: return .and(f, .not(.concept(c)))
        }
    }
}
