// swift-tools-version:6.0
import PackageDescription

// Release builds of the numeric targets are what users and `make test` run; -Ounchecked removes
// bounds checks from the hot loops, which are written over raw pointers anyway.
// Haswell level (AVX2 + FMA, every x86 server since 2013) lets the explicit 8-wide SIMD loops compile to single
// 256-bit instructions instead of pairs of SSE ones.
#if arch(x86_64)
let cpu = ["-target-cpu", "haswell"]
#else
let cpu: [String] = []
#endif
let fast: [SwiftSetting] = [.unsafeFlags(["-Ounchecked", "-wmo"] + cpu, .when(configuration: .release))]

let package = Package(
    name: "Glassbox",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "glassbox", targets: ["GlassboxCLI"]),
        .library(name: "Glassbox", targets: ["GlassboxCore", "GlassboxData", "GlassboxNN", "GlassboxFigures", "GlassboxAnalysis", "GlassboxReport"]),
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
        // GitHub's CommonMark (cmark-gfm) for report prose; both libraries are also linked from its module map.
        .systemLibrary(name: "CCmarkGFM", path: "Sources/CCmarkGFM", pkgConfig: "libcmark-gfm",
                       providers: [.apt(["libcmark-gfm-dev", "libcmark-gfm-extensions-dev"])]),
        // glibc's malloc.h (mallopt), no library to link.
        .systemLibrary(name: "CMalloc", path: "Sources/CMalloc"),
        .target(name: "GlassboxCore", dependencies: ["CBLAS", "CLAPACKE", "CZlib", "CMalloc"], swiftSettings: fast),
        .target(name: "GlassboxData", dependencies: ["GlassboxCore"], swiftSettings: fast),
        .target(name: "GlassboxNN", dependencies: ["GlassboxCore", "GlassboxData"], swiftSettings: fast),
        .target(name: "GlassboxFigures", dependencies: ["GlassboxCore", "CCairo", "CZlib"], swiftSettings: fast),
        .target(name: "GlassboxAnalysis", dependencies: ["GlassboxCore", "GlassboxNN", "GlassboxData", "CLAPACKE"], swiftSettings: fast),
        // Recipes → runner with a per-cell cache → run folder (HTML + run.json). Templates ship as resources.
        .target(name: "GlassboxReport", dependencies: [
            "GlassboxCore", "GlassboxData", "GlassboxNN", "GlassboxFigures", "GlassboxAnalysis",
            .product(name: "Yams", package: "Yams"),
            .product(name: "Mustache", package: "swift-mustache"),
            "CCmarkGFM",
        ], resources: [.copy("Templates")]),
        .executableTarget(name: "GlassboxCLI", dependencies: [
            "GlassboxCore", "GlassboxData", "GlassboxNN", "GlassboxFigures", "GlassboxReport", "GlassboxAnalysis",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], swiftSettings: fast),
        .executableTarget(name: "GlassboxBench", dependencies: ["GlassboxCore", "GlassboxData", "GlassboxNN", "GlassboxAnalysis"],
                          path: "Benchmarks/GlassboxBench", swiftSettings: fast),
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
        .testTarget(name: "GlassboxFiguresTests", dependencies: ["GlassboxFigures"], exclude: ["Golden"]),
        .testTarget(name: "GlassboxAnalysisTests", dependencies: ["GlassboxAnalysis", "GlassboxNN", "GlassboxData"]),
        .testTarget(name: "GlassboxReportTests", dependencies: ["GlassboxReport", "GlassboxCore", "GlassboxData", "GlassboxNN", "GlassboxFigures"]),
    ],
    swiftLanguageModes: [.v5]
)
