import Foundation
import XCTest
@testable import GlassboxCore
@testable import GlassboxData
@testable import GlassboxReport

/// Repository root, found from this file: Tests/GlassboxReportTests/Support.swift → ../../..
let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path
/// `shared/` sits beside the repository (worktree or CI clone); it holds the MNIST test pair.
let sharedMNIST = ((repoRoot as NSString).deletingLastPathComponent as NSString).appendingPathComponent("shared/datasets/mnist")

func makeTempDir(_ label: String) throws -> String {
    let path = (NSTemporaryDirectory() as NSString).appendingPathComponent("glassbox-report-\(label)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

func write(_ text: String, to path: String) throws {
    try Files.writeAtomically(Data(text.utf8), to: path)
}

func readText(_ path: String) throws -> String {
    String(decoding: try Files.read(path), as: UTF8.self)
}

/// Skips when the shared MNIST test files are not there.
func requireMNIST() throws {
    guard FileManager.default.fileExists(atPath: (sharedMNIST as NSString).appendingPathComponent("t10k-labels-idx1-ubyte.gz")) else {
        throw XCTSkip("MNIST test set not found at \(sharedMNIST)")
    }
}

/// Options for a quiet run into `out`, reading MNIST from the shared folder.
func options(out: String, parameters: [String] = [], refresh: Bool = false, selfContained: Bool = false) -> RunOptions {
    var o = RunOptions()
    o.outputDirectory = out
    o.quiet = true
    o.dataDirectory = sharedMNIST
    o.parameters = parameters
    o.refresh = refresh
    o.selfContained = selfContained
    return o
}

/// A small recipe on 300 + 100 MNIST test images: data → samples figure → train → evaluate → curves,
/// confusion, per-class table, metrics, weights figure. Cell numbers in comments.
func tinyRecipe(prose: String = "Some prose that refers to @fig-curves.", epochs: String = "1", hidden: Int = 16,
                extraCells: String = "", caption: String = "Training curves") -> String {
    """
    ---
    title: Tiny report
    description: A test recipe.
    seed: 3
    parameters:
      epochs: \(epochs)
      count: 8
    ---
    # Tiny

    \(prose)

    ## Data

    ```glassbox
    step: data
    dataset: mnist
    name: digits
    resplit: 300:100
    ```

    ```glassbox
    #| label: fig-samples
    #| caption: Samples
    step: figure
    kind: samples
    data: digits
    count: ${count}
    ```

    ## Model

    ```glassbox
    step: train
    name: mlp
    model: mlp 784-\(hidden)-10 relu
    data: digits
    epochs: ${epochs}
    batch: 50
    optimizer: sgd
    lr: 0.1
    ```

    ```glassbox
    step: evaluate
    model: mlp
    ```

    ```glassbox
    #| label: fig-curves
    #| caption: \(caption)
    step: figure
    kind: curves
    models: [mlp]
    ```

    ```glassbox
    #| label: tbl-classes
    #| caption: Per class
    step: table
    kind: per-class
    evaluations: [mlp]
    ```

    ```glassbox
    step: metrics
    evaluations: [mlp]
    ```

    ```glassbox
    #| label: fig-weights
    #| echo: false
    step: figure
    kind: weights
    model: mlp
    count: 8
    ```
    \(extraCells)
    """
}

/// All files under `dir` (relative paths), sorted.
func allFiles(_ dir: String) -> [String] {
    let e = FileManager.default.enumerator(atPath: dir)
    var out: [String] = []
    while let f = e?.nextObject() as? String {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: (dir as NSString).appendingPathComponent(f), isDirectory: &isDir), !isDir.boolValue {
            out.append(f)
        }
    }
    return out.sorted()
}

/// Values of `attr` in every `<tag …>` of the page.
func attributeValues(_ html: String, tag: String, attr: String) -> [String] {
    var out: [String] = []
    var rest = Substring(html)
    while let r = rest.range(of: "<\(tag) ") {
        let after = rest[r.upperBound...]
        guard let end = after.firstIndex(of: ">") else { break }
        let inside = after[..<end]
        if let a = inside.range(of: " \(attr)=\"") ?? (inside.hasPrefix("\(attr)=\"") ? inside.range(of: "\(attr)=\"") : nil),
           let q = inside[a.upperBound...].firstIndex(of: "\"") {
            out.append(String(inside[a.upperBound..<q]))
        }
        rest = after[end...]
    }
    return out
}

/// Every `id="…"` in the page.
func ids(_ html: String) -> [String] {
    var out: [String] = []
    var rest = Substring(html)
    while let r = rest.range(of: " id=\"") {
        let after = rest[r.upperBound...]
        guard let q = after.firstIndex(of: "\"") else { break }
        out.append(String(after[..<q]))
        rest = after[q...]
    }
    return out
}
