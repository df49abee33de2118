import GlassboxCore

/// Shared body of the element-wise activations: they cache their output, whose values give the derivative.
public class ElementwiseActivation {
    var output = Tensor(zeros: [0])

    func apply(_ x: Tensor, _ f: (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void) -> Tensor {
        let y = Tensor(uninitializedShape: x.shape) { dst, n in
            x.withUnsafeBufferPointer { f($0.baseAddress!, dst, n) }
        }
        output = y
        return y
    }

    func derive(_ dy: Tensor, needInputGradient: Bool,
                _ f: (UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void) -> Tensor? {
        guard needInputGradient else { return nil }
        precondition(dy.shape == output.shape, "gradient shape \(dy.shape) differs from output \(output.shape)")
        return Tensor(uninitializedShape: dy.shape) { dst, n in
            output.withUnsafeBufferPointer { y in dy.withUnsafeBufferPointer { g in f(y.baseAddress!, g.baseAddress!, dst, n) } }
        }
    }

    public func outputShape(for input: [Int]) throws -> [Int] { input }
}

public final class ReLU: ElementwiseActivation, Layer {
    public let kind = "relu"
    public var specClause: String { kind }
    public override init() {}
    public func forward(_ x: Tensor, training: Bool) -> Tensor { apply(x, Ops.relu) }
    public func backward(_ dy: Tensor, needInputGradient: Bool) -> Tensor? {
        guard needInputGradient else { return nil }
        precondition(dy.shape == output.shape, "gradient shape \(dy.shape) differs from output \(output.shape)")
        return Tensor(uninitializedShape: dy.shape) { dx, n in
            output.withUnsafeBufferPointer { yb in
                dy.withUnsafeBufferPointer { gb in
                    Ops.reluBackward(y: yb.baseAddress!, dy: gb.baseAddress!, dx: dx, n)
                }
            }
        }
    }
}

public final class Sigmoid: ElementwiseActivation, Layer {
    public let kind = "sigmoid"
    public var specClause: String { kind }
    public override init() {}
    public func forward(_ x: Tensor, training: Bool) -> Tensor { apply(x, Ops.sigmoid) }
    public func backward(_ dy: Tensor, needInputGradient: Bool) -> Tensor? {
        derive(dy, needInputGradient: needInputGradient) { Ops.sigmoidBackward(y: $0, dy: $1, dx: $2, $3) }
    }
}

public final class Tanh: ElementwiseActivation, Layer {
    public let kind = "tanh"
    public var specClause: String { kind }
    public override init() {}
    public func forward(_ x: Tensor, training: Bool) -> Tensor { apply(x, Ops.tanh) }
    public func backward(_ dy: Tensor, needInputGradient: Bool) -> Tensor? {
        derive(dy, needInputGradient: needInputGradient) { Ops.tanhBackward(y: $0, dy: $1, dx: $2, $3) }
    }
}

/// Flattens every sample to one dimension (`[N, C, H, W]` → `[N, C·H·W]`).
public final class Flatten: Layer {
    public let kind = "flatten"
    public var specClause: String { kind }
    private var inputShape: [Int] = []
    public init() {}
    public func outputShape(for input: [Int]) throws -> [Int] { [input.reduce(1, *)] }
    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        inputShape = x.shape
        return x.reshaped([x.rows, x.rowLength])
    }
    public func backward(_ dy: Tensor, needInputGradient: Bool) -> Tensor? {
        needInputGradient ? dy.reshaped(inputShape) : nil
    }
}

/// Inverted dropout: in training, zeroes each value with probability `p` and scales survivors by 1/(1−p);
/// identity at evaluation. Its random stream is seeded, so training stays deterministic.
public final class Dropout: Layer {
    public let kind = "dropout"
    public let p: Float
    public var specClause: String { "dropout \(formatNumber(p))" }
    private var generator: SeededGenerator
    private var keep = Tensor(zeros: [0])

    public init(p: Float, seed: UInt64 = 0) {
        precondition(p >= 0 && p < 1, "dropout probability must be in [0, 1), got \(p)")
        self.p = p
        self.generator = SeededGenerator(seed: seed)
    }

    public func reseed(_ seed: UInt64) { generator = SeededGenerator(seed: seed) }
    public func outputShape(for input: [Int]) throws -> [Int] { input }

    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        guard training && p > 0 else { keep = Tensor(zeros: [0]); return x }
        let scale = 1 / (1 - p)
        keep = Tensor(uninitializedShape: x.shape) { k, n in
            for i in 0..<n { k[i] = generator.uniform() < p ? 0 : scale }
        }
        return Tensor(uninitializedShape: x.shape) { y, n in
            x.withUnsafeBufferPointer { xs in keep.withUnsafeBufferPointer { ks in for i in 0..<n { y[i] = xs[i] * ks[i] } } }
        }
    }

    public func backward(_ dy: Tensor, needInputGradient: Bool) -> Tensor? {
        guard needInputGradient else { return nil }
        guard keep.count == dy.count else { return dy }
        return Tensor(uninitializedShape: dy.shape) { g, n in
            dy.withUnsafeBufferPointer { d in keep.withUnsafeBufferPointer { ks in for i in 0..<n { g[i] = d[i] * ks[i] } } }
        }
    }
}

/// Formats a number for specs and labels without float noise (0.5, 1e-3, 2).
public func formatNumber(_ v: Float) -> String {
    if v == v.rounded() && abs(v) < 1e9 { return String(Int(v)) }
    var s = String(format: "%.6g", Double(v))
    if s.contains("e") { return s }
    while s.hasSuffix("0") { s.removeLast() }
    return s
}
