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

    /// When true, training passes run each ReLU that feeds a max pooling *after* the pooling, on a quarter of the
    /// values (for 2×2 pooling): relu(max x) = max(relu x), and back-propagating ReLU then pooling routes exactly the
    /// same gradients (when the window's maximum is ≤ 0 both give zeros), so the outputs are bit-identical. The
    /// ReLU's own output is then never formed: `activations[i]` of such a ReLU is an empty tensor. When a
    /// convolution comes before such a pair and `PooledGradient.fusable` says so, the backward pass also hands the
    /// convolution the pooling's input gradient as lists of its non-zeros: the same gradient, never formed densely,
    /// which the convolution sums in another order (its parameter and input gradients agree to rounding, not to the
    /// bit). The trainer sets this on its shard copies, whose activations nobody reads; evaluation passes are never
    /// reordered.
    public var poolsBeforeReLU = false

    /// True when layer `i` is a ReLU that the training pass runs after the max pooling that follows it.
    private func reorderedReLU(_ i: Int, training: Bool) -> Bool {
        poolsBeforeReLU && training && i + 1 < layers.count && layers[i] is ReLU && layers[i + 1] is MaxPool2d
    }

    public func forward(_ x: Tensor, training: Bool = false) -> Tensor {
        lastInput = x
        lastPassReordered = poolsBeforeReLU && training
        var h = x
        var acts: [Tensor] = []
        acts.reserveCapacity(layers.count)
        var i = 0
        while i < layers.count {
            if reorderedReLU(i, training: training) {
                h = layers[i].forward(layers[i + 1].forward(h, training: training), training: training)
                acts.append(Tensor(zeros: [0]))
                acts.append(h)
                i += 2
            } else {
                h = layers[i].forward(h, training: training)
                acts.append(h)
                i += 1
            }
        }
        activations = acts
        return h
    }

    /// Whether the last `forward` reordered ReLU and pooling (its `backward` must follow the same order).
    private var lastPassReordered = false

    /// Back-propagates dLoss/dOutput through every layer. Returns dLoss/dInput when `needInputGradient`,
    /// otherwise skips that last (and for the first layer, often largest) product.
    @discardableResult
    public func backward(_ gradOutput: Tensor, needInputGradient: Bool = false) -> Tensor? {
        var g: Tensor? = gradOutput
        var i = layers.count - 1
        while i >= 0, let cur = g {
            if i >= 1 && reorderedReLU(i - 1, training: lastPassReordered) {
                let afterReLU = layers[i - 1].backward(cur, needInputGradient: true)!
                if i >= 2, let (conv, pool) = PooledGradient.fusable(layers[i - 2], layers[i]) {
                    // The pooling hands the convolution its non-zero gradients as lists (no dense gradient).
                    g = conv.backward(listed: pool.listedInputGradient(afterReLU), needInputGradient: i - 2 > 0 || needInputGradient)
                    i -= 3
                    continue
                }
                g = layers[i].backward(afterReLU, needInputGradient: i - 1 > 0 || needInputGradient)
                i -= 2
            } else {
                g = layers[i].backward(cur, needInputGradient: i > 0 || needInputGradient)
                i -= 1
            }
        }
        return g
    }

    // MARK: partial passes (for attribution and feature visualisation)

    /// Runs layers `range` in evaluation mode on `h`, the output of layer `range.lowerBound − 1` (the model's input
    /// when the range starts at 0), and returns the output of layer `range.upperBound`.
    ///
    /// `activations[i]` is refreshed for every i in the range; entries before it are kept (entries after it are
    /// dropped when the range starts at 0, since they belong to an older input). Each layer caches what its
    /// `backward` needs, so `backward(_:from:downTo:)` can follow over the same range.
    /// Attribution methods use this to start from an intermediate representation (integrated gradients along a
    /// straight path only re-run the layers after the first linear map) or to stop at the layer being explained.
    public func forward(_ h: Tensor, layers range: ClosedRange<Int>, training: Bool = false) -> Tensor {
        precondition(range.lowerBound >= 0 && range.upperBound < layers.count, "layers \(range) outside 0..<\(layers.count)")
        if range.lowerBound == 0 {
            lastInput = h
            activations = []
        }
        while activations.count <= range.upperBound { activations.append(Tensor(zeros: [0])) }
        var out = h
        for i in range {
            out = layers[i].forward(out, training: training)
            activations[i] = out
        }
        return out
    }

    /// Layers 0…`last` on the model input `x` (evaluation mode); the output of layer `last`.
    public func forward(_ x: Tensor, through last: Int) -> Tensor {
        forward(x, layers: 0...last)
    }

    /// Back-propagates `gradOutput` = dL/d(output of layer `last`) through layers `last`, `last − 1`, …, `first`
    /// and returns dL/d(input of layer `first`) (the model input when `first` is 0), or nil when
    /// `needInputGradient` is false and `first` is 0. A forward pass over at least these layers must come first.
    ///
    /// With `last` an intermediate layer and a one-hot `gradOutput` this is the gradient of one unit (or one
    /// channel, for a seed that is 1 over a channel's plane) with respect to the input.
    @discardableResult
    public func backward(_ gradOutput: Tensor, from last: Int, downTo first: Int = 0, needInputGradient: Bool = true) -> Tensor? {
        precondition(first >= 0 && first <= last && last < layers.count, "backward from \(last) down to \(first) outside 0..<\(layers.count)")
        var g: Tensor? = gradOutput
        for i in stride(from: last, through: first, by: -1) {
            guard let cur = g else { break }
            g = layers[i].backward(cur, needInputGradient: i > first || needInputGradient)
        }
        return g
    }

    /// Switches the weight and bias gradients of every Linear and Conv2d layer on or off. Attribution needs only
    /// input gradients; without the parameter gradients a backward pass does about half the work.
    public func setParameterGradients(_ on: Bool) {
        for l in layers {
            (l as? Linear)?.parameterGradients = on
            (l as? Conv2d)?.parameterGradients = on
        }
    }

    /// A copy with its own layers (so its own forward caches) and the same parameter values and masks (shared
    /// until one side writes). One `Sequential` is not thread-safe; give each thread a replica. Convolutions of a
    /// replica run on one worker (`singleWorker`), since the replicas themselves are the parallel workers.
    public func replica(singleWorker: Bool = true) throws -> Sequential {
        let copy = try Sequential(spec: spec, seed: 0)
        let mine = namedParameters
        let theirs = copy.namedParameters
        guard mine.count == theirs.count, zip(mine, theirs).allSatisfy({ $0.name == $1.name && $0.parameter.value.shape == $1.parameter.value.shape }) else {
            throw GlassboxError.invalidArgument(name: "model", expected: "layers that match its spec '\(spec)'", found: "different parameters")
        }
        for (a, b) in zip(mine, theirs) {
            b.parameter.value = a.parameter.value
            if let m = a.parameter.mask { b.parameter.setMask(m) }
        }
        for (a, b) in zip(layers, copy.layers) {
            if let c = b as? Conv2d {
                c.maxWorkers = singleWorker ? 1 : ((a as? Conv2d)?.maxWorkers ?? Int.max)
                c.parameterGradients = (a as? Conv2d)?.parameterGradients ?? true
            }
            if let l = b as? Linear { l.parameterGradients = (a as? Linear)?.parameterGradients ?? true }
        }
        return copy
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
