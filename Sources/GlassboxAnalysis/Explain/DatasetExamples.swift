import GlassboxCore
import GlassboxNN

/// How a convolutional channel's `[h, w]` map becomes one number per image.
public enum SpatialReduction: String, Codable, Sendable, CaseIterable {
    /// The largest value over positions (the usual choice; its position locates the receptive-field crop).
    case max
    /// The mean over positions.
    case mean
}

/// Settings for finding the images of a data set that drive a unit most, least and not at all.
public struct DatasetExamplesConfig: Codable, Equatable, Sendable {
    /// The layer whose output is read (a Linear/activation layer's units, a conv layer's channels, the last layer's
    /// class logits).
    public var layer: Int
    /// Units (channels) to report; nil: every unit of the layer.
    public var units: [Int]?
    /// Images per group (top, bottom, near zero).
    public var count: Int
    public var spatial: SpatialReduction
    /// Cut the receptive field around each example's argmax position (conv layers only).
    public var crops: Bool
    /// Images per forward pass.
    public var batchSize: Int

    public init(layer: Int, units: [Int]? = nil, count: Int = 9, spatial: SpatialReduction = .max, crops: Bool = true,
                batchSize: Int = 500) {
        self.layer = layer; self.units = units; self.count = count; self.spatial = spatial; self.crops = crops
        self.batchSize = batchSize
    }
}

/// One image's value for a unit.
public struct ActivatingExample: Codable, Equatable, Sendable {
    /// Index of the image in the data set.
    public var index: Int
    public var value: Float
    /// For conv channels: the (y, x) of the channel's maximum in that image.
    public var position: [Int]?
    /// For conv channels with `crops`: the receptive field around `position`.
    public var crop: ReceptiveFieldCrop?
}

public struct UnitExamples: Codable, Equatable, Sendable {
    public var unit: Int
    /// Highest values first.
    public var top: [ActivatingExample]
    /// Lowest values first.
    public var bottom: [ActivatingExample]
    /// Smallest |value| first.
    public var nearZero: [ActivatingExample]
    public var mean: Float
    public var minimum: Float
    public var maximum: Float
}

public struct DatasetExamplesResult: Codable, Equatable, Sendable {
    public var config: DatasetExamplesConfig
    /// The layer's per-sample output shape.
    public var layerShape: [Int]
    public var layerKind: String
    /// nil when the layer's units see the whole input.
    public var receptiveField: ReceptiveWindow?
    public var units: [UnitExamples]
}

/// Dataset examples: the images that activate a unit most and least, and those that leave it near zero — what readers
/// trust most beside a synthetic picture of the unit (Olah et al. 2017). Ties are broken by image index.
public enum DatasetExamples {
    public static func find(model: Sequential, images: Tensor, config: DatasetExamplesConfig) throws -> DatasetExamplesResult {
        let shapes = try model.spec.shapes()
        guard config.layer >= 0 && config.layer < model.layers.count && shapes.count == model.layers.count else {
            throw GlassboxError.invalidArgument(name: "layer", expected: "a layer index in 0..<\(model.layers.count)", found: "\(config.layer)")
        }
        let sample = Array(images.shape.dropFirst())
        guard images.rank >= 2, model.spec.input == sample || (model.spec.input.count == 1 && model.spec.input[0] == sample.reduce(1, *)) else {
            throw GlassboxError.invalidArgument(name: "images", expected: "samples of shape \(model.spec.input)", found: "\(sample)")
        }
        let shape = shapes[config.layer]
        let unitCount = shape[0], plane = shape.dropFirst().reduce(1, *)
        let units = config.units ?? Array(0..<unitCount)
        if let bad = units.first(where: { $0 < 0 || $0 >= unitCount }) {
            throw GlassboxError.invalidArgument(name: "units", expected: "units in 0..<\(unitCount)", found: "\(bad)")
        }
        guard config.count >= 1 else { throw GlassboxError.invalidArgument(name: "count", expected: "a whole number ≥ 1", found: "\(config.count)") }
        guard config.batchSize >= 1 else { throw GlassboxError.invalidArgument(name: "batch-size", expected: "a whole number ≥ 1", found: "\(config.batchSize)") }
        let spatial = shape.count == 3
        let rf = spatial ? try ReceptiveWindow.of(model.spec, layer: config.layer) : nil
        let (values, argmax) = activations(model, images, layer: config.layer, units: units, plane: plane, spatial: spatial ? config.spatial : nil,
                                           batch: config.batchSize)
        let n = images.rows
        var out: [UnitExamples] = []
        for (u, unit) in units.enumerated() {
            let v = (0..<n).map { values[$0 * units.count + u] }
            func example(_ i: Int) -> ActivatingExample {
                var e = ActivatingExample(index: i, value: v[i], position: nil, crop: nil)
                if spatial {
                    let p = Int(argmax[i * units.count + u])
                    let y = p / shape[2], x = p % shape[2]
                    e.position = [y, x]
                    if config.crops, let rf {
                        let o = rf.origin(y: y, x: x)
                        e.crop = ReceptiveFieldCrop.cut(images, index: i, top: o.top, left: o.left, size: rf.size)
                    }
                }
                return e
            }
            let k = min(config.count, n)
            let top = (0..<n).sorted { v[$0] > v[$1] || (v[$0] == v[$1] && $0 < $1) }.prefix(k)
            let bottom = (0..<n).sorted { v[$0] < v[$1] || (v[$0] == v[$1] && $0 < $1) }.prefix(k)
            let zero = (0..<n).sorted { abs(v[$0]) < abs(v[$1]) || (abs(v[$0]) == abs(v[$1]) && $0 < $1) }.prefix(k)
            let mean = v.reduce(0.0) { $0 + Double($1) } / Double(max(1, n))
            out.append(UnitExamples(unit: unit, top: top.map(example), bottom: bottom.map(example), nearZero: zero.map(example),
                                    mean: Float(mean), minimum: v.min() ?? 0, maximum: v.max() ?? 0))
        }
        return DatasetExamplesResult(config: config, layerShape: shape, layerKind: model.layers[config.layer].kind, receptiveField: rf, units: out)
    }

    /// Per image and unit (row-major `[N, units]`): the unit's value, or its channel reduced over positions, and for
    /// conv channels the flat position of the maximum (first one in row-major order).
    static func activations(_ model: Sequential, _ images: Tensor, layer: Int, units: [Int], plane: Int, spatial: SpatialReduction?,
                            batch: Int) -> ([Float], [Int32]) {
        let n = images.rows, u = units.count
        var values = [Float](repeating: 0, count: n * u), argmax = [Int32](repeating: 0, count: n * u)
        var start = 0
        while start < n {
            let end = min(n, start + batch)
            let out = model.forward(images.rows(start..<end), through: layer)
            let len = out.rowLength
            out.withUnsafeBufferPointer { a in
                for s in 0..<(end - start) {
                    for (j, unit) in units.enumerated() {
                        let p = a.baseAddress! + s * len + unit * plane
                        var best = p[0], at = 0
                        var sum: Float = 0
                        for q in 0..<plane {
                            sum += p[q]
                            if p[q] > best { best = p[q]; at = q }
                        }
                        values[(start + s) * u + j] = spatial == .mean ? sum / Float(plane) : best
                        argmax[(start + s) * u + j] = Int32(at)
                    }
                }
            }
            start = end
        }
        return (values, argmax)
    }
}
