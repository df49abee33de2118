import Foundation
import XCTest
import GlassboxTestSupport
@testable import GlassboxAnalysis
@testable import GlassboxCore
@testable import GlassboxReport
import GlassboxFigures

/// The filter-space pipeline on a known answer, and the topology steps in a small recipe on MNIST test images.
final class TopologyStepTests: XCTestCase {
    /// 60 evenly spaced primary-circle filters C(θ)(x, y) = cos θ·x + sin θ·y on the 3×3 grid (METHODS.md §3):
    /// H1 is exactly one bar [2·sin(π/60), √3).
    func testCircleOfEdgesKnownAnswer() throws {
        var v: [Double] = []
        for i in 0..<60 {
            let t = 2 * Double.pi * Double(i) / 60
            for y in [-1.0, 0, 1] { for x in [-1.0, 0, 1] { v.append(cos(t) * x + sin(t) * y) } }
        }
        let r = try FilterTopology.analyse(try PointCloud(values: v, dimension: 9),
                                           settings: FilterTopologySettings(k: 3, fraction: 1, intervals: 8))
        XCTAssertEqual(r.filtered.count, 60)
        XCTAssertEqual(r.barcodes[1].count, 1)
        let bar = r.barcodes[1][0]
        XCTAssertEqual(bar.birth, 2 * sin(Double.pi / 60), accuracy: 1e-9)
        XCTAssertEqual(r.dominantH1, min(bar.death, r.barcodes.threshold) - bar.birth, accuracy: 1e-12)
        XCTAssertTrue(r.dominantRatio.isInfinite)
        // Mapper on a 2-D cover: E − V + C also counts the triangles of overlapping cubes, so it is no exact loop count.
        XCTAssertEqual(r.loopCount, r.mapper.edges.count - r.mapper.nodes.count + r.mapper.componentCount)
        print("circle Mapper: \(r.mapper.nodes.count) nodes, \(r.mapper.edges.count) edges, \(r.mapper.componentCount) components, β1 \(r.cliqueLoopCount)")
        // Scaled defaults: k = 200·n/6400, intervals from the kept count.
        XCTAssertEqual(FilterTopologySettings.scaledK(count: 1024), 32)
        XCTAssertEqual(FilterTopologySettings.scaledK(count: 6400), 200)
        XCTAssertEqual(FilterTopologySettings.scaledIntervals(kept: 1920), 30)
    }

    /// Max–min landmarks of 0, 1, …, 10 on a line from 0: 10 (farthest), then 5, then 2 (2, 3, 7 and 8 are all at
    /// distance 2; the earliest row wins); every point is then within 2 of a landmark.
    func testMaxminLandmarksKnownAnswer() throws {
        let line = try PointCloud(values: (0...10).flatMap { [Double($0), 0] }, dimension: 2)
        let l = try PointCloudTools.maxminLandmarks(line, count: 4, start: 0)
        XCTAssertEqual(l.indices, [0, 10, 5, 2])
        XCTAssertEqual(l.coveringRadius, 2)
        XCTAssertEqual(try PointCloudTools.maxminLandmarks(line, count: 11).coveringRadius, 0)
        XCTAssertThrowsError(try PointCloudTools.maxminLandmarks(line, count: 12)) { e in XCTAssertTrue("\(e)".contains("landmarks"), "\(e)") }
        // On 600 circle filters, 60 landmarks keep the circle: one dominant H1 bar.
        var v: [Double] = []
        for i in 0..<600 {
            let t = 2 * Double.pi * Double(i) / 600
            for y in [-1.0, 0, 1] { for x in [-1.0, 0, 1] { v.append(cos(t) * x + sin(t) * y) } }
        }
        let r = try FilterTopology.analyse(try PointCloud(values: v, dimension: 9),
                                           settings: FilterTopologySettings(k: 3, fraction: 1, intervals: 8, maxPoints: 60))
        XCTAssertEqual(r.densityKept, 600)
        XCTAssertEqual(r.filtered.count, 60)
        XCTAssertNotNil(r.landmarkRadius)
        XCTAssertEqual(r.barcodes[1].count, 1)
    }

    func testTooFewFiltersIsAClearError() {
        XCTAssertThrowsError(try FilterTopology.analyse(try PointCloud(values: Array(repeating: 1, count: 27), dimension: 9))) { e in
            XCTAssertTrue("\(e)".contains("at least 4 filters"), "\(e)")
        }
    }

    func recipe(at: String = "first") -> String {
        """
        ---
        title: Topology test
        seed: 2
        ---
        ```glassbox
        step: data
        dataset: mnist
        name: digits
        resplit: 300:100
        ```

        ```glassbox
        step: filter-experiment
        data: digits
        name: f
        nets: 2
        train-limit: 200
        model: input 1x28x28; conv 16 k3 p1; relu; maxpool 2; flatten; linear 10
        steps: [2]
        ```

        ```glassbox
        #| label: fig-t
        step: topology
        filters: f
        at: \(at)
        ```

        ```glassbox
        #| label: tbl-s
        step: topology-sensitivity
        filters: f
        k: [3]
        p: [0.5]
        ```
        """
    }

    func testStepsRunAndCache() throws {
        try requireMNIST()
        let dir = try makeTempDir("topology")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = (dir as NSString).appendingPathComponent("t.md")
        try write(recipe(), to: path)
        let out = (dir as NSString).appendingPathComponent("run")
        let first = try Runner.run(recipe: path, options: options(out: out))
        XCTAssertEqual(first.statistics.executed, [1, 2, 3, 4])
        for f in ["fig-t-mapper", "fig-t-barcode", "fig-t-diagram"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: (first.runDirectory as NSString).appendingPathComponent("figures/\(f).png")), f)
        }
        // 2 nets × 16 filters at step 2 and at the end (4 steps of 64 on 200 images).
        let kept = try XCTUnwrap(first.manifest.metrics.first { $0.name == "f.step2.kept" })
        XCTAssertEqual(kept.value, 10)   // 30 % of 32
        XCTAssertTrue(try readText(first.indexPath).contains("pooled of 0.weight at steps 2 (32 filters), 4 (32 filters)"))
        let second = try Runner.run(recipe: path, options: options(out: out))
        XCTAssertEqual(second.statistics.executed, [])
        XCTAssertEqual(second.manifest.metrics.first { $0.name == "f.step2.loops" }?.value,
                       first.manifest.metrics.first { $0.name == "f.step2.loops" }?.value)
        // Two conv layers pooled in one experiment; the second layer's 4 × 8 slices per net, capped by landmarks.
        let deep = """
        ---
        title: Deep
        seed: 2
        ---
        ```glassbox
        step: data
        dataset: mnist
        name: digits
        resplit: 300:100
        ```

        ```glassbox
        step: filter-experiment
        data: digits
        name: f
        nets: 2
        train-limit: 100
        model: input 1x28x28; conv 8 k3 p1; relu; maxpool 2; conv 4 k3 p1; relu; flatten; linear 10
        layers: [0.weight, 3.weight]
        ```

        ```glassbox
        #| label: fig-d
        step: topology
        filters: f
        layer: 3.weight
        p: 1
        max-points: 20
        ```

        ```glassbox
        #| label: fig-c
        step: topology-compare
        filters: f
        at: [final]
        p: 1
        max-points: 20
        ```
        """
        try write(deep, to: path)
        let d = try Runner.run(recipe: path, options: options(out: out))
        let html = try readText(d.indexPath)
        XCTAssertTrue(html.contains("pooled of 0.weight at steps 2 (16 filters); of 3.weight at steps 2 (64 filters)"), "pools per layer")
        XCTAssertTrue(html.contains("of which 20 max–min landmarks"), "landmark cap")
        XCTAssertEqual(d.manifest.metrics.first { $0.name == "f.3.weight.step2.p1.kept" }?.value, 64)
        // topology-compare: one Mapper grid and one barcode grid (2 layers × 1 step) and a row per panel.
        let cmp = try XCTUnwrap(d.manifest.tables.first { $0.label == "tbl-c" })
        XCTAssertEqual(cmp.rows.map { $0[0] }, ["0.weight", "3.weight"])
        XCTAssertEqual(cmp.rows.map { $0[3] }, ["16", "64 (20 landmarks)"])
        let grid = try ReportJSON.decode(Figure.self, from: Data(contentsOf: URL(fileURLWithPath: (d.runDirectory as NSString).appendingPathComponent("figures/fig-c-mapper.json"))), path: "grid")
        guard case let .panels(panels) = grid else { return XCTFail("a panel grid") }
        XCTAssertEqual(panels.panels.count, 2)
        XCTAssertEqual(panels.columns, 1)
        try write(deep.replacingOccurrences(of: "[0.weight, 3.weight]", with: "[0.weight, 1.weight]"), to: path)
        XCTAssertThrowsError(try Runner.run(recipe: path, options: options(out: out))) { e in
            XCTAssertTrue("\(e)".contains("'layers': expected parameters of the model (0.weight, 3.weight, 6.weight), found '1.weight'"), "\(e)")
        }
        // A bad step names the cell and the steps there are.
        try write(recipe(at: "7"), to: path)
        XCTAssertThrowsError(try Runner.run(recipe: path, options: options(out: out))) { e in
            XCTAssertTrue("\(e)".contains("'at': expected final, first or one of the steps [2, 4]"), "\(e)")
        }
    }
}
