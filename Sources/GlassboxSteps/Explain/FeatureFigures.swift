import Foundation
import GlassboxAnalysis
import GlassboxCore
import GlassboxData
import GlassboxFigures
import GlassboxNN

/// Figures of what units respond to: dataset examples and optimised images (values are copied into figures).
enum FeatureFigures {
    static let windowStyle = OutlineStyle(label: "receptive field at the maximum", color: OkabeIto.orange)

    static func unitName(_ u: Int, classNames: [String]?) -> String {
        if let c = classNames, c.indices.contains(u) { return c[u] }
        return "unit \(u)"
    }

    /// The receptive-field window of an example as a mask over its image (clipped to the image).
    static func window(_ e: ActivatingExample, height h: Int, width w: Int) -> [ImageOutline] {
        guard let c = e.crop else { return [] }
        var m = [Bool](repeating: false, count: h * w)
        for y in max(0, c.top)..<min(h, c.top + c.size) { for x in max(0, c.left)..<min(w, c.left + c.size) { m[y * w + x] = true } }
        return m.contains(true) ? [ImageOutline(mask: m, style: 0)] : []
    }

    /// One row per unit: its top images, then near-zero and bottom ones, each with its value (and receptive field).
    static func examples(_ r: DatasetExamplesResult, test: Dataset, top: Int, others: Int, what: String, classNames: [String]) -> Figure {
        let h = test.height, w = test.width
        func cell(_ e: ActivatingExample) -> ImageTableCell {
            ImageTableCell(image: AttributionFigures.image(test.images, e.index), outlines: window(e, height: h, width: w),
                           label: String(format: "%.2f", e.value))
        }
        // When no value is negative the lowest images are the ones nearest zero: one group then.
        let signed = r.units.contains { $0.minimum < 0 }
        let rows = r.units.map { u in u.top.prefix(top).map(cell) + u.nearZero.prefix(others).map(cell) + (signed ? u.bottom.prefix(others).map(cell) : []) }
        let titles = r.units.map { u in
            "\(what == "class" ? unitName(u.unit, classNames: classNames) : "unit \(u.unit)"): " + String(format: "mean %.2f, range %.2f … %.2f", u.mean, u.minimum, u.maximum)
        }
        let columns = (0..<top).map { $0 == 0 ? "top" : "" } + (0..<others).map { $0 == 0 ? (signed ? "near zero" : "lowest") : "" }
            + (signed ? (0..<others).map { $0 == 0 ? "bottom" : "" } : [])
        return .imageTable(ImageTable(rows: rows, rowTitles: titles, columnTitles: columns,
                                      outlineStyles: r.receptiveField == nil ? [] : [windowStyle]))
    }

    /// The first optimised image of every unit, in a grid like the filter grids.
    static func grid(_ r: ActivationMaximisationResult, classNames: [String]?) -> Figure {
        let shape = r.imageShape
        let first = r.images.filter { $0.seedIndex == 0 }
        return .imageGrid(ImageGrid(images: first.map { FigureImage(channels: shape[0], height: shape[1], width: shape[2], values: $0.pixels) },
                                    labels: first.map { unitName($0.unit, classNames: classNames) }, columns: min(10, first.count)))
    }

    /// One row per unit: its optimised images (one per seed) beside its top test images, with the unit's value.
    static func beside(_ r: ActivationMaximisationResult, examples: DatasetExamplesResult, test: Dataset, units: [Int], exampleCount: Int,
                       classNames: [String]?) -> Figure {
        let shape = r.imageShape
        let seeds = r.config.seedsPerUnit
        var rows: [[ImageTableCell]] = [], titles: [String] = []
        for u in units {
            let optimised = r.images.filter { $0.unit == u }.sorted { $0.seedIndex < $1.seedIndex }.map { o in
                ImageTableCell(image: FigureImage(channels: shape[0], height: shape[1], width: shape[2], values: o.pixels),
                               label: String(format: "%.2f", o.activation))
            }
            let top = examples.units.first { $0.unit == u }?.top.prefix(exampleCount) ?? []
            let shown = top.map { e in ImageTableCell(image: AttributionFigures.image(test.images, e.index), label: String(format: "%.2f", e.value)) }
            rows.append(optimised + shown)
            titles.append(unitName(u, classNames: classNames))
        }
        let columns = (0..<seeds).map { $0 == 0 ? "optimised" : "" } + (0..<exampleCount).map { $0 == 0 ? "top test images" : "" }
        let c = r.config
        let note = "\(c.steps) \(c.optimizer.rawValue) steps (lr \(formatNumber(c.learningRate))), \(c.parameterisation.rawValue) parameters, range \(c.range.rawValue), "
            + "jitter ±\(c.jitter) px, scale ±\(formatNumber(c.scale * 100)) %, rotation ±\(formatNumber(c.rotationDegrees))°, TV \(formatNumber(c.totalVariation))"
            + (c.l2Radius.map { ", L2 ≤ \(formatNumber($0))" } ?? "") + (c.blurEvery > 0 ? ", blur every \(c.blurEvery)" : "") + "; "
            + "values under the images: the unit's activation."
        return .imageTable(ImageTable(rows: rows, rowTitles: titles, columnTitles: columns, note: note))
    }
}
