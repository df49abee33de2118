import Foundation
import GlassboxAnalysis
import GlassboxCore
import GlassboxFigures

/// Figures of attribution maps and their checks, built from results (values are copied; nothing is computed but
/// summing a colour map's channels for display).
public enum AttributionFigures {
    /// Image i of a `[N, C, H, W]` tensor.
    static func image(_ t: Tensor, _ i: Int) -> FigureImage {
        let (c, h, w) = (t.shape[1], t.shape[2], t.shape[3])
        let n = c * h * w
        return FigureImage(channels: c, height: h, width: w, values: Array(t.scalars[(i * n)..<((i + 1) * n)]))
    }

    /// A `[C, H, W]` map summed over channels to `H × W` (the usual display of colour-image attributions).
    static func planar(_ map: [Float], channels c: Int) -> [Float] {
        guard c > 1 else { return map }
        let p = map.count / c
        return (0..<p).map { j in (0..<c).reduce(Float(0)) { $0 + map[$1 * p + j] } }
    }

    static func methodName(_ m: AttributionMethod) -> String {
        switch m {
        case .saliency: return "saliency |∂F/∂x|"
        case .gradient: return "gradient ∂F/∂x"
        case .gradientTimesInput: return "gradient × input"
        case .integratedGradients: return "integrated gradients"
        case .occlusion: return "occlusion"
        case .deepLift: return "DeepLIFT (Rescale)"
        case .gradCAM: return "Grad-CAM"
        }
    }

    /// Rows of methods, columns of images: each map over its image (red positive, blue negative), the images first.
    public static func methodGrid(inputs: Tensor, labels: [Int], targets: [Int], classNames: [String], maps: [Attribution],
                           title: String?) -> Figure {
        let n = inputs.shape[0], c = inputs.shape[1]
        func name(_ k: Int) -> String { classNames.indices.contains(k) ? classNames[k] : "\(k)" }
        var rows = [(0..<n).map { i in ImageTableCell(image: image(inputs, i)) }]
        var titles = ["the images"]
        for a in maps {
            rows.append((0..<n).map { i in ImageTableCell(image: image(inputs, i), overlay: planar(a.map(i), channels: c)) })
            var t = methodName(a.config.method)
            if let gaps = a.relativeCompletenessGap, let worst = gaps.max() { t += String(format: " — completeness gap ≤ %.2g %% of F(x) − F(x′)", Double(worst) * 100) }
            titles.append(t)
        }
        let columns = (0..<n).map { i in labels[i] == targets[i] ? name(targets[i]) : "\(name(labels[i])) → \(name(targets[i]))" }
        return .imageTable(ImageTable(rows: rows, rowTitles: titles, columnTitles: columns, overlay: .signed, title: title,
                                      note: "Each map explains the class over its column (true → predicted where they differ), scaled to its own largest |value|."))
    }

    /// Mean probability of the target class as pixels are deleted (left) and inserted (right), per method and for a
    /// random order.
    static func curves(_ results: [(AttributionMethod, DeletionInsertionResult)]) -> Figure {
        func plot(_ deletion: Bool) -> Figure {
            var series: [LineSeries] = []
            for (m, r) in results {
                let c = r.attribution
                series.append(LineSeries(name: methodName(m), x: r.fractions.map(Double.init),
                                         y: (deletion ? c.meanDeletion : c.meanInsertion).map(Double.init)))
            }
            if let (_, r) = results.first {
                series.append(LineSeries(name: "random order", x: r.fractions.map(Double.init),
                                         y: (deletion ? r.random.meanDeletion : r.random.meanInsertion).map(Double.init)))
            }
            return .linePlot(LinePlot(series: series, title: deletion ? "Deletion (lower is better)" : "Insertion (higher is better)",
                                      xTitle: deletion ? "share of pixels deleted" : "share of pixels inserted", yTitle: "target class probability",
                                      hideLegend: deletion))
        }
        return .panels(PanelGrid(panels: [plot(true), plot(false)], columns: 2))
    }

    /// Mean |Spearman ρ| between the original maps and those after randomising the top k layers (cascading).
    static func randomisation(_ results: [(AttributionMethod, RandomisationTestResult)], threshold: Float) -> Figure {
        var series: [LineSeries] = []
        for (m, r) in results where !r.cascading.isEmpty {
            let x = [0.0] + r.cascading.indices.map { Double($0 + 1) }
            series.append(LineSeries(name: methodName(m), x: x, y: [1.0] + r.cascading.map { Double($0.meanSpearmanAbsolute) }))
        }
        let layers = results.first?.1.cascading.map { $0.randomised.last ?? "" } ?? []
        return .linePlot(LinePlot(series: series, title: "Cascading randomisation: " + (["none"] + layers).joined(separator: " → "),
                                  xTitle: "layers randomised from the top", yTitle: "mean Spearman ρ of |map| with the original", markers: true))
    }

    /// One row per method, one column per class: the mean map over the images of that class.
    static func classMeans(_ rows: [(AttributionMethod, ClassMeanMaps)], classNames: [String], channels c: Int) -> Figure {
        let classes = rows.first?.1.means.count ?? 0
        let size = rows.first?.1.mapShape ?? [1, 1, 1]
        let cells = rows.map { _, m in
            (0..<classes).map { k in
                m.means[k].isEmpty ? ImageTableCell(image: FigureImage(channels: 1, height: size[1], width: size[2], values: [Float](repeating: 0, count: size[1] * size[2])))
                    : ImageTableCell(image: nil, overlay: planar(m.means[k], channels: c), label: "n = \(m.counts[k])")
            }
        }
        let columns = (0..<classes).map { classNames.indices.contains($0) ? classNames[$0] : "\($0)" }
        return .imageTable(ImageTable(rows: cells, rowTitles: rows.map { methodName($0.0) }, columnTitles: columns, overlay: .signed,
                                      title: "Mean map per class", note: "Means over the test images of each true class, on black."))
    }
}
