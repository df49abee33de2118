import Foundation
import GlassboxCore
import GlassboxFigures

/// What changed between two run folders: settings, metrics (direction-aware), tables cell by cell, figures pixel by
/// pixel, cells and their timings. Encoded as JSON it is the `glassbox-diff/1` schema (docs/diff-schema.md).
/// Optional fields are left out of the JSON when they have no value (e.g. `a` of an added metric).
public struct RunDiff: Codable, Equatable, Sendable {
    public static let schemaName = "glassbox-diff/1"

    public struct Run: Codable, Equatable, Sendable {
        /// How the run is named in the output (the path given, or `recipe/run-id` in a published site).
        public var name: String
        public var recipe: String
        public var runID: String
        public var title: String
    }
    /// A parameter or an environment value (seed, tool version, BLAS, recipe hash, recipe, title).
    public struct Setting: Codable, Equatable, Sendable {
        public var name: String
        public var kind: SettingKind
        public var a: String?
        public var b: String?
        public var changed: Bool
    }
    public struct Metric: Codable, Equatable, Sendable {
        public var name: String
        public var label: String
        public var direction: MetricDirection
        public var a: Double?
        public var b: Double?
        public var displayA: String?
        public var displayB: String?
        /// b − a.
        public var delta: Double?
        /// (b − a) / |a|, absent when a is 0.
        public var relativeDelta: Double?
        public var status: MetricStatus
    }
    public struct TableCell: Codable, Equatable, Sendable {
        public var a: String?
        public var b: String?
        public var changed: Bool
    }
    public struct Table: Codable, Equatable, Sendable {
        public var label: String
        public var caption: String?
        public var status: EntryStatus
        public var columns: [TableCell]
        public var rows: [[TableCell]]
        /// Header and body cells that differ.
        public var changedCells: Int
    }
    public struct Figure: Codable, Equatable, Sendable {
        public var label: String
        public var caption: String?
        public var status: FigureStatus
        public var sha256A: String?
        public var sha256B: String?
        /// Pixels that differ in any channel (figures present in both runs).
        public var changedPixels: Int?
        /// Pixels of the union of both images.
        public var totalPixels: Int?
        public var changedShare: Double?
        public var maxChannelDelta: Int?
        public var sizesMatch: Bool?
        /// Image files written beside the diff output, relative to it (only when images were written).
        public var imageA: String?
        public var imageB: String?
        public var diffImage: String?
    }
    public struct Cell: Codable, Equatable, Sendable {
        /// The cell's label, or `step#n` for the n-th unlabelled cell of that step.
        public var id: String
        public var step: String
        public var indexA: Int?
        public var indexB: Int?
        /// Same cache key → same.
        public var status: EntryStatus
        public var secondsA: Double?
        public var secondsB: Double?
    }
    public struct Summary: Codable, Equatable, Sendable {
        public var settingsChanged = 0
        public var metricsBetter = 0, metricsWorse = 0, metricsSame = 0, metricsChanged = 0, metricsAdded = 0, metricsRemoved = 0
        public var tablesChanged = 0, tablesAdded = 0, tablesRemoved = 0
        public var figuresChanged = 0, figuresAdded = 0, figuresRemoved = 0
        public var cellsChanged = 0, cellsAdded = 0, cellsRemoved = 0
        /// Nothing above changed (timings are not compared).
        public var identical = true
    }

    public var schema: String
    public var a: Run
    public var b: Run
    /// Absolute metric change at or below which a metric is "same".
    public var tolerance: Double
    public var summary: Summary
    /// Changed settings first, then the unchanged ones.
    public var settings: [Setting]
    public var metrics: [Metric]
    public var tables: [Table]
    public var figures: [Figure]
    public var cells: [Cell]
}

public extension RunDiff {
    enum SettingKind: String, Codable, Sendable, StringLiteralEnum { case parameter, environment }
    /// better / worse by the metric's direction, same (|Δ| ≤ tolerance), changed (not comparable, e.g. NaN), added, removed.
    enum MetricStatus: String, Codable, Sendable, StringLiteralEnum { case better, worse, same, changed, added, removed }
    /// Tables and cells: same, changed, added, removed.
    enum EntryStatus: String, Codable, Sendable, StringLiteralEnum { case same, changed, added, removed }
    /// identical (same bytes), changed, added, removed.
    enum FigureStatus: String, Codable, Sendable, StringLiteralEnum { case identical, changed, added, removed }
}

/// Where `RunDiff.compare` writes figure images: `directory` on disk, named in the diff as `href/<file>`.
public struct DiffImageOutput: Sendable {
    public var directory: String
    public var href: String
    public init(directory: String, href: String) { self.directory = directory; self.href = href }

    /// Beside an output file: `out/x.html` → `out/x-figures/`, linked as `x-figures/`.
    public static func beside(_ outputFile: String) -> DiffImageOutput {
        let base = ((outputFile as NSString).lastPathComponent as NSString).deletingPathExtension + "-figures"
        return DiffImageOutput(directory: ((outputFile as NSString).deletingLastPathComponent as NSString).appendingPathComponent(base),
                               href: base)
    }
}

extension RunDiff {
    public static let defaultTolerance = 1e-9

    /// Compares two run folders. With `images`, changed figures are copied there as `<label>-a.png`, `<label>-b.png`
    /// and a difference map `<label>-diff.png`; added or removed ones as their single side.
    public static func compare(_ a: RunFolder, _ b: RunFolder, nameA: String? = nil, nameB: String? = nil,
                               tolerance: Double = defaultTolerance, images: DiffImageOutput? = nil) throws -> RunDiff {
        guard tolerance >= 0, tolerance.isFinite else {
            throw GlassboxError.invalidArgument(name: "--tolerance", expected: "a number ≥ 0", found: "\(tolerance)")
        }
        let ma = a.manifest, mb = b.manifest
        func run(_ m: RunManifest, _ name: String) -> Run { Run(name: name, recipe: m.recipe, runID: m.runID, title: m.title) }
        var d = RunDiff(schema: schemaName, a: run(ma, nameA ?? a.path), b: run(mb, nameB ?? b.path), tolerance: tolerance,
                        summary: Summary(), settings: [], metrics: [], tables: [], figures: [], cells: [])

        // Settings: parameters in A's order, then B's new ones; then the environment.
        var settings: [Setting] = []
        let pa = Dictionary(ma.parameters.map { ($0.name, $0.value) }, uniquingKeysWith: { x, _ in x })
        let pb = Dictionary(mb.parameters.map { ($0.name, $0.value) }, uniquingKeysWith: { x, _ in x })
        for name in ordered(ma.parameters.map(\.name), mb.parameters.map(\.name)) {
            settings.append(Setting(name: name, kind: .parameter, a: pa[name], b: pb[name], changed: pa[name] != pb[name]))
        }
        for (name, x, y) in [("seed", "\(ma.seed)", "\(mb.seed)"), ("tool version", ma.toolVersion, mb.toolVersion),
                             ("BLAS", ma.blas, mb.blas), ("recipe SHA-256", ma.recipeSHA256, mb.recipeSHA256),
                             ("recipe", ma.recipe, mb.recipe), ("title", ma.title, mb.title)] {
            settings.append(Setting(name: name, kind: .environment, a: x, b: y, changed: x != y))
        }
        d.settings = settings.filter(\.changed) + settings.filter { !$0.changed }

        // Metrics.
        let metricsA = Dictionary(ma.metrics.map { ($0.name, $0) }, uniquingKeysWith: { x, _ in x })
        let metricsB = Dictionary(mb.metrics.map { ($0.name, $0) }, uniquingKeysWith: { x, _ in x })
        for name in ordered(ma.metrics.map(\.name), mb.metrics.map(\.name)) {
            d.metrics.append(compareMetric(metricsA[name], metricsB[name], tolerance: tolerance))
        }

        // Tables, matched by label.
        let tablesA = Dictionary(ma.tables.map { ($0.label, $0) }, uniquingKeysWith: { x, _ in x })
        let tablesB = Dictionary(mb.tables.map { ($0.label, $0) }, uniquingKeysWith: { x, _ in x })
        for label in ordered(ma.tables.map(\.label), mb.tables.map(\.label)) {
            d.tables.append(compareTable(tablesA[label], tablesB[label]))
        }

        // Figures, matched by label.
        let figuresA = Dictionary(ma.figures.map { ($0.label, $0) }, uniquingKeysWith: { x, _ in x })
        let figuresB = Dictionary(mb.figures.map { ($0.label, $0) }, uniquingKeysWith: { x, _ in x })
        if let images { try FileManager.default.createDirectory(atPath: images.directory, withIntermediateDirectories: true) }
        for label in ordered(ma.figures.map(\.label), mb.figures.map(\.label)) {
            d.figures.append(try compareFigure(label, a: figuresA[label].map { ($0, a) }, b: figuresB[label].map { ($0, b) }, images: images))
        }

        // Cells, matched by label or by step and position among that step's unlabelled cells.
        let cellsA = cellIDs(ma.cells), cellsB = cellIDs(mb.cells)
        let byA = Dictionary(cellsA.map { ($0.id, $0.cell) }, uniquingKeysWith: { x, _ in x })
        let byB = Dictionary(cellsB.map { ($0.id, $0.cell) }, uniquingKeysWith: { x, _ in x })
        for id in ordered(cellsA.map(\.id), cellsB.map(\.id)) {
            let x = byA[id], y = byB[id]
            let status: EntryStatus = x == nil ? .added : y == nil ? .removed : x!.key == y!.key ? .same : .changed
            d.cells.append(Cell(id: id, step: (x ?? y)!.step, indexA: x?.index, indexB: y?.index, status: status,
                                secondsA: x?.seconds, secondsB: y?.seconds))
        }

        var s = Summary()
        s.settingsChanged = d.settings.filter(\.changed).count
        for m in d.metrics {
            switch m.status {
            case .better: s.metricsBetter += 1
            case .worse: s.metricsWorse += 1
            case .same: s.metricsSame += 1
            case .added: s.metricsAdded += 1
            case .removed: s.metricsRemoved += 1
            default: s.metricsChanged += 1
            }
        }
        s.tablesChanged = d.tables.filter { $0.status == .changed }.count
        s.tablesAdded = d.tables.filter { $0.status == .added }.count
        s.tablesRemoved = d.tables.filter { $0.status == .removed }.count
        s.figuresChanged = d.figures.filter { $0.status == .changed }.count
        s.figuresAdded = d.figures.filter { $0.status == .added }.count
        s.figuresRemoved = d.figures.filter { $0.status == .removed }.count
        s.cellsChanged = d.cells.filter { $0.status == .changed }.count
        s.cellsAdded = d.cells.filter { $0.status == .added }.count
        s.cellsRemoved = d.cells.filter { $0.status == .removed }.count
        s.identical = s.settingsChanged + s.metricsBetter + s.metricsWorse + s.metricsChanged + s.metricsAdded + s.metricsRemoved
            + s.tablesChanged + s.tablesAdded + s.tablesRemoved + s.figuresChanged + s.figuresAdded + s.figuresRemoved
            + s.cellsChanged + s.cellsAdded + s.cellsRemoved == 0
        d.summary = s
        return d
    }

    /// A's names in order, then B's names that A lacks.
    static func ordered(_ a: [String], _ b: [String]) -> [String] {
        var seen = Set<String>(), out: [String] = []
        for n in a + b where seen.insert(n).inserted { out.append(n) }
        return out
    }

    static func compareMetric(_ x: MetricCard?, _ y: MetricCard?, tolerance: Double) -> Metric {
        let m = (y ?? x)!
        var r = Metric(name: m.name, label: m.label, direction: m.direction, a: x?.value, b: y?.value,
                       displayA: x?.display, displayB: y?.display, delta: nil, relativeDelta: nil, status: .same)
        guard let va = x?.value, let vb = y?.value else {
            r.status = x == nil ? .added : .removed
            return r
        }
        guard va.isFinite, vb.isFinite else {
            r.status = (va.isNaN && vb.isNaN) || va == vb ? .same : .changed
            return r
        }
        let delta = vb - va
        r.delta = delta
        r.relativeDelta = va == 0 ? nil : delta / abs(va)
        if abs(delta) <= tolerance { r.status = .same } else { r.status = (delta > 0) == (m.direction == .higher) ? .better : .worse }
        return r
    }

    static func compareTable(_ x: RunManifest.TableEntry?, _ y: RunManifest.TableEntry?) -> Table {
        func cells(_ u: [String]?, _ v: [String]?) -> [TableCell] {
            let n = max(u?.count ?? 0, v?.count ?? 0)
            return (0..<n).map { i in
                let p = u.flatMap { i < $0.count ? $0[i] : nil }, q = v.flatMap { i < $0.count ? $0[i] : nil }
                return TableCell(a: p, b: q, changed: p != q)
            }
        }
        let columns = cells(x?.columns, y?.columns)
        let rowCount = max(x?.rows.count ?? 0, y?.rows.count ?? 0)
        let rows = (0..<rowCount).map { i in
            cells(x.flatMap { i < $0.rows.count ? $0.rows[i] : nil } ?? (x == nil ? nil : []),
                  y.flatMap { i < $0.rows.count ? $0.rows[i] : nil } ?? (y == nil ? nil : []))
        }
        let changed = columns.filter(\.changed).count + rows.reduce(0) { $0 + $1.filter(\.changed).count }
        let status: EntryStatus = x == nil ? .added : y == nil ? .removed : changed > 0 ? .changed : .same
        return Table(label: (y ?? x)!.label, caption: (y ?? x)!.caption, status: status, columns: columns, rows: rows, changedCells: changed)
    }

    static func compareFigure(_ label: String, a: (RunManifest.FigureEntry, RunFolder)?, b: (RunManifest.FigureEntry, RunFolder)?,
                              images: DiffImageOutput?) throws -> Figure {
        let dataA = try a.map { try Files.read($0.1.file($0.0.file)) }
        let dataB = try b.map { try Files.read($0.1.file($0.0.file)) }
        var f = Figure(label: label, caption: (b?.0 ?? a?.0)?.caption, status: .changed,
                       sha256A: dataA.map { SHA256.hex($0) }, sha256B: dataB.map { SHA256.hex($0) })
        func copy(_ data: Data, _ suffix: String) throws -> String? {
            guard let images else { return nil }
            try Files.writeAtomically(data, to: (images.directory as NSString).appendingPathComponent("\(label)-\(suffix).png"))
            return "\(images.href)/\(label)-\(suffix).png"
        }
        guard let dataA, let dataB, let a, let b else {
            f.status = dataA == nil ? .added : .removed
            if let dataB { f.imageB = try copy(dataB, "b") }
            if let dataA { f.imageA = try copy(dataA, "a") }
            return f
        }
        if dataA == dataB {
            f.status = .identical
            f.changedPixels = 0; f.totalPixels = b.0.width * b.0.height; f.changedShare = 0; f.maxChannelDelta = 0; f.sizesMatch = true
            return f
        }
        f.status = .changed
        let rasterA: RasterImage, rasterB: RasterImage
        do { rasterA = try RasterImage(png: dataA) } catch {
            throw GlassboxError.badFile(path: a.1.file(a.0.file), field: "PNG", expected: "a PNG image", found: "\(error)")
        }
        do { rasterB = try RasterImage(png: dataB) } catch {
            throw GlassboxError.badFile(path: b.1.file(b.0.file), field: "PNG", expected: "a PNG image", found: "\(error)")
        }
        let (stats, png) = try DifferenceMap.make(rasterA, rasterB)
        f.changedPixels = stats.differingPixels; f.totalPixels = stats.totalPixels
        f.changedShare = stats.differingShare; f.maxChannelDelta = stats.maxChannelDelta; f.sizesMatch = stats.sizesMatch
        f.imageA = try copy(dataA, "a")
        f.imageB = try copy(dataB, "b")
        f.diffImage = try copy(png, "diff")
        return f
    }

    static func cellIDs(_ cells: [RunManifest.Cell]) -> [(id: String, cell: RunManifest.Cell)] {
        var counts: [String: Int] = [:]
        return cells.map { c in
            if let l = c.label, !l.isEmpty { return ("\(l)", c) }
            counts[c.step, default: 0] += 1
            return ("\(c.step)#\(counts[c.step]!)", c)
        }
    }
}

/// `--fail-on METRIC:TOLERANCE`: the diff fails when METRIC got worse by more than TOLERANCE (or disappeared).
public struct DiffGate: Equatable, Sendable {
    public var metric: String
    public var tolerance: Double
    public init(metric: String, tolerance: Double) { self.metric = metric; self.tolerance = tolerance }

    /// Parses `mlp.accuracy:0.01` (the metric name is everything before the last `:`).
    public init(parsing s: String) throws {
        guard let colon = s.lastIndex(of: ":"), colon != s.startIndex, let t = Double(s[s.index(after: colon)...]), t >= 0, t.isFinite else {
            throw GlassboxError.invalidArgument(name: "--fail-on", expected: "METRIC:TOLERANCE with a tolerance ≥ 0 (e.g. mlp.accuracy:0.01)",
                                                found: "'\(s)'")
        }
        self.init(metric: String(s[..<colon]), tolerance: t)
    }

    /// One line per failed gate (empty: the diff passes). A metric in neither run is a usage error.
    public static func failures(_ diff: RunDiff, gates: [DiffGate]) throws -> [String] {
        var out: [String] = []
        for g in gates {
            guard let m = diff.metrics.first(where: { $0.name == g.metric }) else {
                throw GlassboxError.invalidArgument(name: "--fail-on", expected: "one of the runs' metrics (\(diff.metrics.map(\.name).joined(separator: ", ")))",
                                                    found: "'\(g.metric)'")
            }
            guard let a = m.a, let b = m.b else {
                if m.b == nil { out.append("\(g.metric): missing from \(diff.b.name)") }
                continue
            }
            if !b.isFinite && a.isFinite { out.append("\(g.metric): \(b) (was \(a))"); continue }
            let worsening = m.direction == .higher ? a - b : b - a
            if worsening > g.tolerance {
                out.append("\(g.metric): worse by \(DiffFormat.number(worsening)) (\(DiffFormat.number(a)) → \(DiffFormat.number(b))), more than the tolerance \(DiffFormat.number(g.tolerance))")
            }
        }
        return out
    }
}

/// Number formatting shared by the renderers (locale-free, deterministic).
enum DiffFormat {
    static func number(_ v: Double) -> String {
        guard v.isFinite else { return "\(v)" }
        return String(format: "%.6g", v)
    }
    static func signed(_ v: Double?) -> String {
        guard let v else { return "" }
        guard v.isFinite else { return "\(v)" }
        return String(format: "%+.4g", v)
    }
    static func percent(_ v: Double?) -> String {
        guard let v, v.isFinite else { return "" }
        return String(format: "%+.2f %%", v * 100)
    }
    static func share(_ f: RunDiff.Figure) -> String {
        guard let c = f.changedPixels, let t = f.totalPixels, let s = f.changedShare else { return "" }
        return String(format: "%.2f %%", s * 100) + " (\(c) of \(t) px)"
    }
    static func seconds(_ v: Double?) -> String {
        guard let v else { return "" }
        return String(format: "%.2f s", v)
    }
    static func metricValue(_ display: String?, _ v: Double?) -> String {
        display ?? v.map(number) ?? ""
    }
    static func arrow(_ direction: MetricDirection) -> String { direction.arrow }
}
