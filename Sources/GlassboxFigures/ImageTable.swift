import Foundation
import GlassboxCore

/// A mask drawn as an outline over an image cell (e.g. where a unit fires, where a concept is).
public struct ImageOutline: Codable, Equatable, Sendable {
    /// Row-major `height × width` of the cell's image: true inside.
    public var mask: [Bool]
    /// Index into `ImageTable.outlineStyles`.
    public var style: Int
    public init(mask: [Bool], style: Int) { self.mask = mask; self.style = style }
}

/// How one kind of outline looks and what the legend calls it.
public struct OutlineStyle: Codable, Equatable, Sendable {
    public var label: String
    public var color: RGB
    public init(label: String, color: RGB) { self.label = label; self.color = color }
}

/// One cell of an image table: an image, optionally a map over it, outlines and a label.
public struct ImageTableCell: Codable, Equatable, Sendable {
    /// The image (nil: an empty cell; with `overlay` alone the map is drawn on black).
    public var image: FigureImage?
    /// A map the size of the image (`height × width`, row-major), drawn over it in the table's overlay colours.
    public var overlay: [Float]?
    public var outlines: [ImageOutline]
    public var label: String?
    /// The label in vermillion (e.g. a wrong prediction).
    public var highlighted: Bool

    public init(image: FigureImage?, overlay: [Float]? = nil, outlines: [ImageOutline] = [], label: String? = nil, highlighted: Bool = false) {
        self.image = image; self.overlay = overlay; self.outlines = outlines; self.label = label; self.highlighted = highlighted
    }
}

/// Images in rows and columns with titles: attribution maps (rows: methods, columns: images), concept explanations
/// (rows: activation ranges, each with its formula; cells: examples with the unit's and the concept's outlines),
/// activation maximisation beside dataset examples (rows: units).
public struct ImageTable: FigureKind {
    /// How overlay maps are coloured. Each cell's map is scaled to its own largest |value| (said in the legend).
    public enum Overlay: String, Codable, Sendable {
        /// Red where positive, blue where negative (the weight images' convention), opacity ∝ |value|.
        case signed
        /// Sequential (viridis-like inferno) by value, opacity ∝ value; for |attribution| maps.
        case unsigned
    }

    public var rows: [[ImageTableCell]]
    /// A line above each row (e.g. "range 3: (0.42, 0.97] — disc AND NOT top-left, IoU 0.21").
    public var rowTitles: [String]?
    /// A header over each column; an empty header lets the one before it span this column too.
    public var columnTitles: [String]?
    public var overlay: Overlay
    public var outlineStyles: [OutlineStyle]
    /// Image values mapped to black…white (per channel).
    public var valueLow: Double
    public var valueHigh: Double
    public var title: String?
    /// A line under the table (e.g. the settings of an optimisation).
    public var note: String?

    public init(rows: [[ImageTableCell]], rowTitles: [String]? = nil, columnTitles: [String]? = nil, overlay: Overlay = .signed,
                outlineStyles: [OutlineStyle] = [], valueLow: Double = 0, valueHigh: Double = 1, title: String? = nil, note: String? = nil) {
        self.rows = rows; self.rowTitles = rowTitles; self.columnTitles = columnTitles; self.overlay = overlay
        self.outlineStyles = outlineStyles; self.valueLow = valueLow; self.valueHigh = valueHigh; self.title = title; self.note = note
    }

    var columnCount: Int { rows.map(\.count).max() ?? 0 }

    /// The common image size (from the first cell with an image).
    var imageSize: (height: Int, width: Int)? {
        for row in rows { for c in row { if let im = c.image { return (im.height, im.width) } } }
        for row in rows { for c in row { if let o = c.overlay, o.count > 0 { let s = Int(Double(o.count).squareRoot()); if s * s == o.count { return (s, s) } } } }
        return nil
    }

    public func validate() throws {
        guard !rows.isEmpty, columnCount > 0, let size = imageSize else {
            throw GlassboxError.invalidArgument(name: "image table", expected: "at least one cell with an image or a map", found: "none")
        }
        if let t = rowTitles { try requireCount("image table row titles", t.count, rows.count) }
        if let t = columnTitles { try requireCount("image table column titles", t.count, columnCount) }
        guard valueHigh > valueLow else {
            throw GlassboxError.invalidArgument(name: "image value range", expected: "low < high", found: "\(valueLow)…\(valueHigh)")
        }
        let n = size.height * size.width
        for row in rows {
            for c in row {
                if let im = c.image {
                    try im.validate(name: "table image")
                    guard im.height == size.height, im.width == size.width else {
                        throw GlassboxError.shapeMismatch(what: "table image", expected: [size.height, size.width], found: [im.height, im.width])
                    }
                }
                if let o = c.overlay { try requireCount("table overlay", o.count, n) }
                for o in c.outlines {
                    try requireCount("table outline", o.mask.count, n)
                    guard outlineStyles.indices.contains(o.style) else {
                        throw GlassboxError.invalidArgument(name: "table outline style", expected: "0..<\(outlineStyles.count)", found: "\(o.style)")
                    }
                }
            }
        }
    }

    /// The legend entries: outline styles, and the overlay's colours.
    var legend: [LegendEntry] {
        var e = outlineStyles.map { LegendEntry(label: $0.label, color: $0.color, swatch: .line(dash: [])) }
        let hasOverlay = rows.contains { $0.contains { $0.overlay != nil } }
        if hasOverlay {
            switch overlay {
            case .signed:
                e.append(LegendEntry(label: "positive", color: MapColors.positive, swatch: .box(alpha: 1)))
                e.append(LegendEntry(label: "negative (each map scaled to its max |value|)", color: MapColors.negative, swatch: .box(alpha: 1)))
            case .unsigned:
                e.append(LegendEntry(label: "high (each map scaled to its max)", color: MapColors.sequential(1), swatch: .box(alpha: 1)))
            }
        }
        return e
    }

    public func draw(on canvas: Canvas, in rect: Rect) throws {
        guard let size = imageSize else { return }
        let fs = canvas.fontSize
        var body = Layout.title(title, on: canvas, in: rect)
        let entries = legend
        if !entries.isEmpty {
            Legend.drawRow(on: canvas, entries: entries, in: body)
            body = body.inset(top: Legend.rowHeight(on: canvas))
        }
        if let note, !note.isEmpty { body = Layout.caption(note, on: canvas, in: body) }
        let lineH = canvas.measure("Ag", size: fs).height
        // Row titles wrap to at most two lines of the table's width.
        let titleLines: [[String]] = (rowTitles ?? []).map { t in
            let lines = Layout.wrap(t, on: canvas, size: fs, maxWidth: body.width)
            return lines.count <= 2 ? lines : [lines[0], canvas.truncated(lines[1...].joined(separator: " "), size: fs, maxWidth: body.width)]
        }
        let titleHeights = titleLines.map { $0.isEmpty ? 0 : lineH * Double($0.count) + fs * 0.25 }
        let hasLabels = rows.contains { $0.contains { $0.label != nil } }
        let labelH = ImageCells.labelHeight(on: canvas, hasLabels: hasLabels)
        let cols = columnCount, pad = fs * ImageCells.padding
        let aspect = Double(size.width) / Double(size.height)
        let availW = (body.width - pad * Double(cols - 1)) / Double(cols)
        let fixedH = titleHeights.reduce(0, +) + (labelH + pad) * Double(rows.count)
        let availH = (body.height - fixedH) / Double(rows.count)
        var cellW = max(0, min(availW, availH * aspect))
        // Column headers wrap to two lines and shrink (to 80 %) before they are cut; their height comes off the cells.
        let header = columnTitles.map { headerLayout($0, on: canvas, columnWidth: cellW + pad * 0.9) }
        let headerH = header.map { $0.height } ?? 0
        if headerH > 0 { cellW = max(0, min(availW, (availH - headerH / Double(rows.count)) * aspect)) }
        let cellH = cellW / aspect
        let gridW = cellW * Double(cols) + pad * Double(cols - 1)
        let x0 = body.minX + (body.width - gridW) / 2
        let titleX = min(x0, body.minX + (body.width - (titleLines.flatMap { $0 }.map { canvas.measure($0, size: fs).width }.max() ?? 0)) / 2)
        var y = body.minY
        if let titles = columnTitles, let header {
            for (c, t) in titles.enumerated() where !t.isEmpty {
                var span = 1
                while c + span < titles.count, titles[c + span].isEmpty { span += 1 }
                let width = cellW * Double(span) + pad * Double(span - 1)
                let x = x0 + Double(c) * (cellW + pad) + width / 2
                let lines = span == 1 ? header.lines[c] : [canvas.truncated(t, size: header.size, maxWidth: width + pad * 0.9, bold: true)]
                for (i, line) in lines.enumerated() {
                    canvas.text(line, at: Point(x, y + header.lineHeight * Double(i)), size: header.size, color: .ink, h: .center, v: .top, bold: true)
                }
            }
            y += headerH
        }
        for (r, row) in rows.enumerated() {
            if r < titleLines.count {
                for (i, line) in titleLines[r].enumerated() {
                    canvas.text(line, at: Point(titleX, y + lineH * Double(i)), size: fs, color: .ink, h: .left, v: .top)
                }
                y += titleHeights[r]
            }
            for (c, cell) in row.enumerated() {
                let frame = Rect(x: x0 + Double(c) * (cellW + pad), y: y, width: cellW, height: cellH)
                drawCell(cell, size: size, in: frame, on: canvas)
            }
            y += cellH + labelH + pad
        }
    }

    /// Header lines per column at a size where every single-column header fits in two lines of `columnWidth`.
    func headerLayout(_ titles: [String], on canvas: Canvas, columnWidth: Double) -> (lines: [[String]], size: Double, lineHeight: Double, height: Double) {
        let fs = canvas.fontSize
        var size = fs
        func layout(_ size: Double) -> [[String]] {
            titles.map { t in
                let l = Layout.wrap(t, on: canvas, size: size, maxWidth: columnWidth)
                return l.count <= 2 ? l : [l[0], canvas.truncated(l[1...].joined(separator: " "), size: size, maxWidth: columnWidth)]
            }
        }
        func fits(_ lines: [[String]], _ size: Double) -> Bool {
            lines.allSatisfy { $0.allSatisfy { canvas.measure($0, size: size, bold: true).width <= columnWidth } }
                && zip(lines, titles).allSatisfy { $0.joined(separator: " ") == $1 || $1.isEmpty }
        }
        var lines = layout(size)
        while !fits(lines, size) && size > fs * 0.8 { size -= fs * 0.05; lines = layout(size) }
        let lh = canvas.measure("Ag", size: size, bold: true).height
        let count = lines.map(\.count).max() ?? 1
        return (lines, size, lh, lh * Double(max(1, count)) + fs * 0.3)
    }

    func drawCell(_ cell: ImageTableCell, size: (height: Int, width: Int), in frame: Rect, on canvas: Canvas) {
        guard cell.image != nil || cell.overlay != nil else { return }
        canvas.image(rgb: pixels(cell, size: size), width: size.width, height: size.height, in: frame)
        for o in cell.outlines { drawOutline(o.mask, size: size, in: frame, color: outlineStyles[o.style].color, on: canvas) }
        canvas.stroke(frame, .gridGrey, width: 0.4)
        if let label = cell.label {
            ImageCells.drawLabel(label, under: frame, on: canvas, color: cell.highlighted ? OkabeIto.vermillion : .ink)
        }
    }

    /// The cell's RGB pixels: the image (dimmed to a grey backdrop under an overlay) blended with the overlay colour.
    func pixels(_ cell: ImageTableCell, size: (height: Int, width: Int)) -> [UInt8] {
        let n = size.height * size.width
        let lo = valueLow, span = valueHigh - valueLow
        var base = cell.image?.rgbBytes { (Double($0) - lo) / span } ?? [UInt8](repeating: 0, count: n * 3)
        guard let map = cell.overlay else { return base }
        let peak = map.reduce(Float(0)) { $1.isFinite ? max($0, abs($1)) : $0 }
        for p in 0..<n {
            let v = map[p].isFinite && peak > 0 ? Double(map[p] / peak) : 0
            let (color, alpha): (RGB, Double)
            switch overlay {
            case .signed: (color, alpha) = (v >= 0 ? MapColors.positive : MapColors.negative, min(1, abs(v)))
            case .unsigned: (color, alpha) = (MapColors.sequential(max(0, v)), min(1, max(0, v)))
            }
            for ch in 0..<3 {
                // A grey backdrop at 55 % keeps the image readable under strong colours.
                let backdrop = cell.image == nil ? 0 : 0.55 * Double(base[p * 3 + ch]) / 255
                let c = ch == 0 ? color.r : ch == 1 ? color.g : color.b
                base[p * 3 + ch] = RGB.byte(backdrop * (1 - alpha) + c * alpha)
            }
        }
        return base
    }

    /// The boundary of `mask`: every pixel edge between a pixel inside and one outside (or the border).
    func drawOutline(_ mask: [Bool], size: (height: Int, width: Int), in frame: Rect, color: RGB, on canvas: Canvas) {
        let h = size.height, w = size.width
        let sx = frame.width / Double(w), sy = frame.height / Double(h)
        let width = max(0.6, min(sx, sy) * 0.35)
        func inside(_ y: Int, _ x: Int) -> Bool { y >= 0 && y < h && x >= 0 && x < w && mask[y * w + x] }
        for y in 0..<h {
            for x in 0..<w where mask[y * w + x] {
                let left = frame.minX + Double(x) * sx, top = frame.minY + Double(y) * sy
                if !inside(y - 1, x) { canvas.line(Point(left, top), Point(left + sx, top), color, width: width) }
                if !inside(y + 1, x) { canvas.line(Point(left, top + sy), Point(left + sx, top + sy), color, width: width) }
                if !inside(y, x - 1) { canvas.line(Point(left, top), Point(left, top + sy), color, width: width) }
                if !inside(y, x + 1) { canvas.line(Point(left + sx, top), Point(left + sx, top + sy), color, width: width) }
            }
        }
    }
}

/// Colours of maps drawn over images.
public enum MapColors {
    /// Positive attribution, as the weight images' red.
    public static let positive = RGB(0.90, 0.12, 0.10)
    /// Negative attribution, as the weight images' blue.
    public static let negative = RGB(0.10, 0.35, 0.95)
    /// A sequential ramp from dark purple to yellow (t in 0…1), readable over a grey backdrop.
    public static func sequential(_ t: Double) -> RGB { ColorMap.viridis.color(at: max(0, min(1, t))) }
}
