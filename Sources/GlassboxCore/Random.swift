import Foundation

/// A seeded pseudo-random generator (xoshiro256**, seeded through SplitMix64).
///
/// Glassbox never uses global randomness: every function that needs random numbers takes one of these
/// `inout`, so the same seed always gives the same numbers on every platform. Shuffles and sampling are
/// written here rather than borrowed from the standard library, whose algorithms may change between releases.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64
    private var spareNormal: Float?

    public init(seed: UInt64) {
        var x = seed
        func splitmix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s0 = splitmix(); s1 = splitmix(); s2 = splitmix(); s3 = splitmix()
    }

    /// An independent generator derived from this seed and a stream number (e.g. a layer index).
    public static func derived(seed: UInt64, stream: UInt64) -> SeededGenerator {
        SeededGenerator(seed: seed &* 0x9E37_79B9_7F4A_7C15 ^ (stream &+ 0x632B_E59B_D9B4_E019))
    }

    @inline(__always)
    public mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = (s3 << 45) | (s3 >> 19)
        return result
    }

    /// Uniform in [0, 1) with 24 bits of precision.
    @inline(__always)
    public mutating func uniform() -> Float {
        Float(next() >> 40) * (1.0 / 16_777_216.0)
    }

    /// Uniform in [low, high).
    public mutating func uniform(_ low: Float, _ high: Float) -> Float {
        low + (high - low) * uniform()
    }

    /// Uniform integer in 0..<n (n > 0), without modulo bias (Lemire's method).
    public mutating func int(below n: Int) -> Int {
        precondition(n > 0)
        let bound = UInt64(n)
        var m = next().multipliedFullWidth(by: bound)
        if m.low < bound {
            let threshold = (0 &- bound) % bound
            while m.low < threshold { m = next().multipliedFullWidth(by: bound) }
        }
        return Int(m.high)
    }

    /// Standard normal sample (Box–Muller, both values used).
    public mutating func normal() -> Float {
        if let s = spareNormal { spareNormal = nil; return s }
        var u1 = Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
        if u1 < 1e-300 { u1 = 1e-300 }
        let u2 = Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
        let r = (-2 * Foundation.log(u1)).squareRoot()
        spareNormal = Float(r * Foundation.sin(2 * Double.pi * u2))
        return Float(r * Foundation.cos(2 * Double.pi * u2))
    }

    public mutating func normal(mean: Float, std: Float) -> Float { mean + std * normal() }

    /// Fisher–Yates shuffle in place.
    public mutating func shuffle<T>(_ a: inout [T]) {
        guard a.count > 1 else { return }
        for i in stride(from: a.count - 1, to: 0, by: -1) {
            let j = int(below: i + 1)
            if i != j { a.swapAt(i, j) }
        }
    }

    /// A random permutation of 0..<n.
    public mutating func permutation(_ n: Int) -> [Int] {
        var p = Array(0..<n)
        shuffle(&p)
        return p
    }
}

public extension Tensor {
    static func uniform(_ shape: [Int], low: Float, high: Float, using g: inout SeededGenerator) -> Tensor {
        Tensor(uninitializedShape: shape) { p, n in for i in 0..<n { p[i] = g.uniform(low, high) } }
    }

    static func normal(_ shape: [Int], mean: Float = 0, std: Float = 1, using g: inout SeededGenerator) -> Tensor {
        Tensor(uninitializedShape: shape) { p, n in for i in 0..<n { p[i] = g.normal(mean: mean, std: std) } }
    }
}

/// Weight initialisers. `fanIn`/`fanOut` follow PyTorch: for a weight `[out, in, kh, kw]`,
/// fanIn = in·kh·kw and fanOut = out·kh·kw.
public enum Initializer: String, Codable, Sendable, CaseIterable {
    /// PyTorch's default for Linear and Conv2d: U(±1/√fanIn) (kaiming_uniform with a = √5).
    case pytorchDefault = "default"
    /// He/Kaiming normal for ReLU: N(0, 2/fanIn).
    case kaimingNormal = "kaiming-normal"
    /// He/Kaiming uniform for ReLU: U(±√(6/fanIn)).
    case kaimingUniform = "kaiming-uniform"
    /// Glorot/Xavier uniform: U(±√(6/(fanIn+fanOut))).
    case xavierUniform = "xavier-uniform"
    /// Glorot/Xavier normal: N(0, 2/(fanIn+fanOut)).
    case xavierNormal = "xavier-normal"

    public static func fans(_ shape: [Int]) -> (fanIn: Int, fanOut: Int) {
        precondition(shape.count >= 2)
        let receptive = shape.dropFirst(2).reduce(1, *)
        return (shape[1] * receptive, shape[0] * receptive)
    }

    public func make(_ shape: [Int], using g: inout SeededGenerator) -> Tensor {
        let (fi, fo) = Initializer.fans(shape)
        switch self {
        case .pytorchDefault:
            let b = 1 / Float(fi).squareRoot()
            return .uniform(shape, low: -b, high: b, using: &g)
        case .kaimingNormal:
            return .normal(shape, std: (2 / Float(fi)).squareRoot(), using: &g)
        case .kaimingUniform:
            let b = (6 / Float(fi)).squareRoot()
            return .uniform(shape, low: -b, high: b, using: &g)
        case .xavierUniform:
            let b = (6 / Float(fi + fo)).squareRoot()
            return .uniform(shape, low: -b, high: b, using: &g)
        case .xavierNormal:
            return .normal(shape, std: (2 / Float(fi + fo)).squareRoot(), using: &g)
        }
    }
}
