import GlassboxCore

/// A range of a unit's activations: values above `lower` (strictly when `lowerStrict`) and at most `upper`.
/// Network dissection and compositional explanations use (T, ∞) with T the top-quantile threshold; clustered
/// explanations use the closed range [min, max] of each cluster.
public struct ActivationRange: Codable, Equatable, Sendable {
    public var lower: Double
    public var lowerStrict: Bool
    /// nil: no upper limit.
    public var upper: Double?

    public init(lower: Double, lowerStrict: Bool, upper: Double?) { self.lower = lower; self.lowerStrict = lowerStrict; self.upper = upper }

    /// (T, ∞).
    public static func above(_ t: Double) -> ActivationRange { ActivationRange(lower: t, lowerStrict: true, upper: nil) }

    @inline(__always) public func contains(_ v: Float) -> Bool {
        let d = Double(v)
        if lowerStrict ? !(d > lower) : !(d >= lower) { return false }
        if let u = upper, d > u { return false }
        return true
    }

    /// "> 0.53" or "[0.12, 0.53]".
    public var text: String {
        func f(_ x: Double) -> String { String(format: "%.4g", x) }
        if let u = upper { return "\(lowerStrict ? "(" : "[")\(f(lower)), \(f(u))]" }
        return "> \(f(lower))"
    }
}

/// Unit masks: which probe pixels a unit marks for an activation range.
public enum UnitMasks {
    /// The top-`q` quantile threshold of `values`: numpy's default (linear-interpolation) quantile at 1 − q, i.e. the
    /// 99.5th percentile for q = 0.005. Exact (sorts a copy). 0 for no values; q is clamped to [0, 1].
    public static func topQuantile(_ values: [Float], q: Double) -> Double {
        guard !values.isEmpty else { return 0 }
        let q = q.isNaN ? 0 : min(1, max(0, q))
        return quantileOfSorted(OptimalKMeans1D.sortedFloats(values), 1 - q)
    }

    /// Linear-interpolation quantile p ∈ [0, 1] of ascending values.
    static func quantileOfSorted(_ sorted: [Float], _ p: Double) -> Double {
        let pos = p * Double(sorted.count - 1)
        let lo = Int(pos.rounded(.down)), hi = min(lo + 1, sorted.count - 1)
        let t = pos - Double(lo)
        return Double(sorted[lo]) + t * (Double(sorted[hi]) - Double(sorted[lo]))
    }

    /// The masks of unit `u` for each of `ranges`, over a probe layout of `H×W` images.
    ///
    /// Spatial units: each image's map is upsampled (`Upsampler`) and a pixel is set when its upsampled value is in
    /// the range. Linear units (no map): every pixel of an image is set when the unit's value for that image is in
    /// the range (per-example masks, as compositional explanations treat non-spatial units).
    public static func masks(_ acts: UnitActivations, unit u: Int, ranges: [ActivationRange], layout: MaskLayout,
                             upsampler: Upsampler) throws -> [BitMask] {
        guard acts.count == layout.images else {
            throw GlassboxError.invalidArgument(name: "activations", expected: "\(layout.images) images (the probe set)", found: "\(acts.count)")
        }
        guard u >= 0, u < acts.units else { throw GlassboxError.invalidArgument(name: "unit", expected: "0…\(acts.units - 1)", found: "\(u)") }
        var storage = ranges.map { _ in [UInt64](repeating: 0, count: layout.wordCount) }
        let P = layout.pixelsPerImage, wpi = layout.wordsPerImage, plane = acts.plane, stride = acts.units * plane
        if !acts.spatial {
            let full = layout.fullMask()
            acts.values.withUnsafeBufferPointer { v in
                full.withWords { f in
                    for s in 0..<acts.count {
                        let a = v[s * stride + u]
                        for (r, range) in ranges.enumerated() where range.contains(a) {
                            storage[r].withUnsafeMutableBufferPointer { m in (m.baseAddress! + s * wpi).update(from: f + s * wpi, count: wpi) }
                        }
                    }
                }
            }
        } else {
            let up = try MapUpsampler(height: acts.height, width: acts.width, toHeight: layout.height, toWidth: layout.width,
                                      method: upsampler, field: acts.field)
            var big = [Float](repeating: 0, count: P), row = [Float](repeating: 0, count: acts.width)
            acts.values.withUnsafeBufferPointer { v in
                big.withUnsafeMutableBufferPointer { bp in
                    row.withUnsafeMutableBufferPointer { rp in
                        for s in 0..<acts.count {
                            up.apply(v.baseAddress! + s * stride + u * plane, bp.baseAddress!, rp.baseAddress!)
                            for (r, range) in ranges.enumerated() {
                                let lo = range.lower, hi = range.upper ?? .infinity
                                storage[r].withUnsafeMutableBufferPointer { m in
                                    let dst = m.baseAddress! + s * wpi
                                    if range.lowerStrict {
                                        for p in 0..<P { let v = Double(bp[p]); if v > lo && v <= hi { dst[p >> 6] |= 1 << UInt64(p & 63) } }
                                    } else {
                                        for p in 0..<P { let v = Double(bp[p]); if v >= lo && v <= hi { dst[p >> 6] |= 1 << UInt64(p & 63) } }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return try storage.map { try BitMask(count: layout.bitCount, words: $0) }
    }
}
