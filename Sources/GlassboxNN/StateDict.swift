import Foundation
import GlassboxCore

/// How the tensor names of a PyTorch `state_dict` (saved with `safetensors.torch.save_file`) map onto a model's
/// parameter names (`0.weight`, `3.bias`, … as `torch.nn.Sequential` names them).
///
/// By default every tensor must be a parameter of the model and every parameter must be there. Two options cover
/// what PyTorch adds:
/// - `stripPrefix` (`strip-prefix: module.`): removes a prefix from every name that has it — `nn.DataParallel` saves
///   `module.0.weight`, a model kept as an attribute saves `net.0.weight`;
/// - `ignore` (`ignore: [num_batches_tracked]`): leaves tensors out, by full name or by last name part
///   (`num_batches_tracked` matches `1.num_batches_tracked`), whatever their type.
///
/// PyTorch layers that load: `Linear`, `Conv2d` (square kernel, one stride and padding for both axes, no dilation or
/// groups), `MaxPool2d` (square, no padding), `ReLU`, `Sigmoid`, `Tanh`, `Flatten`, `Dropout`. Not yet: BatchNorm,
/// average and adaptive pooling, other activations, and anything that is not one `nn.Sequential`.
public struct StateDictOptions: Codable, Equatable, Sendable {
    public var stripPrefix: String?
    public var ignore: [String]

    public init(stripPrefix: String? = nil, ignore: [String] = []) {
        self.stripPrefix = stripPrefix; self.ignore = ignore
    }

    public func validate() throws {
        if let p = stripPrefix, p.isEmpty { throw GlassboxError.invalidArgument(name: "strip-prefix", expected: "a prefix such as module.", found: "an empty value") }
        if ignore.contains(where: \.isEmpty) { throw GlassboxError.invalidArgument(name: "ignore", expected: "tensor names", found: "an empty name") }
    }

    /// The name with the prefix removed (when it has it).
    public func mapped(_ name: String) -> String {
        guard let p = stripPrefix, name.hasPrefix(p) else { return name }
        return String(name.dropFirst(p.count))
    }

    public func ignores(_ name: String) -> Bool {
        let m = mapped(name)
        return ignore.contains { m == $0 || name == $0 || m.hasSuffix("." + $0) }
    }
}

public extension Checkpoint {
    /// Loads a model from a checkpoint written by glassbox or by PyTorch: the spec from `spec`, else the file's
    /// `glassbox.spec`; tensor names mapped by `options`. Errors name the tensor, the expected and the found shape,
    /// and say which option fixes a prefixed or extra name.
    static func load(_ path: String, spec explicitSpec: ModelSpec? = nil, options: StateDictOptions) throws
        -> (model: Sequential, metadata: [String: String]) {
        try options.validate()
        let raw = try Safetensors.decode(Files.read(path), name: path, include: { !options.ignores($0) })
        var file = Safetensors.File(tensors: [:], metadata: raw.metadata)
        for (name, t) in raw.tensors.sorted(by: { $0.key < $1.key }) {
            let m = options.mapped(name)
            guard file.tensors[m] == nil else {
                throw GlassboxError.badFile(path: path, field: name, expected: "a name that differs from the others after strip-prefix", found: "a second '\(m)'")
            }
            file.tensors[m] = t
        }
        let spec: ModelSpec
        if let explicitSpec { spec = explicitSpec }
        else if let s = raw.metadata[specKey] {
            do { spec = try ModelSpec.parse(s) } catch {
                throw GlassboxError.badFile(path: path, field: "__metadata__.\(specKey)", expected: "a model spec", found: "\(error)")
            }
        } else {
            throw GlassboxError.badFile(path: path, field: "__metadata__.\(specKey)", expected: "a model spec (or pass one: --spec, or spec: in a load cell)",
                                        found: "none")
        }
        let model = try Sequential(spec: spec, seed: 0)
        try explainNames(file, model: model, path: path)
        try assign(file, to: model, path: path)
        return (model, raw.metadata)
    }

    /// Before the plain name check: a clearer error for the usual PyTorch mismatches (a prefix on every name,
    /// BatchNorm buffers, tensors of layers the spec does not have).
    internal static func explainNames(_ f: Safetensors.File, model: Sequential, path: String) throws {
        let params = Set(model.namedParameters.map(\.name))
        let keys = f.tensors.keys.filter { !$0.hasSuffix("_mask") }.sorted()
        let extra = keys.filter { !params.contains($0) }
        guard let first = extra.first else { return }
        // A prefix shared by every name that, removed, leaves the model's names.
        if let dot = first.firstIndex(of: ".") {
            let prefix = String(first[...dot])
            if keys.allSatisfy({ $0.hasPrefix(prefix) }), keys.contains(where: { params.contains(String($0.dropFirst(prefix.count))) }) {
                throw GlassboxError.badFile(path: path, field: first, expected: "the model's parameter names (\(params.sorted().prefix(4).joined(separator: ", ")), …)",
                                            found: "names that all start with '\(prefix)' (e.g. from nn.DataParallel); the strip-prefix option '\(prefix)' removes it")
            }
        }
        let batchNorm = ["running_mean", "running_var", "num_batches_tracked"]
        if let b = extra.first(where: { k in batchNorm.contains { k.hasSuffix("." + $0) } }) {
            throw GlassboxError.badFile(path: path, field: b, expected: "tensors of Linear and Conv2d layers",
                                        found: "a BatchNorm buffer: BatchNorm layers are not supported yet (fold them into the layer before them)")
        }
        throw GlassboxError.badFile(path: path, field: first, expected: "one of the model's parameters \(params.sorted()) (spec '\(model.spec)')",
                                    found: "a tensor the spec has no place for (\(extra.count) such; check the spec, or leave them out with the ignore option)")
    }
}

/// The output of one layer for every sample: what `glassbox activations` writes for NumPy.
public enum LayerOutputs {
    /// A layer given as its index (`3`: the output of `model[3]`, as PyTorch numbers the modules of an
    /// `nn.Sequential`), as one of its parameters (`3.weight`: the units of that layer, after its activation when it has
    /// one), or `logits` — `ModelAccess.unitLayer`'s rule.
    public static func index(_ model: Sequential, _ layer: String) throws -> Int { try ModelAccess.unitLayer(model, layer) }

    /// `[N] + the layer's output shape` for the images `[N, C, H, W]` (or `[N, F]`), computed in batches. The size is
    /// checked before any work: at most 2³¹ values.
    public static func collect(_ model: Sequential, layer: Int, images: Tensor, batchSize: Int = 256) throws -> Tensor {
        guard layer >= 0, layer < model.layers.count else {
            throw GlassboxError.invalidArgument(name: "layer", expected: "a layer index 0…\(model.layers.count - 1)", found: "\(layer)")
        }
        let shape = try model.spec.shapes()[layer]
        let n = images.rows
        var total = n
        for d in shape {
            let (t, o) = total.multipliedReportingOverflow(by: d)
            guard !o, t <= 1 << 31 else {
                throw GlassboxError.invalidArgument(name: "limit", expected: "at most 2^31 values in all", found: "\(n) samples of \(shape)")
            }
            total = t
        }
        let per = shape.reduce(1, *)
        var out = [Float](repeating: 0, count: total)
        var start = 0
        while start < n {
            let end = min(n, start + batchSize)
            // Only the layers up to `layer` run: the outputs are the same, and a probe pass over an early layer no
            // longer pays for the rest of the network.
            let a = model.forward(images.rows(start..<end), through: layer)
            a.withUnsafeBufferPointer { src in
                out.withUnsafeMutableBufferPointer { dst in
                    (dst.baseAddress! + start * per).update(from: src.baseAddress!, count: (end - start) * per)
                }
            }
            start = end
        }
        return Tensor(shape: [n] + shape, scalars: out)
    }
}
