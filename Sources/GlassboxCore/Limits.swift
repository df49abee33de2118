import Foundation

/// Caps on sizes that come from other people's files, flags and specs, checked before anything is allocated, and
/// checked arithmetic for every size derived from them.
///
/// Glassbox reads checkpoints, arrays and recipes that others write. A size in a header (a tensor shape, an IDX
/// dimension, a model spec) must never wrap around or make the process allocate more than the file could hold, so
/// every product of sizes goes through `product`/`multiply` (which throw instead of wrapping) and three budgets
/// bound what a small file may ask for. Each can be raised with an environment variable; the error names it.
public enum Limits {
    /// One configurable cap: its default, the environment variable that overrides it and what it counts.
    public struct Cap: Sendable {
        public let variable: String
        public let defaultValue: Int
        public let unit: String

        /// The value in force: the environment variable when it holds a positive whole number, else the default.
        public var value: Int {
            if let s = ProcessInfo.processInfo.environment[variable], let v = Int(s.replacingOccurrences(of: "_", with: "")), v > 0 {
                return v
            }
            return defaultValue
        }

        /// Throws when `amount` exceeds the cap, naming `what`, the limit and how to raise it. `unit` overrides the
        /// cap's own unit when it bounds something else as well (a layer's output counts against the model size).
        public func check(_ amount: Int, _ what: String, unit: String? = nil) throws {
            let limit = value, u = unit ?? self.unit
            guard amount <= limit else {
                throw GlassboxError.invalidArgument(
                    name: what, expected: "at most \(limit) \(u) (raise the limit with \(variable)=N)", found: "\(amount) \(u)")
            }
        }
    }

    /// Parameters of one model, and values one layer outputs for one sample.
    public static let parameters = Cap(variable: "GLASSBOX_MAX_PARAMETERS", defaultValue: 100_000_000, unit: "parameters")
    /// Bytes a gzip stream may inflate to.
    public static let decompressedBytes = Cap(variable: "GLASSBOX_MAX_DECOMPRESSED_BYTES", defaultValue: 1 << 30, unit: "bytes")
    /// Simplices of dimension maxdim + 1 a Vietoris–Rips complex could hold, C(n, maxdim + 2).
    public static let simplices = Cap(variable: "GLASSBOX_MAX_SIMPLICES", defaultValue: 2_000_000_000, unit: "simplices")
    /// Points of one persistent-homology computation (its distance matrix holds n² entries).
    public static let points = Cap(variable: "GLASSBOX_MAX_PH_POINTS", defaultValue: 10_000, unit: "points")

    /// `a · b`, or nil when it overflows `Int`.
    @inlinable
    public static func multiply(_ a: Int, _ b: Int) -> Int? {
        let (r, overflow) = a.multipliedReportingOverflow(by: b)
        return overflow ? nil : r
    }

    /// `a + b`, or nil when it overflows `Int`.
    @inlinable
    public static func add(_ a: Int, _ b: Int) -> Int? {
        let (r, overflow) = a.addingReportingOverflow(b)
        return overflow ? nil : r
    }

    /// The product of non-negative sizes, or nil when one is negative or the product overflows `Int`.
    public static func product<S: Sequence>(_ sizes: S) -> Int? where S.Element == Int {
        var p = 1
        for s in sizes {
            guard s >= 0, let q = multiply(p, s) else { return nil }
            p = q
        }
        return p
    }
}
