import GlassboxCore
import GlassboxNN

/// How pixels are ordered from a map: by signed value (most positive first, RISE's choice) or by magnitude.
public enum PixelRanking: String, Codable, Sendable, CaseIterable {
    case value
    case magnitude
}

/// Settings of the deletion and insertion curves (Petsiuk et al. 2018, RISE `evaluation.py`).
public struct DeletionInsertionConfig: Codable, Equatable, Sendable {
    /// Pixels changed per step; nil: the image width (28 for 28×28, so 28 steps and 29 evaluations).
    public var pixelsPerStep: Int?
    /// Deletion sets removed pixels (all channels) to this value.
    public var deletionValue: Float
    /// Insertion starts from the image blurred by a Gaussian of this σ (pixels) and puts real pixels back.
    public var insertionBlurSigma: Float
    public var ranking: PixelRanking
    /// Seeds the random ordering each curve is compared with (image i uses stream i of this seed).
    public var seed: UInt64
    public var chunkSize: Int

    public init(pixelsPerStep: Int? = nil, deletionValue: Float = 0, insertionBlurSigma: Float = 5, ranking: PixelRanking = .value,
                seed: UInt64 = 0, chunkSize: Int = 8) {
        self.pixelsPerStep = pixelsPerStep; self.deletionValue = deletionValue; self.insertionBlurSigma = insertionBlurSigma
        self.ranking = ranking; self.seed = seed; self.chunkSize = chunkSize
    }
}

/// Curves for one ordering: class probability after each step, per image, and the areas under them.
public struct ProbabilityCurves: Codable, Equatable, Sendable {
    public var deletion: [[Float]]
    public var insertion: [[Float]]
    public var deletionAUC: [Float]
    public var insertionAUC: [Float]
    public var meanDeletion: [Float]
    public var meanInsertion: [Float]
    public var meanDeletionAUC: Float
    public var meanInsertionAUC: Float
}

public struct DeletionInsertionResult: Codable, Equatable, Sendable {
    public var config: DeletionInsertionConfig
    /// Fraction of the pixels changed at each evaluation (the x axis, 0 … 1).
    public var fractions: [Float]
    /// Pixels ordered by the attribution map.
    public var attribution: ProbabilityCurves
    /// Pixels in a seeded random order.
    public var random: ProbabilityCurves
}

/// Deletion and insertion curves: a good map's deletion curve falls fast (low AUC) and its insertion curve rises
/// fast (high AUC), compared with a random ordering of the same pixels. AUC by the trapezoid rule on [0, 1].
public enum DeletionInsertion {
    public static func evaluate(model: Sequential, inputs: Tensor, targets: [Int], maps: Tensor,
                                config: DeletionInsertionConfig = DeletionInsertionConfig()) throws -> DeletionInsertionResult {
        Runtime.configure()
        let setup = try AttributionSetup.check(model: model, inputs: inputs, targets: targets)
        guard inputs.rank == 4 else {
            throw GlassboxError.invalidArgument(name: "inputs", expected: "images [N, C, H, W]", found: "shape \(inputs.shape)")
        }
        guard maps.shape == inputs.shape else { throw GlassboxError.shapeMismatch(what: "attribution maps", expected: inputs.shape, found: maps.shape) }
        guard maps.scalars.allSatisfy({ $0.isFinite }) else {
            throw GlassboxError.invalidArgument(name: "maps", expected: "finite values", found: "NaN or infinity")
        }
        let (c, h, w) = (inputs.shape[1], inputs.shape[2], inputs.shape[3])
        let step = config.pixelsPerStep ?? w
        guard step >= 1 && step <= h * w else {
            throw GlassboxError.invalidArgument(name: "pixels-per-step", expected: "a whole number in 1…\(h * w)", found: "\(step)")
        }
        guard config.insertionBlurSigma.isFinite && config.insertionBlurSigma > 0 else {
            throw GlassboxError.invalidArgument(name: "insertion-sigma", expected: "a number > 0", found: "\(config.insertionBlurSigma)")
        }
        guard config.deletionValue.isFinite else {
            throw GlassboxError.invalidArgument(name: "deletion-value", expected: "a finite number", found: "\(config.deletionValue)")
        }
        guard config.chunkSize >= 1 else { throw GlassboxError.invalidArgument(name: "chunk-size", expected: "a whole number ≥ 1", found: "\(config.chunkSize)") }
        let pixels = h * w, steps = (pixels + step - 1) / step, evals = steps + 1
        let fractions = (0...steps).map { Float(min($0 * step, pixels)) / Float(pixels) }
        let blurred = ImageFilters.blur(inputs, sigma: config.insertionBlurSigma)
        let n = setup.count, len = c * pixels
        // Per image: 4 curves (deletion/insertion × map/random) of `evals` probabilities.
        let curves = SharedFloats(count: n * 4 * evals)
        let workers = try AttributionWorkers(model: model, images: n, chunk: config.chunkSize)
        workers.forEachChunk(n, chunk: config.chunkSize) { net, range in
            var batch = [Float]()
            batch.reserveCapacity(range.count * 4 * evals * len)
            for i in range {
                let x = Array(inputs.scalars[(i * len)..<((i + 1) * len)])
                let start = Array(blurred.scalars[(i * len)..<((i + 1) * len)])
                let mapOrder = order(Array(maps.scalars[(i * len)..<((i + 1) * len)]), c: c, pixels: pixels, ranking: config.ranking)
                var g = SeededGenerator.derived(seed: config.seed, stream: UInt64(i))
                let randomOrder = g.permutation(pixels)
                for o in [mapOrder, randomOrder] {
                    // Deletion: x with the first s·step pixels set to the value.
                    var del = x
                    for s in 0...steps {
                        if s > 0 { for q in ((s - 1) * step)..<min(s * step, pixels) { for ch in 0..<c { del[ch * pixels + o[q]] = config.deletionValue } } }
                        batch += del
                    }
                    // Insertion: the blurred image with the first s·step pixels put back.
                    var ins = start
                    for s in 0...steps {
                        if s > 0 { for q in ((s - 1) * step)..<min(s * step, pixels) { for ch in 0..<c { ins[ch * pixels + o[q]] = x[ch * pixels + o[q]] } } }
                        batch += ins
                    }
                }
            }
            let rows = range.count * 4 * evals
            let logits = net.forward(Tensor(shape: [rows, c, h, w], scalars: batch))
            let p = TargetSeed.values(logits, kind: .probability) { targets[range.lowerBound + $0 / (4 * evals)] }
            curves.write(p, at: range.lowerBound * 4 * evals)
        }
        let all = curves.array
        func set(_ which: Int) -> ProbabilityCurves {
            // which: 0 = map, 1 = random; deletion comes before insertion in each image's block.
            let del = (0..<n).map { i in Array(all[((i * 4 + 2 * which) * evals)..<((i * 4 + 2 * which + 1) * evals)]) }
            let ins = (0..<n).map { i in Array(all[((i * 4 + 2 * which + 1) * evals)..<((i * 4 + 2 * which + 2) * evals)]) }
            let da = del.map { auc($0, fractions) }, ia = ins.map { auc($0, fractions) }
            return ProbabilityCurves(deletion: del, insertion: ins, deletionAUC: da, insertionAUC: ia,
                                     meanDeletion: mean(del, evals), meanInsertion: mean(ins, evals),
                                     meanDeletionAUC: da.reduce(0, +) / Float(max(1, n)), meanInsertionAUC: ia.reduce(0, +) / Float(max(1, n)))
        }
        return DeletionInsertionResult(config: config, fractions: fractions, attribution: set(0), random: set(1))
    }

    /// Pixel indices (of one `H × W` plane) by the channel-summed map, highest first; ties keep index order.
    static func order(_ map: [Float], c: Int, pixels: Int, ranking: PixelRanking) -> [Int] {
        let score: [Float] = (0..<pixels).map { p in
            var s: Float = 0
            for ch in 0..<c { s += map[ch * pixels + p] }
            return ranking == .magnitude ? abs(s) : s
        }
        return (0..<pixels).sorted { score[$0] > score[$1] || (score[$0] == score[$1] && $0 < $1) }
    }

    /// Trapezoid rule of `y` over `x`.
    public static func auc(_ y: [Float], _ x: [Float]) -> Float {
        var s: Float = 0
        for k in 1..<max(1, y.count) { s += (x[k] - x[k - 1]) * (y[k] + y[k - 1]) / 2 }
        return s
    }

    static func mean(_ rows: [[Float]], _ len: Int) -> [Float] {
        (0..<len).map { k in rows.reduce(0) { $0 + $1[k] } / Float(max(1, rows.count)) }
    }
}
