import CCairo
import Foundation
import GlassboxCore

// MARK: - Output format and size

/// The file format a figure is rendered to. The drawing code is the same for all three.
public enum FigureFormat: String, Codable, Sendable, CaseIterable {
    case png, svg, pdf

    public var fileExtension: String { rawValue }

    /// The format named by a path's extension (`.png`, `.svg`, `.pdf`), or nil.
    public init?(path: String) {
        self.init(rawValue: URL(fileURLWithPath: path).pathExtension.lowercased())
    }
}

/// Physical size of a figure plus the raster resolution used for PNG output.
///
/// Everything is drawn in **points** (1 pt = 1/72 in), so a figure looks the same at any DPI: a higher DPI only
/// gives more pixels. Vector output (SVG, PDF) has the physical size `widthPoints × heightPoints`; PNG output has
/// `pixelWidth × pixelHeight` pixels with `pixelWidth = round(widthMM / 25.4 × dpi)` and records the DPI in a pHYs chunk.
///
/// Screens: a CSS pixel is 1/96 in. `screen(width:height:)` takes the size in CSS pixels and renders at
/// `scale` device pixels per CSS pixel (default 2, i.e. 192 dpi), so a 640×400 figure is a 1280×800 PNG that
/// a report shows at `width="640"`.
public struct FigureSize: Codable, Equatable, Sendable {
    public var widthMM: Double
    public var heightMM: Double
    /// Pixels per inch of PNG output (ignored by SVG/PDF except for raster fallbacks).
    public var dpi: Double
    /// Base font size in points (tick labels use it, titles are slightly larger).
    public var fontSize: Double

    public static let millimetresPerInch = 25.4
    public static let pointsPerInch = 72.0
    /// CSS reference pixel density.
    public static let cssPixelsPerInch = 96.0
    /// Default raster density for screens: 2 device pixels per CSS pixel.
    public static let screenDPI = 192.0
    /// Single-column width of most journals.
    public static let singleColumnMM = 89.0
    /// Double-column (full page) width of most journals.
    public static let doubleColumnMM = 183.0

    public init(widthMM: Double, heightMM: Double, dpi: Double = FigureSize.screenDPI, fontSize: Double = 8) {
        self.widthMM = widthMM
        self.heightMM = heightMM
        self.dpi = dpi
        self.fontSize = fontSize
    }

    /// A screen figure `width × height` CSS pixels, rasterised at `scale` device pixels per CSS pixel.
    public static func screen(width: Double, height: Double, scale: Double = 2, fontSize: Double = 9) -> FigureSize {
        FigureSize(widthMM: width / cssPixelsPerInch * millimetresPerInch,
                   heightMM: height / cssPixelsPerInch * millimetresPerInch,
                   dpi: cssPixelsPerInch * scale, fontSize: fontSize)
    }

    /// Exactly `width × height` pixels at `dpi` (the physical size follows from both).
    public static func pixels(width: Int, height: Int, dpi: Double, fontSize: Double = 8) -> FigureSize {
        FigureSize(widthMM: Double(width) / dpi * millimetresPerInch,
                   heightMM: Double(height) / dpi * millimetresPerInch, dpi: dpi, fontSize: fontSize)
    }

    /// A paper figure one column (89 mm) or two columns (183 mm) wide, 300 dpi by default, 7 pt text.
    public static func paper(columns: Int = 1, heightMM: Double, dpi: Double = 300, fontSize: Double = 7) -> FigureSize {
        FigureSize(widthMM: columns >= 2 ? doubleColumnMM : singleColumnMM, heightMM: heightMM, dpi: dpi, fontSize: fontSize)
    }

    public var widthPoints: Double { widthMM / Self.millimetresPerInch * Self.pointsPerInch }
    public var heightPoints: Double { heightMM / Self.millimetresPerInch * Self.pointsPerInch }
    public var pixelWidth: Int { Int((widthMM / Self.millimetresPerInch * dpi).rounded()) }
    public var pixelHeight: Int { Int((heightMM / Self.millimetresPerInch * dpi).rounded()) }
    /// PNG pHYs value: pixels per metre.
    public var pixelsPerMetre: UInt32 { UInt32((dpi / 0.0254).rounded()) }

    func validate() throws {
        guard widthMM.isFinite, heightMM.isFinite, widthMM > 0, heightMM > 0 else {
            throw GlassboxError.invalidArgument(name: "figure size", expected: "positive width and height",
                                                found: "\(widthMM) × \(heightMM) mm")
        }
        guard dpi.isFinite, dpi >= 10, dpi <= 4800 else {
            throw GlassboxError.invalidArgument(name: "dpi", expected: "10…4800", found: "\(dpi)")
        }
        guard fontSize.isFinite, fontSize > 0 else {
            throw GlassboxError.invalidArgument(name: "font size", expected: "a positive number of points", found: "\(fontSize)")
        }
        guard pixelWidth >= 1, pixelHeight >= 1, pixelWidth <= 32767, pixelHeight <= 32767 else {
            throw GlassboxError.invalidArgument(name: "figure size", expected: "1…32767 pixels per side",
                                                found: "\(pixelWidth) × \(pixelHeight) px")
        }
    }
}

// MARK: - Geometry

public struct Point: Equatable, Sendable {
    public var x: Double, y: Double
    public init(_ x: Double, _ y: Double) { self.x = x; self.y = y }
}

/// A rectangle in points, origin at the top left, y growing downwards.
public struct Rect: Equatable, Sendable {
    public var x: Double, y: Double, width: Double, height: Double
    public init(x: Double, y: Double, width: Double, height: Double) {
        self.x = x; self.y = y; self.width = width; self.height = height
    }
    public var minX: Double { x }
    public var minY: Double { y }
    public var maxX: Double { x + width }
    public var maxY: Double { y + height }
    public var midX: Double { x + width / 2 }
    public var midY: Double { y + height / 2 }
    public func inset(_ d: Double) -> Rect { inset(top: d, left: d, bottom: d, right: d) }
    public func inset(top: Double = 0, left: Double = 0, bottom: Double = 0, right: Double = 0) -> Rect {
        Rect(x: x + left, y: y + top, width: max(0, width - left - right), height: max(0, height - top - bottom))
    }
    public func contains(_ p: Point) -> Bool { p.x >= minX && p.x <= maxX && p.y >= minY && p.y <= maxY }
    public func intersects(_ o: Rect) -> Bool { o.minX < maxX && o.maxX > minX && o.minY < maxY && o.maxY > minY }
}

/// Where a text's reference point sits relative to the text.
public enum HAlign: Sendable { case left, center, right }
public enum VAlign: Sendable { case top, middle, baseline, bottom }

/// Measured size of a line of text (font metrics, so every label of one size has the same height).
public struct TextSize: Equatable, Sendable {
    public var width: Double, ascent: Double, descent: Double
    public var height: Double { ascent + descent }
}

// MARK: - Canvas

/// A Cairo drawing surface in points. Create one with `Canvas.render(format:size:draw:)`, which owns the
/// surface's lifetime and returns the encoded file.
public final class Canvas {
    public let format: FigureFormat
    public let size: FigureSize
    /// Drawing area in points.
    public var bounds: Rect { Rect(x: 0, y: 0, width: size.widthPoints, height: size.heightPoints) }
    public var fontSize: Double { size.fontSize }
    /// Font family for all text.
    public static let fontFamily = "DejaVu Sans"
    /// PDF creation and modification date written to every PDF, so identical input gives identical bytes.
    public static let pinnedPDFDate = "2000-01-01T00:00:00Z"

    let cr: OpaquePointer
    let surface: OpaquePointer

    private init(format: FigureFormat, size: FigureSize, surface: OpaquePointer) {
        self.format = format
        self.size = size
        self.surface = surface
        self.cr = cairo_create(surface)
        let options = cairo_font_options_create()
        cairo_font_options_set_hint_metrics(options, CAIRO_HINT_METRICS_OFF)   // same layout on every backend
        cairo_font_options_set_hint_style(options, CAIRO_HINT_STYLE_NONE)
        cairo_font_options_set_antialias(options, CAIRO_ANTIALIAS_GRAY)
        cairo_set_font_options(cr, options)
        cairo_font_options_destroy(options)
        cairo_select_font_face(cr, Canvas.fontFamily, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL)
        cairo_set_line_join(cr, CAIRO_LINE_JOIN_MITER)
        cairo_set_line_cap(cr, CAIRO_LINE_CAP_BUTT)
    }

    /// Renders `draw` on a white page of `size` and returns the encoded PNG, SVG or PDF.
    public static func render(format: FigureFormat, size: FigureSize, draw: (Canvas) throws -> Void) throws -> Data {
        try size.validate()
        let sink = ByteSink()
        let sinkPointer = Unmanaged.passUnretained(sink).toOpaque()
        let surface: OpaquePointer?
        switch format {
        case .png:
            surface = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, Int32(size.pixelWidth), Int32(size.pixelHeight))
            if let s = surface {
                // Points to pixels: the surface is pixelWidth wide, the page is widthPoints wide.
                cairo_surface_set_device_scale(s, Double(size.pixelWidth) / size.widthPoints,
                                               Double(size.pixelHeight) / size.heightPoints)
            }
        case .svg:
            surface = cairo_svg_surface_create_for_stream(byteSinkWrite, sinkPointer, size.widthPoints, size.heightPoints)
            if let s = surface {
                cairo_svg_surface_restrict_to_version(s, CAIRO_SVG_VERSION_1_1)
                cairo_svg_surface_set_document_unit(s, CAIRO_SVG_UNIT_PT)
            }
        case .pdf:
            surface = cairo_pdf_surface_create_for_stream(byteSinkWrite, sinkPointer, size.widthPoints, size.heightPoints)
            if let s = surface {
                cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_CREATOR, "Glassbox")
                cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_CREATE_DATE, pinnedPDFDate)
                cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_MOD_DATE, pinnedPDFDate)
            }
        }
        guard let surface, cairo_surface_status(surface) == CAIRO_STATUS_SUCCESS else {
            throw GlassboxError.message("cairo could not create a \(format.rawValue) surface of \(size.pixelWidth)×\(size.pixelHeight) px")
        }
        if format != .png {
            // Images inside vector output stay images; this only affects rare raster fallbacks.
            cairo_surface_set_fallback_resolution(surface, size.dpi, size.dpi)
        }
        let canvas = Canvas(format: format, size: size, surface: surface)
        var drawError: Error?
        withExtendedLifetime(sink) {
            canvas.fill(canvas.bounds, .white)
            do { try draw(canvas) } catch { drawError = error }
            let contextStatus = cairo_status(canvas.cr)
            cairo_destroy(canvas.cr)
            if format == .png {
                cairo_surface_flush(surface)
                if drawError == nil && contextStatus == CAIRO_STATUS_SUCCESS {
                    let status = cairo_surface_write_to_png_stream(surface, byteSinkWrite, sinkPointer)
                    if status != CAIRO_STATUS_SUCCESS { drawError = GlassboxError.message("cairo could not encode the PNG (status \(status.rawValue))") }
                }
            } else {
                cairo_surface_finish(surface)
            }
            let surfaceStatus = cairo_surface_status(surface)
            cairo_surface_destroy(surface)
            if drawError == nil, contextStatus != CAIRO_STATUS_SUCCESS || surfaceStatus != CAIRO_STATUS_SUCCESS {
                let s = contextStatus != CAIRO_STATUS_SUCCESS ? contextStatus : surfaceStatus
                drawError = GlassboxError.message("cairo failed while drawing a \(format.rawValue) figure: \(String(cString: cairo_status_to_string(s)))")
            }
        }
        if let drawError { throw drawError }
        switch format {
        case .png: return try PNGChunks.insertPhys(Data(sink.bytes), pixelsPerMetre: size.pixelsPerMetre)
        case .svg: return SVGIds.normalise(Data(sink.bytes))
        case .pdf: return Data(sink.bytes)
        }
    }

    // MARK: Drawing primitives (all in points)

    func setColor(_ c: RGB, alpha: Double = 1) {
        if alpha >= 1 { cairo_set_source_rgb(cr, c.r, c.g, c.b) } else { cairo_set_source_rgba(cr, c.r, c.g, c.b, alpha) }
    }

    public func fill(_ r: Rect, _ color: RGB, alpha: Double = 1) {
        guard r.width > 0, r.height > 0 else { return }
        setColor(color, alpha: alpha)
        cairo_rectangle(cr, r.x, r.y, r.width, r.height)
        cairo_fill(cr)
    }

    public func stroke(_ r: Rect, _ color: RGB, width: Double = 0.5) {
        setColor(color)
        cairo_set_line_width(cr, width)
        cairo_set_dash(cr, nil, 0, 0)
        cairo_rectangle(cr, r.x, r.y, r.width, r.height)
        cairo_stroke(cr)
    }

    public func line(_ a: Point, _ b: Point, _ color: RGB, width: Double = 0.5, dash: [Double] = [], alpha: Double = 1) {
        polyline([a, b], color, width: width, dash: dash, alpha: alpha)
    }

    /// A connected line through `points`. Dash lengths are in points; empty means solid.
    public func polyline(_ points: [Point], _ color: RGB, width: Double = 1, dash: [Double] = [], alpha: Double = 1) {
        guard points.count >= 2 else { return }
        setColor(color, alpha: alpha)
        cairo_set_line_width(cr, width)
        cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND)
        dash.withUnsafeBufferPointer { cairo_set_dash(cr, $0.baseAddress, Int32(dash.count), 0) }
        cairo_move_to(cr, points[0].x, points[0].y)
        for p in points.dropFirst() { cairo_line_to(cr, p.x, p.y) }
        cairo_stroke(cr)
        cairo_set_dash(cr, nil, 0, 0)
        cairo_set_line_join(cr, CAIRO_LINE_JOIN_MITER)
    }

    public func circle(center: Point, radius: Double, fill color: RGB) {
        setColor(color)
        cairo_new_sub_path(cr)
        cairo_arc(cr, center.x, center.y, radius, 0, 2 * Double.pi)
        cairo_fill(cr)
    }

    /// Runs `body` with drawing clipped to `rect`.
    public func clipped(to rect: Rect, _ body: () -> Void) {
        cairo_save(cr)
        cairo_rectangle(cr, rect.x, rect.y, rect.width, rect.height)
        cairo_clip(cr)
        body()
        cairo_restore(cr)
    }

    /// Draws `width × height` opaque RGB pixels (row-major, 3 bytes each) scaled into `rect` without smoothing,
    /// so every source pixel stays a sharp block (the right way to show weights, filters and heat maps).
    public func image(rgb: [UInt8], width: Int, height: Int, in rect: Rect) {
        guard width > 0, height > 0, rgb.count == width * height * 3, rect.width > 0, rect.height > 0 else { return }
        guard let img = cairo_image_surface_create(CAIRO_FORMAT_RGB24, Int32(width), Int32(height)) else { return }
        defer { cairo_surface_destroy(img) }
        cairo_surface_flush(img)
        let stride = Int(cairo_image_surface_get_stride(img))
        guard let data = cairo_image_surface_get_data(img) else { return }
        for y in 0..<height {
            let row = (data + y * stride).withMemoryRebound(to: UInt32.self, capacity: width) { $0 }
            for x in 0..<width {
                let i = (y * width + x) * 3
                row[x] = 0xFF00_0000 | UInt32(rgb[i]) << 16 | UInt32(rgb[i + 1]) << 8 | UInt32(rgb[i + 2])
            }
        }
        cairo_surface_mark_dirty(img)
        cairo_save(cr)
        cairo_rectangle(cr, rect.x, rect.y, rect.width, rect.height)
        cairo_clip(cr)
        cairo_translate(cr, rect.x, rect.y)
        cairo_scale(cr, rect.width / Double(width), rect.height / Double(height))
        cairo_set_source_surface(cr, img, 0, 0)
        cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_NEAREST)
        cairo_pattern_set_extend(cairo_get_source(cr), CAIRO_EXTEND_PAD)
        cairo_paint(cr)
        cairo_restore(cr)
    }

    // MARK: Text

    private func selectFont(size: Double, bold: Bool) {
        cairo_select_font_face(cr, Canvas.fontFamily, CAIRO_FONT_SLANT_NORMAL, bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL)
        cairo_set_font_size(cr, size)
    }

    /// Width and font ascent/descent of a single line of text.
    public func measure(_ text: String, size: Double, bold: Bool = false) -> TextSize {
        selectFont(size: size, bold: bold)
        var te = cairo_text_extents_t()
        cairo_text_extents(cr, text, &te)
        var fe = cairo_font_extents_t()
        cairo_font_extents(cr, &fe)
        return TextSize(width: te.x_advance, ascent: fe.ascent, descent: fe.descent)
    }

    /// Draws one line of text whose anchor (`h`, `v`) sits at `at`. `angle` is in radians, counter-clockwise
    /// as seen on the page (`.pi / 2` gives text reading upwards, as on a y axis).
    public func text(_ text: String, at: Point, size: Double, color: RGB = .black, h: HAlign = .left, v: VAlign = .baseline,
                     angle: Double = 0, bold: Bool = false) {
        guard !text.isEmpty else { return }
        let m = measure(text, size: size, bold: bold)
        let dx: Double
        switch h { case .left: dx = 0; case .center: dx = -m.width / 2; case .right: dx = -m.width }
        let dy: Double
        switch v {
        case .top: dy = m.ascent
        case .middle: dy = (m.ascent - m.descent) / 2
        case .baseline: dy = 0
        case .bottom: dy = -m.descent
        }
        cairo_save(cr)
        cairo_translate(cr, at.x, at.y)
        if angle != 0 { cairo_rotate(cr, -angle) }
        cairo_move_to(cr, dx, dy)
        setColor(color)
        cairo_show_text(cr, text)
        cairo_new_path(cr)
        cairo_restore(cr)
    }

    /// Shortens `text` with "…" until it fits `maxWidth` points.
    public func truncated(_ text: String, size: Double, maxWidth: Double, bold: Bool = false) -> String {
        if measure(text, size: size, bold: bold).width <= maxWidth { return text }
        var chars = Array(text)
        while !chars.isEmpty {
            chars.removeLast()
            let candidate = String(chars) + "…"
            if measure(candidate, size: size, bold: bold).width <= maxWidth { return candidate }
        }
        return ""
    }
}

// MARK: - Output helpers

final class ByteSink { var bytes: [UInt8] = [] }

/// Cairo's write callback: appends to the `ByteSink` passed as closure.
let byteSinkWrite: cairo_write_func_t = { closure, data, length in
    guard let closure, let data else { return CAIRO_STATUS_WRITE_ERROR }
    let sink = Unmanaged<ByteSink>.fromOpaque(closure).takeUnretainedValue()
    sink.bytes.append(contentsOf: UnsafeBufferPointer(start: data, count: Int(length)))
    return CAIRO_STATUS_SUCCESS
}

extension Figure {
    /// Renders and writes atomically to `path`; the format comes from `format` or else the path's extension.
    @discardableResult
    public func write(to path: String, format: FigureFormat? = nil, size: FigureSize) throws -> Data {
        guard let f = format ?? FigureFormat(path: path) else {
            throw GlassboxError.invalidArgument(name: "figure path", expected: "a .png, .svg or .pdf file name", found: path)
        }
        let data = try render(to: f, size: size)
        try Files.writeAtomically(data, to: path)
        return data
    }
}
