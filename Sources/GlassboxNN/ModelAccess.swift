import GlassboxCore

/// Finding layers by their PyTorch parameter names (`2.weight`) and computing losses on a `Sequential`.
///
/// Every analysis, step and command names a layer the same way: by its weight's parameter name, as in a
/// checkpoint (`0.weight` is the weight of layer 0). A bare layer index (`2`) is accepted too.
public enum ModelAccess {
    /// The layer index a name refers to: `3.weight`, `3.bias` or `3`.
    static func index(_ layer: String) -> Int? {
        var idx = Substring(layer)
        if let dot = idx.firstIndex(of: ".") {
            let suffix = idx[idx.index(after: dot)...]
            guard suffix == "weight" || suffix == "bias" else { return nil }
            idx = idx[..<dot]
        }
        return Int(idx)
    }

    /// Weight names of the layers of type `T`, for error messages.
    static func names<T>(_ model: Sequential, _ type: T.Type) -> String {
        let n = model.layers.indices.filter { model.layers[$0] is T }.map { "\($0).weight" }
        return n.isEmpty ? "none" : n.joined(separator: ", ")
    }

    /// The layer named `layer` if it has type `T`; otherwise an error listing the layers of that type.
    public static func layer<T>(_ model: Sequential, _ layer: String, _ type: T.Type, what: String) throws -> T {
        guard let i = index(layer), model.layers.indices.contains(i), let l = model.layers[i] as? T else {
            throw GlassboxError.invalidArgument(name: "layer", expected: "\(what) of the model: \(names(model, type))",
                                                found: "'\(layer)'")
        }
        return l
    }

    /// The Linear layer named `layer`: a parameter name (`2.weight`) or a layer index (`2`).
    public static func linear(_ model: Sequential, _ layer: String) throws -> Linear {
        try self.layer(model, layer, Linear.self, what: "a Linear layer")
    }

    /// The Conv2d layer named `layer` (`0.weight` or `0`).
    public static func conv(_ model: Sequential, _ layer: String) throws -> Conv2d {
        try self.layer(model, layer, Conv2d.self, what: "a convolution layer")
    }

    /// The index of the layer named `layer` (any layer with parameters; `0.weight` or `0`).
    public static func layerIndex(_ model: Sequential, _ layer: String) throws -> Int {
        guard let i = index(layer), model.layers.indices.contains(i), !model.layers[i].parameters.isEmpty else {
            let names = model.layers.indices.filter { !model.layers[$0].parameters.isEmpty }.map { "\($0).weight" }
            throw GlassboxError.invalidArgument(name: "layer", expected: "a layer with weights: \(names.joined(separator: ", "))",
                                                found: "'\(layer)'")
        }
        return i
    }

    /// The layer whose output holds the units a name refers to — the one rule of `explain`, `examples`, `visualise`
    /// and `activations`: a plain index ("3") is that layer's output; a parameter name ("3.weight" or "3.bias") of a
    /// linear or convolution layer is the activation right after it when there is one (ReLU, sigmoid or tanh), so the
    /// units are the layer's firing, else the layer itself; "logits" is the last layer (the class scores).
    public static func unitLayer(_ model: Sequential, _ name: String) throws -> Int {
        let n = model.layers.count
        if name == "logits" { return n - 1 }
        let parts = name.trimmingCharacters(in: .whitespaces).split(separator: ".", omittingEmptySubsequences: false)
        guard let first = parts.first, let i = Int(first), i >= 0, i < n,
              parts.count == 1 || (parts.count == 2 && (parts[1] == "weight" || parts[1] == "bias")) else {
            throw GlassboxError.invalidArgument(name: "layer", expected: "a layer index 0…\(n - 1), a parameter name like 0.weight, or logits",
                                                found: "'\(name)'")
        }
        if parts.count == 1 { return i }
        guard model.layers[i] is Linear || model.layers[i] is Conv2d else {
            throw GlassboxError.invalidArgument(name: "layer", expected: "a linear or convolution layer's parameter", found: "'\(name)' (a \(model.layers[i].kind) layer)")
        }
        if i + 1 < n, ["relu", "sigmoid", "tanh"].contains(model.layers[i + 1].kind) { return i + 1 }
        return i
    }

    /// The first layer of type `T`, named as a parameter (`0.weight`), or nil.
    public static func first<T>(_ model: Sequential, _ type: T.Type) -> String? {
        model.layers.firstIndex { $0 is T }.map { "\($0).weight" }
    }

    /// The parameter named `name` (`0.weight`), or an error listing the model's parameters.
    public static func parameter(_ model: Sequential, _ name: String) throws -> Parameter {
        guard let p = model.parameter(named: name) else {
            throw GlassboxError.invalidArgument(name: "layer", expected: "a parameter of the model: \(model.namedParameters.map(\.name).joined(separator: ", "))",
                                                found: "'\(name)'")
        }
        return p
    }

    /// Runs forward and backward for the batch-mean cross-entropy; every parameter's `grad` then holds its
    /// gradient. Returns the mean loss.
    @discardableResult
    public static func lossGradient(_ model: Sequential, images: Tensor, labels: [Int32]) throws -> Float {
        let logits = model.forward(images, training: false)
        let n = labels.count, k = logits.rowLength
        for y in labels where y < 0 || Int(y) >= k {
            throw GlassboxError.invalidArgument(name: "labels", expected: "class indices 0..<\(k)", found: "\(y)")
        }
        var grad = Tensor(zeros: [n, k])
        let loss = logits.withUnsafeBufferPointer { l in
            labels.withUnsafeBufferPointer { y in
                grad.withUnsafeMutableBufferPointer { g in
                    Ops.softmaxCrossEntropy(logits: l.baseAddress!, labels: y.baseAddress!, n: n, k: k, grad: g.baseAddress!,
                                            gradScale: 1 / Float(n))
                }
            }
        }
        model.backward(grad)
        return loss
    }
}
