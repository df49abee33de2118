import ArgumentParser
import Foundation
import GlassboxAnalysis
import GlassboxCore
import GlassboxNN
import GlassboxSteps

/// `glassbox topology ph|mapper POINTS` — persistent homology and Mapper of a point cloud (JSON on stdout).
struct TopologyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "topology",
        abstract: "Topology of a point cloud (.csv rows or 2-D float32/float64 .npy): barcodes or a Mapper graph as JSON.",
        subcommands: [TopologyPH.self, TopologyMapper.self, TopologyFilters.self])
}

/// Points from .csv/.npy, or from a checkpoint: every `(out, in)` k×k slice of the conv weight `layer` is a point.
func loadPoints(_ path: String, layer: String? = nil) throws -> PointCloud {
    guard FileManager.default.fileExists(atPath: path) else { throw GlassboxError.missingFile(path: path, hint: "") }
    if path.hasSuffix(".safetensors") {
        guard let layer else {
            throw GlassboxError.invalidArgument(name: "--layer", expected: "a conv weight of \(path) (e.g. 0.weight)", found: "none")
        }
        return try renamingArguments { try FilterPoints.fromLayer(try Checkpoint.load(path).model, layer) }
    }
    if layer != nil { throw GlassboxError.invalidArgument(name: "--layer", expected: "only with a .safetensors checkpoint", found: "'\(path)'") }
    return try PointFormats.parse(try Data(contentsOf: URL(fileURLWithPath: path)), source: path)
}

struct TopologyPH: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ph",
        abstract: "Vietoris–Rips barcodes (infinite deaths are null).",
        discussion: "Example: glassbox topology ph filters.npy --maxdim 1 --modulus 3")

    @Argument(help: "Points: .csv (one point per line), .npy (2-D float32/float64), or a .safetensors checkpoint with --layer.") var points: String
    @Option(help: "With a checkpoint: the conv weight whose k×k slices are the points (e.g. 0.weight).") var layer: String?
    @Option(help: "Highest homology dimension (0, 1 or 2).") var maxdim = 1
    @Option(help: "Largest edge length (default: the enclosing radius).") var threshold: Double?
    @Option(help: "Prime p of the coefficients Z/p.") var modulus = 2
    @Flag(help: "Print the time taken on stderr.") var time = false

    func run() throws {
        let cloud = try loadPoints(points, layer: layer)
        let start = Date()
        let b = try VietorisRips.barcodes(points: cloud.values, dimension: cloud.dimension, maxDimension: maxdim,
                                          threshold: threshold, modulus: modulus)
        if time {
            FileHandle.standardError.write(Data(String(format: "ph: %d points, %.3f s\n", cloud.count, Date().timeIntervalSince(start)).utf8))
        }
        try printJSON(b)
    }
}

struct TopologyMapper: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mapper",
        abstract: "Mapper graph: nodes (members, mean point), edges (shared points), uncovered points.",
        discussion: "Example: glassbox topology mapper filters.csv --intervals 10 --overlap 0.3 --lens pca1")

    @Argument(help: "Points: .csv (one point per line), .npy (2-D float32/float64), or a .safetensors checkpoint with --layer.") var points: String
    @Option(help: "With a checkpoint: the conv weight whose k×k slices are the points (e.g. 0.weight).") var layer: String?
    @Option(help: "Intervals per lens dimension.") var intervals = 10
    @Option(help: "Overlap fraction of adjacent intervals (0 ≤ o < 1).") var overlap = 0.3
    @Option(help: "pca1, pca2, pca1,pca2, or colN[,colM].") var lens = "pca1"
    @Option(help: "euclidean or variance-normalised.") var metric = "euclidean"
    @Option(help: "Single-linkage cut: first gap larger than this fraction of the largest merge distance.") var gap = 0.3
    @Option(help: "... and larger than this many median merge distances (0: no floor, METHODS.md's first gap).")
    var medianGap = MapperParameters.defaultMedianGap
    @Option(help: "Discard clusters smaller than this.") var minClusterSize = 1
    @Flag(help: "Print the time of each phase on stderr.") var time = false

    func run() throws {
        guard let m = MapperMetric(rawValue: metric) else {
            throw GlassboxError.invalidArgument(name: "--metric", expected: "euclidean or variance-normalised", found: "'\(metric)'")
        }
        BLAS.stopIdleThreads()   // Mapper's BLAS work is tiny; its own threads need the cores OpenBLAS spins on
        let parameters = MapperParameters(lens: try MapperLens.parse(lens), intervals: intervals, overlap: overlap, metric: m,
                                          relativeGap: gap, medianGap: medianGap, minClusterSize: minClusterSize)
        var clock = DispatchTime.now().uptimeNanoseconds
        func lap() -> Double {
            let now = DispatchTime.now().uptimeNanoseconds
            defer { clock = now }
            return Double(now - clock) / 1e9
        }
        let cloud: PointCloud
        let read: Double, parse: Double
        if points.hasSuffix(".safetensors") || layer != nil {
            cloud = try loadPoints(points, layer: layer)
            read = lap(); parse = 0
        } else {
            guard FileManager.default.fileExists(atPath: points) else { throw GlassboxError.missingFile(path: points, hint: "") }
            let data = try Data(contentsOf: URL(fileURLWithPath: points))
            read = lap()
            cloud = try PointFormats.parse(data, source: points)
            parse = lap()
        }
        var t = MapperTimings()
        let g = try Mapper.graph(cloud, parameters: parameters, timings: &t)
        _ = lap()
        FileHandle.standardOutput.write(try g.jsonData())
        FileHandle.standardOutput.write(Data("\n".utf8))
        let json = lap()
        if time {
            let line = String(format: "mapper: %d points, read %.4f s, parse %.4f s, lens %.4f s, cover %.4f s, clustering %.4f s, "
                              + "graph %.4f s, json %.4f s\n", cloud.count, read, parse, t.lens, t.cover, t.clustering, t.graph, json)
            FileHandle.standardError.write(Data(line.utf8))
        }
    }
}

private let pipeline = FilterTopologySettings.arguments

/// `glassbox topology filters CHECKPOINT --layer 0.weight` — the filter pipeline of `step: topology` on one checkpoint.
struct TopologyFilters: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "filters",
        abstract: "The filter-topology pipeline (normalise, density filter, barcodes, Mapper) on a checkpoint's conv filters, as JSON.",
        discussion: """
        The same pipeline and settings as a recipe's `step: topology` (METHODS.md §3), on the k×k slices of one conv weight.
        Example: glassbox topology filters cnn.safetensors --layer 0.weight --p 0.3
        """)

    @Argument(help: "A .safetensors checkpoint (or .csv / .npy filters, one per row).") var points: String
    @Option(help: "With a checkpoint: the conv weight whose k×k slices are the filters (e.g. 0.weight).") var layer: String?
    @Option(help: flagHelp(pipeline, "k")) var k: String?
    @Option(help: flagHelp(pipeline, "p")) var p: String?
    @Option(help: flagHelp(pipeline, "intervals")) var intervals: String?
    @Option(help: flagHelp(pipeline, "overlap")) var overlap: String?
    @Option(name: .customLong("max-points"), help: flagHelp(pipeline, "max-points")) var maxPoints: String?

    func run() throws {
        let settings = try decodeFlags(pipeline, [("k", k), ("p", p), ("intervals", intervals), ("overlap", overlap), ("max-points", maxPoints)],
                                       into: FilterTopologySettings(maxPoints: 1000))
        let cloud = try loadPoints(points, layer: layer)
        BLAS.stopIdleThreads()
        try printJSON(try renamingArguments { try FilterTopology.analyse(cloud, settings: settings) }.summary)
    }
}
