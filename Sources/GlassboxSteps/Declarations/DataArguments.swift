import Foundation
import GlassboxCore
import GlassboxData
import GlassboxNN

// Declarations shared by the steps that read data and checkpoints from files (`data`, `load`) and by the commands.

public extension StepArgument {
    /// `normalize: {mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225]}` (or the text `MEAN/STD`, as on the command
    /// line) into a normalisation's mean and std.
    static func normalization(_ name: String, _ kp: WritableKeyPath<Options, Normalization>, help: String) -> Self {
        Self(name: name, type: .text, help: help, required: false, defaultNote: "none",
             defaultValue: { o in o[keyPath: kp].mean.isEmpty ? nil : o[keyPath: kp].description },
             apply: { o, r in
                 let expected = "{mean: [...], std: [...]} or MEAN/STD (e.g. 0.5/0.5), one value per channel or one for all"
                 var mean: [Float], std: [Float]
                 if let fields = try r.mapping(name) {
                     var m: [Float]?, s: [Float]?
                     for (k, values) in fields {
                         guard k == "mean" || k == "std" else { throw r.error(name, expected: expected, found: "a key '\(k)'") }
                         let numbers = try values.map { v -> Float in
                             guard let x = Float(v.trimmingCharacters(in: .whitespaces)), x.isFinite else { throw r.error(name, expected: "numbers under \(k)", found: "'\(v)'") }
                             return x
                         }
                         if k == "mean" { m = numbers } else { s = numbers }
                     }
                     guard let m, let s else { throw r.error(name, expected: expected, found: m == nil ? "no mean" : "no std") }
                     (mean, std) = (m, s)
                 } else if let text = try r.scalar(name) {
                     do { (mean, std) = try Normalization.parse(text, argument: name) } catch { throw r.error(name, expected: expected, found: "'\(text)'") }
                 } else {
                     return
                 }
                 let n = Normalization(scale: o[keyPath: kp].scale, mean: mean, std: std)
                 do { try n.validate(argument: name) } catch let GlassboxError.invalidArgument(_, e, f) { throw r.error(name, expected: e, found: f) }
                 o[keyPath: kp] = n
             })
    }
}

public extension Normalization {
    /// `normalize` and `scale` of `step: data`, `--normalize` and `--scale` of the commands.
    static let arguments = Arguments<Normalization>(defaults: { Normalization() }, [
        .normalization("normalize", \.self, help: "per-channel mean and std subtracted and divided after scaling, as torchvision's Normalize"),
        .flag("scale", \.scale, help: "divide integer pixels by 255 (65535 for 16-bit PNGs) first, as torchvision's ToTensor; false keeps 0…255"),
    ])
}

public extension StateDictOptions {
    /// How a PyTorch state dict's names map onto the model's (`step: load`, and the commands that read checkpoints).
    static let arguments = Arguments<StateDictOptions>(defaults: { StateDictOptions() }, [
        .text("strip-prefix", \.stripPrefix, help: "removed from the start of every tensor name (module. from nn.DataParallel)"),
        .texts("ignore", \.ignore, help: "tensors left out, by name or last name part (e.g. num_batches_tracked)"),
    ])
}

/// The key under which checkpoints record the normalisation their model expects (JSON of `Normalization`).
public enum NormalizationMetadata {
    public static let key = "glassbox.normalize"

    public static func encode(_ n: Normalization?) -> [String: String] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys   // the same normalisation, the same checkpoint bytes
        guard let n, !n.isIdentity, let json = try? encoder.encode(n) else { return [:] }
        return [key: String(decoding: json, as: UTF8.self)]
    }

    /// The normalisation a checkpoint records: its own key, else the one inside `glassbox.data` (what `glassbox train`
    /// writes); nil when it records none.
    public static func decode(_ metadata: [String: String]) -> Normalization? {
        if let s = metadata[key], let n = try? JSONDecoder().decode(Normalization.self, from: Data(s.utf8)) { return n }
        if let s = metadata["glassbox.data"], let r = try? JSONDecoder().decode(DataRequest.self, from: Data(s.utf8)) { return r.normalization }
        return nil
    }

    /// A checkpoint's recorded normalisation must be the data's: otherwise the model would see inputs unlike those it
    /// was trained on. `argument` names the data argument for the error.
    public static func check(recorded: Normalization?, data: Normalization?, dataName: String, path: String, argument: String = "data") throws {
        let r = recorded ?? Normalization(), d = data ?? Normalization()
        guard let recorded, r != d else { return }
        throw GlassboxError.invalidArgument(name: argument, expected: "data normalised as \(path) records (\(recorded)); give the data normalize/scale to match",
                                            found: "'\(dataName)' with normalisation \(d)")
    }
}
