import GlassboxCore

/// A chain of layers, named like `torch.nn.Sequential`: parameter `i.weight` belongs to layer `i`.
///
/// After `forward`, `activations[i]` holds layer i's output for the batch (reading it costs nothing: tensors
/// share storage until written). After `backward`, every parameter's `grad` holds its batch gradient.
public final class Sequential {
    public let layers: [Layer]
    public let spec: ModelSpec
    /// Output of each layer for the last forward pass.
    public private(set) var activations: [Tensor] = []
    /// The input of the last forward pass.
    public private(set) var lastInput = Tensor(zeros: [0])

    public init(spec: ModelSpec, layers: [Layer]) {
        self.spec = spec
        self.layers = layers
    }

    /// Builds a freshly initialised model from a spec.
    public convenience init(spec: ModelSpec, seed: UInt64, initializer: Initializer = .pytorchDefault) throws {
        var g = SeededGenerator(seed: seed)
        self.init(spec: spec, layers: try spec.makeLayers(using: &g, initializer: initializer, dropoutSeed: seed))
    }

    /// Every parameter with its PyTorch name (`0.weight`, `0.bias`, `3.weight`, …), in layer order.
    public var namedParameters: [(name: String, parameter: Parameter)] {
        layers.enumerated().flatMap { i, l in l.parameters.map { ("\(i).\($0.name)", $0) } }
    }

    public func parameter(named name: String) -> Parameter? {
        namedParameters.first { $0.name == name }?.parameter
    }

    public var parameterCount: Int { namedParameters.reduce(0) { $0 + $1.parameter.value.count } }

    public func forward(_ x: Tensor, training: Bool = false) -> Tensor {
        lastInput = x
        var h = x
        var acts: [Tensor] = []
        acts.reserveCapacity(layers.count)
        for l in layers {
            h = l.forward(h, training: training)
            acts.append(h)
        }
        activations = acts
        return h
    }

    /// Back-propagates dLoss/dOutput through every layer. Returns dLoss/dInput when `needInputGradient`,
    /// otherwise skips that last (and for the first layer, often largest) product.
    @discardableResult
    public func backward(_ gradOutput: Tensor, needInputGradient: Bool = false) -> Tensor? {
        var g: Tensor? = gradOutput
        for i in stride(from: layers.count - 1, through: 0, by: -1) {
            guard let cur = g else { break }
            g = layers[i].backward(cur, needInputGradient: i > 0 || needInputGradient)
        }
        return g
    }

    /// Predicted class per sample, evaluated in batches.
    public func predict(_ x: Tensor, batchSize: Int = 1000) -> [Int] {
        var out: [Int] = []
        out.reserveCapacity(x.rows)
        var start = 0
        while start < x.rows {
            let end = Swift.min(x.rows, start + batchSize)
            out += forward(x.rows(start..<end)).argmaxRows()
            start = end
        }
        return out
    }
}
