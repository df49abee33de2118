import Foundation
import XCTest
import GlassboxCore
import GlassboxData
import GlassboxReport
@_exported import GlassboxSteps

/// Helpers shared by the report and steps tests: temporary folders, the MNIST test set, a tiny recipe, HTML probes.

/// Repository root, found from this file: Tests/GlassboxTestSupport/Support.swift → ../../..
public let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path
/// `shared/` sits beside the repository (worktree or CI clone); it holds the MNIST test pair. `GLASSBOX_TEST_MNIST`
/// names another folder (a worktree that has no `../shared`).
public let sharedMNIST = ProcessInfo.processInfo.environment["GLASSBOX_TEST_MNIST"]
    ?? ((repoRoot as NSString).deletingLastPathComponent as NSString).appendingPathComponent("shared/datasets/mnist")

public func makeTempDir(_ label: String) throws -> String {
    let path = (NSTemporaryDirectory() as NSString).appendingPathComponent("glassbox-report-\(label)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

public func write(_ text: String, to path: String) throws {
    try Files.writeAtomically(Data(text.utf8), to: path)
}

public func readText(_ path: String) throws -> String {
    String(decoding: try Files.read(path), as: UTF8.self)
}

/// Skips when the shared MNIST test files are not there.
public func requireMNIST() throws {
    guard FileManager.default.fileExists(atPath: (sharedMNIST as NSString).appendingPathComponent("t10k-labels-idx1-ubyte.gz")) else {
        throw XCTSkip("MNIST test set not found at \(sharedMNIST)")
    }
}

/// Options for a quiet run into `out`, reading MNIST from the shared folder.
public func options(out: String, parameters: [String] = [], refresh: Bool = false, selfContained: Bool = false) -> RunOptions {
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
public func tinyRecipe(prose: String = "Some prose that refers to @fig-curves.", epochs: String = "1", hidden: Int = 16,
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
public func allFiles(_ dir: String) -> [String] {
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
public func attributeValues(_ html: String, tag: String, attr: String) -> [String] {
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
public func ids(_ html: String) -> [String] {
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

/// Opens `page` in headless Chromium with verbose logging and returns every file it asked for
/// ("FileURLLoader::Start: file://…") and the rendered DOM.
public func chromiumRequestedFiles(_ chromium: String, page: String, scratch dir: String) throws -> (files: [String], dom: String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: chromium)
    let profile = (dir as NSString).appendingPathComponent("profile-\(UUID().uuidString)")
    p.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir=\(profile)", "--enable-logging=stderr", "--v=1",
                   "--virtual-time-budget=3000", "--dump-dom", URL(fileURLWithPath: page).absoluteString]
    let outPipe = Pipe(), errPipe = Pipe()
    p.standardOutput = outPipe; p.standardError = errPipe
    try p.run()
    // Read stderr on another thread so neither pipe fills up.
    nonisolated(unsafe) var err = Data()
    let reader = Thread { err = errPipe.fileHandleForReading.readDataToEndOfFile() }
    reader.start()
    let out = outPipe.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    while !reader.isFinished { usleep(10_000) }
    let marker = "FileURLLoader::Start: "
    let files = String(decoding: err, as: UTF8.self).split(separator: "\n").compactMap { line -> String? in
        guard let r = line.range(of: marker) else { return nil }
        return URL(string: String(line[r.upperBound...]).trimmingCharacters(in: .whitespaces))?.path
    }
    return (files, String(decoding: out, as: UTF8.self))
}
