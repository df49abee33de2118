import Foundation
import GlassboxCore

/// Dash pattern of series `i` (points), so lines stay distinguishable in greyscale.
func seriesDash(_ i: Int) -> [Double] {
    let patterns: [[Double]] = [[], [4, 2], [1.2, 1.6], [5, 1.6, 1.2, 1.6]]
    return patterns[i % patterns.count]
}

/// Lays out a chart. With a legend, it goes in the plot corner that hides no data; when every corner would hide
/// some, the layout is redone with a legend row above the plot. Returns the frame and where to draw the legend.
func layoutWithLegend(on canvas: Canvas, in body: Rect, entries: [LegendEntry], layout: (Rect) -> PlotFrame,
                      occupied: (PlotFrame) -> [Point]) -> (frame: PlotFrame, legend: LegendSpot) {
    let frame = layout(body)
    guard !entries.isEmpty else { return (frame, .none) }
    let points = occupied(frame)
    if Legend.bestCorner(on: canvas, entries: entries, in: frame.plot, avoiding: points).covered == 0 {
        return (frame, .corner(points))
    }
    let rowH = Legend.rowHeight(on: canvas)
    let row = Rect(x: body.minX, y: body.minY, width: body.width, height: rowH)
    return (layout(body.inset(top: rowH)), .row(row))
}

enum LegendSpot {
    case none
    case corner([Point])
    case row(Rect)

    func draw(on canvas: Canvas, entries: [LegendEntry], plot: Rect) {
        switch self {
        case .none: break
        case let .corner(points): Legend.draw(on: canvas, entries: entries, in: plot, avoiding: points)
        case let .row(r): Legend.drawRow(on: canvas, entries: entries, in: r)
        }
    }
}

func axisTitle(_ title: String?, unit: String?) -> String? {
    guard let unit, !unit.isEmpty else { return title }
    guard let title, !title.isEmpty else { return "(\(unit))" }
    return "\(title) (\(unit))"
}

// MARK: - Bar chart

/// One group of bars: one value per category (e.g. one model across data sets).
public struct BarGroup: Codable, Equatable, Sendable {
    public var name: String
    public var values: [Double]
    /// Half-length of each error bar (e.g. a standard deviation), or nil.
    public var errors: [Double]?
    public init(name: String, values: [Double], errors: [Double]? = nil) {
        self.name = name; self.values = values; self.errors = errors
    }
}

/// Grouped bars: categories along x, one bar per group in each category, optional error bars.
public struct BarChart: FigureKind {
    public var categories: [String]
    public var groups: [BarGroup]
    public var title: String?
    public var xTitle: String?
    public var yTitle: String?
    /// Unit shown after the y title, e.g. "%".
    public var unit: String?

    public init(categories: [String], groups: [BarGroup], title: String? = nil, xTitle: String? = nil,
                yTitle: String? = nil, unit: String? = nil) {
        self.categories = categories; self.groups = groups; self.title = title
        self.xTitle = xTitle; self.yTitle = yTitle; self.unit = unit
    }

    public func validate() throws {
        guard !categories.isEmpty, !groups.isEmpty else {
            throw GlassboxError.invalidArgument(name: "bar chart", expected: "at least one category and one group",
                                                found: "\(categories.count) categories, \(groups.count) groups")
        }
        for g in groups {
            try requireCount("bar group '\(g.name)' values", g.values.count, categories.count)
            if let e = g.errors { try requireCount("bar group '\(g.name)' errors", e.count, categories.count) }
        }
    }

    /// Bar rectangles (category, group) → rect, for a laid-out frame.
    func bars(in frame: PlotFrame) -> [(c: Int, g: Int, rect: Rect)] {
        let zeroY = frame.yPosition(0)
        var out: [(Int, Int, Rect)] = []
        for c in categories.indices {
            let slot = frame.categorySlot(c)
            let barW = slot.width * 0.8 / Double(groups.count)
            for (g, group) in groups.enumerated() where group.values[c].isFinite {
                let top = frame.yPosition(group.values[c])
                out.append((c, g, Rect(x: slot.minX + slot.width * 0.1 + Double(g) * barW, y: min(top, zeroY), width: barW, height: abs(zeroY - top))))
            }
        }
        return out
    }

    public func draw(on canvas: Canvas, in rect: Rect) throws {
        let body = Layout.title(title, on: canvas, in: rect)
        var lo = 0.0, hi = 0.0
        for g in groups {
            for (i, v) in g.values.enumerated() where v.isFinite {
                let e = g.errors.map { abs($0[i]) } ?? 0
                lo = min(lo, v - e); hi = max(hi, v + e)
            }
        }
        let fs = canvas.fontSize
        let entries = groups.count > 1
            ? groups.enumerated().map { LegendEntry(label: $0.element.name, color: OkabeIto.series($0.offset), swatch: .box(alpha: 1)) } : []
        let (frame, legend) = layoutWithLegend(on: canvas, in: body, entries: entries, layout: { area in
            PlotFrame.layout(on: canvas, in: area, x: .categories(categories), xTitle: xTitle, yTitle: axisTitle(yTitle, unit: unit)) {
                Axis.fitted(lo, hi, length: $0, on: canvas, horizontal: false, includeZero: true)
            }
        }, occupied: { frame in
            bars(in: frame).flatMap { b in (0...10).map { Point(b.rect.midX, b.rect.minY + b.rect.height * Double($0) / 10) } }
        })
        frame.drawGrid(on: canvas)
        for (c, g, r) in bars(in: frame) {
            canvas.fill(r, OkabeIto.series(g))
            let v = groups[g].values[c]
            if let e = groups[g].errors?[c], e.isFinite, e > 0 {
                let a = frame.yPosition(v - e), b = frame.yPosition(v + e)
                let cap = min(r.width * 0.3, fs * 0.5)
                canvas.line(Point(r.midX, a), Point(r.midX, b), .ink, width: 0.8)
                canvas.line(Point(r.midX - cap, a), Point(r.midX + cap, a), .ink, width: 0.8)
                canvas.line(Point(r.midX - cap, b), Point(r.midX + cap, b), .ink, width: 0.8)
            }
        }
        if lo < 0 { canvas.line(Point(frame.plot.minX, frame.yPosition(0)), Point(frame.plot.maxX, frame.yPosition(0)), .ink, width: 0.5) }
        frame.drawAxes(on: canvas)
        legend.draw(on: canvas, entries: entries, plot: frame.plot)
    }
}

// MARK: - Heat map

/// A dense matrix of numbers, row-major.
public struct Matrix: Codable, Equatable, Sendable {
    public var rows: Int
    public var columns: Int
    public var values: [Double]
    public init(rows: Int, columns: Int, values: [Double]) { self.rows = rows; self.columns = columns; self.values = values }
    public init(_ rowsOfValues: [[Double]]) {
        self.init(rows: rowsOfValues.count, columns: rowsOfValues.first?.count ?? 0, values: rowsOfValues.flatMap { $0 })
    }
    public subscript(r: Int, c: Int) -> Double { values[r * columns + c] }
}

/// How cell values are written inside a heat map.
public enum CellAnnotation: Codable, Equatable, Sendable {
    case none
    /// Rounded to whole numbers (confusion-matrix counts).
    case integer
    /// Fixed number of decimals, e.g. Δ accuracy.
    case decimals(Int)
}

/// A matrix as coloured cells with a colour bar, row and column labels, and optional annotations.
/// Confusion matrix: `colorMap: .viridis, annotation: .integer`; signed Δ: `.rdBu` with `limits: .symmetric`.
public struct HeatMap: FigureKind {
    public var values: Matrix
    public var rowLabels: [String]?
    public var columnLabels: [String]?
    public var rowTitle: String?
    public var columnTitle: String?
    public var title: String?
    public var colorMap: ColorMapName
    public var limits: ColorLimits
    public var annotation: CellAnnotation
    public var colorBarTitle: String?

    public init(values: Matrix, rowLabels: [String]? = nil, columnLabels: [String]? = nil, rowTitle: String? = nil,
                columnTitle: String? = nil, title: String? = nil, colorMap: ColorMapName = .viridis,
                limits: ColorLimits = .auto, annotation: CellAnnotation = .none, colorBarTitle: String? = nil) {
        self.values = values; self.rowLabels = rowLabels; self.columnLabels = columnLabels
        self.rowTitle = rowTitle; self.columnTitle = columnTitle; self.title = title; self.colorMap = colorMap
        self.limits = limits; self.annotation = annotation; self.colorBarTitle = colorBarTitle
    }

    public func validate() throws {
        guard values.rows > 0, values.columns > 0, values.values.count == values.rows * values.columns else {
            throw GlassboxError.shapeMismatch(what: "heat map values", expected: [values.rows, values.columns], found: [values.values.count])
        }
        if let r = rowLabels { try requireCount("heat map row labels", r.count, values.rows) }
        if let c = columnLabels { try requireCount("heat map column labels", c.count, values.columns) }
        if case let .decimals(d) = annotation, d < 0 || d > 10 {
            throw GlassboxError.invalidArgument(name: "annotation decimals", expected: "0…10", found: "\(d)")
        }
    }

    /// The colour-bar axis: limits exactly the colour limits, nice ticks inside them.
    func colorAxis(length: Double, fontSize: Double) -> Axis {
        let (lo, hi) = limits.resolve(values.values)
        // Ticks must lie inside the colour limits: take more candidate ticks until at least three fall inside.
        let budget = Axis.tickBudget(length: length, fontSize: fontSize, spacing: 3)
        var inside: [(Double, String)] = []
        for n in budget...(budget + 8) {
            let t = Ticks.linear(lo, hi, maxCount: n)
            inside = zip(t.values, t.labels).filter { $0.0 >= lo - 1e-9 * (hi - lo) && $0.0 <= hi + 1e-9 * (hi - lo) }
            if inside.count >= min(3, budget) { break }
        }
        return Axis(low: lo, high: hi, isLog: false, ticks: inside.map(\.0), labels: inside.map(\.1))
    }

    func annotationText(_ v: Double) -> String? {
        guard v.isFinite else { return v.isNaN ? "" : nil }
        switch annotation {
        case .none: return nil
        case .integer: return Ticks.format(v.rounded(), decimals: 0)
        case let .decimals(d): return Ticks.format(v, decimals: d)
        }
    }

    public func draw(on canvas: Canvas, in rect: Rect) throws {
        let fs = canvas.fontSize, gap = fs * 0.35
        let body = Layout.title(title, on: canvas, in: rect)
        let labelH = canvas.measure("Ag", size: fs).height
        let rows = values.rows, cols = values.columns
        let axisGuess = colorAxis(length: body.height * 0.8, fontSize: fs)
        let barW = ColorBar.width(on: canvas, axis: axisGuess, title: colorBarTitle)
        // Left: row title + row labels. Bottom: column labels (maybe rotated) + column title.
        var left = 0.0
        if let r = rowLabels { left += (r.map { canvas.measure($0, size: fs).width }.max() ?? 0) + gap }
        if let t = rowTitle, !t.isEmpty { left += labelH + gap }
        let avail = body.inset(left: left, right: barW + fs * 1.2)
        let colW = columnLabels.map { $0.map { canvas.measure($0, size: fs).width }.max() ?? 0 } ?? 0
        var bottom = 0.0
        if let t = columnTitle, !t.isEmpty { bottom += labelH + gap }
        // Square cells that fit; rotate column labels when they are wider than a cell.
        var cell = 0.0, rotate = false
        for _ in 0..<2 {
            let labelsBottom = columnLabels == nil ? 0 : (rotate ? (colW + labelH) * 0.7071 : labelH) + gap
            cell = max(0, min(avail.width / Double(cols), (avail.height - bottom - labelsBottom) / Double(rows)))
            rotate = colW > cell * 0.95
        }
        let labelsBottom = columnLabels == nil ? 0 : (rotate ? (colW + labelH) * 0.7071 : labelH) + gap
        let gridW = cell * Double(cols), gridH = cell * Double(rows)
        let totalH = gridH + labelsBottom + bottom
        let grid = Rect(x: avail.minX + (avail.width - gridW) / 2, y: avail.minY + (avail.height - totalH) / 2, width: gridW, height: gridH)

        let map = colorMap.map
        let (lo, hi) = limits.resolve(values.values)
        var rgb = [UInt8](repeating: 0, count: rows * cols * 3)
        var cellColors: [RGB] = []
        for i in 0..<(rows * cols) {
            let v = values.values[i]
            let c = v.isFinite ? map.color(at: (v - lo) / (hi - lo)) : RGB(0.8, 0.8, 0.8)
            cellColors.append(c)
            let (r, g, b) = c.bytes
            rgb[i * 3] = r; rgb[i * 3 + 1] = g; rgb[i * 3 + 2] = b
        }
        canvas.image(rgb: rgb, width: cols, height: rows, in: grid)
        // Annotations, sized to the cell.
        if annotation != .none {
            let texts = values.values.map { annotationText($0) ?? "" }
            let widest = texts.map { canvas.measure($0, size: fs).width }.max() ?? 0
            var size = fs
            if widest > cell * 0.85 { size = fs * cell * 0.85 / widest }
            size = min(size, cell * 0.5)
            if size >= 3 {
                for r in 0..<rows {
                    for c in 0..<cols where !texts[r * cols + c].isEmpty {
                        let p = Point(grid.minX + (Double(c) + 0.5) * cell, grid.minY + (Double(r) + 0.5) * cell)
                        canvas.text(texts[r * cols + c], at: p, size: size, color: cellColors[r * cols + c].contrastingText, h: .center, v: .middle)
                    }
                }
            }
        }
        var rowLabelW = 0.0
        if let rl = rowLabels {
            for (r, label) in rl.enumerated() {
                canvas.text(label, at: Point(grid.minX - gap, grid.minY + (Double(r) + 0.5) * cell), size: fs, color: .ink, h: .right, v: .middle)
                rowLabelW = max(rowLabelW, canvas.measure(label, size: fs).width)
            }
        }
        if let t = rowTitle, !t.isEmpty {
            let x = grid.minX - gap - (rowLabels == nil ? 0 : rowLabelW + gap)
            canvas.text(t, at: Point(x, grid.midY), size: fs, color: .ink, h: .center, v: .bottom, angle: .pi / 2)
        }
        var below = grid.maxY + gap
        if let cl = columnLabels {
            for (c, label) in cl.enumerated() {
                let x = grid.minX + (Double(c) + 0.5) * cell
                if rotate {
                    canvas.text(label, at: Point(x + labelH * 0.25, below), size: fs, color: .ink, h: .right, v: .top, angle: .pi / 4)
                } else {
                    canvas.text(label, at: Point(x, below), size: fs, color: .ink, h: .center, v: .top)
                }
            }
            below += labelsBottom - gap
        }
        if let t = columnTitle, !t.isEmpty {
            canvas.text(t, at: Point(grid.midX, below + gap), size: fs, color: .ink, h: .center, v: .top)
        }
        // Colour bar as tall as the grid.
        let bar = Rect(x: grid.maxX + fs * 1.2, y: grid.minY, width: fs * 1.1, height: gridH)
        ColorBar.draw(on: canvas, map: map, axis: colorAxis(length: gridH, fontSize: fs), bar: bar, title: colorBarTitle)
    }
}

// MARK: - Line plot

public struct LineSeries: Codable, Equatable, Sendable {
    public var name: String
    public var x: [Double]
    public var y: [Double]
    /// Error bars: y ± errors[i] at each point (e.g. a standard deviation over seeds); nil or NaN: no bar.
    public var errors: [Double]?
    public init(name: String, x: [Double], y: [Double], errors: [Double]? = nil) { self.name = name; self.x = x; self.y = y; self.errors = errors }
    /// y against 1, 2, 3, … (e.g. epochs).
    public init(name: String, y: [Double]) { self.init(name: name, x: y.indices.map { Double($0 + 1) }, y: y) }

    /// Each point's bar ends (y ∓ error; NaN where there is no bar).
    var errorEnds: [(low: Double, high: Double)] {
        guard let e = errors else { return [] }
        return zip(y, e).map { y, e in e.isFinite && e >= 0 ? (y - e, y + e) : (.nan, .nan) }
    }
}

/// Named series as lines, with a legend, axis titles, nice ticks and an optional log y axis.
public struct LinePlot: FigureKind {
    public var series: [LineSeries]
    public var title: String?
    public var xTitle: String?
    public var yTitle: String?
    public var logY: Bool
    /// Draws a dot at every point as well.
    public var markers: Bool
    /// Leaves the legend out (e.g. in one of two panels with the same series); nil or false: shown.
    public var hideLegend: Bool?

    public init(series: [LineSeries], title: String? = nil, xTitle: String? = nil, yTitle: String? = nil,
                logY: Bool = false, markers: Bool = false, hideLegend: Bool? = nil) {
        self.series = series; self.title = title; self.xTitle = xTitle; self.yTitle = yTitle
        self.logY = logY; self.markers = markers; self.hideLegend = hideLegend
    }

    public func validate() throws {
        guard !series.isEmpty else { throw GlassboxError.invalidArgument(name: "line plot", expected: "at least one series", found: "none") }
        for s in series {
            try requireCount("series '\(s.name)' y", s.y.count, s.x.count)
            if let e = s.errors { try requireCount("series '\(s.name)' errors", e.count, s.x.count) }
        }
        if logY && !series.contains(where: { $0.y.contains { $0 > 0 && $0.isFinite } }) {
            throw GlassboxError.invalidArgument(name: "log y axis", expected: "some positive y values", found: "none")
        }
    }

    public func draw(on canvas: Canvas, in rect: Rect) throws {
        let body = Layout.title(title, on: canvas, in: rect)
        let xs = series.flatMap(\.x).filter(\.isFinite)
        let ys = series.flatMap { s in s.y + s.errorEnds.flatMap { [$0.low, $0.high] } }.filter { $0.isFinite && (!logY || $0 > 0) }
        let entries = hideLegend != true && (series.count > 1 || !(series.first?.name.isEmpty ?? true))
            ? series.enumerated().map { LegendEntry(label: $0.element.name, color: OkabeIto.series($0.offset), swatch: .line(dash: seriesDash($0.offset))) } : []
        let (frame, legend) = layoutWithLegend(on: canvas, in: body, entries: entries, layout: { area in
            let xAxis = Axis.fitted(xs.min() ?? 0, xs.max() ?? 1, length: area.width * 0.85, on: canvas, horizontal: true,
                                    integerTicks: !xs.isEmpty && xs.allSatisfy { $0 == $0.rounded() })
            return PlotFrame.layout(on: canvas, in: area, x: .numeric(xAxis), xTitle: xTitle, yTitle: yTitle) { h in
                Axis.fitted(ys.min() ?? (logY ? 1 : 0), ys.max() ?? (logY ? 10 : 1), length: h, on: canvas, horizontal: false, log: logY)
            }
        }, occupied: { frame in points(in: frame).flatMap { $0 } })
        frame.drawGrid(on: canvas)
        canvas.clipped(to: frame.plot.inset(-1)) {
            for (i, s) in series.enumerated() {
                // Break the line at missing values (NaN, or ≤ 0 on a log axis).
                var run: [Point] = []
                func flush() { canvas.polyline(run, OkabeIto.series(i), width: 1.3, dash: seriesDash(i)); run = [] }
                for (x, y) in zip(s.x, s.y) {
                    guard x.isFinite, y.isFinite, !logY || y > 0 else { flush(); continue }
                    let p = frame.point(x: x, y: y)
                    run.append(p)
                    if markers { canvas.circle(center: p, radius: 1.6, fill: OkabeIto.series(i)) }
                }
                flush()
                drawErrorBars(s, color: OkabeIto.series(i), on: canvas, frame: frame)
            }
        }
        frame.drawAxes(on: canvas)
        legend.draw(on: canvas, entries: entries, plot: frame.plot)
    }

    /// A vertical bar from y − e to y + e with short caps at each point that has an error.
    func drawErrorBars(_ s: LineSeries, color: RGB, on canvas: Canvas, frame: PlotFrame) {
        let cap = canvas.fontSize * 0.35
        for (k, e) in s.errorEnds.enumerated() where e.low.isFinite && e.high.isFinite && s.x[k].isFinite && (!logY || e.low > 0) {
            let lo = frame.point(x: s.x[k], y: e.low), hi = frame.point(x: s.x[k], y: e.high)
            canvas.line(lo, hi, color, width: 1)
            canvas.line(Point(lo.x - cap, lo.y), Point(lo.x + cap, lo.y), color, width: 1)
            canvas.line(Point(hi.x - cap, hi.y), Point(hi.x + cap, hi.y), color, width: 1)
        }
    }

    /// Canvas points of every drawable data point, per series, plus points along the segments (for legend placement).
    func points(in frame: PlotFrame) -> [[Point]] {
        series.map { s in
            var out: [Point] = []
            var prev: Point?
            for (x, y) in zip(s.x, s.y) {
                guard x.isFinite, y.isFinite, !logY || y > 0 else { prev = nil; continue }
                let p = frame.point(x: x, y: y)
                if let q = prev { for k in 1...4 { let t = Double(k) / 5; out.append(Point(q.x + (p.x - q.x) * t, q.y + (p.y - q.y) * t)) } }
                out.append(p); prev = p
            }
            return out
        }
    }
}

// MARK: - Histogram
public struct HistogramSeries: Codable, Equatable, Sendable {
    public var name: String
    public var values: [Double]
    public init(name: String, values: [Double]) { self.name = name; self.values = values }
}

public enum HistogramBins: Codable, Equatable, Sendable {
    /// Equal-width bins over the min…max of all series.
    case count(Int)
    /// Explicit increasing edges (n + 1 edges give n bins).
    case edges([Double])
}

/// Values binned into bars; several series overlay with transparency on shared bins.
public struct Histogram: FigureKind {
    public var series: [HistogramSeries]
    public var bins: HistogramBins
    public var title: String?
    public var xTitle: String?
    public var yTitle: String?

    public init(series: [HistogramSeries], bins: HistogramBins = .count(30), title: String? = nil,
                xTitle: String? = nil, yTitle: String? = "count") {
        self.series = series; self.bins = bins; self.title = title; self.xTitle = xTitle; self.yTitle = yTitle
    }

    public func validate() throws {
        guard !series.isEmpty else { throw GlassboxError.invalidArgument(name: "histogram", expected: "at least one series", found: "none") }
        switch bins {
        case let .count(n):
            guard n >= 1 && n <= 10_000 else { throw GlassboxError.invalidArgument(name: "histogram bins", expected: "1…10000", found: "\(n)") }
        case let .edges(e):
            guard e.count >= 2, e.allSatisfy(\.isFinite), zip(e, e.dropFirst()).allSatisfy({ $0 < $1 }) else {
                throw GlassboxError.invalidArgument(name: "histogram edges", expected: "≥ 2 finite increasing edges", found: "\(e.prefix(6))")
            }
        }
    }

    /// Bin edges and, per series, the count in each bin. Bins are [a, b) except the last, which includes its
    /// right edge; values outside the edges and non-finite values are not counted.
    public func binned() -> (edges: [Double], counts: [[Int]]) {
        let edges: [Double]
        switch bins {
        case let .edges(e): edges = e
        case let .count(n):
            let finite = series.flatMap(\.values).filter(\.isFinite)
            var lo = finite.min() ?? 0, hi = finite.max() ?? 1
            if hi == lo { lo -= 0.5; hi += 0.5 }
            edges = (0...n).map { $0 == n ? hi : lo + (hi - lo) * Double($0) / Double(n) }
        }
        let nb = edges.count - 1
        let counts = series.map { s -> [Int] in
            var c = [Int](repeating: 0, count: nb)
            for v in s.values where v.isFinite && v >= edges[0] && v <= edges[nb] {
                // Binary search for the last edge ≤ v.
                var a = 0, b = nb
                while b - a > 1 { let m = (a + b) / 2; if edges[m] <= v { a = m } else { b = m } }
                c[a] += 1
            }
            return c
        }
        return (edges, counts)
    }

    public func draw(on canvas: Canvas, in rect: Rect) throws {
        let body = Layout.title(title, on: canvas, in: rect)
        let (edges, counts) = binned()
        let maxCount = counts.flatMap { $0 }.max() ?? 1
        let alpha = series.count > 1 ? 0.5 : 0.9
        let entries = series.count > 1
            ? series.enumerated().map { LegendEntry(label: $0.element.name, color: OkabeIto.series($0.offset), swatch: .box(alpha: alpha)) } : []
        let (frame, legend) = layoutWithLegend(on: canvas, in: body, entries: entries, layout: { area in
            let xAxis = Axis.fitted(edges.first!, edges.last!, length: area.width * 0.85, on: canvas, horizontal: true)
            return PlotFrame.layout(on: canvas, in: area, x: .numeric(xAxis), xTitle: xTitle, yTitle: yTitle) { h in
                Axis.fitted(0, Double(max(1, maxCount)), length: h, on: canvas, horizontal: false, includeZero: true)
            }
        }, occupied: { frame in
            counts.flatMap { c in (0..<c.count).filter { c[$0] > 0 }.flatMap { b -> [Point] in
                let p0 = frame.point(x: edges[b], y: Double(c[b])), p1 = frame.point(x: edges[b + 1], y: 0)
                return (0...6).map { Point((p0.x + p1.x) / 2, p0.y + (p1.y - p0.y) * Double($0) / 6) }
            } }
        })
        frame.drawGrid(on: canvas)
        canvas.clipped(to: frame.plot) {
            for (s, c) in counts.enumerated() {
                let color = OkabeIto.series(s)
                for b in 0..<c.count where c[b] > 0 {
                    let p0 = frame.point(x: edges[b], y: Double(c[b])), p1 = frame.point(x: edges[b + 1], y: 0)
                    canvas.fill(Rect(x: p0.x, y: p0.y, width: p1.x - p0.x, height: p1.y - p0.y), color, alpha: alpha)
                }
                // Outline of the series' bars as one step line, so overlaps stay readable.
                var step: [Point] = [frame.point(x: edges[0], y: 0)]
                for b in 0..<c.count {
                    step.append(frame.point(x: edges[b], y: Double(c[b])))
                    step.append(frame.point(x: edges[b + 1], y: Double(c[b])))
                }
                step.append(frame.point(x: edges[c.count], y: 0))
                canvas.polyline(step, color, width: 0.8)
            }
        }
        frame.drawAxes(on: canvas)
        legend.draw(on: canvas, entries: entries, plot: frame.plot)
    }
}
