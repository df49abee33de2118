// swift-tools-version:6.0
import PackageDescription

// Release builds of the numeric targets are what users and `make test` run. They keep Swift's checks (-O, not
// -Ounchecked): an index or size that a file, flag or recipe controls must never turn into memory corruption, and the
// hot loops mostly run over raw pointers (BENCHMARKS.md has the measured cost: +0.2 % instructions for the MLP, +12 % for
// the CNN's convolution loops). GLASSBOX_UNCHECKED=1 at build time restores -Ounchecked for comparison.
// Haswell level (AVX2 + FMA, every x86 server since 2013) lets the explicit 8-wide SIMD loops compile to single
// 256-bit instructions instead of pairs of SSE ones.
#if arch(x86_64)
let cpu = ["-target-cpu", "haswell"]
#else
let cpu: [String] = []
#endif
let unchecked = Context.environment["GLASSBOX_UNCHECKED"] == "1"
let fast: [SwiftSetting] = [.unsafeFlags([unchecked ? "-Ounchecked" : "-O", "-wmo"] + cpu, .when(configuration: .release))]

let package = Package(
    name: "Glassbox",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "glassbox", targets: ["GlassboxCLI"]),
        .library(name: "Glassbox", targets: ["GlassboxCore", "GlassboxData", "GlassboxNN", "GlassboxFigures", "GlassboxAnalysis", "GlassboxReport",
                                             "GlassboxSteps", "GlassboxEngine"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
    ],
    targets: [
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CLAPACKE", path: "Sources/CLAPACKE", pkgConfig: "lapacke",
                       providers: [.apt(["liblapacke-dev"])]),
        .systemLibrary(name: "CCairo", path: "Sources/CCairo", pkgConfig: "cairo",
                       providers: [.apt(["libcairo2-dev"])]),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib",
                       providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CPNG", path: "Sources/CPNG", pkgConfig: "libpng",
                       providers: [.apt(["libpng-dev"])]),
        // GitHub's CommonMark (cmark-gfm) for report prose; both libraries are also linked from its module map.
        .systemLibrary(name: "CCmarkGFM", path: "Sources/CCmarkGFM", pkgConfig: "libcmark-gfm",
                       providers: [.apt(["libcmark-gfm-dev", "libcmark-gfm-extensions-dev"])]),
        // glibc's malloc.h (mallopt), no library to link.
        .systemLibrary(name: "CMalloc", path: "Sources/CMalloc"),
        .target(name: "GlassboxCore", dependencies: ["CBLAS", "CLAPACKE", "CZlib", "CMalloc"], swiftSettings: fast),
        .target(name: "GlassboxData", dependencies: ["GlassboxCore", "CCairo", "CPNG"], swiftSettings: fast),
        .target(name: "GlassboxNN", dependencies: ["GlassboxCore", "GlassboxData"], swiftSettings: fast),
        .target(name: "GlassboxFigures", dependencies: ["GlassboxCore", "CCairo", "CZlib"], swiftSettings: fast),
        .target(name: "GlassboxAnalysis", dependencies: ["GlassboxCore", "GlassboxNN", "GlassboxData"], swiftSettings: fast),
        // The report templates (Templates/ at the package root), shipped as a resource bundle beside the binary.
        .target(name: "GlassboxTemplates", path: "Templates",
                resources: [.copy("report.mustache"), .copy("index.mustache"), .copy("diff.mustache"), .copy("site.mustache"),
                            .copy("style.css"), .copy("diff.css")]),
        // Runs batches of independent tasks (ensembles, sweeps) in this process, a local pool of worker processes or Slurm job arrays.
        .target(name: "GlassboxEngine", dependencies: ["GlassboxCore"]),
        // Recipes → runner with a per-cell cache → run folder (HTML + run.json); diff and publish. Knows no model or analysis.
        .target(name: "GlassboxReport", dependencies: [
            "GlassboxCore", "GlassboxFigures", "GlassboxTemplates",
            .product(name: "Yams", package: "Yams"),
            .product(name: "Mustache", package: "swift-mustache"),
            "CCmarkGFM",
        ]),
        // The recipe steps and their workspace: each step decodes its cell into one configuration and calls one analysis.
        .target(name: "GlassboxSteps", dependencies: ["GlassboxCore", "GlassboxData", "GlassboxNN", "GlassboxFigures", "GlassboxAnalysis",
                                                      "GlassboxReport", "GlassboxEngine"], swiftSettings: fast),
        .executableTarget(name: "GlassboxCLI", dependencies: [
            "GlassboxCore", "GlassboxData", "GlassboxNN", "GlassboxFigures", "GlassboxReport", "GlassboxAnalysis", "GlassboxSteps", "GlassboxEngine",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], swiftSettings: fast),
        .executableTarget(name: "GlassboxBench", dependencies: ["GlassboxCore", "GlassboxData", "GlassboxNN", "GlassboxAnalysis"],
                          path: "Benchmarks/GlassboxBench", swiftSettings: fast),
        .executableTarget(name: "ExplainBench", dependencies: ["GlassboxCore", "GlassboxData", "GlassboxNN", "GlassboxAnalysis"],
                          path: "Benchmarks/ExplainBench", swiftSettings: fast),
        // Attribution maps and timings for the comparison with Captum (Benchmarks/attribution/compare.py).
        .executableTarget(name: "AttributionBench", dependencies: ["GlassboxCore", "GlassboxData", "GlassboxNN", "GlassboxAnalysis"],
                          path: "Benchmarks/AttributionBench", swiftSettings: fast),
        // Fuzzing (Fuzz/README.md, `make fuzz`): the parsers as targets, the libFuzzer driver (an ordinary build
        // replays files), and the test that replays the seed corpus and every crash reproducer.
        .target(name: "GlassboxFuzzTargets", dependencies: ["GlassboxCore", "GlassboxData", "GlassboxNN", "GlassboxAnalysis", "GlassboxReport"],
                path: "Fuzz/Sources/GlassboxFuzzTargets"),
        .executableTarget(name: "GlassboxFuzz", dependencies: ["GlassboxFuzzTargets"], path: "Fuzz/Sources/GlassboxFuzz"),
        .testTarget(name: "GlassboxFuzzTests", dependencies: ["GlassboxFuzzTargets"]),
        .testTarget(name: "GlassboxCoreTests", dependencies: ["GlassboxCore"]),
        .testTarget(name: "GlassboxDataTests", dependencies: ["GlassboxData"]),
        .testTarget(name: "GlassboxNNTests", dependencies: ["GlassboxNN", "GlassboxData"]),
        .testTarget(name: "GlassboxCLITests", dependencies: ["GlassboxCLI"]),
        .testTarget(name: "GlassboxEngineTests", dependencies: ["GlassboxEngine", "GlassboxCore"]),
        .testTarget(name: "GlassboxFiguresTests", dependencies: ["GlassboxFigures"], exclude: ["Golden"]),
        .testTarget(name: "GlassboxAnalysisTests", dependencies: ["GlassboxAnalysis", "GlassboxNN", "GlassboxData"]),
        // Helpers shared by the report and steps tests (a tiny recipe, temporary folders, the MNIST test set).
        .target(name: "GlassboxTestSupport", dependencies: ["GlassboxReport", "GlassboxSteps", "GlassboxCore", "GlassboxData"],
                path: "Tests/GlassboxTestSupport"),
        // The report's tests make their run folders with the built-in steps.
        .testTarget(name: "GlassboxReportTests", dependencies: ["GlassboxReport", "GlassboxCore", "GlassboxFigures", "GlassboxTestSupport"]),
        .testTarget(name: "GlassboxStepsTests", dependencies: ["GlassboxSteps", "GlassboxReport", "GlassboxAnalysis", "GlassboxCore", "GlassboxData",
                                                               "GlassboxNN", "GlassboxFigures", "GlassboxTestSupport"]),
    ],
    swiftLanguageModes: [.v5]
)
