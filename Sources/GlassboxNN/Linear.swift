import GlassboxCore

/// Fully connected layer `y = x·Wᵀ + b` with `W` shaped `[out, in]` (PyTorch layout).
/// Accepts any input `[N, …]` whose per-sample size is `in` (images are flattened implicitly).
public final class Linear: Layer {
    public let kind = "linear"
    public let inFeatures: Int
    public let outFeatures: Int
    public let weight: Parameter
    public let bias: Parameter?
    private var input = Tensor(zeros: [0])
    /// When false, `backward` leaves the weight and bias gradients alone and computes only the input gradient
    /// (attribution and feature visualisation need nothing else).
    public var parameterGradients = true

    public var specClause: String { "linear \(outFeatures)" + (bias == nil ? " nobias" : "") }
    public var parameters: [Parameter] { bias.map { [weight, $0] } ?? [weight] }

    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true, initializer: Initializer = .pytorchDefault,
                using g: inout SeededGenerator) {
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        weight = Parameter(name: "weight", value: initializer.make([outFeatures, inFeatures], using: &g))
        if bias {
            let b = 1 / Float(inFeatures).squareRoot()
            self.bias = Parameter(name: "bias", value: .uniform([outFeatures], low: -b, high: b, using: &g))
        } else {
            self.bias = nil
        }
    }

    public func outputShape(for input: [Int]) throws -> [Int] {
        guard input.reduce(1, *) == inFeatures else {
            throw GlassboxError.invalidArgument(name: "linear \(outFeatures)", expected: "\(inFeatures) input features",
                                                found: "\(input.reduce(1, *)) (\(input.map(String.init).joined(separator: "x")))")
        }
        return [outFeatures]
    }

    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        let n = x.rows
        precondition(x.rowLength == inFeatures, "linear expects \(inFeatures) features per sample, got \(x.shape)")
        input = x
        let (inF, outF) = (inFeatures, outFeatures)
        return Tensor(uninitializedShape: [n, outF]) { y, _ in
            x.withUnsafeBufferPointer { xs in
                weight.value.withUnsafeBufferPointer { w in
                    if let b = bias {
                        // Seed C with the bias so the GEMM adds x·Wᵀ onto it.
                        b.value.withUnsafeBufferPointer { bs in
                            for r in 0..<n { (y + r * outF).update(from: bs.baseAddress!, count: outF) }
                        }
                        BLAS.gemm(transB: true, m: n, n: outF, k: inF, a: xs.baseAddress!, b: w.baseAddress!, beta: 1, c: y)
                    } else {
                        BLAS.gemm(transB: true, m: n, n: outF, k: inF, a: xs.baseAddress!, b: w.baseAddress!, beta: 0, c: y)
                    }
                }
            }
        }
    }

    public func backward(_ dy: Tensor, needInputGradient: Bool) -> Tensor? {
        let n = input.rows
        precondition(dy.shape == [n, outFeatures], "linear gradient shape \(dy.shape), expected \([n, outFeatures])")
        let (inF, outF) = (inFeatures, outFeatures)
        if parameterGradients { writeParameterGradients(dy, n: n) }
        guard needInputGradient else { return nil }
        var dxShape = input.shape
        if dxShape.isEmpty { dxShape = [n, inF] }
        return Tensor(uninitializedShape: dxShape) { dx, _ in
            dy.withUnsafeBufferPointer { d in
                weight.value.withUnsafeBufferPointer { w in
                    // dx = dy · W  ([N, out] · [out, in])
                    BLAS.gemm(m: n, n: inF, k: outF, a: d.baseAddress!, b: w.baseAddress!, beta: 0, c: dx)
                }
            }
        }
    }

    /// dW = dyᵀ · x and db = column sums of dy, masked.
    private func writeParameterGradients(_ dy: Tensor, n: Int) {
        let (inF, outF) = (inFeatures, outFeatures)
        dy.withUnsafeBufferPointer { d in
            input.withUnsafeBufferPointer { xs in
                weight.grad.withUnsafeMutableBufferPointer { gw in
                    // dW = dyᵀ · x  ([out, N] · [N, in])
                    BLAS.gemm(transA: true, m: outF, n: inF, k: n, a: d.baseAddress!, b: xs.baseAddress!, beta: 0, c: gw.baseAddress!)
                }
            }
            if let b = bias {
                b.grad.withUnsafeMutableBufferPointer { gb in
                    gb.update(repeating: 0)
                    Ops.accumulateColumnSums(d.baseAddress!, rows: n, cols: outF, into: gb.baseAddress!)
                }
            }
        }
        weight.maskGradient()
        bias?.maskGradient()
    }
}
