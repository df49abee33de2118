import Foundation
import XCTest

/// Issue 12's reproducers against the built binary: each hostile file or flag gives one clear line and exit 1
/// (never a crash, a huge allocation or a write outside the output), training is bit-identical for any thread
/// count, and a report made from hostile prose runs no script in Chromium.
final class HardeningTests: XCTestCase {
    var dir = ""
    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("harden-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    func path(_ name: String) -> String { (dir as NSString).appendingPathComponent(name) }

    var binary: String {
        let bundle = Bundle(for: HardeningTests.self).bundleURL
        let candidates = [bundle, bundle.deletingLastPathComponent(), bundle.deletingLastPathComponent().deletingLastPathComponent()]
            .map { $0.appendingPathComponent("glassbox").path }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) } ?? candidates[0]
    }

    @discardableResult
    func run(_ args: [String], env: [String: String] = [:], cwd: String? = nil) throws -> (status: Int32, out: String, err: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = args
        p.environment = ProcessInfo.processInfo.environment.merging(env) { $1 }
        if let cwd { p.currentDirectoryURL = URL(fileURLWithPath: cwd) }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out; p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }

    /// Exit status 1 and exactly one line on stderr, `glassbox: error: …` containing `needle`.
    func expectOneLine(_ args: [String], _ needle: String, env: [String: String] = [:], file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertTrue(FileManager.default.isExecutableFile(atPath: binary), "glassbox binary not built at \(binary)", file: file, line: line)
        let r = try run(args, env: env)
        XCTAssertEqual(r.status, 1, "\(args): \(r.err)", file: file, line: line)
        XCTAssertEqual(r.err.split(separator: "\n", omittingEmptySubsequences: false).count, 2, "\(args): expected one line, got \(r.err)", file: file, line: line)
        XCTAssertTrue(r.err.hasPrefix("glassbox: error: ") && r.err.contains(needle), "\(args): \(r.err) should contain \(needle)", file: file, line: line)
    }

    func write(_ data: Data, _ name: String) throws -> String {
        try data.write(to: URL(fileURLWithPath: path(name)))
        return path(name)
    }

    func npy(shape: String, payload: Int) -> Data {
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': \(shape), }"
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        var bytes: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0, UInt8(header.utf8.count & 0xff), UInt8(header.utf8.count >> 8)]
        bytes += Array(header.utf8)
        return Data(bytes + [UInt8](repeating: 0, count: payload))
    }

    func safetensors(_ header: String, body: Int = 0) -> Data {
        var d = Data()
        var n = UInt64(header.utf8.count).littleEndian
        withUnsafeBytes(of: &n) { d.append(contentsOf: $0) }
        return d + Data(header.utf8) + Data(count: body)
    }

    // MARK: 1. Sizes from files, flags and specs

    func testSizesFromFilesNeverOverflow() throws {
        try expectOneLine(["topology", "ph", write(npy(shape: "(1, 4611686018427387904)", payload: 16), "big.npy")],
                          "big.npy: shape: expected at most 2147483648 elements, found 1 × 4611686018427387904")
        try expectOneLine(["topology", "ph", write(npy(shape: "(4611686018427387905, 4)", payload: 16), "wrap.npy")],
                          "wrap.npy: shape: expected at most 2147483648 elements, found 4611686018427387905 × 4")
        try expectOneLine(["evaluate", write(safetensors(#"{"__metadata__":{"glassbox.spec":"mlp 4-2"},"0.weight":{"dtype":"F32","shape":[4611686018427387904],"data_offsets":[0,0]}}"#), "big.safetensors")],
                          "big.safetensors: 0.weight.shape: expected a shape whose size fits in the file")
        let spec = safetensors(#"{"__metadata__":{"glassbox.spec":"input 1x4000000000x4000000000; flatten; linear 1"}}"#)
        XCTAssertLessThan(spec.count, 200)
        try expectOneLine(["evaluate", write(spec, "spec.safetensors")], "spec.safetensors: __metadata__.glassbox.spec: expected a model spec, found model spec clause 'input 1x4000000000x4000000000': expected sizes whose products fit in 64 bits")
        try expectOneLine(["evaluate", write(safetensors(#"{"a":{"dtype":"F32","shape":[2.7,4],"data_offsets":[0,32]}}"#, body: 32), "float.safetensors"), "--spec", "mlp 4-2"],
                          "float.safetensors: a.shape[0]: expected a whole number, found 2.7")
        try expectOneLine(["evaluate", write(safetensors(#"{"a":{"dtype":"F32","shape":[true,4],"data_offsets":[0,16]}}"#, body: 16), "bool.safetensors"), "--spec", "mlp 4-2"],
                          "bool.safetensors: a.shape[0]: expected a whole number, found true")
        try expectOneLine(["topology", "ph", write(Data("1,2\n3,nan\n".utf8), "nan.csv")], "nan.csv: line 2: expected finite numbers, found nan")
    }

    /// Sizes from flags: each of these crashed, hung or tried to allocate hundreds of gigabytes.
    func testSizesFromFlagsNeverOverflow() throws {
        let csv = try write(Data("x,y\n0,0\n1,0\n1,1\n0,1\n".utf8), "square.csv")
        try expectOneLine(["train", "--quiet", "--data", "fashion-mnist", "--resplit", "9223372036854775807:1"], "train + test ≤ 10000 samples")
        try expectOneLine(["topology", "mapper", csv, "--intervals", "4611686018427387904"], "intervals: expected 1…10000")
        try expectOneLine(["topology", "mapper", csv, "--intervals", "100000000000"], "intervals: expected 1…10000")
        let start = Date()
        try expectOneLine(["topology", "ph", csv, "--modulus", "9223372036854775783"], "modulus: expected a prime below 65536")
        XCTAssertLessThan(Date().timeIntervalSince(start), 5)
        try expectOneLine(["topology", "ph", try write(Data("0,0\n1e200,0\n0,1\n".utf8), "far.csv")], "an infinite distance between rows")
        let r = try run(["train", "--quiet", "--data", "fashion-mnist", "--limit", "100", "--epochs", "1", "--batch-size", "9223372036854775807"])
        XCTAssertEqual(r.status, 0, r.err)
    }

    func testModelSpecsAreBounded() throws {
        try expectOneLine(["train", "--quiet", "--model", "input 784; linear 100000000000"],
                          "expected at most 100000000 parameters (raise the limit with GLASSBOX_MAX_PARAMETERS=N), found 78500000000000 parameters")
        try expectOneLine(["train", "--quiet", "--model", "input 3037000500x3037000500x2; flatten; linear 10"], "sizes whose products fit in 64 bits")
        try expectOneLine(["train", "--quiet", "--model", "mlp 784-64-10", "--data", "fashion-mnist", "--limit", "10"], "GLASSBOX_MAX_PARAMETERS",
                          env: ["GLASSBOX_MAX_PARAMETERS": "1000"])
    }

    /// A ~1 MB gzip label file that declares 1 GiB: refused from its header, in well under a second.
    func testGzipBombIsRefusedBeforeInflating() throws {
        let data = path("bomb")
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        var header = Data([0, 0, 8, 1, 0x40, 0, 0, 0])   // 2³⁰ labels
        header.append(Data(count: 100))
        var gz = gzip(header)
        let zeros = gzip(Data(count: 16 << 20))
        for _ in 0..<64 { gz.append(zeros) }
        XCTAssertLessThan(gz.count, 2_000_000)
        try gz.write(to: URL(fileURLWithPath: data + "/train-labels-idx1-ubyte.gz"))
        try gzip(Data([0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0])).write(to: URL(fileURLWithPath: data + "/train-images-idx3-ubyte.gz"))
        // The test split is read too: one good image and label, so the bomb is what stops the command.
        try gzip(Data([0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0])).write(to: URL(fileURLWithPath: data + "/t10k-images-idx3-ubyte.gz"))
        try gzip(Data([0, 0, 8, 1, 0, 0, 0, 1, 0])).write(to: URL(fileURLWithPath: data + "/t10k-labels-idx1-ubyte.gz"))
        let start = Date()
        try expectOneLine(["train", "--quiet", "--data", "mnist", "--data-dir", data],
                          "train-labels-idx1-ubyte.gz: size: expected at most 1073741824 bytes once decompressed (raise the limit with GLASSBOX_MAX_DECOMPRESSED_BYTES=N)")
        XCTAssertLessThan(Date().timeIntervalSince(start), 5)
    }

    /// gzip with the system's gzip (no Glassbox code in the fixture).
    func gzip(_ data: Data) -> Data {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/gzip")
        p.arguments = ["-c", "-n", "-9"]
        let input = Pipe(), output = Pipe()
        p.standardInput = input; p.standardOutput = output
        try? p.run()
        DispatchQueue.global().async { input.fileHandleForWriting.write(data); try? input.fileHandleForWriting.close() }
        let out = output.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return out
    }

    func testPersistentHomologyBudget() throws {
        var csv = ""
        var g = UInt64(12345)
        for _ in 0..<700 {
            let v = (0..<3).map { _ -> Double in g = g &* 6364136223846793005 &+ 1442695040888963407; return Double(g >> 11) / Double(1 << 53) }
            csv += v.map { String($0) }.joined(separator: ",") + "\n"
        }
        let file = try write(Data(csv.utf8), "p700.csv")
        let start = Date()
        try expectOneLine(["topology", "ph", file, "--maxdim", "2"],
                          "persistent homology of 700 points up to dimension 2: expected at most 2000000000 simplices (raise the limit with GLASSBOX_MAX_SIMPLICES=N)")
        XCTAssertLessThan(Date().timeIntervalSince(start), 5)
    }

    // MARK: 2–3. Run folders: export-figures and publish stay inside

    /// A run folder from a recipe with prose only (no data needed), with a figure entry added to its run.json.
    func makeRun(figure: [String: Any]? = nil) throws -> String {
        let recipe = path("plain.md")
        try Data("---\ntitle: Plain\n---\n\nJust prose.\n".utf8).write(to: URL(fileURLWithPath: recipe))
        let out = path("site/plain/default")
        let r = try run(["run", recipe, "--out", out, "--quiet"])
        XCTAssertEqual(r.status, 0, r.err)
        if let figure {
            let manifest = out + "/run.json"
            var object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: manifest))) as! [String: Any]
            object["figures"] = [figure]
            try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: manifest))
            try FileManager.default.createDirectory(atPath: out + "/figures", withIntermediateDirectories: true)
            try Data("png".utf8).write(to: URL(fileURLWithPath: out + "/figures/fig-a.png"))
            try Data("{}".utf8).write(to: URL(fileURLWithPath: out + "/figures/fig-a.json"))
        }
        return out
    }

    func figure(label: String = "fig-a", file: String = "figures/fig-a.png", json: String = "figures/fig-a.json") -> [String: Any] {
        ["label": label, "number": 1, "file": file, "json": json, "sha256": "", "width": 10, "height": 10]
    }

    func testExportFiguresStaysInItsFolders() throws {
        let outside = path("x.png")
        let run1 = try makeRun(figure: figure(label: "../../../x"))
        try expectOneLine(["export-figures", run1, "--format", "png", "--out", path("paper")], "figures[0].label")
        XCTAssertFalse(FileManager.default.fileExists(atPath: outside))
        try FileManager.default.removeItem(atPath: path("site"))
        let run2 = try makeRun(figure: figure(json: "/etc/passwd"))
        try expectOneLine(["export-figures", run2, "--format", "png", "--out", path("paper")], "figures[0].json: expected a relative path inside the run folder")
        try FileManager.default.removeItem(atPath: path("site"))
        let run3 = try makeRun(figure: figure(json: "figures/link.json"))
        try FileManager.default.createSymbolicLink(atPath: run3 + "/figures/link.json", withDestinationPath: "/etc/passwd")
        try expectOneLine(["export-figures", run3, "--format", "png", "--out", path("paper")], "figures[0].json: expected a file inside the run folder")
        try FileManager.default.removeItem(atPath: path("site"))
        let run4 = try makeRun(figure: figure())
        let before = try Data(contentsOf: URL(fileURLWithPath: run4 + "/figures/fig-a.png"))
        try expectOneLine(["export-figures", run4, "--format", "png", "--out", run4 + "/figures"], "--out: expected a folder outside the run folder")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: run4 + "/figures/fig-a.png")), before)
        // Through a symlink to the run folder, too.
        try FileManager.default.createSymbolicLink(atPath: path("alias"), withDestinationPath: run4)
        try expectOneLine(["export-figures", run4, "--format", "png", "--out", path("alias") + "/figures"], "--out: expected a folder outside the run folder")
    }

    func testPublishRefusesSymlinksThatLeadOut() throws {
        for name in ["index.html", "run.json"] {
            let run = try makeRun()
            let target = run + "/" + name
            let copy = try Data(contentsOf: URL(fileURLWithPath: target))
            if name == "run.json" {
                // The link target is a valid manifest outside the run folder.
                try copy.write(to: URL(fileURLWithPath: path("elsewhere.json")))
                try FileManager.default.removeItem(atPath: target)
                try FileManager.default.createSymbolicLink(atPath: target, withDestinationPath: path("elsewhere.json"))
            } else {
                try FileManager.default.removeItem(atPath: target)
                try FileManager.default.createSymbolicLink(atPath: target, withDestinationPath: "/etc/passwd")
            }
            try expectOneLine(["publish", run, "--out", path("public"), "--zip", path("public.zip")], "\(name): expected a file inside the run folder")
            XCTAssertFalse(FileManager.default.fileExists(atPath: path("public.zip")))
            try FileManager.default.removeItem(atPath: path("site"))
            try? FileManager.default.removeItem(atPath: path("public"))
        }
    }

    // MARK: 4. Prose cannot run script

    /// Payloads that would run on load set `data-pwned` on the body; the name is spelt in two parts, so it appears
    /// in the page only if a script ran.
    static let hostileProse = """
    ---
    title: Hostile prose
    ---

    # Links

    <a href="javascript&#58;alert(1)">a</a> <a href="javascript&colon;alert(2)">b</a> <a href="javascript&#x3A;alert(3)">c</a>
    <a href="&#106;avascript:alert(4)">d</a> <a href="java&#9;script:alert(5)">e</a> <a href=" JaVaScRiPt:alert(6)">f</a>
    <a href="javascript&#0000058alert(7)">g</a> [h](javascript:alert(8)) [i](javascript&#58;alert(9)) <javascript:alert(10)>
    <img src="../../../../etc/hostname"> <img src="/etc/passwd"> <img src="%2e%2e/x.png"> <img src="..\\x.png">
    <img src="missing.png" onerror="document.body.setAttribute('data-' + 'pwned', 'img')">
    <b onmouseover="alert(12)">bold</b> <svg onload="document.body.setAttribute('data-' + 'pwned', 'svg')"></svg>
    <iframe src="javascript:alert(14)"></iframe> <a href="vbscript:msgbox(15)">v</a> <a href=javascript:alert(17)>x</a>
    <a href='javascript:alert(18)'>y</a> <a href="jav&#x09;ascript:alert(19)">z</a> <a href="%6Aavascript:alert(20)">p</a>
    <a href="javascript%3Aalert(21)">q</a> <a href="java\u{0}script:alert(22)">r</a>

    <script>document.body.setAttribute('data-' + 'pwned', 'script')</script>

    <div onclick="alert(23)">block <img src=x onerror="document.body.setAttribute('data-' + 'pwned', 'block')"></div>

    <details open ontoggle="document.body.setAttribute('data-' + 'pwned', 'details')">d</details>

    | a | b |
    |---|---|
    | <a href="javascript:alert(24)">t</a> | [u](javascript:alert(25)) |

    [ok link](https://example.org/a?b=1&c=2) and ![figure](figures/x.png)
    """

    func testHostileProseRunsNoScriptInChromium() throws {
        let recipe = path("hostile.md")
        try Data(Self.hostileProse.utf8).write(to: URL(fileURLWithPath: recipe))
        let out = path("hostile-run")
        let r = try run(["run", recipe, "--out", out, "--quiet"])
        XCTAssertEqual(r.status, 0, r.err)
        let page = try String(contentsOfFile: out + "/index.html", encoding: .utf8)
        // The page as written: no tag carries a handler or a script URL.
        checkTags(page, "index.html")
        XCTAssertTrue(page.contains("<a href=\"https://example.org/a?b=1&amp;c=2\">ok link</a>"), page)
        XCTAssertTrue(page.contains("<img src=\"figures/x.png\" alt=\"figure\"/>"), page)

        guard let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]
            .first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw XCTSkip("chromium is not installed (make test installs it when it can); the static checks above ran")
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: chromium)
        p.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir=\(path("chromium-profile"))",
                       "--virtual-time-budget=2000", "--dump-dom", URL(fileURLWithPath: out + "/index.html").absoluteString]
        let o = Pipe()
        p.standardOutput = o
        p.standardError = FileHandle.nullDevice
        try p.run()
        let killer = DispatchWorkItem { if p.isRunning { p.terminate() } }
        DispatchQueue.global().asyncAfter(deadline: .now() + 90, execute: killer)
        let dom = String(decoding: o.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        killer.cancel()
        XCTAssertTrue(dom.contains("Hostile prose"), "Chromium did not load the page: \(dom.prefix(300))")
        XCTAssertFalse(dom.contains("data-pwned"), "a script ran: \(dom)")
        checkTags(dom, "the DOM")
    }

    /// Every tag of `html` (text is serialised with `&lt;`, so each `<` starts a real tag): no event-handler
    /// attribute and no URL with a scheme that runs code.
    func checkTags(_ html: String, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        var rest = html[...]
        var count = 0
        while let open = rest.firstIndex(of: "<") {
            guard let close = rest[open...].firstIndex(of: ">") else { break }
            let tag = rest[open...close].lowercased()
            count += 1
            XCTAssertFalse(tag.hasPrefix("<script"), "\(what): \(tag)", file: file, line: line)
            XCTAssertNil(tag.range(of: #"\son[a-z]+\s*="#, options: .regularExpression), "\(what): handler in \(tag)", file: file, line: line)
            for scheme in ["javascript:", "vbscript:", "data:text"] {
                XCTAssertFalse(tag.contains(scheme), "\(what): \(scheme) in \(tag)", file: file, line: line)
            }
            rest = rest[rest.index(after: close)...]
        }
        XCTAssertGreaterThan(count, 20, what, file: file, line: line)
    }

    // MARK: 5. Divergence is an error

    func testDivergenceStopsTrainingAndSavesNothing() throws {
        let out = path("diverged.safetensors")
        for args in [["--lr", "1e30"], ["--lr", "inf"], ["--lr", "nan"], ["--momentum", "nan"]] {
            let needle = args == ["--lr", "1e30"] ? "training diverged at epoch 1, step "
                : args[0] == "--lr" ? "--lr: expected a number > 0, found '\(args[1])'" : "--momentum: expected a number in [0, 1), found 'nan'"
            try expectOneLine(["train", "--quiet", "--model", "mlp 784-64-10 relu", "--data", "fashion-mnist", "--limit", "2000",
                               "--epochs", "2", "--out", out] + args, needle)
            XCTAssertFalse(FileManager.default.fileExists(atPath: out), "\(args) saved a checkpoint")
        }
    }

    /// A recipe cell whose training diverges fails at its line; a parameter value cannot add a YAML key.
    func testRecipeCellsFailAtTheirLine() throws {
        let recipe = path("lr.md")
        try Data("""
        ---
        title: Diverge
        parameters:
          lr: 1e30
          e: 1
        ---

        ```glassbox
        step: data
        dataset: fashion-mnist
        limit: 2000
        ```

        ```glassbox
        step: train
        model: mlp 784-64-10 relu
        data: fashion-mnist
        epochs: ${e}
        lr: ${lr}
        ```
        """.utf8).write(to: URL(fileURLWithPath: recipe))
        try expectOneLine(["run", recipe, "--out", path("lr-run"), "--quiet"], "lr.md:14: cell 2 (train) failed: training diverged at epoch 1")
        try expectOneLine(["run", recipe, "--out", path("lr-run2"), "--quiet", "-p", "lr=0.1", "-p", "e=1\ndir: /tmp"],
                          "cell 2 'epochs': expected a whole number ≥ 1, found '1\\ndir: /tmp'")
    }

    // MARK: 6. Thread counts do not change results

    func testTrainingIsBitIdenticalForAnyThreadCount() throws {
        // The two-conv model takes the second layer through the sparse backward (patches of 8·5·5 taps), the first
        // through the dense one.
        for model in ["mlp 784-32-10 relu", "input 1x28x28; conv 4 k5 p2; relu; maxpool 2; flatten; linear 10",
                      "input 1x28x28; conv 8 k5 p2; relu; maxpool 2; conv 8 k5 p2; relu; maxpool 2; flatten; linear 10"] {
            var hashes: [String: Data] = [:]
            for env in [["GLASSBOX_THREADS": "1"], ["GLASSBOX_THREADS": "2"], ["GLASSBOX_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"],
                        ["GLASSBOX_THREADS": "3", "OPENBLAS_NUM_THREADS": "2"]] {
                let out = path("t.safetensors")
                let r = try run(["train", "--quiet", "--model", model, "--data", "fashion-mnist", "--limit", "600", "--epochs", "1",
                                 "--batch-size", "50", "--momentum", "0.9", "--out", out, "--json"], env: env)
                XCTAssertEqual(r.status, 0, r.err)
                // The checkpoint's bytes and the final evaluation (the history's timings differ from run to run).
                let json = try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any]
                let evaluation = try JSONSerialization.data(withJSONObject: json?["evaluation"] ?? [:], options: .sortedKeys)
                hashes["\(env.sorted { $0.key < $1.key })"] = try Data(contentsOf: URL(fileURLWithPath: out)) + evaluation
            }
            XCTAssertEqual(Set(hashes.values).count, 1, "\(model): checkpoints or metrics differ across \(hashes.keys.sorted())")
        }
    }
}
