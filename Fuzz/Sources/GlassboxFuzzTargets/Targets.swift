import Foundation
import GlassboxAnalysis
import GlassboxCore
import GlassboxData
import GlassboxNN
import GlassboxReport

/// The parsers of files other people write, each as one function of the file's bytes. A target must return for
/// every input: a thrown `GlassboxError` is the expected answer to a bad file; a crash (trap, sanitizer report,
/// huge allocation) or a hang is a bug. Used by the libFuzzer driver (`GlassboxFuzz`) and by the corpus replay
/// test (`GlassboxFuzzTests`).
public enum FuzzTargets {
    public static let all: [String: (Data) -> Void] = [
        "safetensors": safetensors, "npy": npy, "idx": idx, "csv": csv, "recipe": recipe, "runjson": runJSON,
    ]

    /// Small limits, so that a valid but large file is refused in microseconds instead of being computed.
    public static func configure() {
        setenv("GLASSBOX_MAX_PARAMETERS", "200000", 1)
        setenv("GLASSBOX_MAX_DECOMPRESSED_BYTES", "16000000", 1)
        setenv("GLASSBOX_MAX_SIMPLICES", "2000000", 1)
        setenv("GLASSBOX_MAX_PH_POINTS", "400", 1)
    }

    /// A checkpoint: the safetensors container, then the spec in its metadata and the tensors assigned to that model.
    public static func safetensors(_ data: Data) {
        guard let file = try? Safetensors.decode(data, name: "fuzz.safetensors") else { return }
        _ = Safetensors.encode(file)
        guard let text = file.metadata[Checkpoint.specKey], let spec = try? ModelSpec.parse(text),
              let model = try? Sequential(spec: spec, seed: 0) else { return }
        try? Checkpoint.assign(file, to: model, path: "fuzz.safetensors")
    }

    /// A `.npy` point cloud; small clouds go on to persistent homology (dimension from the first byte).
    public static func npy(_ data: Data) {
        guard let cloud = try? PointFormats.parseNPY(data, source: "fuzz.npy") else { return }
        persistence(cloud, data)
    }

    /// A CSV point cloud, then persistent homology as for `.npy`.
    public static func csv(_ data: Data) {
        guard let cloud = try? PointFormats.parseCSV(data, source: "fuzz.csv") else { return }
        persistence(cloud, data)
    }

    static func persistence(_ cloud: PointCloud, _ data: Data) {
        guard cloud.count <= 48 else { return }
        _ = try? VietorisRips.barcodes(cloud, maxDimension: Int(data.first ?? 0) % 3, modulus: [2, 3, 5][Int(data.last ?? 0) % 3])
    }

    /// An IDX file (raw or gzip) read as labels, and as images.
    public static func idx(_ data: Data) {
        _ = try? IDX.labels(from: data, name: "fuzz-labels", limit: 10)
        _ = try? IDX.images(from: data, name: "fuzz-images", limit: 10)
    }

    /// A recipe: front matter, cells with their arguments (defaults and the parameter values substituted), and each
    /// prose block through the Markdown renderer and sanitizer.
    public static func recipe(_ data: Data) {
        guard let text = String(data: data, encoding: .utf8), let recipe = try? Recipe.parse(text, path: "fuzz.md") else { return }
        for block in recipe.blocks {
            switch block {
            case let .cell(c):
                guard let args = try? CellArgs(cell: c, path: "fuzz.md", parameters: recipe.parameterValues) else { continue }
                for key in args.keys {
                    _ = try? args.strings(key)
                    _ = try? args.int(key)
                    _ = try? args.float(key)
                }
                if let spec = try? args.string("model") { _ = try? ModelSpec.parse(spec) }
            case let .prose(p):
                if let t = try? CellArgs.substitute(p.text, firstLine: p.line, path: "fuzz.md", parameters: recipe.parameterValues),
                   t.utf8.count <= 128 * 1024 {
                    _ = ProseHTML.render(t)
                }
            }
        }
    }

    /// A run folder's `run.json`: decoded and checked against the run-folder contract (in a scratch folder, with one
    /// figure file present).
    public static func runJSON(_ data: Data) {
        _ = try? RunFolder.load(scratch.write(data))
    }

    /// The scratch folder, removed at exit.
    nonisolated(unsafe) static var scratchFolder: String?

    /// A scratch run folder per process: `figures/fig-a.png` exists, `run.json` is rewritten for each input.
    static let scratch = ScratchRun()

    final class ScratchRun: @unchecked Sendable {
        let dir: String
        init() {
            // In memory where there is a tmpfs: writing run.json for every input then costs no disk flush.
            let base = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
            dir = (base as NSString).appendingPathComponent("glassbox-fuzz-\(getpid())")
            try? FileManager.default.createDirectory(atPath: dir + "/figures", withIntermediateDirectories: true)
            _ = FileManager.default.createFile(atPath: dir + "/figures/fig-a.png", contents: Data("png".utf8))
            _ = FileManager.default.createFile(atPath: dir + "/index.html", contents: Data())
            FuzzTargets.scratchFolder = dir
            atexit { if let dir = FuzzTargets.scratchFolder { try? FileManager.default.removeItem(atPath: dir) } }
        }
        func write(_ data: Data) -> String {
            try? data.write(to: URL(fileURLWithPath: dir + "/run.json"))
            return dir
        }
    }
}
