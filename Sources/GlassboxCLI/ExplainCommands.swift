import ArgumentParser
import Foundation
import GlassboxAnalysis
import GlassboxCore
import GlassboxData
import GlassboxFigures
import GlassboxNN
import GlassboxSteps

private let probeArgs = ProbeRequest.arguments
private let dissectArgs = DissectionConfig.arguments
private let explainArgs = ExplanationConfig.arguments

/// `0-15`, `3,5,9` or `0-3,8` as indices (each ≥ 0); `flag` names the option in errors.
func parseIndices(_ text: String, flag: String) throws -> [Int] {
    try IndexList.parse(text, name: flag, expected: "indices such as 0-15 or 3,5,9")
}

/// `glassbox explain CHECKPOINT --layer 3.weight --method clustered` — concept explanations of a layer's units.
struct ExplainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Explain a layer's units with concepts: network dissection, compositional or clustered compositional explanations.",
        discussion: """
        The probes are the first --probe-count test images of the data (concepts computed from them) or drawn shapes and
        textures (--probe synthetic). The options are the arguments of a recipe's `step: concepts`, `step: dissect` and
        `step: explain`, with the same defaults; the data default to the checkpoint's.
        Examples:
          glassbox explain cnn.safetensors --layer 3.weight --method clustered
          glassbox explain cnn.safetensors --layer 0.weight --method dissect --probe synthetic --json
        """)

    @Argument(help: "A .safetensors checkpoint.") var checkpoint: String
    @Option(help: "The layer: a weight such as 3.weight (its units after the activation) or a layer index.") var layer: String
    @Option(help: "dissect, coex or clustered.") var method: ExplainMethodOption = .clustered
    @Option(help: "Probe images: images (the data's test images) or synthetic (drawn).") var probe: String?
    @Option(name: .customLong("probe-count"), help: flagHelp(probeArgs, "count")) var probeCount: String?
    @Option(help: flagHelp(explainArgs, "clusters")) var clusters: String?
    @Option(help: flagHelp(explainArgs, "beam")) var beam: String?
    @Option(help: flagHelp(explainArgs, "length")) var length: String?
    @Option(help: flagHelp(dissectArgs, "quantile")) var quantile: String?
    @Option(help: flagHelp(dissectArgs, "upsampler")) var upsampler: String?
    @Option(help: "Units (e.g. 0-7; default all).") var units: String?
    @Option(help: "Seed of the synthetic probes, the nulls and the random initialisation (default 0).") var seed: String?
    @OptionGroup var dataOptions: DataOptions
    @Flag(help: "Print the whole result as JSON.") var json = false

    func run() throws {
        let c = try LoadedCheckpoint(checkpoint)
        let seedValue = try seed.map { s -> UInt64 in
            guard let v = UInt64(s) else { throw GlassboxError.invalidArgument(name: "--seed", expected: "a whole number ≥ 0", found: "'\(s)'") }
            return v
        } ?? 0
        let request = try decodeFlags(probeArgs, [("source", probe), ("count", probeCount), ("seed", seed)], into: ProbeRequest())
        let unitList = try units.map { try parseIndices($0, flag: "--units") }
        let data = try dataOptions.load(seed: seedValue, recorded: c.data)
        let probes = try renamingArguments(["source": "--probe", "count": "--probe-count"]) { try ProbeSets.make(request, data: data) }
        switch method {
        case .dissect:
            var config = try decodeFlags(dissectArgs, [("quantile", quantile), ("upsampler", upsampler), ("seed", seed)], into: DissectionConfig())
            config.units = unitList
            config.randomInitSeed = seedValue
            let r = try renamingArguments { try Dissection.run(c.model, layer: layer, probes: probes, config: config) }
            if json { try printJSON(r, pretty: true); return }
            print("\(r.detectors) of \(r.units.count) units are detectors (IoU > \(formatNumber(Float(config.detectorThreshold)))); "
                  + "\(r.detectorsBeatingShuffle) beat the shuffled null, \(r.detectorsBeatingRandomInit.map(String.init) ?? "–") the random-init null")
            for u in r.units { print("  unit \(u.unit)  \(u.best.map { "\($0.name) (\($0.category.rawValue))  IoU \(String(format: "%.3f", $0.iou))" } ?? "–")") }
        case .coex, .clustered:
            var config = try decodeFlags(explainArgs, [("clusters", clusters), ("beam", beam), ("length", length), ("quantile", quantile),
                                                       ("upsampler", upsampler), ("seed", seed)], into: ExplanationConfig())
            if method == .coex { config.clusters = 1 }
            config.units = unitList
            let r = try renamingArguments { try CompositionalExplanations.run(c.model, layer: layer, probes: probes, config: config) }
            if json { try printJSON(r, pretty: true); return }
            for u in r.units {
                for range in u.ranges.reversed() {
                    print("unit \(u.unit)  range \(range.index + 1) \(range.range.text)  \(range.best.map { "IoU \(String(format: "%.3f", $0.iou))  \($0.text)" } ?? "–")")
                }
            }
            if let g = r.gap { print(String(format: "beam suboptimal at length 2: %d of %d", g.suboptimal, g.compared)) }
        }
    }
}

enum ExplainMethodOption: String, ExpressibleByArgument, CaseIterable { case dissect, coex, clustered }

private let visualiseArgs = VisualiseSettings.arguments

/// `glassbox visualise CHECKPOINT --layer 3.weight --units 0-15` — activation maximisation (PNG grid + JSON).
struct VisualiseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "visualise",
        abstract: "Activation maximisation: the input that drives each unit (or class logit) highest, as a PNG grid and JSON.",
        discussion: """
        The options are the arguments of a recipe's `step: visualise`, with the same defaults.
        Example: glassbox visualise cnn.safetensors --layer 3.weight --units 0-15 --out features
        """)

    @Argument(help: "A .safetensors checkpoint.") var checkpoint: String
    @Option(help: "A weight such as 3.weight (its units after the activation), a layer index, or logits.") var layer = "logits"
    @Option(help: "Units (e.g. 0-15; default all).") var units: String?
    @Option(help: flagHelp(visualiseArgs, "seeds")) var seeds: String?
    @Option(help: flagHelp(visualiseArgs, "steps")) var steps: String?
    @Option(help: flagHelp(visualiseArgs, "lr")) var lr: String?
    @Option(help: flagHelp(visualiseArgs, "parameterisation")) var parameterisation: String?
    @Option(help: flagHelp(visualiseArgs, "range")) var range: String?
    @Option(help: flagHelp(visualiseArgs, "tv")) var tv: String?
    @Option(name: .customLong("l2-bound"), help: flagHelp(visualiseArgs, "l2-bound")) var l2Bound: String?
    @Option(help: flagHelp(visualiseArgs, "seed")) var seed: String?
    @Option(help: "Folder for visualise.png and visualise.json (default: the current folder).") var out = "."

    func run() throws {
        let c = try LoadedCheckpoint(checkpoint)
        let settings = try decodeFlags(visualiseArgs, [("seeds", seeds), ("steps", steps), ("lr", lr), ("parameterisation", parameterisation),
                                                       ("range", range), ("tv", tv), ("l2-bound", l2Bound), ("seed", seed)], into: VisualiseSettings())
        guard c.model.spec.input.count >= 1 else { throw GlassboxError.invalidArgument(name: "checkpoint", expected: "a model with an input shape", found: "'\(c.model.spec)'") }
        let config = settings.resolved(layer: try renamingArguments { try ModelAccess.unitLayer(c.model, layer) },
                                       units: try units.map { try parseIndices($0, flag: "--units") },
                                       inputCount: c.model.spec.input.reduce(1, *))
        let r = try renamingArguments { try ActivationMaximisation.run(model: c.model, config: config) }
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let shape = r.imageShape
        let images = r.images.map { FigureImage(channels: shape[0], height: shape[1], width: shape[2], values: $0.pixels) }
        let labels = r.images.map { "\($0.unit).\($0.seedIndex): " + String(format: "%.2f", $0.activation) }
        let cols = max(1, config.seedsPerUnit) * max(1, min(4, 12 / max(1, config.seedsPerUnit)))
        let figure = Figure.imageGrid(ImageGrid(images: images, labels: labels, columns: cols))
        let rows = (images.count + cols - 1) / cols
        let png = try figure.render(to: .png, size: .screen(width: Double(min(900, 40 + cols * 80)), height: Double(40 + rows * 96)))
        try Files.writeAtomically(png, to: (out as NSString).appendingPathComponent("visualise.png"))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try Files.writeAtomically(try encoder.encode(r), to: (out as NSString).appendingPathComponent("visualise.json"))
        for o in r.images { print("unit \(o.unit) seed \(o.seedIndex): activation \(String(format: "%.3f", o.startActivation)) → \(String(format: "%.3f", o.activation))") }
        print("saved: \((out as NSString).appendingPathComponent("visualise.png"))")
    }
}

private let attributionArgs = AttributionSettings.arguments

/// `glassbox attribute CHECKPOINT --method ig --images 0-15 --out DIR` — attribution maps as .npy and a PNG grid.
struct AttributeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "attribute",
        abstract: "Attribution maps (saliency, gradient × input, integrated gradients, DeepLIFT, occlusion, Grad-CAM) of test images, as .npy and PNG.",
        discussion: """
        Writes DIR/<method>.npy (float32 [N, C, H, W], one map per image), DIR/images.npy, DIR/targets.npy (int64) and
        DIR/attribution.png (a method × image grid). The options are the arguments of a recipe's `step: attribute`, with
        the same defaults; the data default to the checkpoint's. Short names: ig, gxi, dl, gradcam.
        Example: glassbox attribute cnn.safetensors --method ig,saliency --images 0-15 --out maps
          then in Python: m = np.load("maps/integrated-gradients.npy")
        """)

    static let aliases = ["ig": "integrated-gradients", "gxi": "gradient-x-input", "dl": "deeplift", "gradcam": "grad-cam"]

    @Argument(help: "A .safetensors checkpoint.") var checkpoint: String
    @Option(help: "Methods, comma-separated: saliency, gradient, gradient-x-input, integrated-gradients, occlusion, deeplift, grad-cam.")
    var method = "integrated-gradients"
    @Option(help: "Test images, e.g. 0-15 or 3,7 (default: the first 8).") var images: String?
    @Option(help: "The class each map explains: predicted or label.") var `class` = "predicted"
    @Option(help: flagHelp(attributionArgs, "target")) var target: String?
    @Option(help: flagHelp(attributionArgs, "baseline")) var baseline: String?
    @Option(help: flagHelp(attributionArgs, "steps")) var steps: String?
    @Option(help: flagHelp(attributionArgs, "quadrature")) var quadrature: String?
    @Option(name: .customLong("noise-tunnel"), help: flagHelp(attributionArgs, "noise-tunnel")) var noiseTunnel: String?
    @Option(help: flagHelp(attributionArgs, "window")) var window: String?
    @Option(help: flagHelp(attributionArgs, "stride")) var stride: String?
    @Option(help: "Seed of noisy baselines, the noise tunnel and --resplit (default 0).") var seed: String?
    @Option(help: "Folder to write the maps into.") var out: String
    @OptionGroup var dataOptions: DataOptions

    func run() throws {
        let settings = try decodeFlags(attributionArgs, [("target", target), ("baseline", baseline), ("steps", steps), ("quadrature", quadrature),
                                                         ("noise-tunnel", noiseTunnel), ("window", window), ("stride", stride), ("seed", seed)],
                                       into: AttributionSettings())
        let methods = try method.split(separator: ",").map { s -> AttributionMethod in
            let name = Self.aliases[String(s).trimmingCharacters(in: .whitespaces)] ?? String(s).trimmingCharacters(in: .whitespaces)
            guard let m = AttributionMethod(rawValue: name) else {
                throw GlassboxError.invalidArgument(name: "--method", expected: "methods among \(AttributionMethod.allCases.map(\.rawValue).joined(separator: ", "))", found: "'\(s)'")
            }
            return m
        }
        var choice = ImageChoice()
        choice.images = try images.map { try parseIndices($0, flag: "--images") }
        guard let tc = TargetClass(rawValue: `class`) else { throw GlassboxError.invalidArgument(name: "--class", expected: "predicted or label", found: "'\(`class`)'") }
        choice.targetClass = tc
        let c = try LoadedCheckpoint(checkpoint)
        let test = try dataOptions.loadTest(seed: settings.seed, recorded: c.data)
        let (inputs, indices, labels, targets) = try renamingArguments { try choice.select(c.model, test) }
        let maps = try renamingArguments { try methods.map { try Attribution.compute(model: c.model, inputs: inputs, targets: targets, config: settings.config($0)) } }
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        func path(_ name: String) -> String { (out as NSString).appendingPathComponent(name) }
        for a in maps {
            try NumpyArray(floats: a.values, shape: a.shape).write(to: path("\(a.config.method.rawValue).npy"))
            let gap = a.relativeCompletenessGap.map { String(format: ", completeness gap ≤ %.3g %%", Double($0.max() ?? 0) * 100) } ?? ""
            print("\(path("\(a.config.method.rawValue).npy")): \(a.config.method.rawValue) \(a.shape)\(gap)")
        }
        try NumpyArray(floats: inputs.scalars, shape: inputs.shape).write(to: path("images.npy"))
        try NumpyArray(integers: targets.map(Int64.init), shape: [targets.count]).write(to: path("targets.npy"))
        let figure = AttributionFigures.methodGrid(inputs: inputs, labels: labels, targets: targets, classNames: test.classNames, maps: maps,
                                                   title: "Images \(indices.map(String.init).joined(separator: ", "))")
        let png = try figure.render(to: .png, size: .screen(width: Double(min(1200, 120 + 90 * indices.count)), height: Double(110 + 95 * (maps.count + 1))))
        try Files.writeAtomically(png, to: path("attribution.png"))
        print("\(path("attribution.png")): \(maps.count) methods × \(indices.count) images")
    }
}
