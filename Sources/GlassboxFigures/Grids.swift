import Foundation
import GlassboxCore

/// Shared drawing of a grid of pixel images with optional labels under each.
enum ImageCells {
    static let padding = 0.35   // × font size between cells

    static func labelHeight(on canvas: Canvas, hasLabels: Bool) -> Double {
        hasLabels ? canvas.measure("Ag", size: canvas.fontSize).height + canvas.fontSize * 0.2 : 0
    }

    static func frames(on canvas: Canvas, in rect: Rect, count: Int, columns: Int?, aspect: Double, hasLabels: Bool) -> [Rect] {
        Layout.grid(count: count, columns: columns, aspect: aspect, padding: canvas.fontSize * padding,
                    labelHeight: labelHeight(on: canvas, hasLabels: hasLabels), in: rect)
    }

    static func drawLabel(_ label: String, under cell: Rect, on canvas: Canvas, color: RGB = .ink) {
        let fs = canvas.fontSize
        let text = canvas.truncated(label, size: fs, maxWidth: cell.width + fs * 0.3)
        canvas.text(text, at: Point(cell.midX, cell.maxY + fs * 0.15), size: fs, color: color, h: .center, v: .top)
    }
}

/// Convolution filters, each `[C, h, w]` (C = 1 grey, 3 RGB), in a grid; each filter normalised on its own.
public struct FilterGrid: FigureKind {
    public enum Normalization: String, Codable, Sendable {
        /// min → black, max → white.
        case minMax
        /// 0 → mid grey, ±max|v| → black / white (signs stay comparable).
        case symmetric
    }

    public var filters: [FigureImage]
    public var normalization: Normalization
    /// Columns of the grid; nil gives a roughly square grid.
    public var columns: Int?
    public var labels: [String]?
    public var title: String?

    public init(filters: [FigureImage], normalization: Normalization = .minMax, columns: Int? = nil,
                labels: [String]? = nil, title: String? = nil) {
        self.filters = filters; self.normalization = normalization; self.columns = columns
        self.labels = labels; self.title = title
    }

    /// From a convolution weight tensor `[out, C, h, w]`: one filter per output channel.
    public init(weights: Tensor, normalization: Normalization = .minMax, columns: Int? = nil,
                labels: [String]? = nil, title: String? = nil) throws {
        guard weights.rank == 4 else {
            throw GlassboxError.shapeMismatch(what: "filter grid weights [out, C, h, w]", expected: [-1, -1, -1, -1], found: weights.shape)
        }
        let (c, h, w) = (weights.shape[1], weights.shape[2], weights.shape[3])
        let filters = (0..<weights.shape[0]).map { i in
            FigureImage(channels: c, height: h, width: w, values: Array(weights.scalars[(i * c * h * w)..<((i + 1) * c * h * w)]))
        }
        self.init(filters: filters, normalization: normalization, columns: columns, labels: labels, title: title)
        try validate()
    }

    public func validate() throws {
        guard let first = filters.first else {
            throw GlassboxError.invalidArgument(name: "filter grid", expected: "at least one filter", found: "none")
        }
        for f in filters {
            try f.validate(name: "filter")
            guard f.height == first.height, f.width == first.width else {
                throw GlassboxError.shapeMismatch(what: "filter", expected: [first.channels, first.height, first.width], found: [f.channels, f.height, f.width])
            }
        }
        if let labels { try requireCount("filter grid labels", labels.count, filters.count) }
        if let columns, columns < 1 { throw GlassboxError.invalidArgument(name: "columns", expected: "≥ 1", found: "\(columns)") }
    }

    /// Where each filter's pixels go, in points (after the title).
    public func cellFrames(on canvas: Canvas, in rect: Rect) -> [Rect] {
        let body = titleSpace(on: canvas, in: rect)
        let f = filters[0]
        return ImageCells.frames(on: canvas, in: body, count: filters.count, columns: columns,
                                 aspect: Double(f.width) / Double(f.height), hasLabels: labels != nil)
    }

    private func titleSpace(on canvas: Canvas, in rect: Rect) -> Rect {
        rect.inset(top: Layout.titleHeight(title, on: canvas))
    }

    /// The display value (0…1) of every raw value of `filter`.
    public func normaliser(for filter: FigureImage) -> (Float) -> Double {
        let finite = filter.values.filter(\.isFinite)
        switch normalization {
        case .minMax:
            let lo = Double(finite.min() ?? 0), hi = Double(finite.max() ?? 0)
            let span = hi - lo
            return { span > 0 ? (Double($0) - lo) / span : 0.5 }
        case .symmetric:
            let m = Double(finite.map(abs).max() ?? 0)
            return { m > 0 ? Double($0) / (2 * m) + 0.5 : 0.5 }
        }
    }

    public func draw(on canvas: Canvas, in rect: Rect) throws {
        _ = Layout.title(title, on: canvas, in: rect)
        for (i, (f, cell)) in zip(filters, cellFrames(on: canvas, in: rect)).enumerated() {
            canvas.image(rgb: f.rgbBytes(normaliser(for: f)), width: f.width, height: f.height, in: cell)
            if let labels { ImageCells.drawLabel(labels[i], under: cell, on: canvas) }
        }
    }
}

/// How a weight image's brightness is scaled.
public enum WeightScale: Codable, Equatable, Sendable {
    /// Each image uses its own max |w| (shapes comparable, magnitudes not).
    case perImage
    /// One max |w| over all images (magnitudes comparable).
    case shared
    /// A given scale; |w| ≥ scale is full brightness.
    case fixed(Double)
}

/// A layer's rows seen as `imageHeight × imageWidth` images in the signed weight map
/// (red positive, blue negative, brightness ∝ |w| / scale, black at zero and where pruned).
public struct WeightImages: FigureKind {
    /// Row-major `[rows, imageHeight × imageWidth]` weights.
    public var weights: [Float]
    public var rows: Int
    public var imageHeight: Int
    public var imageWidth: Int
    /// Same layout as `weights`; 0 marks a pruned (masked) weight, drawn black.
    public var mask: [Float]?
    public var scale: WeightScale
    public var columns: Int?
    public var labels: [String]?
    public var title: String?

    public init(weights: [Float], rows: Int, imageHeight: Int, imageWidth: Int, mask: [Float]? = nil,
                scale: WeightScale = .perImage, columns: Int? = nil, labels: [String]? = nil, title: String? = nil) {
        self.weights = weights; self.rows = rows; self.imageHeight = imageHeight; self.imageWidth = imageWidth
        self.mask = mask; self.scale = scale; self.columns = columns; self.labels = labels; self.title = title
    }

    /// From a linear layer's weight `[out, in]` with `in = imageHeight × imageWidth` and an optional mask of the same shape.
    public init(weight: Tensor, imageHeight: Int, imageWidth: Int, mask: Tensor? = nil, scale: WeightScale = .perImage,
                columns: Int? = nil, labels: [String]? = nil, title: String? = nil) throws {
        guard weight.rank == 2, weight.shape[1] == imageHeight * imageWidth else {
            throw GlassboxError.shapeMismatch(what: "weight rows as \(imageHeight)×\(imageWidth) images",
                                              expected: [weight.rows, imageHeight * imageWidth], found: weight.shape)
        }
        if let mask, mask.shape != weight.shape {
            throw GlassboxError.shapeMismatch(what: "weight mask", expected: weight.shape, found: mask.shape)
        }
        self.init(weights: weight.scalars, rows: weight.shape[0], imageHeight: imageHeight, imageWidth: imageWidth,
                  mask: mask?.scalars, scale: scale, columns: columns, labels: labels, title: title)
        try validate()
    }

    public func validate() throws {
        guard rows > 0, imageHeight > 0, imageWidth > 0 else {
            throw GlassboxError.invalidArgument(name: "weight images", expected: "rows, height and width ≥ 1",
                                                found: "\(rows) × \(imageHeight) × \(imageWidth)")
        }
        guard weights.count == rows * imageHeight * imageWidth else {
            throw GlassboxError.shapeMismatch(what: "weight images", expected: [rows, imageHeight * imageWidth], found: [weights.count])
        }
        if let mask { try requireCount("weight mask", mask.count, weights.count) }
        if let labels { try requireCount("weight image labels", labels.count, rows) }
        if case let .fixed(s) = scale, !(s > 0 && s.isFinite) {
            throw GlassboxError.invalidArgument(name: "weight scale", expected: "a positive number", found: "\(s)")
        }
    }

    private func isMasked(_ i: Int) -> Bool { mask.map { $0[i] == 0 } ?? false }

    private func maxAbs(_ range: Range<Int>) -> Double {
        var m: Float = 0
        for i in range where !isMasked(i) && weights[i].isFinite { m = max(m, abs(weights[i])) }
        return Double(m)
    }

    /// The scale used for image `row` (|w| at which the colour is fully bright).
    public func scale(ofRow row: Int) -> Double {
        let n = imageHeight * imageWidth
        switch scale {
        case .perImage: return maxAbs((row * n)..<((row + 1) * n))
        case .shared: return maxAbs(0..<weights.count)
        case let .fixed(s): return s
        }
    }

    /// One line saying how to read the colours and which scale is used.
    public var caption: String {
        let which: String
        switch scale {
        case .perImage: which = "s = max |w| of each image"
        case .shared: which = "s = \(Ticks.compact(scale(ofRow: 0))) = max |w| over all images"
        case let .fixed(s): which = "s = \(Ticks.compact(s)) (fixed)"
        }
        return "red > 0, blue < 0, brightness = |w| / s, black = 0\(mask == nil ? "" : " or pruned"); \(which)"
    }

    public func cellFrames(on canvas: Canvas, in rect: Rect) -> [Rect] {
        let body = rect.inset(top: Layout.titleHeight(title, on: canvas),
                              bottom: Layout.captionHeight(caption, on: canvas, width: rect.width))
        return ImageCells.frames(on: canvas, in: body, count: rows, columns: columns,
                                 aspect: Double(imageWidth) / Double(imageHeight), hasLabels: labels != nil)
    }

    public func draw(on canvas: Canvas, in rect: Rect) throws {
        _ = Layout.title(title, on: canvas, in: rect)
        _ = Layout.caption(caption, on: canvas, in: rect)
        let n = imageHeight * imageWidth
        for (row, cell) in cellFrames(on: canvas, in: rect).enumerated() {
            let map = WeightColorMap(scale: scale(ofRow: row))
            var rgb = [UInt8](repeating: 0, count: n * 3)
            for p in 0..<n {
                let i = row * n + p
                let (r, g, b) = map.color(Double(weights[i]), masked: isMasked(i)).bytes
                rgb[p * 3] = r; rgb[p * 3 + 1] = g; rgb[p * 3 + 2] = b
            }
            canvas.image(rgb: rgb, width: imageWidth, height: imageHeight, in: cell)
            if let labels { ImageCells.drawLabel(labels[row], under: cell, on: canvas) }
        }
    }
}

/// Images (samples, misclassified examples, …) with a label under each, e.g. "7→1" for true→predicted.
public struct ImageGrid: FigureKind {
    public var images: [FigureImage]
    public var labels: [String]?
    /// Labels drawn in vermillion where true (e.g. wrong predictions).
    public var highlighted: [Bool]?
    /// Raw values mapped to black…white (per channel).
    public var valueLow: Double
    public var valueHigh: Double
    public var columns: Int?
    public var title: String?

    public init(images: [FigureImage], labels: [String]? = nil, highlighted: [Bool]? = nil, valueLow: Double = 0,
                valueHigh: Double = 1, columns: Int? = nil, title: String? = nil) {
        self.images = images; self.labels = labels; self.highlighted = highlighted
        self.valueLow = valueLow; self.valueHigh = valueHigh; self.columns = columns; self.title = title
    }

    public func validate() throws {
        guard let first = images.first else {
            throw GlassboxError.invalidArgument(name: "image grid", expected: "at least one image", found: "none")
        }
        for im in images {
            try im.validate(name: "grid image")
            guard im.height == first.height, im.width == first.width else {
                throw GlassboxError.shapeMismatch(what: "grid image", expected: [first.channels, first.height, first.width], found: [im.channels, im.height, im.width])
            }
        }
        if let labels { try requireCount("image grid labels", labels.count, images.count) }
        if let highlighted { try requireCount("image grid highlights", highlighted.count, images.count) }
        guard valueHigh > valueLow else {
            throw GlassboxError.invalidArgument(name: "image value range", expected: "low < high", found: "\(valueLow)…\(valueHigh)")
        }
    }

    public func cellFrames(on canvas: Canvas, in rect: Rect) -> [Rect] {
        let body = rect.inset(top: Layout.titleHeight(title, on: canvas))
        let f = images[0]
        return ImageCells.frames(on: canvas, in: body, count: images.count, columns: columns,
                                 aspect: Double(f.width) / Double(f.height), hasLabels: labels != nil)
    }

    public func draw(on canvas: Canvas, in rect: Rect) throws {
        _ = Layout.title(title, on: canvas, in: rect)
        let lo = valueLow, span = valueHigh - valueLow
        for (i, (im, cell)) in zip(images, cellFrames(on: canvas, in: rect)).enumerated() {
            canvas.image(rgb: im.rgbBytes { (Double($0) - lo) / span }, width: im.width, height: im.height, in: cell)
            if let labels {
                let hot = highlighted?[i] ?? false
                ImageCells.drawLabel(labels[i], under: cell, on: canvas, color: hot ? OkabeIto.vermillion : .ink)
            }
        }
    }
}
