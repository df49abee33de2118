import Foundation

/// Nodes α_k and weights w_k on [0, 1] with Σ_k w_k f(α_k) ≈ ∫₀¹ f(α) dα.
public struct Quadrature: Codable, Equatable, Sendable {
    public var nodes: [Double]
    public var weights: [Double]

    /// The rule with `n` nodes (n ≥ 2 for the trapezoid). See `QuadratureRule` for how these relate to Captum's.
    public static func make(_ rule: QuadratureRule, _ n: Int) -> Quadrature {
        precondition(n >= 1 && (rule != .riemannTrapezoid || n >= 2))
        let h = 1 / Double(n)
        switch rule {
        case .riemannLeft: return Quadrature(nodes: (0..<n).map { Double($0) * h }, weights: Array(repeating: h, count: n))
        case .riemannRight: return Quadrature(nodes: (1...n).map { Double($0) * h }, weights: Array(repeating: h, count: n))
        case .riemannMiddle: return Quadrature(nodes: (0..<n).map { (Double($0) + 0.5) * h }, weights: Array(repeating: h, count: n))
        case .riemannTrapezoid:
            let d = 1 / Double(n - 1)
            var w = Array(repeating: d, count: n)
            w[0] /= 2
            w[n - 1] /= 2
            return Quadrature(nodes: (0..<n).map { Double($0) * d }, weights: w)
        case .gaussLegendre:
            let (x, w) = gaussLegendre(n)
            return Quadrature(nodes: x.map { 0.5 * ($0 + 1) }, weights: w.map { 0.5 * $0 })
        }
    }

    /// Gauss–Legendre nodes and weights on [−1, 1]: the roots of the Legendre polynomial P_n, found by Newton's
    /// method from Tricomi's estimate cos(π(k − 1/4)/(n + 1/2)), and w_k = 2 / ((1 − x_k²) P_n′(x_k)²).
    /// P_n and P_n′ come from the three-term recurrence (k + 1) P_{k+1} = (2k + 1) x P_k − k P_{k−1}.
    /// Exact for polynomials of degree ≤ 2n − 1. Nodes ascending.
    public static func gaussLegendre(_ n: Int) -> (nodes: [Double], weights: [Double]) {
        var x = [Double](repeating: 0, count: n), w = [Double](repeating: 0, count: n)
        func legendre(_ t: Double) -> (p: Double, dp: Double) {
            var p0 = 1.0, p1 = t
            if n == 0 { return (1, 0) }
            for k in 1..<n {
                let p2 = (Double(2 * k + 1) * t * p1 - Double(k) * p0) / Double(k + 1)
                p0 = p1; p1 = p2
            }
            // P_n′(t) = n (t P_n − P_{n−1}) / (t² − 1)
            return (p1, Double(n) * (t * p1 - p0) / (t * t - 1))
        }
        for k in 0..<(n + 1) / 2 {
            var t = cos(Double.pi * (Double(k) + 0.75) / (Double(n) + 0.5))
            for _ in 0..<100 {
                let (p, dp) = legendre(t)
                let step = p / dp
                t -= step
                if abs(step) < 1e-16 { break }
            }
            let dp = legendre(t).dp
            let weight = 2 / ((1 - t * t) * dp * dp)
            // cos gives the largest root first; place it and its mirror image.
            x[n - 1 - k] = t; w[n - 1 - k] = weight
            x[k] = -t; w[k] = weight
        }
        if n % 2 == 1 { x[n / 2] = 0 }
        return (x, w)
    }
}
