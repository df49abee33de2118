import ArgumentParser
import Foundation
import GlassboxAnalysis
import GlassboxCore
import GlassboxData
import GlassboxNN
import GlassboxSteps

/// `glassbox activations CHECKPOINT --layer L --data … --out acts.npy` — one layer's outputs for every sample, for NumPy.
struct ActivationsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "activations",
        abstract: "Write one layer's outputs for every sample of a split as a NumPy array (.npy; .npz adds labels and class names).",
        discussion: """
        LAYER is a layer index (3: the output of model[3], numbered as in the nn.Sequential, so relu, pooling and flatten
        layers count), a parameter name (3.weight: the units of that layer, after its activation when it has one — the
        same rule as explain and visualise), or logits. The inputs are normalised as
        the data options (or the checkpoint) say. The array is float32 [N, …the layer's output shape…].
        Example: glassbox activations cnn.safetensors --layer 4 --data folder:images --limit 1000 --out acts.npz
          then in Python: a = np.load("acts.npz"); a["activations"], a["labels"], a["class_names"]
        """)

    @Argument(help: "A .safetensors checkpoint written by glassbox, or a PyTorch state dict.") var checkpoint: String
    @Option(help: "The layer: an index (its output), a parameter name such as 0.weight (that layer's units after its activation), or logits.") var layer: String
    @Option(help: "Which split: test or train.") var split = "test"
    @Option(help: "Where to write: FILE.npy (the activations) or FILE.npz (activations, labels, class_names).") var out: String
    @Option(help: "Seed for --resplit.") var seed: UInt64 = 0
    @OptionGroup var names: StateDictFlags
    @OptionGroup var dataOptions: DataOptions

    func run() throws {
        guard split == "test" || split == "train" else { throw GlassboxError.invalidArgument(name: "--split", expected: "test or train", found: "'\(split)'") }
        let format = try ArraysOut.format(out)
        let c = try LoadedCheckpoint(checkpoint, flags: names)
        let index = try renamingArguments { try LayerOutputs.index(c.model, layer) }
        let pair = try dataOptions.load(seed: seed, recorded: c.data)
        let data = split == "train" ? pair.train : pair.test
        try renamingArguments(["model input": "--data", "model output": "--data"]) { try Trainer.checkCompatible(c.model, data) }
        let acts = try renamingArguments { try LayerOutputs.collect(c.model, layer: index, images: data.images) }
        let array = NumpyArray(floats: acts.scalars, shape: acts.shape)
        if format == "npy" {
            try array.write(to: out)
        } else {
            try NumpyArchive.write([("activations", array), ("labels", NumpyArray(integers: data.labels.map(Int64.init), shape: [data.count])),
                                    ("class_names", NumpyArray(strings: data.classNames))], to: out)
        }
        print("\(out): activations of layer \(index) (\(c.model.layers[index].specClause)), float32 \(acts.shape), \(data.count) \(split) samples")
    }
}

/// Writing arrays for NumPy from the commands.
enum ArraysOut {
    /// "npy" or "npz" from the file name; anything else is an error naming `--out`.
    static func format(_ path: String, flag: String = "--out", allowed: [String] = ["npy", "npz"]) throws -> String {
        let ext = (path as NSString).pathExtension.lowercased()
        guard allowed.contains(ext) else {
            throw GlassboxError.invalidArgument(name: flag, expected: "a file name ending in " + allowed.map { ".\($0)" }.joined(separator: " or "), found: "'\(path)'")
        }
        return ext
    }

    /// Every parameter as float32 and every mask as uint8 (1 kept, 0 pruned), under the parameter names.
    static func parameters(_ model: Sequential) -> [(name: String, array: NumpyArray)] {
        model.namedParameters.flatMap { name, p -> [(name: String, array: NumpyArray)] in
            var out = [(name: name, array: NumpyArray(floats: p.value.scalars, shape: p.value.shape))]
            if let m = p.mask { out.append((name + "_mask", NumpyArray(bytes: m.scalars.map { $0 != 0 ? 1 : 0 }, shape: m.shape))) }
            return out
        }
    }

    /// A co-clustering as arrays: cluster of each row (output unit) and column (input unit), −1 for none.
    static func coClusters(_ r: CoClusterResult) -> [(name: String, array: NumpyArray)] {
        let c = r.report.clusters
        return [("row_clusters", NumpyArray(integers: c.rowLabels.map(Int64.init), shape: [c.rows])),
                ("column_clusters", NumpyArray(integers: c.columnLabels.map(Int64.init), shape: [c.columns])),
                ("singular_values", NumpyArray(floats: c.singularValues, shape: [c.singularValues.count]))]
    }
}
