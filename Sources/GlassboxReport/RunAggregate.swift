import Foundation
import GlassboxCore

/// What to aggregate over several runs of one recipe (a sweep): runs with the same values of the `groupBy`
/// parameters form one setting; every metric is summarised per setting over its runs (the seeds).
public struct RunAggregateSettings: Codable, Equatable, Sendable {
    /// Parameters whose values define a setting (nil: every parameter whose value differs between the runs). The
    /// seed never does: runs that differ only in seed are repeats of one setting.
    public var groupBy: [String]?
    /// Metrics to summarise by name (nil: every metric of the runs, in the order they first appear).
    public var metrics: [String]?

    public init(groupBy: [String]? = nil, metrics: [String]? = nil) { self.groupBy = groupBy; self.metrics = metrics }
}

/// Mean ± sample standard deviation, min, max and n of one metric in one setting.
public struct SummaryStatistics: Codable, Equatable, Sendable {
    public var n: Int
    public var mean: Double
    /// Sample standard deviation (divisor n − 1); nil when n < 2.
    public var sd: Double?
    public var min: Double
    public var max: Double

    /// The statistics of `values` (NaN and infinities left out; nil when none is finite). Sums run in the given order.
    public static func of(_ values: [Double]) -> SummaryStatistics? {
        let v = values.filter(\.isFinite)
        guard let lo = v.min(), let hi = v.max() else { return nil }
        let mean = v.reduce(0, +) / Double(v.count)
        let sd = v.count < 2 ? nil : (v.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(v.count - 1)).squareRoot()
        return SummaryStatistics(n: v.count, mean: mean, sd: sd, min: lo, max: hi)
    }
}

public struct RunAggregateResult: Codable, Sendable {
    public struct Setting: Codable, Sendable, Equatable {
        /// `name=value` of the grouping parameters, in `swept` order.
        public var values: [String]
        /// Indices of its runs (in the order given).
        public var runs: [Int]
        public var seeds: [UInt64]
        /// "epochs = 2, lr = 0.1", or "all runs" when nothing is swept.
        public var label: String
    }

    public struct Metric: Codable, Sendable {
        public var name: String
        public var label: String
        public var direction: MetricDirection
        /// Shown as a percentage (the runs show it so).
        public var percent: Bool
        /// Per setting, in `settings` order (nil: no run of that setting has the metric).
        public var statistics: [SummaryStatistics?]
    }

    /// The grouping parameters.
    public var swept: [String]
    public var settings: [Setting]
    public var metrics: [Metric]
    /// Each run's value of each swept parameter, by run (for plots against a parameter).
    public var parameterValues: [[String: String]]
}

/// Summarises the metrics of several runs per setting. Reads manifests only (the caller opens the run folders).
public enum RunAggregate {
    public static func run(_ s: RunAggregateSettings, runs: [RunManifest]) throws -> RunAggregateResult {
        guard !runs.isEmpty else { throw GlassboxError.invalidArgument(name: "runs", expected: "at least one run folder", found: "none") }
        let values = runs.map { m in Dictionary(m.parameters.map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a }) }
        let names = runs[0].parameters.map(\.name)
        let swept: [String]
        if let g = s.groupBy {
            if let bad = g.first(where: { !names.contains($0) }) {
                throw GlassboxError.invalidArgument(name: "group-by", expected: "parameters of the runs (\(names.joined(separator: ", ")))", found: "'\(bad)'")
            }
            swept = g
        } else {
            swept = names.filter { n in Set(values.map { $0[n] ?? "" }).count > 1 }
        }
        var settings: [RunAggregateResult.Setting] = []
        for (i, m) in runs.enumerated() {
            let key = swept.map { "\($0)=\(values[i][$0] ?? "")" }
            if let k = settings.firstIndex(where: { $0.values == key }) {
                settings[k].runs.append(i); settings[k].seeds.append(m.seed)
            } else {
                let label = swept.isEmpty ? "all runs" : swept.map { "\($0) = \(values[i][$0] ?? "")" }.joined(separator: ", ")
                settings.append(.init(values: key, runs: [i], seeds: [m.seed], label: label))
            }
        }
        var order: [String] = []
        var cards: [String: MetricCard] = [:]
        for m in runs { for c in m.metrics where cards[c.name] == nil { order.append(c.name); cards[c.name] = c } }
        if let wanted = s.metrics {
            if let bad = wanted.first(where: { cards[$0] == nil }) {
                throw GlassboxError.invalidArgument(name: "metrics", expected: "metrics of the runs (\(order.joined(separator: ", ")))", found: "'\(bad)'")
            }
            order = wanted
        }
        let metrics = order.map { name -> RunAggregateResult.Metric in
            let card = cards[name]!
            let stats = settings.map { setting in
                SummaryStatistics.of(setting.runs.compactMap { r in runs[r].metrics.first { $0.name == name }?.value })
            }
            return .init(name: name, label: card.label, direction: card.direction, percent: card.display.hasSuffix("%"), statistics: stats)
        }
        return RunAggregateResult(swept: swept, settings: settings, metrics: metrics,
                                  parameterValues: values.map { v in Dictionary(uniqueKeysWithValues: swept.map { ($0, v[$0] ?? "") }) })
    }

    /// A value as the runs show the metric: `87.31 %` for percentages, else 4 significant digits.
    public static func format(_ v: Double, percent: Bool) -> String {
        percent ? String(format: "%.2f %%", v * 100) : String(format: "%.4g", v)
    }

    /// A number in a table: 6 significant digits (a percentage metric stays a fraction here, as in run.json).
    public static func tableNumber(_ v: Double) -> String { String(format: "%.6g", v) }
}

public extension RunManifest {
    /// SHA-256 of the manifest without its wall-clock parts (each cell's seconds and executed/restored status): equal
    /// for two runs that computed the same things, whichever engine ran them and how long it took.
    var contentDigest: String {
        var m = self
        m.cells = m.cells.map { var c = $0; c.seconds = 0; c.status = ""; return c }
        return SHA256.hex((try? ReportJSON.encode(m)) ?? Data())
    }
}
