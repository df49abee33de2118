import Foundation

/// Lists of whole numbers ≥ 0 written as ranges: `0-15`, `3,5,9`, `0-3,8` (command-line unit, image and seed lists).
public enum IndexList {
    /// The numbers in order. `name` and `expected` make the error (e.g. `--units`, "indices such as 0-15 or 3,5,9");
    /// `distinct` also refuses a number given twice. A range spans at most 100,000 numbers.
    public static func parse(_ text: String, name: String, expected: String, distinct: Bool = false) throws -> [Int] {
        let bad = GlassboxError.invalidArgument(name: name, expected: expected, found: "'\(text)'")
        var out: [Int] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false).map({ $0.trimmingCharacters(in: .whitespaces) }) {
            let ends = part.split(separator: "-", omittingEmptySubsequences: false).map { Int($0) }
            guard !part.isEmpty, ends.count <= 2, let lo = ends.first ?? nil, let hi = ends.last ?? nil, lo >= 0, lo <= hi, hi - lo < 100_000 else {
                throw bad
            }
            out += Array(lo...hi)
        }
        if distinct, Set(out).count != out.count {
            throw GlassboxError.invalidArgument(name: name, expected: "each number once", found: "'\(text)'")
        }
        return out
    }
}
