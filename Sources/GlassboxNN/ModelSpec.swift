import GlassboxCore

/// A compact, human-writable description of a `Sequential` model, used by the CLI, recipes and checkpoints.
///
/// Grammar (clauses separated by `;` or newlines; whitespace-insensitive):
///
///     input 1x28x28; conv 16 k5 p2; relu; maxpool 2; conv 32 k5 p2; relu; maxpool 2; flatten; linear 10
///
/// - `input C×H×W` or `input N` — per-sample input shape (must come first).
/// - `linear OUT [nobias]` — in-features are inferred; an image input is flattened implicitly.
/// - `conv OUT kK [sS] [pP] [nobias]` — square kernel K, stride S (1), zero padding P (0).
/// - `maxpool K [sS]` — stride defaults to K.
/// - `relu`, `sigmoid`, `tanh`, `flatten`, `dropout P`.
///
/// Shorthand for multilayer perceptrons: `mlp 784-100-50-10 [relu|sigmoid|tanh] [nobias]` expands to
/// `input 784; linear 100; sigmoid; linear 50; sigmoid; linear 10` (activation default: relu). Like PyTorch's
/// `nn.Sequential(nn.Linear(784,100), nn.Sigmoid(), …)`, it has no Flatten layer, so parameter names are
/// `0.weight`, `2.weight`, `4.weight`; feed it flattened images.
public struct ModelSpec: Codable, Equatable, Sendable, CustomStringConvertible {
    public enum Clause: Equatable, Sendable {
        case linear(out: Int, bias: Bool)
        case conv(out: Int, kernel: Int, stride: Int, padding: Int, bias: Bool)
        case maxpool(kernel: Int, stride: Int)
        case relu, sigmoid, tanh, flatten
        case dropout(Float)

        var text: String {
            switch self {
            case let .linear(o, b): return "linear \(o)" + (b ? "" : " nobias")
            case let .conv(o, k, s, p, b):
                return "conv \(o) k\(k)" + (s != 1 ? " s\(s)" : "") + (p != 0 ? " p\(p)" : "") + (b ? "" : " nobias")
            case let .maxpool(k, s): return "maxpool \(k)" + (s != k ? " s\(s)" : "")
            case .relu: return "relu"
            case .sigmoid: return "sigmoid"
            case .tanh: return "tanh"
            case .flatten: return "flatten"
            case let .dropout(p): return "dropout \(formatNumber(p))"
            }
        }
    }

    public var input: [Int]
    public var clauses: [Clause]

    public init(input: [Int], clauses: [Clause]) {
        self.input = input
        self.clauses = clauses
    }

    /// The canonical text form (what `parse` reads back to an equal spec).
    public var description: String {
        (["input " + input.map(String.init).joined(separator: "x")] + clauses.map(\.text)).joined(separator: "; ")
    }

    public init(from decoder: Decoder) throws {
        let s = try decoder.singleValueContainer().decode(String.self)
        self = try ModelSpec.parse(s)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }

    /// The spec language, for `glassbox train --help-spec`.
    public static let grammar = """
    A model spec is a shorthand or a list of clauses separated by ';' (layers in order, like torch.nn.Sequential):

      mlp 784-100-50-10 sigmoid      Linear/Sigmoid/Linear/Sigmoid/Linear (ReLU by default; add 'nobias' for no biases)
      input 1x28x28; conv 16 k5 p2; relu; maxpool 2; conv 32 k5 p2; relu; maxpool 2; flatten; linear 10

    Clauses:
      input C×H×W | N          the input shape (channels × height × width, or N features)
      linear OUT [nobias]      fully connected layer
      conv OUT kK [sS] [pP] [nobias]   2-D convolution: K×K kernel, stride S (1), zero padding P (0)
      maxpool K [sS]           K×K max pooling, stride S (K)
      relu | sigmoid | tanh    activations
      flatten                  [N, C, H, W] → [N, C·H·W], channel-major as in PyTorch
      dropout P                dropout with probability P while training

    Parameters are named as PyTorch names them: layer i's weight is 'i.weight' ([out, in] or [out, in, kh, kw]).
    """

    /// Parses a spec, with errors that quote the clause and say what was expected.
    public static func parse(_ text: String) throws -> ModelSpec {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        func bad(_ clause: String, _ expected: String) -> GlassboxError {
            .invalidArgument(name: "model spec clause '\(clause)'", expected: expected, found: "'\(trimmed)'")
        }
        if trimmed.hasPrefix("mlp") { return try parseMLP(trimmed) }
        let parts = trimmed.split(whereSeparator: { $0 == ";" || $0 == "\n" })
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard let first = parts.first, first.hasPrefix("input") else {
            throw GlassboxError.invalidArgument(name: "model spec", expected: "'mlp A-B-…' or a clause list starting with 'input CxHxW'",
                                                found: "'\(trimmed)'")
        }
        let dims = first.dropFirst(5).trimmingCharacters(in: .whitespaces).split(separator: "x").map { Int($0) }
        guard !dims.isEmpty, dims.count == 1 || dims.count == 3, dims.allSatisfy({ ($0 ?? 0) > 0 }) else {
            throw bad(first, "'input N' or 'input CxHxW' with positive sizes")
        }
        var clauses: [Clause] = []
        for p in parts.dropFirst() {
            let words = p.split(separator: " ").map(String.init)
            let rest = Array(words.dropFirst())
            func int(_ w: String, prefix: String) -> Int? {
                guard w.hasPrefix(prefix), let v = Int(w.dropFirst(prefix.count)), v >= 0 else { return nil }
                return v
            }
            switch words[0] {
            case "linear":
                guard let o = rest.first.flatMap({ Int($0) }), o > 0, rest.count <= 2, rest.count == 1 || rest[1] == "nobias" else {
                    throw bad(p, "'linear OUT [nobias]'")
                }
                clauses.append(.linear(out: o, bias: rest.count == 1))
            case "conv":
                guard let o = rest.first.flatMap({ Int($0) }), o > 0 else { throw bad(p, "'conv OUT kK [sS] [pP] [nobias]'") }
                var k: Int?, s = 1, pad = 0, bias = true
                for w in rest.dropFirst() {
                    if let v = int(w, prefix: "k"), v > 0 { k = v }
                    else if let v = int(w, prefix: "s"), v > 0 { s = v }
                    else if let v = int(w, prefix: "p") { pad = v }
                    else if w == "nobias" { bias = false }
                    else { throw bad(p, "'conv OUT kK [sS] [pP] [nobias]' (unknown option '\(w)')") }
                }
                guard let k else { throw bad(p, "a kernel size such as 'k3'") }
                clauses.append(.conv(out: o, kernel: k, stride: s, padding: pad, bias: bias))
            case "maxpool":
                guard let k = rest.first.flatMap({ Int($0) }), k > 0 else { throw bad(p, "'maxpool K [sS]'") }
                var s = k
                if rest.count == 2 { guard let v = int(rest[1], prefix: "s"), v > 0 else { throw bad(p, "'maxpool K [sS]'") }; s = v }
                if rest.count > 2 { throw bad(p, "'maxpool K [sS]'") }
                clauses.append(.maxpool(kernel: k, stride: s))
            case "relu", "sigmoid", "tanh", "flatten":
                guard rest.isEmpty else { throw bad(p, "'\(words[0])' without arguments") }
                clauses.append(["relu": .relu, "sigmoid": .sigmoid, "tanh": .tanh, "flatten": .flatten][words[0]]!)
            case "dropout":
                guard rest.count == 1, let v = Float(rest[0]), v >= 0, v < 1 else { throw bad(p, "'dropout P' with 0 ≤ P < 1") }
                clauses.append(.dropout(v))
            default:
                throw bad(p, "one of input, linear, conv, maxpool, relu, sigmoid, tanh, flatten, dropout")
            }
        }
        let spec = ModelSpec(input: dims.map { $0! }, clauses: clauses)
        try spec.validate()
        return spec
    }

    private static func parseMLP(_ text: String) throws -> ModelSpec {
        let words = text.split(separator: " ").map(String.init)
        let sizes = words.count > 1 ? words[1].split(separator: "-").map { Int($0) } : []
        guard sizes.count >= 2, sizes.allSatisfy({ ($0 ?? 0) > 0 }) else {
            throw GlassboxError.invalidArgument(name: "model spec", expected: "'mlp 784-100-10 [relu|sigmoid|tanh] [nobias]'", found: "'\(text)'")
        }
        var act = Clause.relu, bias = true
        for w in words.dropFirst(2) {
            switch w {
            case "relu": act = .relu
            case "sigmoid": act = .sigmoid
            case "tanh": act = .tanh
            case "nobias": bias = false
            default:
                throw GlassboxError.invalidArgument(name: "model spec option '\(w)'", expected: "relu, sigmoid, tanh or nobias", found: "'\(text)'")
            }
        }
        var clauses: [Clause] = []
        for (i, s) in sizes.dropFirst().enumerated() {
            if i > 0 { clauses.append(act) }
            clauses.append(.linear(out: s!, bias: bias))
        }
        let spec = ModelSpec(input: [sizes[0]!], clauses: clauses)
        try spec.validate()
        return spec
    }

    /// Per-sample shape after each clause; throws when a clause does not fit its input or a size is too large.
    public func shapes() throws -> [[Int]] { try layout().shapes }

    /// The number of parameters the spec's model has (checked against nothing; see `validate`).
    public func parameterCount() throws -> Int { try layout().parameters }

    /// Checks that every clause fits its input and that the model stays within `Limits.parameters`: at most that
    /// many parameters, and at most that many values in one sample's input or any layer's output for one sample.
    /// Every size is computed in checked arithmetic, without allocating anything.
    public func validate() throws {
        let (shapes, parameters) = try layout()
        try Limits.parameters.check(parameters, "model spec '\(description)'")
        for (shape, what) in zip([input] + shapes, ["input"] + clauses.map(\.text)) {
            // layout() has already checked that every product fits in an Int.
            try Limits.parameters.check(shape.reduce(1, *), "model spec clause '\(what)'", unit: "values per sample")
        }
    }

    /// Per-sample shapes after each clause and the total parameter count, from the clauses alone (the same rules
    /// as the layers' `outputShape`, in checked arithmetic so that no size can wrap around).
    func layout() throws -> (shapes: [[Int]], parameters: Int) {
        func tooLarge(_ what: String) -> GlassboxError {
            .invalidArgument(name: "model spec clause '\(what)'", expected: "sizes whose products fit in 64 bits", found: "'\(description)'")
        }
        guard (input.count == 1 || input.count == 3), input.allSatisfy({ $0 > 0 }) else {
            throw GlassboxError.invalidArgument(name: "model spec clause 'input \(input.map(String.init).joined(separator: "x"))'",
                                                expected: "'input N' or 'input CxHxW' with positive sizes", found: "'\(description)'")
        }
        guard Limits.product(input) != nil else { throw tooLarge("input \(input.map(String.init).joined(separator: "x"))") }
        var shape = input
        var shapes: [[Int]] = []
        var parameters = 0
        func addParameters(_ counts: [Int], _ what: String) throws {
            guard let n = Limits.product(counts), let total = Limits.add(parameters, n) else { throw tooLarge(what) }
            parameters = total
        }
        for c in clauses {
            let what = c.text
            switch c {
            case let .linear(o, b):
                guard o > 0 else { throw tooLarge(what) }
                let features = shape.reduce(1, *)   // checked when `shape` was made
                try addParameters([o, features], what)
                if b { try addParameters([o], what) }
                shape = [o]
            case let .conv(o, k, s, p, b):
                guard shape.count == 3 else {
                    throw GlassboxError.invalidArgument(name: "model spec clause '\(what)'", expected: "an image input [C, H, W]",
                                                        found: "\(shape)")
                }
                guard o > 0, k > 0, s > 0, p >= 0 else { throw tooLarge(what) }
                guard let twice = Limits.multiply(2, p), Limits.add(shape[1], twice) != nil, Limits.add(shape[2], twice) != nil else {
                    throw tooLarge(what)
                }
                guard let oh = ModelSpec.outSize(shape[1], kernel: k, stride: s, padding: p),
                      let ow = ModelSpec.outSize(shape[2], kernel: k, stride: s, padding: p) else {
                    throw GlassboxError.invalidArgument(name: what, expected: "an input at least as large as the kernel", found: "\(shape)")
                }
                try addParameters([o, shape[0], k, k], what)
                if b { try addParameters([o], what) }
                shape = [o, oh, ow]
            case let .maxpool(k, s):
                guard k > 0, s > 0 else { throw tooLarge(what) }
                guard shape.count == 3, let oh = ModelSpec.outSize(shape[1], kernel: k, stride: s, padding: 0),
                      let ow = ModelSpec.outSize(shape[2], kernel: k, stride: s, padding: 0) else {
                    throw GlassboxError.invalidArgument(name: what, expected: "input [C, H, W] with H, W ≥ \(k)", found: "\(shape)")
                }
                shape = [shape[0], oh, ow]
            case .flatten:
                shape = [shape.reduce(1, *)]
            case let .dropout(p):
                guard p >= 0, p < 1 else {
                    throw GlassboxError.invalidArgument(name: "model spec clause '\(what)'", expected: "'dropout P' with 0 ≤ P < 1", found: "'\(description)'")
                }
            case .relu, .sigmoid, .tanh:
                break
            }
            guard Limits.product(shape) != nil else { throw tooLarge(what) }
            shapes.append(shape)
        }
        return (shapes, parameters)
    }

    /// Output length of a window sliding over `size` (as `Ops.outSize`), or nil when the padded input is smaller
    /// than the kernel or a size overflows.
    static func outSize(_ size: Int, kernel: Int, stride: Int, padding: Int) -> Int? {
        guard let twice = Limits.multiply(2, padding), let padded = Limits.add(size, twice), padded >= kernel else { return nil }
        return (padded - kernel) / stride + 1
    }

    /// Builds the layers; the spec is validated first (sizes and `Limits.parameters`), so nothing is allocated for
    /// a spec that does not fit.
    func makeLayers(using g: inout SeededGenerator, initializer: Initializer, dropoutSeed: UInt64) throws -> [Layer] {
        try validate()
        var shape = input
        var layers: [Layer] = []
        for (i, c) in clauses.enumerated() {
            let layer: Layer
            switch c {
            case let .linear(o, b):
                layer = Linear(shape.reduce(1, *), o, bias: b, initializer: initializer, using: &g)
            case let .conv(o, k, s, p, b):
                guard shape.count == 3 else {
                    throw GlassboxError.invalidArgument(name: "model spec clause '\(c.text)'", expected: "an image input [C, H, W]",
                                                        found: "\(shape)")
                }
                layer = Conv2d(shape[0], o, kernel: k, stride: s, padding: p, bias: b, initializer: initializer, using: &g)
            case let .maxpool(k, s): layer = MaxPool2d(k, stride: s)
            case .relu: layer = ReLU()
            case .sigmoid: layer = Sigmoid()
            case .tanh: layer = Tanh()
            case .flatten: layer = Flatten()
            case let .dropout(p): layer = Dropout(p: p, seed: dropoutSeed &+ UInt64(i) &* 7919)
            }
            shape = try layer.outputShape(for: shape)
            layers.append(layer)
        }
        return layers
    }
}
