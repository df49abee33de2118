import Foundation
import GlassboxAnalysis
import GlassboxCore
import GlassboxData
import GlassboxFigures
import GlassboxNN

/// Figures of concept explanations, built from results and the probe images (values are copied, nothing computed).
enum ExplainFigures {
    static let unitStyle = OutlineStyle(label: "unit fires", color: OkabeIto.orange)
    static let conceptStyle = OutlineStyle(label: "explanation (formula) holds", color: OkabeIto.blue)

    /// One probe image as a figure image.
    static func image(_ probes: ProbeSet, _ i: Int) -> FigureImage {
        let n = probes.channels * probes.height * probes.width
        return FigureImage(channels: probes.channels, height: probes.height, width: probes.width,
                           values: Array(probes.images.scalars[(i * n)..<((i + 1) * n)]))
    }

    /// The bits of a per-image mask (H·W bits) as booleans.
    static func bools(_ m: BitMask, count: Int) -> [Bool] { (0..<count).map { m[$0] } }

    /// A concept's mask in image `i` of the probe set.
    static func conceptMask(_ c: Concept, image i: Int, probes: ProbeSet) -> [Bool] {
        let L = probes.layout
        return (0..<(probes.height * probes.width)).map { c.mask[L.bit(image: i, pixel: $0)] }
    }

    /// A sample of the probe set: for each of up to `concepts` concepts (one per category first), the first images
    /// where it holds, with its mask outlined.
    static func probeSample(_ probes: ProbeSet, concepts limit: Int = 8, images perRow: Int = 6, title: String?) -> Figure {
        var chosen: [Concept] = []
        for cat in ConceptCategory.allCases { if let c = probes.concepts.first(where: { $0.category == cat && !$0.imageLevel && $0.mask.popcount > 0 }) { chosen.append(c) } }
        for c in probes.concepts where chosen.count < limit && !chosen.contains(where: { $0.name == c.name }) && !c.imageLevel && c.mask.popcount > 0 {
            chosen.append(c)
        }
        chosen = Array(chosen.prefix(limit))
        let L = probes.layout, P = probes.height * probes.width
        let style = OutlineStyle(label: "concept mask", color: OkabeIto.orange)
        var rows: [[ImageTableCell]] = [], titles: [String] = []
        for c in chosen {
            var cells: [ImageTableCell] = []
            for i in 0..<probes.count where cells.count < perRow {
                let m = conceptMask(c, image: i, probes: probes)
                if m.contains(true) { cells.append(ImageTableCell(image: image(probes, i), outlines: [ImageOutline(mask: m, style: 0)])) }
            }
            let share = Double(c.mask.popcount) / Double(L.images * P) * 100
            titles.append("\(c.name) (\(c.category.rawValue)): " + String(format: "%.1f %% of all pixels", share))
            rows.append(cells)
        }
        return .imageTable(ImageTable(rows: rows, rowTitles: titles, outlineStyles: [style], title: title))
    }

    /// One unit's explanation: a row per activation range (highest first) with its formula and IoU, and its
    /// dataset examples with the unit's mask and the formula's mask outlined.
    static func unitPanel(_ u: UnitExplanation, probes: ProbeSet, layer: String, title: String?) -> Figure {
        let P = probes.height * probes.width
        var rows: [[ImageTableCell]] = [], titles: [String] = []
        let highest = u.ranges.map(\.index).max()
        for r in u.ranges.reversed() {
            let formula = r.best.map { "IoU \(String(format: "%.3f", $0.iou)): \($0.text)" } ?? "no concept overlaps the unit's mask"
            titles.append("range \(r.index + 1) \(rangeText(r.range)) · \(formula)")
            rows.append(r.examples.map { e in
                var outlines = [ImageOutline(mask: bools(e.unitMask, count: P), style: 0)]
                if let f = e.formulaMask { outlines.append(ImageOutline(mask: bools(f, count: P), style: 1)) }
                return ImageTableCell(image: image(probes, e.image), outlines: outlines, label: r.index == highest ? String(format: "max %.2f", e.activation) : "\(e.valuesInRange) in range")
            })
        }
        if rows.allSatisfy(\.isEmpty) {
            let blank = FigureImage(channels: probes.channels, height: probes.height, width: probes.width,
                                    values: [Float](repeating: 0, count: probes.channels * probes.height * probes.width))
            rows = [[ImageTableCell(image: blank, label: "no examples")]]
            titles = [u.ranges.isEmpty ? "the unit is never active on the probe images" : "no examples"]
        }
        return .imageTable(ImageTable(rows: rows, rowTitles: titles, outlineStyles: [unitStyle, conceptStyle],
                                      title: title ?? "\(layer) unit \(u.unit): explanations by activation range"))
    }

    /// "[0.59, 1.12]" or "> 2.5": three significant digits, tiny lower ends as 0.
    static func rangeText(_ r: ActivationRange) -> String {
        func f(_ x: Double) -> String { abs(x) < 1e-3 ? "0" : String(format: "%.3g", x) }
        guard let u = r.upper else { return "> \(f(r.lower))" }
        return "\(r.lowerStrict ? "(" : "[")\(f(r.lower)), \(f(u))]"
    }

    /// The specialisation curves by activation range, one line per result (e.g. layer): the explanation's IoU, the
    /// share of the image its mask covers (broad, unspecialised explanations cover much), and label masking (how far
    /// the unit's response comes from the explanation's pixels), when measured.
    static func specialisation(_ results: [(name: String, result: ExplanationResult)], title: String?) -> Figure {
        func panel(_ yTitle: String, legend: Bool = false, _ value: (SpecialisationPoint) -> Double?) -> Figure {
            let series = results.map { name, r in
                LineSeries(name: name, x: r.specialisation.compactMap { value($0) == nil ? nil : Double($0.range + 1) },
                           y: r.specialisation.compactMap(value))
            }
            return .linePlot(LinePlot(series: series, title: yTitle, xTitle: "activation range (1 = lowest)", yTitle: nil, markers: true,
                                      hideLegend: !legend))
        }
        var panels = [panel("IoU of the explanation", legend: true, { $0.meanIoU }), panel("image share of the formula", { $0.meanFormulaSize })]
        if results.contains(where: { $0.result.specialisation.contains { $0.meanLabelMasking != nil } }) {
            panels.append(panel("label masking", { $0.meanLabelMasking }))
        }
        return .panels(PanelGrid(panels: panels, columns: panels.count, title: title))
    }

    /// Detectors per concept category, and the distribution of each unit's best IoU against the nulls.
    static func dissectionSummary(_ r: DissectionResult, layer: String) -> Figure {
        let cats = r.detectorsByCategory.map(\.category.rawValue)
        let bars = Figure.barChart(BarChart(categories: cats.isEmpty ? ["none"] : cats,
                                            groups: [BarGroup(name: "detectors (IoU > \(formatNumber(Float(r.config.detectorThreshold))))",
                                                              values: r.detectorsByCategory.isEmpty ? [0] : r.detectorsByCategory.map { Double($0.count) })],
                                            title: "Detectors by category", xTitle: "category of the best concept", yTitle: "units"))
        var series = [HistogramSeries(name: "trained", values: r.units.compactMap { $0.best?.iou })]
        if let n = r.randomInit { series.append(HistogramSeries(name: "random init", values: n.bestIoU)) }
        let shuffled = r.units.flatMap(\.shuffledBestIoU)
        if !shuffled.isEmpty { series.append(HistogramSeries(name: "shuffled masks", values: shuffled)) }
        let hi = max(0.05, (series.flatMap(\.values).max() ?? 0.05) * 1.05)
        let hist = Figure.histogram(Histogram(series: series, bins: .edges((0...20).map { hi * Double($0) / 20 }),
                                              title: "Best IoU per unit vs the nulls", xTitle: "best IoU", yTitle: "units"))
        return .panels(PanelGrid(panels: [bars, hist], columns: 2))
    }
}

