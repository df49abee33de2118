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
