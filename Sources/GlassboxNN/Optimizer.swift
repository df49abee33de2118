import GlassboxCore

/// Optimiser settings, as written in recipes and on the command line.
public enum OptimizerConfig: Codable, Equatable, Sendable {
    /// PyTorch's SGD: v ← μ·v + (g + λ·w); w ← w − lr·v (no dampening, no Nesterov).
    case sgd(lr: Float, momentum: Float = 0, weightDecay: Float = 0)
    /// PyTorch's Adam (L2 weight decay added to the gradient, bias-corrected moments).
    case adam(lr: Float, beta1: Float = 0.9, beta2: Float = 0.999, eps: Float = 1e-8, weightDecay: Float = 0)

    public var learningRate: Float {
        switch self { case let .sgd(lr, _, _): return lr; case let .adam(lr, _, _, _, _): return lr }
    }

    public func withLearningRate(_ lr: Float) -> OptimizerConfig {
        switch self {
        case let .sgd(_, m, wd): return .sgd(lr: lr, momentum: m, weightDecay: wd)
        case let .adam(_, b1, b2, e, wd): return .adam(lr: lr, beta1: b1, beta2: b2, eps: e, weightDecay: wd)
        }
    }

    public func make(for parameters: [Parameter]) -> Optimizer {
        switch self {
        case let .sgd(lr, m, wd): return SGD(parameters, lr: lr, momentum: m, weightDecay: wd)
        case let .adam(lr, b1, b2, e, wd): return Adam(parameters, lr: lr, beta1: b1, beta2: b2, eps: e, weightDecay: wd)
        }
    }
}

public protocol Optimizer: AnyObject {
    var learningRate: Float { get set }
    var parameters: [Parameter] { get }
    /// Applies one update from the parameters' current gradients, then re-applies every mask.
    func step()
}

public final class SGD: Optimizer {
    public var learningRate: Float
    public let momentum: Float, weightDecay: Float
    public let parameters: [Parameter]
    private var velocity: [[Float]]

    public init(_ parameters: [Parameter], lr: Float, momentum: Float = 0, weightDecay: Float = 0) {
        self.parameters = parameters
        self.learningRate = lr
        self.momentum = momentum
        self.weightDecay = weightDecay
        velocity = parameters.map { [Float](repeating: 0, count: momentum != 0 ? $0.value.count : 0) }
    }

    public func step() {
        let lr = learningRate, mu = momentum, wd = weightDecay
        for (pi, p) in parameters.enumerated() {
            p.grad.withUnsafeBufferPointer { g in
                p.value.withUnsafeMutableBufferPointer { w in
                    let n = w.count
                    if mu == 0 {
                        if wd == 0 { for i in 0..<n { w[i] -= lr * g[i] } }
                        else { for i in 0..<n { w[i] -= lr * (g[i] + wd * w[i]) } }
                    } else {
                        velocity[pi].withUnsafeMutableBufferPointer { v in
                            for i in 0..<n {
                                v[i] = mu * v[i] + g[i] + wd * w[i]
                                w[i] -= lr * v[i]
                            }
                        }
                    }
                }
            }
            if let m = p.mask {
                // Keep pruned entries dead: the value and the momentum that could revive them.
                Parameter.zeroMasked(&p.value, m)
                if mu != 0 { Parameter.zeroMasked(&velocity[pi], m) }
            }
        }
    }
}

public final class Adam: Optimizer {
    public var learningRate: Float
    public let beta1: Float, beta2: Float, eps: Float, weightDecay: Float
    public let parameters: [Parameter]
    private var m: [[Float]], v: [[Float]]
    private var t = 0

    public init(_ parameters: [Parameter], lr: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999, eps: Float = 1e-8,
                weightDecay: Float = 0) {
        self.parameters = parameters
        self.learningRate = lr
        self.beta1 = beta1; self.beta2 = beta2; self.eps = eps; self.weightDecay = weightDecay
        m = parameters.map { [Float](repeating: 0, count: $0.value.count) }
        v = m
    }

    public func step() {
        t += 1
        let (b1, b2, e, wd) = (beta1, beta2, eps, weightDecay)
        let c1 = 1 - Float(pow(Double(b1), Double(t))), c2 = 1 - Float(pow(Double(b2), Double(t)))
        let stepSize = learningRate / c1, c2s = c2.squareRoot()
        for (pi, p) in parameters.enumerated() {
            p.grad.withUnsafeBufferPointer { g in
                p.value.withUnsafeMutableBufferPointer { w in
                    m[pi].withUnsafeMutableBufferPointer { mm in
                        v[pi].withUnsafeMutableBufferPointer { vv in
                            for i in 0..<w.count {
                                let gi = g[i] + wd * w[i]
                                mm[i] = b1 * mm[i] + (1 - b1) * gi
                                vv[i] = b2 * vv[i] + (1 - b2) * gi * gi
                                w[i] -= stepSize * mm[i] / (vv[i].squareRoot() / c2s + e)
                            }
                        }
                    }
                }
            }
            if let mask = p.mask {
                Parameter.zeroMasked(&p.value, mask)
                Parameter.zeroMasked(&m[pi], mask)
                Parameter.zeroMasked(&v[pi], mask)
            }
        }
    }
}

/// Learning-rate schedule over epochs.
public enum LRSchedule: Codable, Equatable, Sendable {
    case constant
    /// Multiply by `gamma` every `every` epochs.
    case step(every: Int, gamma: Float)
    /// Cosine decay from the base rate to `minimum` over the run.
    case cosine(minimum: Float)

    /// The rate for 0-based `epoch` out of `epochs`.
    public func rate(base: Float, epoch: Int, epochs: Int) -> Float {
        switch self {
        case .constant: return base
        case let .step(every, gamma): return base * Float(pow(Double(gamma), Double(epoch / max(1, every))))
        case let .cosine(minimum):
            guard epochs > 1 else { return base }
            let t = Double(epoch) / Double(epochs - 1)
            return minimum + (base - minimum) * Float(0.5 * (1 + cos(Double.pi * t)))
        }
    }

    /// Parses `constant`, `step:EVERY:GAMMA` or `cosine[:MIN]`.
    public static func parse(_ s: String) throws -> LRSchedule {
        let p = s.split(separator: ":").map(String.init)
        switch p.first {
        case "constant" where p.count == 1: return .constant
        case "step" where p.count == 3:
            if let e = Int(p[1]), e > 0, let g = Float(p[2]), g > 0 { return .step(every: e, gamma: g) }
        case "cosine" where p.count <= 2:
            if p.count == 1 { return .cosine(minimum: 0) }
            if let m = Float(p[1]), m >= 0 { return .cosine(minimum: m) }
        default: break
        }
        throw GlassboxError.invalidArgument(name: "schedule", expected: "constant, step:EVERY:GAMMA or cosine[:MIN]", found: "'\(s)'")
    }
}

import Foundation
