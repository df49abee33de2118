import Foundation
import GlassboxCore

/// A figure kind: a `Codable` value (data + labels) with one drawing function. New kinds (Mapper graphs,
/// barcodes, persistence diagrams) conform to this and get a case in `Figure`.
public protocol FigureKind: Codable, Equatable, Sendable {
    /// Checks the stored data is consistent (counts, shapes); decoded JSON may not be.
    func validate() throws
    /// Draws the figure into `rect` (points) of `canvas`.
    func draw(on canvas: Canvas, in rect: Rect) throws
}

/// Any figure Glassbox can draw. Stored in reports as JSON and re-rendered at any size, DPI or format.
public indirect enum Figure: Codable, Equatable, Sendable {
    case filterGrid(FilterGrid)
    case weightImages(WeightImages)
    case imageGrid(ImageGrid)
    case barChart(BarChart)
    case heatMap(HeatMap)
    case linePlot(LinePlot)
    case histogram(Histogram)
    case barcode(Barcode)
    case persistenceDiagram(PersistenceDiagram)
    case mapperDiagram(MapperDiagram)
    case panels(PanelGrid)
    case imageTable(ImageTable)

    public var kind: any FigureKind {
        switch self {
        case let .filterGrid(f): return f
        case let .weightImages(f): return f
        case let .imageGrid(f): return f
        case let .barChart(f): return f
        case let .heatMap(f): return f
        case let .linePlot(f): return f
        case let .histogram(f): return f
        case let .barcode(f): return f
        case let .persistenceDiagram(f): return f
        case let .mapperDiagram(f): return f
        case let .panels(f): return f
        case let .imageTable(f): return f
        }
    }

    /// Renders the figure to PNG (with its DPI recorded), SVG or PDF. Identical input gives identical bytes.
    public func render(to format: FigureFormat, size: FigureSize) throws -> Data {
        let k = kind
        try k.validate()
        return try Canvas.render(format: format, size: size) { canvas in
            try k.draw(on: canvas, in: Layout.page(canvas))
        }
    }
}

/// An image for grids: `channels` (1 = grey, 3 = RGB) × `height` × `width` values, channel-major like a
/// PyTorch tensor `[C, H, W]`.
public struct FigureImage: Codable, Equatable, Sendable {
    public var channels: Int
    public var height: Int
    public var width: Int
    public var values: [Float]

    public init(channels: Int, height: Int, width: Int, values: [Float]) {
        self.channels = channels; self.height = height; self.width = width; self.values = values
    }

    /// From a tensor shaped `[C, H, W]` or `[H, W]` (grey).
    public init(_ t: Tensor) throws {
        switch t.shape.count {
        case 2: self.init(channels: 1, height: t.shape[0], width: t.shape[1], values: t.scalars)
        case 3: self.init(channels: t.shape[0], height: t.shape[1], width: t.shape[2], values: t.scalars)
        default: throw GlassboxError.shapeMismatch(what: "figure image", expected: [-1, -1, -1], found: t.shape)
        }
        try validate(name: "figure image")
    }

    func validate(name: String) throws {
        guard channels == 1 || channels == 3 else {
            throw GlassboxError.invalidArgument(name: "\(name) channels", expected: "1 (grey) or 3 (RGB)", found: "\(channels)")
        }
        guard height > 0, width > 0, values.count == channels * height * width else {
            throw GlassboxError.shapeMismatch(what: name, expected: [channels, height, width], found: [values.count])
        }
    }

    /// 8-bit RGB pixels after mapping each value through `normalise` (to 0…1).
    func rgbBytes(_ normalise: (Float) -> Double) -> [UInt8] {
        let n = height * width
        var out = [UInt8](repeating: 0, count: n * 3)
        for p in 0..<n {
            for c in 0..<3 {
                let v = values[(channels == 3 ? c : 0) * n + p]
                out[p * 3 + c] = RGB.byte(max(0, min(1, normalise(v))))
            }
        }
        return out
    }
}

func requireCount(_ name: String, _ found: Int, _ expected: Int) throws {
    guard found == expected else {
        throw GlassboxError.invalidArgument(name: name, expected: "\(expected) entries", found: "\(found)")
    }
}

/// Several figures side by side: `panels` in a grid of `columns`, row by row, each drawn in its own equal cell
/// (e.g. Mapper graphs across training steps and layers). Panels may not nest.
public struct PanelGrid: FigureKind {
    public var panels: [Figure]
    public var columns: Int
    public var title: String?

    public init(panels: [Figure], columns: Int, title: String? = nil) {
        self.panels = panels; self.columns = columns; self.title = title
    }

    public func validate() throws {
        guard !panels.isEmpty else { throw GlassboxError.invalidArgument(name: "panels", expected: "at least one figure", found: "none") }
        guard columns >= 1 else { throw GlassboxError.invalidArgument(name: "columns", expected: "≥ 1", found: "\(columns)") }
        for (i, p) in panels.enumerated() {
            if case .panels = p { throw GlassboxError.invalidArgument(name: "panels[\(i)]", expected: "a figure that is not itself a panel grid", found: "a panel grid") }
            try p.kind.validate()
        }
    }

    /// The cell of panel `i` inside `body`.
    func cell(_ i: Int, in body: Rect) -> Rect {
        let cols = min(columns, panels.count)
        let rows = (panels.count + cols - 1) / cols
        let w = body.width / Double(cols), h = body.height / Double(rows)
        return Rect(x: body.minX + Double(i % cols) * w, y: body.minY + Double(i / cols) * h, width: w, height: h)
    }

    public func draw(on canvas: Canvas, in rect: Rect) throws {
        let body = Layout.title(title, on: canvas, in: rect)
        for (i, p) in panels.enumerated() {
            try p.kind.draw(on: canvas, in: cell(i, in: body).inset(canvas.fontSize * 0.4))
        }
    }
}
