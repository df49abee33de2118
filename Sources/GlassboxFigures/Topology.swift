import Foundation
import GlassboxCore

// Topology figures (METHODS.md §3): barcodes, persistence diagrams and Mapper diagrams. They only draw the values
// they are given; persistence and Mapper are computed in GlassboxAnalysis.

/// One persistence interval for a figure; `death == nil` is an essential (infinite) class.
public struct FigureBar: Codable, Equatable, Sendable {
    public var birth: Double
    public var death: Double?
    public init(birth: Double, death: Double?) { self.birth = birth; self.death = death }
}

/// The bars of one homology dimension.
public struct FigureBars: Codable, Equatable, Sendable {
    public var dimension: Int
    public var bars: [FigureBar]
    public init(dimension: Int, bars: [FigureBar]) { self.dimension = dimension; self.bars = bars }
}

func validateBars(_ dims: [FigureBars], maxScale: Double?, what: String) throws {
    guard !dims.isEmpty else {
        throw GlassboxError.invalidArgument(name: what, expected: "at least one dimension", found: "none")
    }
    for d in dims {
        guard d.dimension >= 0 else {
            throw GlassboxError.invalidArgument(name: "\(what) dimension", expected: "≥ 0", found: "\(d.dimension)")
        }
        for b in d.bars {
            guard b.birth.isFinite, b.death.map({ $0.isFinite && $0 >= b.birth }) ?? true else {
                throw GlassboxError.invalidArgument(name: "\(what) H\(d.dimension) bar", expected: "finite birth ≤ death (nil = ∞)",
                                                    found: "[\(b.birth), \(b.death.map { String($0) } ?? "∞"))")
            }
        }
    }
    if let m = maxScale, !(m.isFinite && m > 0) {
        throw GlassboxError.invalidArgument(name: "\(what) max scale", expected: "a finite value > 0", found: "\(m)")
    }
}

/// Largest finite value among births and deaths (at least a small positive number).
func finiteMax(_ dims: [FigureBars]) -> Double {
    var m = 0.0
    for d in dims { for b in d.bars { m = max(m, b.birth); if let e = b.death { m = max(m, e) } } }
    return m > 0 ? m : 1
}

func dimensionColor(_ d: Int) -> RGB { OkabeIto.series(d) }

// MARK: - Barcode

/// Barcodes: one panel per dimension, bars sorted by birth (then death) drawn as horizontal segments over the
/// scale; infinite bars run to the right edge and end in an arrow.
public struct Barcode: FigureKind {
    public var dimensions: [FigureBars]
    public var title: String?
    public var xTitle: String?
    /// Right end of the scale axis (default: the largest finite birth or death × 1.05).
    public var maxScale: Double?
    /// Most bars drawn per panel (default 100): beyond that, bars thinner than a pixel would hide the few long
    /// ones, so only the longest are drawn (infinite ones first) and the panel says "H1 (100 of 1502)".
    public var maxBars: Int?

    public init(dimensions: [FigureBars], title: String? = nil, xTitle: String? = "scale r", maxScale: Double? = nil, maxBars: Int? = nil) {
        self.dimensions = dimensions; self.title = title; self.xTitle = xTitle; self.maxScale = maxScale; self.maxBars = maxBars
    }

    /// The bars a panel draws: all of them, or the `maxBars` longest.
    func shown(_ d: FigureBars) -> [FigureBar] {
        let cap = max(1, maxBars ?? 100)
        guard d.bars.count > cap else { return d.bars }
        let length = { (b: FigureBar) -> Double in b.death.map { $0 - b.birth } ?? .infinity }
        return Array(d.bars.enumerated().sorted { (length($0.element), -$0.offset) > (length($1.element), -$1.offset) }.prefix(cap).map(\.element))
    }

    public func validate() throws { try validateBars(dimensions, maxScale: maxScale, what: "barcode") }

    /// Panel frames and, per panel, the bar rectangles (in sorted order) and whether each is infinite.
    func panels(on canvas: Canvas, in rect: Rect) -> [(frame: PlotFrame, bars: [(rect: Rect, infinite: Bool)])] {
        let body = Layout.title(title, on: canvas, in: rect)
        let hi = maxScale ?? finiteMax(dimensions) * 1.05
        let fs = canvas.fontSize
        let gap = fs * 0.6
        let n = dimensions.count
        // Panel heights: a share for the axis and labels, the rest split by bar count (with a floor).
        let weights = dimensions.map { max(4.0, Double(shown($0).count).squareRoot() * 2) }
        let total = weights.reduce(0, +)
        let usable = body.height - gap * Double(n - 1)
        var y = body.minY
        var out: [(PlotFrame, [(Rect, Bool)])] = []
        for (i, d) in dimensions.enumerated() {
            let h = usable * (0.5 / Double(n) + 0.5 * weights[i] / total)
            let area = Rect(x: body.minX, y: y, width: body.width, height: h)
            y += h + gap
            let last = i == n - 1
            let bars = shown(d)
            let yTitle = bars.count < d.bars.count ? "H\(d.dimension) (\(bars.count) of \(d.bars.count))" : "H\(d.dimension) (\(d.bars.count))"
            let frame = PlotFrame.layout(on: canvas, in: area, x: .numeric(Axis.fitted(0, hi, length: area.width * 0.85, on: canvas, horizontal: true)),
                                         xTitle: last ? xTitle : nil, yTitle: yTitle) { _ in
                Axis(low: 0, high: 1, isLog: false, ticks: [], labels: [])
            }
            let sorted = bars.sorted { ($0.birth, $0.death ?? .infinity) < ($1.birth, $1.death ?? .infinity) }
            let plot = frame.plot
            let slot = sorted.isEmpty ? 0 : plot.height / Double(sorted.count)
            let thick = min(slot * 0.7, fs * 0.5)
            var rects: [(Rect, Bool)] = []
            guard case let .numeric(ax) = frame.x else { continue }
            for (j, b) in sorted.enumerated() {
                let x0 = plot.minX + max(0, min(1, ax.fraction(b.birth))) * plot.width
                let x1 = b.death.map { plot.minX + max(0, min(1, ax.fraction($0))) * plot.width } ?? plot.maxX
                let cy = plot.minY + slot * (Double(j) + 0.5)
                rects.append((Rect(x: x0, y: cy - max(thick, 0.3) / 2, width: max(x1 - x0, 0.4), height: max(thick, 0.3)), b.death == nil))
            }
            out.append((frame, rects))
        }
        return out.map { (frame: $0.0, bars: $0.1.map { (rect: $0.0, infinite: $0.1) }) }
    }

    public func draw(on canvas: Canvas, in rect: Rect) throws {
        let fs = canvas.fontSize
        for (i, p) in panels(on: canvas, in: rect).enumerated() {
            let color = dimensionColor(dimensions[i].dimension)
            if case let .numeric(ax) = p.frame.x {
                for t in ax.ticks {
                    let px = p.frame.plot.minX + ax.fraction(t) * p.frame.plot.width
                    canvas.line(Point(px, p.frame.plot.minY), Point(px, p.frame.plot.maxY), .gridGrey, width: 0.4)
                }
            }
            for b in p.bars {
                canvas.fill(b.rect, color)
                if b.infinite {
                    // Arrow head at the right edge.
                    let a = min(fs * 0.45, max(2, b.rect.height * 2))
                    let tip = Point(b.rect.maxX, b.rect.midY)
                    let w = max(0.6, min(1.2, b.rect.height))
                    canvas.line(Point(tip.x - a, tip.y - a * 0.7), tip, color, width: w)
                    canvas.line(Point(tip.x - a, tip.y + a * 0.7), tip, color, width: w)
                }
            }
            if dimensions[i].bars.isEmpty {
                canvas.text("no bars", at: Point(p.frame.plot.midX, p.frame.plot.midY), size: fs, color: .ink, h: .center, v: .middle)
            }
            p.frame.drawAxes(on: canvas)
        }
    }
}

// MARK: - Persistence diagram

/// Persistence diagram: each bar a point (birth, death), coloured by dimension, with the dashed diagonal; infinite
/// deaths sit on a line along the top marked ∞.
public struct PersistenceDiagram: FigureKind {
    public var dimensions: [FigureBars]
    public var title: String?
    /// Upper end of both axes (default: the largest finite value × 1.1).
    public var maxScale: Double?

    public init(dimensions: [FigureBars], title: String? = nil, maxScale: Double? = nil) {
        self.dimensions = dimensions; self.title = title; self.maxScale = maxScale
    }

    public func validate() throws { try validateBars(dimensions, maxScale: maxScale, what: "persistence diagram") }

    var entries: [LegendEntry] {
        dimensions.map { LegendEntry(label: "H\($0.dimension)", color: dimensionColor($0.dimension), swatch: .box(alpha: 1)) }
    }

    /// The frame and the y position of the ∞ line.
    func layout(on canvas: Canvas, in rect: Rect) -> (frame: PlotFrame, infinityY: Double, legend: Rect) {
        let body = Layout.title(title, on: canvas, in: rect)
        let fs = canvas.fontSize
        let rowH = Legend.rowHeight(on: canvas)
        let legend = Rect(x: body.minX, y: body.minY, width: body.width, height: rowH)
        // Room above the plot for the ∞ line.
        let area = body.inset(top: rowH + fs * 1.8)
        let hi = maxScale ?? finiteMax(dimensions) * 1.1
        var frame = PlotFrame.layout(on: canvas, in: area, x: .numeric(Axis.fitted(0, hi, length: area.width * 0.8, on: canvas, horizontal: true)),
                                     xTitle: "birth", yTitle: "death") { Axis.fitted(0, hi, length: $0, on: canvas, horizontal: false) }
        // Same limits on both axes so the diagonal is the identity.
        if case let .numeric(ax) = frame.x, ax.high != frame.y.high {
            let top = max(ax.high, frame.y.high)
            frame = PlotFrame.layout(on: canvas, in: area, x: .numeric(Axis.fitted(0, top, length: area.width * 0.8, on: canvas, horizontal: true)),
                                     xTitle: "birth", yTitle: "death") { Axis.fitted(0, top, length: $0, on: canvas, horizontal: false) }
        }
        return (frame, frame.plot.minY - fs * 1.3, legend)
    }

    /// Canvas position of a bar's point (infinite deaths on the ∞ line).
    func position(_ b: FigureBar, frame: PlotFrame, infinityY: Double) -> Point {
        let p = frame.point(x: b.birth, y: b.death ?? 0)
        return Point(p.x, b.death == nil ? infinityY : p.y)
    }

    public func draw(on canvas: Canvas, in rect: Rect) throws {
        let fs = canvas.fontSize
        let (frame, infY, legendRect) = layout(on: canvas, in: rect)
        frame.drawGrid(on: canvas)
        let plot = frame.plot
        guard case let .numeric(ax) = frame.x else { return }
        let top = min(ax.high, frame.y.high)
        canvas.line(frame.point(x: 0, y: 0), frame.point(x: top, y: top), .ink, width: 0.6, dash: [3, 2])
        canvas.line(Point(plot.minX, infY), Point(plot.maxX, infY), .ink, width: 0.5, dash: [1.5, 1.5])
        canvas.text("∞", at: Point(plot.minX - PlotFrame.tickLength - fs * 0.35, infY), size: fs, color: .ink, h: .right, v: .middle)
        let r = max(1.2, fs * 0.22)
        for d in dimensions {
            let c = dimensionColor(d.dimension)
            for b in d.bars { canvas.circle(center: position(b, frame: frame, infinityY: infY), radius: r, fill: c) }
        }
        frame.drawAxes(on: canvas)
        Legend.drawRow(on: canvas, entries: entries, in: legendRect)
    }
}

// MARK: - Mapper diagram

public struct MapperDiagramNode: Codable, Equatable, Sendable {
    /// The node's mean filter, `patchSize × patchSize` values row-major, drawn as a grey patch.
    public var patch: [Double]
    public var members: Int
    /// The value that colours the ring (e.g. density or a lens value).
    public var value: Double
    /// Optional position (e.g. the mean lens value); used by the `lens` layout and to start the `spring` layout.
    public var position: [Double]?
    public init(patch: [Double], members: Int, value: Double, position: [Double]? = nil) {
        self.patch = patch; self.members = members; self.value = value; self.position = position
    }
}

public struct MapperDiagramEdge: Codable, Equatable, Sendable {
    public var source: Int
    public var target: Int
    /// Shared members; sets the line width.
    public var overlap: Int
    public init(source: Int, target: Int, overlap: Int) { self.source = source; self.target = target; self.overlap = overlap }
}

public enum MapperLayout: String, Codable, Sendable, CaseIterable {
    /// Node positions as given (x = first, y = second coordinate).
    case lens
    /// A deterministic spring (Fruchterman–Reingold) layout with a fixed number of iterations, started from the
    /// given positions (or a circle by node index).
    case spring
}

/// Mapper graph: nodes as grey mean-filter patches ringed in a colour (viridis over `value`), size ∝ log(members),
/// edges with width by overlap.
public struct MapperDiagram: FigureKind {
    public var nodes: [MapperDiagramNode]
    public var edges: [MapperDiagramEdge]
    public var patchSize: Int
    public var layout: MapperLayout
    public var title: String?
    public var colorTitle: String?
    public var caption: String?

    public init(nodes: [MapperDiagramNode], edges: [MapperDiagramEdge], patchSize: Int = 3, layout: MapperLayout = .spring,
                title: String? = nil, colorTitle: String? = nil, caption: String? = nil) {
        self.nodes = nodes; self.edges = edges; self.patchSize = patchSize; self.layout = layout
        self.title = title; self.colorTitle = colorTitle; self.caption = caption
    }

    public func validate() throws {
        guard patchSize > 0 else { throw GlassboxError.invalidArgument(name: "mapper patch size", expected: "≥ 1", found: "\(patchSize)") }
        for (i, n) in nodes.enumerated() {
            try requireCount("mapper node \(i) patch", n.patch.count, patchSize * patchSize)
            guard n.members > 0, n.value.isFinite, n.patch.allSatisfy(\.isFinite) else {
                throw GlassboxError.invalidArgument(name: "mapper node \(i)", expected: "≥ 1 member and finite values",
                                                    found: "\(n.members) members, value \(n.value)")
            }
            if let p = n.position { guard p.count >= 2, p[0].isFinite, p[1].isFinite else {
                throw GlassboxError.invalidArgument(name: "mapper node \(i) position", expected: "two finite coordinates", found: "\(p)")
            } }
        }
        if layout == .lens, nodes.contains(where: { $0.position == nil }) {
            throw GlassboxError.invalidArgument(name: "mapper layout", expected: "a position for every node with the lens layout", found: "missing positions")
        }
        for e in edges {
            guard nodes.indices.contains(e.source), nodes.indices.contains(e.target), e.source != e.target, e.overlap > 0 else {
                throw GlassboxError.invalidArgument(name: "mapper edge", expected: "two different nodes 0…\(nodes.count - 1) and overlap ≥ 1",
                                                    found: "\(e.source)–\(e.target) (\(e.overlap))")
            }
        }
    }

    /// Node positions in the unit square [0, 1]² (deterministic: no randomness, fixed iterations).
    func unitPositions() -> [Point] {
        let n = nodes.count
        guard n > 0 else { return [] }
        var pos: [Point] = nodes.enumerated().map { i, node in
            if let p = node.position { return Point(p[0], p[1]) }
            let t = 2 * Double.pi * Double(i) / Double(n)
            return Point(cos(t), sin(t))
        }
        func normalise(_ p: [Point]) -> [Point] {
            let xs = p.map(\.x), ys = p.map(\.y)
            let (x0, x1, y0, y1) = (xs.min()!, xs.max()!, ys.min()!, ys.max()!)
            let s = max(x1 - x0, y1 - y0)
            guard s > 0 else { return p.map { _ in Point(0.5, 0.5) } }
            // Keep the aspect ratio; centre in the unit square.
            return p.map { Point(0.5 + ($0.x - (x0 + x1) / 2) / s, 0.5 + ($0.y - (y0 + y1) / 2) / s) }
        }
        pos = normalise(pos)
        if layout == .spring && n > 1 {
            // Fruchterman–Reingold with a linearly cooling step; coincident nodes are split along a fixed direction.
            let k = (1.0 / Double(n)).squareRoot()
            let iterations = 300
            for it in 0..<iterations {
                var disp = [Point](repeating: Point(0, 0), count: n)
                for i in 0..<n {
                    for j in (i + 1)..<n {
                        var dx = pos[i].x - pos[j].x, dy = pos[i].y - pos[j].y
                        var d = (dx * dx + dy * dy).squareRoot()
                        if d < 1e-9 { dx = 1e-3 * Double(j - i); dy = 1e-3; d = (dx * dx + dy * dy).squareRoot() }
                        let f = k * k / d
                        disp[i].x += dx / d * f; disp[i].y += dy / d * f
                        disp[j].x -= dx / d * f; disp[j].y -= dy / d * f
                    }
                }
                for e in edges {
                    let dx = pos[e.source].x - pos[e.target].x, dy = pos[e.source].y - pos[e.target].y
                    let d = max((dx * dx + dy * dy).squareRoot(), 1e-9)
                    let f = d * d / k
                    disp[e.source].x -= dx / d * f; disp[e.source].y -= dy / d * f
                    disp[e.target].x += dx / d * f; disp[e.target].y += dy / d * f
                }
                // Weak pull to the centre keeps separate components on the page.
                for i in 0..<n { disp[i].x += (0.5 - pos[i].x) * k; disp[i].y += (0.5 - pos[i].y) * k }
                let temp = 0.1 * (1 - Double(it) / Double(iterations)) + 0.002
                for i in 0..<n {
                    let d = (disp[i].x * disp[i].x + disp[i].y * disp[i].y).squareRoot()
                    guard d > 0 else { continue }
                    let s = min(d, temp) / d
                    pos[i].x += disp[i].x * s; pos[i].y += disp[i].y * s
                }
            }
            pos = normalise(pos)
        }
        return pos
    }

    /// Node radius in points for a node with `m` members (∝ log(1 + m), between `lo` and `hi`).
    func radius(_ m: Int, lo: Double, hi: Double) -> Double {
        let top = log(1 + Double(nodes.map(\.members).max() ?? 1))
        return top > 0 ? lo + (hi - lo) * log(1 + Double(m)) / top : hi
    }

    /// Canvas centres and radii of the nodes, and the colour-bar rectangle.
    func geometry(on canvas: Canvas, in rect: Rect) -> (centres: [Point], radii: [Double], plot: Rect, bar: Rect?, axis: Axis?) {
        var body = Layout.title(title, on: canvas, in: rect)
        body = Layout.caption(caption, on: canvas, in: body)
        let fs = canvas.fontSize
        var bar: Rect?, axis: Axis?
        if !nodes.isEmpty {
            let vs = nodes.map(\.value)
            var lo = vs.min()!, hi = vs.max()!
            if hi <= lo { lo -= 0.5; hi += 0.5 }
            let ax = Axis.fitted(lo, hi, length: body.height * 0.6, on: canvas, horizontal: false)
            let w = ColorBar.width(on: canvas, axis: ax, title: colorTitle)
            let barH = body.height * 0.6
            bar = Rect(x: body.maxX - w, y: body.midY - barH / 2, width: fs * 1.1, height: barH)
            axis = ax
            body = body.inset(right: w + fs)
        }
        let side = min(body.width, body.height)
        // Largest node radius: shrinks with the node count so that crowded graphs stay readable.
        let hi = max(4, side * min(0.055, 0.33 / Double(max(1, nodes.count)).squareRoot())), lo = max(2.5, hi * 0.45)
        let plot = Rect(x: body.midX - side / 2, y: body.midY - side / 2, width: side, height: side).inset(hi + 1)
        let unit = unitPositions()
        // y grows upwards in data, downwards on the canvas.
        let centres = unit.map { Point(plot.minX + $0.x * plot.width, plot.maxY - $0.y * plot.height) }
        return (centres, nodes.map { radius($0.members, lo: lo, hi: hi) }, plot, bar, axis)
    }

    public func draw(on canvas: Canvas, in rect: Rect) throws {
        let g = geometry(on: canvas, in: rect)
        let maxOverlap = Double(edges.map(\.overlap).max() ?? 1)
        for e in edges {
            let w = 0.5 + 2.5 * Double(e.overlap) / maxOverlap
            canvas.line(g.centres[e.source], g.centres[e.target], RGB(0.55, 0.55, 0.55), width: w)
        }
        let map = ColorMap.viridis
        let ps = patchSize
        for (i, n) in nodes.enumerated() {
            let c = g.centres[i], r = g.radii[i]
            let t = g.axis.map { ($0.high > $0.low) ? ($0.fraction(n.value)) : 0.5 } ?? 0.5
            canvas.circle(center: c, radius: r, fill: .ink)
            canvas.circle(center: c, radius: r - 0.3, fill: map.color(at: max(0, min(1, t))))
            // The mean filter as a grey patch, symmetric scale (mid grey = 0), inside the ring.
            let m = n.patch.map(abs).max() ?? 0
            var rgb = [UInt8](repeating: 0, count: ps * ps * 3)
            for (j, v) in n.patch.enumerated() {
                let b = RGB.byte(m > 0 ? 0.5 + 0.5 * v / m : 0.5)
                rgb[j * 3] = b; rgb[j * 3 + 1] = b; rgb[j * 3 + 2] = b
            }
            let s = r * 1.15
            canvas.image(rgb: rgb, width: ps, height: ps, in: Rect(x: c.x - s / 2, y: c.y - s / 2, width: s, height: s))
        }
        if let bar = g.bar, let axis = g.axis { ColorBar.draw(on: canvas, map: map, axis: axis, bar: bar, title: colorTitle) }
        if nodes.isEmpty {
            canvas.text("empty graph", at: Point(g.plot.midX, g.plot.midY), size: canvas.fontSize, color: .ink, h: .center, v: .middle)
        }
    }
}
