import Foundation

/// Readable tick positions and labels.
///
/// Linear ticks are multiples of 1, 2 or 5 × 10^k that cover the data range. Tick values are computed as
/// integer × 10^k (dividing by an exact power of ten for k < 0), so `0.2 * 3` noise never appears: the ticks are
/// the doubles nearest to the decimal numbers, and labels print exactly the decimals the step needs.
public enum Ticks {
    /// Nice linear ticks: at most `maxCount` values, first ≤ `low`, last ≥ `high`, step 1, 2 or 5 × 10^k.
    public static func linear(_ low: Double, _ high: Double, maxCount: Int = 6) -> (values: [Double], labels: [String]) {
        var lo = min(low, high), hi = max(low, high)
        if !lo.isFinite || !hi.isFinite { lo = 0; hi = 1 }
        if hi == lo {
            let d = lo == 0 ? 1 : abs(lo) * 0.1
            lo -= d; hi += d
        }
        let target = max(2, maxCount)
        let raw = (hi - lo) / Double(target - 1)
        var k = Int(floor(log10(raw)))
        var mantissas = [1, 2, 5]
        var mi = 0
        // Smallest 1-2-5 step ≥ raw that gives at most `target` ticks.
        while true {
            let m = mantissas[mi]
            let step = scaled(m, k)
            if step >= raw * (1 - 1e-9) {
                let first = floor(lo / step + 1e-9), last = ceil(hi / step - 1e-9)
                if last - first + 1 <= Double(target) {
                    let firstI = Int(first), lastI = Int(last)
                    let values = (firstI...lastI).map { scaled($0 * m, k) }
                    return (values, labels(values, decimals: max(0, -k), exponent: k))
                }
            }
            mi += 1
            if mi == mantissas.count { mi = 0; k += 1; mantissas = [1, 2, 5] }
        }
    }

    /// Powers of ten covering low…high (both > 0); every n-th decade when there would be more than `maxCount`.
    public static func log(_ low: Double, _ high: Double, maxCount: Int = 6) -> (values: [Double], labels: [String]) {
        let lo = low > 0 && low.isFinite ? low : 1e-3
        let hi = high > lo && high.isFinite ? high : lo * 10
        var a = Int(floor(log10(lo) + 1e-9)), b = Int(ceil(log10(hi) - 1e-9))
        if a == b { a -= 1; b += 0 }
        let decades = b - a
        let every = max(1, Int(ceil(Double(decades) / Double(max(1, maxCount - 1)))))
        a = Int(floor(Double(a) / Double(every))) * every
        b = Int(ceil(Double(b) / Double(every))) * every
        let exps = stride(from: a, through: b, by: every).map { $0 }
        let values = exps.map { scaled(1, $0) }
        let labels = exps.map { e -> String in
            if e >= -4 && e <= 4 { return format(scaled(1, e), decimals: max(0, -e)) }
            return "10" + superscript(e)
        }
        return (values, labels)
    }

    /// `v` with `decimals` digits after the point, never "-0".
    public static func format(_ v: Double, decimals: Int) -> String {
        let s = String(format: "%.\(max(0, decimals))f", v)
        if s.hasPrefix("-"), s.dropFirst().allSatisfy({ $0 == "0" || $0 == "." }) { return String(s.dropFirst()) }
        return s
    }

    /// A short general-purpose number label (for annotations): up to `significant` digits, no float noise.
    public static func compact(_ v: Double, significant: Int = 3) -> String {
        guard v.isFinite else { return v.isNaN ? "NaN" : (v > 0 ? "∞" : "−∞") }
        if v == 0 { return "0" }
        let mag = Int(floor(log10(abs(v))))
        if mag >= 6 || mag <= -4 {
            var s = String(format: "%.\(max(0, significant - 1))e", v)
            // 1.50e+06 → 1.5e6
            if let e = s.firstIndex(of: "e") {
                var mant = String(s[..<e]), exp = String(s[s.index(after: e)...])
                if mant.contains(".") { while mant.hasSuffix("0") { mant.removeLast() }; if mant.hasSuffix(".") { mant.removeLast() } }
                let expInt = Int(exp) ?? 0
                exp = String(expInt)
                s = mant + "e" + exp
            }
            return s
        }
        let decimals = max(0, significant - 1 - mag)
        var s = format(v, decimals: decimals)
        if s.contains(".") { while s.hasSuffix("0") { s.removeLast() }; if s.hasSuffix(".") { s.removeLast() } }
        return s
    }

    static func labels(_ values: [Double], decimals: Int, exponent k: Int) -> [String] {
        let big = values.map(abs).max() ?? 0
        if big >= 1e7 || (k <= -6) {
            return values.map { compact($0, significant: 3) }
        }
        return values.map { format($0, decimals: decimals) }
    }

    /// m × 10^k computed so that the result is the double nearest the decimal value.
    static func scaled(_ m: Int, _ k: Int) -> Double {
        k >= 0 ? Double(m) * pow(10, Double(k)) : Double(m) / pow(10, Double(-k))
    }

    static func superscript(_ n: Int) -> String {
        let digits: [Character] = ["⁰", "¹", "²", "³", "⁴", "⁵", "⁶", "⁷", "⁸", "⁹"]
        let body = String(abs(n)).map { digits[Int(String($0))!] }
        return (n < 0 ? "⁻" : "") + String(body)
    }
}
