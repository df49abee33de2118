import GlassboxCore
import GlassboxData
import GlassboxNN

/// Where the units of a convolution layer look in the input: unit (i, j) of the feature map is centred on input
/// pixel (offset + i·step, offset + j·step), in pixel-index coordinates (pixel k's centre is k). Kernels are square,
/// so one offset and step serve both axes.
public struct ReceptiveField: Codable, Equatable, Sendable {
    public var offset: Double
    public var step: Double
    /// The span of input pixels one unit sees (for reports).
    public var size: Int

    public init(offset: Double = 0, step: Double = 1, size: Int = 1) { self.offset = offset; self.step = step; self.size = size }
}

/// A layer's activations over a probe set: `[N, units, h, w]` for convolution units, `[N, units]` for linear ones.
public struct UnitActivations: Sendable {
    public let values: Tensor
    /// Receptive-field geometry of spatial units (needed by the receptive-field upsampler).
    public let field: ReceptiveField?

    public init(values: Tensor, field: ReceptiveField? = nil) throws {
        guard values.rank == 2 || values.rank == 4, values.shape.allSatisfy({ $0 > 0 }) else {
            throw GlassboxError.invalidArgument(name: "activations", expected: "[N, units, h, w] or [N, units] with every size ≥ 1",
                                                found: "\(values.shape)")
        }
        if let i = values.scalars.firstIndex(where: { !$0.isFinite }) {
            throw GlassboxError.invalidArgument(name: "activations", expected: "finite values", found: "\(values.scalars[i]) at \(i)")
        }
        if let f = field, !(f.offset.isFinite && f.step.isFinite && f.step > 0 && f.size >= 1) {
            throw GlassboxError.invalidArgument(name: "receptive field", expected: "a finite offset, a step > 0 and a size ≥ 1", found: "\(f)")
        }
        self.values = values
        self.field = field
    }

    public var count: Int { values.shape[0] }
    public var units: Int { values.shape[1] }
    public var spatial: Bool { values.rank == 4 }
    public var height: Int { spatial ? values.shape[2] : 1 }
    public var width: Int { spatial ? values.shape[3] : 1 }
    /// Values per unit and image (h·w).
    public var plane: Int { height * width }

    /// All N·h·w values of one unit, image after image.
    public func unitValues(_ u: Int) -> [Float] {
        let p = plane, stride = units * p
        return values.withUnsafeBufferPointer { v in
            [Float](unsafeUninitializedCapacity: count * p) { buf, k in
                for s in 0..<count { (buf.baseAddress! + s * p).update(from: v.baseAddress! + s * stride + u * p, count: p) }
                k = count * p
            }
        }
    }

    /// The activations of the images `indices` (in that order).
    public func subset(_ indices: [Int]) throws -> UnitActivations {
        try UnitActivations(values: values.gatherRows(indices), field: field)
    }
}

/// Reading a model's layers for the explanation methods.
public enum ExplainLayers {
    /// The index into `model.layers` whose output holds the units a name refers to (`ModelAccess.unitLayer`: "0.weight"
    /// of `conv 16 k5 p2; relu` means the ReLU's output, the units' firing).
    public static func resolve(_ model: Sequential, _ name: String) throws -> Int { try ModelAccess.unitLayer(model, name) }

    /// Receptive field of the units output by layer `layer`, from the integer input window every convolution and max
    /// pooling before it composes (`ReceptiveWindow`). Nil once the output is flattened (linear units).
    public static func receptiveField(_ model: Sequential, layer: Int) -> ReceptiveField? {
        guard let w = try? ReceptiveWindow.of(model.spec, layer: layer) else { return nil }
        // The window of position i starts at i·stride − padding and spans size pixels: its centre is offset + i·step.
        return ReceptiveField(offset: Double(w.size - 1) / 2 - Double(w.padding), step: Double(w.stride), size: w.size)
    }

    /// Runs the model up to and including layer `layer` on the probe images in fixed batches and returns that
    /// layer's output. Batches do not depend on the thread count, so neither do the values.
    public static func activations(_ model: Sequential, images: Tensor, layer: Int, batchSize: Int = 500) throws -> UnitActivations {
        guard layer >= 0, layer < model.layers.count else {
            throw GlassboxError.invalidArgument(name: "layer", expected: "0…\(model.layers.count - 1)", found: "\(layer)")
        }
        guard batchSize >= 1 else { throw GlassboxError.invalidArgument(name: "batch-size", expected: "≥ 1", found: "\(batchSize)") }
        guard images.rank == 4 else { throw GlassboxError.invalidArgument(name: "probe images", expected: "[N, C, H, W]", found: "\(images.shape)") }
        let sample = Array(images.shape.dropFirst())
        let input = model.spec.input
        guard input == sample || (input.count == 1 && input[0] == sample.reduce(1, *)) else {
            throw GlassboxError.invalidArgument(name: "probe images", expected: "samples of shape \(input) for model '\(model.spec)'",
                                                found: "\(sample)")
        }
        let shapes = try model.spec.shapes()
        let outShape = shapes[layer]
        guard outShape.count == 1 || outShape.count == 3 else {
            throw GlassboxError.invalidArgument(name: "layer", expected: "a layer with [units] or [units, h, w] output", found: "\(outShape)")
        }
        let values = try LayerOutputs.collect(model, layer: layer, images: images, batchSize: batchSize)
        return try UnitActivations(values: values, field: outShape.count == 3 ? receptiveField(model, layer: layer) : nil)
    }
}
