import Foundation

/// A resolved numeric axis: limits (the first and last tick), tick values and labels, linear or log.
public struct Axis: Equatable, Sendable {
    public var low: Double
    public var high: Double
    public var isLog: Bool
    public var ticks: [Double]
    public var labels: [String]

    /// Linear axis covering `dataLow…dataHigh` with nice ticks; the limits snap to the outer ticks.
    public static func linear(_ dataLow: Double, _ dataHigh: Double, maxTicks: Int = 6, includeZero: Bool = false) -> Axis {
        var lo = dataLow, hi = dataHigh
        if includeZero { lo = min(lo, 0); hi = max(hi, 0) }
        let t = Ticks.linear(lo, hi, maxCount: maxTicks)
        return Axis(low: t.values.first!, high: t.values.last!, isLog: false, ticks: t.values, labels: t.labels)
    }

    /// Log-10 axis covering the positive range `dataLow…dataHigh`; limits snap to decades.
    public static func log(_ dataLow: Double, _ dataHigh: Double, maxTicks: Int = 6) -> Axis {
        let t = Ticks.log(dataLow, dataHigh, maxCount: maxTicks)
        return Axis(low: t.values.first!, high: t.values.last!, isLog: true, ticks: t.values, labels: t.labels)
    }

    /// Position of `v` along the axis, 0 at `low`, 1 at `high` (not clamped; NaN for v ≤ 0 on a log axis).
    public func fraction(_ v: Double) -> Double {
        if isLog {
            guard v > 0 else { return .nan }
            return (log10(v) - log10(low)) / (log10(high) - log10(low))
        }
        return (v - low) / (high - low)
    }

    /// A reasonable tick count for an axis `length` points long with labels of `fontSize`.
    public static func tickBudget(length: Double, fontSize: Double, spacing: Double = 4.5) -> Int {
        max(3, min(11, Int(length / (fontSize * spacing)) + 1))
    }

    /// The densest nice axis (at most 11 ticks) whose labels do not crowd: on a horizontal axis each label
    /// keeps about 1.5 em to its neighbours, on a vertical axis ticks are at least 1.8 line heights apart.
    public static func fitted(_ dataLow: Double, _ dataHigh: Double, length: Double, on canvas: Canvas,
                              horizontal: Bool, log isLog: Bool = false, includeZero: Bool = false,
                              integerTicks: Bool = false) -> Axis {
        let fs = canvas.fontSize
        let lineH = canvas.measure("0", size: fs).height
        var fallback: Axis?
        for n in stride(from: 11, through: 2, by: -1) {
            let a = isLog ? Axis.log(dataLow, dataHigh, maxTicks: n) : Axis.linear(dataLow, dataHigh, maxTicks: n, includeZero: includeZero)
            // Whole-number data (epochs, steps, counts) get whole-number ticks only.
            if integerTicks && !isLog && a.ticks.contains(where: { $0 != $0.rounded() }) { continue }
            fallback = a
            guard a.ticks.count >= 2 else { return a }
            let gap = length / Double(a.ticks.count - 1)
            let need = horizontal ? (a.labels.map { canvas.measure($0, size: fs).width }.max() ?? 0) + fs * 1.5 : lineH * 1.8
            if gap >= need { return a }
        }
        return fallback ?? (isLog ? Axis.log(dataLow, dataHigh, maxTicks: 2) : Axis.linear(dataLow, dataHigh, maxTicks: 2, includeZero: includeZero))
    }
}

/// What runs along the bottom of a plot.
public enum XAxisContent: Sendable {
    case numeric(Axis)
    /// One slot per label, labels centred under the slots.
    case categories([String])
}

/// The shared chart scaffold: lays out a plot rectangle inside an outer rectangle so that tick labels and axis
/// titles fit, then draws axes, ticks, grid lines and titles. Charts (bars, lines, histograms, and later
/// persistence diagrams and barcodes) draw their data into `plot` with `point(x:y:)`.
public struct PlotFrame: Sendable {
    public let plot: Rect
    public let x: XAxisContent
    public let y: Axis
    public let xTitle: String?
    public let yTitle: String?
    public let fontSize: Double
    /// Category labels are drawn at 45° when they do not fit their slot.
    public let rotateCategoryLabels: Bool

    public static let tickLength = 3.0
    public static let axisLineWidth = 0.6

    /// Lays out the frame inside `rect`. `makeY` gets the plot height (so the tick count can follow it).
    public static func layout(on canvas: Canvas, in rect: Rect, x: XAxisContent, xTitle: String?, yTitle: String?,
                              makeY: (Double) -> Axis) -> PlotFrame {
        let fs = canvas.fontSize
        let gap = fs * 0.35
        let labelH = canvas.measure("0", size: fs).height
        // First pass with a guess of the plot height, to know the y labels' width.
        var y = makeY(rect.height * 0.8)
        var plot = rect
        var rotate = false
        for _ in 0..<2 {
            let yLabelW = y.labels.map { canvas.measure($0, size: fs).width }.max() ?? 0
            var left = tickLength + gap + yLabelW
            if let t = yTitle, !t.isEmpty { left += gap + canvas.measure(t, size: fs).height }
            var right = fs * 0.5
            var bottom = tickLength + gap
            switch x {
            case let .numeric(axis):
                bottom += labelH
                if let last = axis.labels.last { right = max(right, canvas.measure(last, size: fs).width / 2 + 1) }
                if let first = axis.labels.first { left = max(left, canvas.measure(first, size: fs).width / 2 + 1) }
            case let .categories(labels):
                let widest = labels.map { canvas.measure($0, size: fs).width }.max() ?? 0
                let slot = (rect.width - left - right) / Double(max(1, labels.count))
                rotate = widest > slot * 0.92
                bottom += rotate ? (widest + labelH) * 0.7071 : labelH
                if rotate, let first = labels.first {
                    left = max(left, canvas.measure(first, size: fs).width * 0.7071 - slot / 2 + 2)
                }
            }
            if let t = xTitle, !t.isEmpty { bottom += gap + labelH }
            let top = labelH * 0.6
            plot = rect.inset(top: top, left: left, bottom: bottom, right: right)
            y = makeY(plot.height)
        }
        return PlotFrame(plot: plot, x: x, y: y, xTitle: xTitle, yTitle: yTitle, fontSize: fs, rotateCategoryLabels: rotate)
    }

    /// Canvas position of data point (x, y) for a numeric x axis.
    public func point(x xv: Double, y yv: Double) -> Point {
        var px = plot.minX
        if case let .numeric(ax) = x { px = plot.minX + ax.fraction(xv) * plot.width }
        return Point(px, yPosition(yv))
    }

    public func yPosition(_ v: Double) -> Double { plot.maxY - y.fraction(v) * plot.height }

    /// Slot `i` of a categorical x axis.
    public func categorySlot(_ i: Int) -> Rect {
        guard case let .categories(labels) = x, !labels.isEmpty else { return plot }
        let w = plot.width / Double(labels.count)
        return Rect(x: plot.minX + Double(i) * w, y: plot.minY, width: w, height: plot.height)
    }

    /// Light horizontal grid lines at the y ticks (draw before the data).
    public func drawGrid(on canvas: Canvas) {
        for t in y.ticks {
            let py = yPosition(t)
            canvas.line(Point(plot.minX, py), Point(plot.maxX, py), .gridGrey, width: 0.4)
        }
    }

    /// Axis lines, ticks, tick labels and titles (draw after the data).
    public func drawAxes(on canvas: Canvas) {
        let fs = fontSize, gap = fs * 0.35, tl = Self.tickLength, lw = Self.axisLineWidth
        canvas.line(Point(plot.minX, plot.maxY), Point(plot.maxX, plot.maxY), .ink, width: lw)
        canvas.line(Point(plot.minX, plot.minY), Point(plot.minX, plot.maxY), .ink, width: lw)
        var yLabelW = 0.0
        for (t, label) in zip(y.ticks, y.labels) {
            let py = yPosition(t)
            canvas.line(Point(plot.minX - tl, py), Point(plot.minX, py), .ink, width: lw)
            canvas.text(label, at: Point(plot.minX - tl - gap, py), size: fs, color: .ink, h: .right, v: .middle)
            yLabelW = max(yLabelW, canvas.measure(label, size: fs).width)
        }
        let labelH = canvas.measure("0", size: fs).height
        var below = plot.maxY + tl + gap
        switch x {
        case let .numeric(axis):
            for (t, label) in zip(axis.ticks, axis.labels) {
                let px = plot.minX + axis.fraction(t) * plot.width
                canvas.line(Point(px, plot.maxY), Point(px, plot.maxY + tl), .ink, width: lw)
                canvas.text(label, at: Point(px, below), size: fs, color: .ink, h: .center, v: .top)
            }
            below += labelH
        case let .categories(labels):
            var widest = 0.0
            for (i, label) in labels.enumerated() {
                let slot = categorySlot(i)
                canvas.line(Point(slot.midX, plot.maxY), Point(slot.midX, plot.maxY + tl), .ink, width: lw)
                if rotateCategoryLabels {
                    canvas.text(label, at: Point(slot.midX + labelH * 0.25, below), size: fs, color: .ink, h: .right, v: .top, angle: .pi / 4)
                } else {
                    canvas.text(label, at: Point(slot.midX, below), size: fs, color: .ink, h: .center, v: .top)
                }
                widest = max(widest, canvas.measure(label, size: fs).width)
            }
            below += rotateCategoryLabels ? (widest + labelH) * 0.7071 : labelH
        }
        if let t = xTitle, !t.isEmpty {
            canvas.text(t, at: Point(plot.midX, below + gap), size: fs, color: .ink, h: .center, v: .top)
        }
        if let t = yTitle, !t.isEmpty {
            let xPos = plot.minX - tl - gap - yLabelW - gap
            canvas.text(t, at: Point(xPos, plot.midY), size: fs, color: .ink, h: .center, v: .bottom, angle: .pi / 2)
        }
    }
}

/// One legend row.
public struct LegendEntry: Sendable {
    public enum Swatch: Sendable {
        case line(dash: [Double])
        case box(alpha: Double)
    }
    public var label: String
    public var color: RGB
    public var swatch: Swatch
    public init(label: String, color: RGB, swatch: Swatch) { self.label = label; self.color = color; self.swatch = swatch }
}

/// A boxed legend placed in the plot corner that hides the fewest data points.
public enum Legend {
    public static func size(on canvas: Canvas, entries: [LegendEntry]) -> (width: Double, height: Double) {
        let fs = canvas.fontSize
        let rowH = canvas.measure("Ag", size: fs).height * 1.15
        let textW = entries.map { canvas.measure($0.label, size: fs).width }.max() ?? 0
        return (fs * 0.5 + fs * 2.0 + fs * 0.4 + textW + fs * 0.5, rowH * Double(entries.count) + fs * 0.6)
    }

    /// Height of a one-row legend (entries side by side).
    public static func rowHeight(on canvas: Canvas) -> Double {
        canvas.measure("Ag", size: canvas.fontSize).height * 1.15 + canvas.fontSize * 0.4
    }

    /// Draws the entries side by side, centred at the top of `rect` (when no plot corner is free).
    public static func drawRow(on canvas: Canvas, entries: [LegendEntry], in rect: Rect) {
        let fs = canvas.fontSize
        let widths = entries.map { fs * 2.4 + canvas.measure($0.label, size: fs).width }
        let total = widths.reduce(0, +) + fs * 1.2 * Double(max(0, entries.count - 1))
        var x = rect.midX - total / 2
        let cy = rect.minY + canvas.measure("Ag", size: fs).height * 0.6
        for (e, w) in zip(entries, widths) {
            swatch(e, on: canvas, x: x, cy: cy)
            canvas.text(e.label, at: Point(x + fs * 2.4, cy), size: fs, color: .ink, h: .left, v: .middle)
            x += w + fs * 1.2
        }
    }

    static func swatch(_ e: LegendEntry, on canvas: Canvas, x sx: Double, cy: Double) {
        let fs = canvas.fontSize
        switch e.swatch {
        case let .line(dash):
            canvas.line(Point(sx, cy), Point(sx + fs * 2, cy), e.color, width: 1.5, dash: dash)
        case let .box(alpha):
            let r = Rect(x: sx + fs * 0.4, y: cy - fs * 0.4, width: fs * 1.2, height: fs * 0.8)
            canvas.fill(r, e.color, alpha: alpha)
            canvas.stroke(r, e.color, width: 0.5)
        }
    }

    /// The corner box that covers the fewest of `avoid`, and how many it covers.
    public static func bestCorner(on canvas: Canvas, entries: [LegendEntry], in plot: Rect, avoiding avoid: [Point]) -> (rect: Rect, covered: Int) {
        let fs = canvas.fontSize
        let (w, h) = size(on: canvas, entries: entries)
        let m = fs * 0.4
        let corners = [
            Rect(x: plot.maxX - w - m, y: plot.minY + m, width: w, height: h),   // top right
            Rect(x: plot.minX + m, y: plot.minY + m, width: w, height: h),       // top left
            Rect(x: plot.maxX - w - m, y: plot.maxY - h - m, width: w, height: h), // bottom right
            Rect(x: plot.minX + m, y: plot.maxY - h - m, width: w, height: h),   // bottom left
        ]
        var best = corners[0], bestCount = Int.max
        for c in corners {
            let n = avoid.filter { c.inset(-fs * 0.3).contains($0) }.count
            if n < bestCount { best = c; bestCount = n }
        }
        return (best, bestCount)
    }

    /// Draws the legend inside `plot`, at the corner whose box covers the fewest of `avoid` (canvas points).
    @discardableResult
    public static func draw(on canvas: Canvas, entries: [LegendEntry], in plot: Rect, avoiding avoid: [Point]) -> Rect {
        guard !entries.isEmpty else { return Rect(x: plot.maxX, y: plot.minY, width: 0, height: 0) }
        let fs = canvas.fontSize
        let best = bestCorner(on: canvas, entries: entries, in: plot, avoiding: avoid).rect
        canvas.fill(best, .white, alpha: 0.85)
        canvas.stroke(best, RGB(0.75, 0.75, 0.75), width: 0.4)
        let rowH = canvas.measure("Ag", size: fs).height * 1.15
        for (i, e) in entries.enumerated() {
            let cy = best.minY + fs * 0.3 + rowH * (Double(i) + 0.5)
            let sx = best.minX + fs * 0.5
            swatch(e, on: canvas, x: sx, cy: cy)
            canvas.text(e.label, at: Point(sx + fs * 2.4, cy), size: fs, color: .ink, h: .left, v: .middle)
        }
        return best
    }
}

/// A vertical colour bar with ticks on its right.
public enum ColorBar {
    /// Width needed for the bar, its tick labels and its optional title.
    public static func width(on canvas: Canvas, axis: Axis, title: String?) -> Double {
        let fs = canvas.fontSize
        let labelW = axis.labels.map { canvas.measure($0, size: fs).width }.max() ?? 0
        var w = fs * 1.1 + PlotFrame.tickLength + fs * 0.35 + labelW
        if let t = title, !t.isEmpty { w += fs * 0.5 + canvas.measure(t, size: fs).height }
        return w
    }

    /// Draws the bar into `bar` (the coloured strip) mapping `axis.low…axis.high` bottom to top.
    public static func draw(on canvas: Canvas, map: ColorMap, axis: Axis, bar: Rect, title: String?) {
        let fs = canvas.fontSize
        let n = 256
        var rgb = [UInt8](repeating: 0, count: n * 3)
        for i in 0..<n {
            let (r, g, b) = map.color(at: 1 - Double(i) / Double(n - 1)).bytes
            rgb[i * 3] = r; rgb[i * 3 + 1] = g; rgb[i * 3 + 2] = b
        }
        canvas.image(rgb: rgb, width: 1, height: n, in: bar)
        canvas.stroke(bar, .ink, width: 0.4)
        var labelW = 0.0
        for (t, label) in zip(axis.ticks, axis.labels) {
            let f = axis.fraction(t)
            guard f >= -1e-9, f <= 1 + 1e-9 else { continue }
            let py = bar.maxY - f * bar.height
            canvas.line(Point(bar.maxX, py), Point(bar.maxX + PlotFrame.tickLength, py), .ink, width: PlotFrame.axisLineWidth)
            canvas.text(label, at: Point(bar.maxX + PlotFrame.tickLength + fs * 0.35, py), size: fs, color: .ink, h: .left, v: .middle)
            labelW = max(labelW, canvas.measure(label, size: fs).width)
        }
        if let t = title, !t.isEmpty {
            let x = bar.maxX + PlotFrame.tickLength + fs * 0.35 + labelW + fs * 0.5
            canvas.text(t, at: Point(x, bar.midY), size: fs, color: .ink, h: .center, v: .top, angle: .pi / 2)
        }
    }
}

/// Page-level text helpers shared by all figure kinds.
public enum Layout {
    /// Draws a bold title centred at the top of `rect` and returns the rest of the rectangle.
    public static func title(_ title: String?, on canvas: Canvas, in rect: Rect) -> Rect {
        guard let title, !title.isEmpty else { return rect }
        let size = canvas.fontSize * 1.15
        let h = canvas.measure(title, size: size, bold: true).height
        let text = canvas.truncated(title, size: size, maxWidth: rect.width, bold: true)
        canvas.text(text, at: Point(rect.midX, rect.minY), size: size, color: .black, h: .center, v: .top, bold: true)
        return rect.inset(top: h + canvas.fontSize * 0.4)
    }

    /// Splits `text` at spaces into lines no wider than `maxWidth` (a single over-long word is truncated).
    public static func wrap(_ text: String, on canvas: Canvas, size: Double, maxWidth: Double) -> [String] {
        var lines: [String] = [], current = ""
        for word in text.split(separator: " ", omittingEmptySubsequences: true).map(String.init) {
            let candidate = current.isEmpty ? word : current + " " + word
            if canvas.measure(candidate, size: size).width <= maxWidth || current.isEmpty {
                current = candidate
            } else {
                lines.append(current); current = word
            }
        }
        if !current.isEmpty { lines.append(current) }
        return lines.map { canvas.truncated($0, size: size, maxWidth: maxWidth) }
    }

    static func captionLines(_ caption: String, on canvas: Canvas, width: Double) -> (lines: [String], size: Double, height: Double) {
        let size = canvas.fontSize * 0.9
        let lines = wrap(caption, on: canvas, size: size, maxWidth: width)
        let lh = canvas.measure("Ag", size: size).height
        return (lines, size, lh * Double(lines.count) + canvas.fontSize * 0.4)
    }

    /// Height a caption takes at the bottom of a `width`-wide area.
    public static func captionHeight(_ caption: String?, on canvas: Canvas, width: Double) -> Double {
        guard let caption, !caption.isEmpty else { return 0 }
        return captionLines(caption, on: canvas, width: width).height
    }

    /// Draws a caption (smaller text, wrapped to the width) at the bottom of `rect` and returns the rest.
    public static func caption(_ caption: String?, on canvas: Canvas, in rect: Rect) -> Rect {
        guard let caption, !caption.isEmpty else { return rect }
        let (lines, size, height) = captionLines(caption, on: canvas, width: rect.width)
        let lh = canvas.measure("Ag", size: size).height
        for (i, line) in lines.enumerated() {
            let y = rect.maxY - lh * Double(lines.count - 1 - i)
            canvas.text(line, at: Point(rect.midX, y), size: size, color: .ink, h: .center, v: .bottom)
        }
        return rect.inset(bottom: height)
    }

    /// Height the title takes at the top.
    public static func titleHeight(_ title: String?, on canvas: Canvas) -> Double {
        guard let title, !title.isEmpty else { return 0 }
        return canvas.measure(title, size: canvas.fontSize * 1.15, bold: true).height + canvas.fontSize * 0.4
    }

    /// The outer margin every figure keeps from the page edge.
    public static func page(_ canvas: Canvas) -> Rect { canvas.bounds.inset(canvas.fontSize * 0.6) }

    /// Cell frames of a grid of `count` images of aspect `aspect` (width / height) in `rect`, with `columns`
    /// columns (nil: about square), `padding` points between cells and `labelHeight` points under each cell.
    /// Cells are as large as fit, equal, and the grid is centred.
    public static func grid(count: Int, columns: Int?, aspect: Double, padding: Double, labelHeight: Double, in rect: Rect) -> [Rect] {
        guard count > 0 else { return [] }
        let cols = max(1, min(count, columns ?? Int(ceil(Double(count).squareRoot()))))
        let rows = (count + cols - 1) / cols
        let availW = (rect.width - padding * Double(cols - 1)) / Double(cols)
        let availH = (rect.height - padding * Double(rows - 1)) / Double(rows) - labelHeight
        var cellW = max(0, availW), cellH = cellW / aspect
        if cellH > availH { cellH = max(0, availH); cellW = cellH * aspect }
        let gridW = cellW * Double(cols) + padding * Double(cols - 1)
        let gridH = (cellH + labelHeight) * Double(rows) + padding * Double(rows - 1)
        let x0 = rect.minX + (rect.width - gridW) / 2, y0 = rect.minY + (rect.height - gridH) / 2
        return (0..<count).map { i in
            let r = i / cols, c = i % cols
            return Rect(x: x0 + Double(c) * (cellW + padding), y: y0 + Double(r) * (cellH + labelHeight + padding), width: cellW, height: cellH)
        }
    }
}
