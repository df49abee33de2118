import GlassboxCore

/// A trainable tensor with its gradient for the last batch and an optional mask.
///
/// The mask (same shape, 1 = keep, 0 = pruned/ablated) zeroes the value and every update: gradients are
/// masked in `backward`, and optimisers re-apply the mask after each step, so momentum or Adam state can
/// never revive a masked entry.
public final class Parameter {
    /// Local name inside its layer: "weight" or "bias".
    public let name: String
    public var value: Tensor
    /// Gradient of the batch loss with respect to `value`, written by the last `backward` call.
    public var grad: Tensor
    public private(set) var mask: Tensor?

    public init(name: String, value: Tensor) {
        self.name = name
        self.value = value
        self.grad = Tensor(zeros: value.shape)
    }

    /// Sets (or clears) the mask and zeroes masked entries of the value and gradient at once.
    public func setMask(_ m: Tensor?) {
        if let m { precondition(m.shape == value.shape, "mask shape \(m.shape) differs from parameter \(value.shape)") }
        mask = m
        applyMask()
    }

    /// Zeroes masked entries of the value and the gradient.
    public func applyMask() {
        guard let m = mask else { return }
        Parameter.zeroMasked(&value, m)
        Parameter.zeroMasked(&grad, m)
    }

    func maskGradient() {
        guard let m = mask else { return }
        Parameter.zeroMasked(&grad, m)
    }

    /// Sets entries where the mask is 0 to exactly 0. (Multiplying by the mask would turn an infinite or NaN
    /// entry into NaN instead of 0, and a pruned weight must stay 0 whatever the optimiser does.)
    public static func zeroMasked(_ t: inout Tensor, _ mask: Tensor) {
        mask.withUnsafeBufferPointer { mp in
            t.withUnsafeMutableBufferPointer { v in for i in 0..<v.count where mp[i] == 0 { v[i] = 0 } }
        }
    }

    /// The same for optimiser state kept as a plain array.
    public static func zeroMasked(_ a: inout [Float], _ mask: Tensor) {
        mask.withUnsafeBufferPointer { mp in
            a.withUnsafeMutableBufferPointer { v in for i in 0..<v.count where mp[i] == 0 { v[i] = 0 } }
        }
    }

    /// Number of entries the mask keeps (all when unmasked).
    public var keptCount: Int {
        guard let m = mask else { return value.count }
        return m.scalars.reduce(0) { $0 + ($1 != 0 ? 1 : 0) }
    }
}

/// One layer with explicit forward and backward passes (no tape).
///
/// `forward` caches what `backward` needs. `backward` receives dLoss/dOutput, writes every parameter's
/// gradient for the batch (overwriting the previous one) and returns dLoss/dInput when asked.
public protocol Layer: AnyObject {
    /// The spec keyword of this layer (`linear`, `conv`, `relu`, …).
    var kind: String { get }
    /// The layer as one spec clause, e.g. `conv 16 k5 p2`.
    var specClause: String { get }
    var parameters: [Parameter] { get }
    /// Shape of one sample's output for one sample's input shape (batch dimension excluded).
    func outputShape(for input: [Int]) throws -> [Int]
    func forward(_ x: Tensor, training: Bool) -> Tensor
    func backward(_ gradOutput: Tensor, needInputGradient: Bool) -> Tensor?
}

public extension Layer {
    var parameters: [Parameter] { [] }
    func parameter(named n: String) -> Parameter? { parameters.first { $0.name == n } }
}
