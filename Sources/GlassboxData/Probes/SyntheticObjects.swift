import CCairo
import Foundation

/// The kinds of object the synthetic probe generator draws.
public enum SyntheticKind: String, Codable, CaseIterable, Sendable {
    case disc, square, triangle, cross, ring
    case barHorizontal = "bar-horizontal", barVertical = "bar-vertical", barRising = "bar-rising", barFalling = "bar-falling"
    case stripesHorizontal = "stripes-horizontal", stripesVertical = "stripes-vertical"
    case stripesRising = "stripes-rising", stripesFalling = "stripes-falling"
    case checkers, dots

    public var isShape: Bool { [.disc, .square, .triangle, .cross, .ring].contains(self) }
    public var isBar: Bool { rawValue.hasPrefix("bar-") }
    public var isTexture: Bool { !isShape && !isBar }

    /// Direction of a bar or of stripes, in degrees in image coordinates (x right, y down): 0 horizontal,
    /// 90 vertical, −45 rising (/), 45 falling (\).
    var angleDegrees: Double {
        switch self {
        case .barHorizontal, .stripesHorizontal: return 0
        case .barVertical, .stripesVertical: return 90
        case .barRising, .stripesRising: return -45
        case .barFalling, .stripesFalling: return 45
        default: return 0
        }
    }
}

/// One drawn object: its kind, its bounding square (top-left corner `x, y`, side `size`, in pixels, real-valued),
/// its size class and pattern scale, and its paint (grey level or RGB).
public struct SyntheticObject: Equatable, Sendable {
    public var kind: SyntheticKind
    public var x: Double, y: Double, size: Double
    /// 0 small, 1 medium, 2 large.
    public var sizeClass: Int
    /// Pattern cell in pixels (textures only).
    public var cell: Double
    /// Texture scale: 0 fine, 1 coarse.
    public var scale: Int
    /// RGB in [0, 1] (equal channels for grey images).
    public var rgb: (Float, Float, Float)
    /// Index into `SyntheticPalette.names` (colour images), or −1.
    public var colourIndex: Int

    public init(kind: SyntheticKind, x: Double, y: Double, size: Double, sizeClass: Int = 0, cell: Double = 2, scale: Int = 0,
                rgb: (Float, Float, Float) = (1, 1, 1), colourIndex: Int = -1) {
        self.kind = kind; self.x = x; self.y = y; self.size = size; self.sizeClass = sizeClass; self.cell = cell; self.scale = scale
        self.rgb = rgb; self.colourIndex = colourIndex
    }

    public static func == (a: SyntheticObject, b: SyntheticObject) -> Bool {
        a.kind == b.kind && a.x == b.x && a.y == b.y && a.size == b.size && a.sizeClass == b.sizeClass && a.cell == b.cell
            && a.scale == b.scale && a.rgb == b.rgb && a.colourIndex == b.colourIndex
    }
}

/// Named colours of synthetic objects in colour images (each falls in the `ColourNames` bin of its name).
public enum SyntheticPalette {
    public static let names = ["red", "orange", "yellow", "green", "cyan", "blue", "purple", "pink", "white", "grey"]
    public static let rgb: [(Float, Float, Float)] = [
        (0.90, 0.10, 0.10), (1.00, 0.55, 0.05), (0.95, 0.90, 0.10), (0.10, 0.80, 0.20), (0.10, 0.85, 0.90),
        (0.15, 0.30, 0.95), (0.60, 0.20, 0.90), (0.95, 0.30, 0.70), (0.95, 0.95, 0.95), (0.55, 0.55, 0.55),
    ]
}

/// Draws single objects with Cairo into an 8-bit alpha (A8) surface and reads back per-pixel coverage (0…255).
///
/// `region` is the object's area (for a texture, the whole patch); `paint` is what is drawn into the image (for a
/// texture, the pattern inside the patch; otherwise the region). The object's concept mask is the pixels its
/// region covers by at least half: coverage ≥ 128 of 255 (Cairo's anti-aliased coverage).
public final class SyntheticRenderer {
    public let width: Int, height: Int
    private let surface: OpaquePointer
    private let cr: OpaquePointer
    private let stride: Int

    public init(width: Int, height: Int) {
        self.width = width; self.height = height
        surface = cairo_image_surface_create(CAIRO_FORMAT_A8, Int32(width), Int32(height))
        cr = cairo_create(surface)
        stride = Int(cairo_image_surface_get_stride(surface))
    }

    deinit {
        cairo_destroy(cr)
        cairo_surface_destroy(surface)
    }

    /// Coverage of the object's region and of its paint, `height·width` bytes each, row-major.
    public func render(_ o: SyntheticObject) -> (region: [UInt8], paint: [UInt8]) {
        let region = draw { self.regionPath(o) }
        let paint = o.kind.isTexture ? draw { self.patternPath(o) } : region
        return (region, paint)
    }

    /// The region's mask by the ≥ 50 % rule.
    public func mask(_ o: SyntheticObject) -> [Bool] { render(o).region.map { $0 >= 128 } }

    private func draw(_ path: () -> Void) -> [UInt8] {
        cairo_save(cr)
        cairo_set_operator(cr, CAIRO_OPERATOR_CLEAR)
        cairo_paint(cr)
        cairo_restore(cr)
        cairo_save(cr)
        cairo_set_source_rgba(cr, 0, 0, 0, 1)
        cairo_set_fill_rule(cr, CAIRO_FILL_RULE_EVEN_ODD)
        path()
        cairo_fill(cr)
        cairo_restore(cr)
        cairo_surface_flush(surface)
        let data = cairo_image_surface_get_data(surface)!
        var out = [UInt8](repeating: 0, count: width * height)
        for y in 0..<height { for x in 0..<width { out[y * width + x] = data[y * stride + x] } }
        return out
    }

    private func regionPath(_ o: SyntheticObject) {
        let s = o.size, cx = o.x + s / 2, cy = o.y + s / 2
        switch o.kind {
        case .disc:
            cairo_arc(cr, cx, cy, s / 2, 0, 2 * Double.pi)
        case .ring:
            let t = max(2, s / 5)
            cairo_arc(cr, cx, cy, s / 2, 0, 2 * Double.pi)
            cairo_new_sub_path(cr)
            cairo_arc(cr, cx, cy, s / 2 - t, 0, 2 * Double.pi)
        case .square:
            cairo_rectangle(cr, o.x, o.y, s, s)
        case .triangle:
            cairo_move_to(cr, cx, o.y)
            cairo_line_to(cr, o.x + s, o.y + s)
            cairo_line_to(cr, o.x, o.y + s)
            cairo_close_path(cr)
        case .cross:
            let t = s / 3
            cairo_rectangle(cr, o.x, cy - t / 2, s, t)
            cairo_new_sub_path(cr)
            // The vertical arm without the centre square, so even-odd filling does not punch a hole.
            cairo_rectangle(cr, cx - t / 2, o.y, t, (s - t) / 2)
            cairo_rectangle(cr, cx - t / 2, cy + t / 2, t, (s - t) / 2)
        case .barHorizontal, .barVertical, .barRising, .barFalling:
            let t = max(2, s / 5)
            let diagonal = o.kind == .barRising || o.kind == .barFalling
            let length = diagonal ? s * 2.0.squareRoot() - t : s
            cairo_translate(cr, cx, cy)
            cairo_rotate(cr, o.kind.angleDegrees * Double.pi / 180)
            cairo_rectangle(cr, -length / 2, -t / 2, length, t)
        default:
            cairo_rectangle(cr, o.x, o.y, s, s)
        }
    }

    /// The texture's pattern, clipped to its patch. Stripes: lines `cell` wide every `2·cell`; checkers: squares of
    /// side `cell`; dots: discs of radius 0.6·`cell` every `2·cell`. Patterns start at the patch's corner.
    private func patternPath(_ o: SyntheticObject) {
        let s = o.size, c = o.cell
        cairo_rectangle(cr, o.x, o.y, s, s)
        cairo_clip(cr)
        switch o.kind {
        case .checkers:
            let n = Int((s / c).rounded(.up))
            for i in 0..<n { for j in 0..<n where (i + j) % 2 == 0 { cairo_rectangle(cr, o.x + Double(j) * c, o.y + Double(i) * c, c, c) } }
        case .dots:
            let n = Int((s / (2 * c)).rounded(.up))
            for i in 0..<n {
                for j in 0..<n {
                    let px = o.x + c + Double(j) * 2 * c, py = o.y + c + Double(i) * 2 * c
                    cairo_new_sub_path(cr)
                    cairo_arc(cr, px, py, 0.6 * c, 0, 2 * Double.pi)
                }
            }
        default:
            let reach = s * 2.0.squareRoot()
            cairo_translate(cr, o.x + s / 2, o.y + s / 2)
            cairo_rotate(cr, o.kind.angleDegrees * Double.pi / 180)
            let n = Int((reach / (2 * c)).rounded(.up))
            for k in -n...n { cairo_rectangle(cr, -reach, Double(k) * 2 * c - c / 2, 2 * reach, c) }
        }
    }
}
