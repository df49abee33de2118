import CCairo
import Foundation
import GlassboxCore

/// The one pixel-difference routine (golden-image tests, `glassbox diff`): walks the union of two images and
/// reports each pixel's largest channel difference.
enum PixelComparison {
    /// Counts over the union of both images; `visit(x, y, delta)` sees every pixel of the union with its largest
    /// channel difference (255 for a pixel inside only one image).
    static func compare(_ a: RasterImage, _ b: RasterImage, tolerance: Int, visit: (Int, Int, Int) -> Void) -> PixelDifference {
        let w = max(a.width, b.width), h = max(a.height, b.height)
        var differing = 0, worst = 0, total = 0
        for y in 0..<h {
            for x in 0..<w {
                let inA = x < a.width && y < a.height, inB = x < b.width && y < b.height
                guard inA || inB else { continue }
                total += 1
                var delta = 255
                if inA && inB {
                    let oa = (y * a.width + x) * 4, ob = (y * b.width + x) * 4
                    delta = 0
                    for c in 0..<4 { delta = max(delta, abs(Int(a.rgba[oa + c]) - Int(b.rgba[ob + c]))) }
                }
                worst = max(worst, delta)
                if delta > tolerance { differing += 1 }
                visit(x, y, delta)
            }
        }
        return PixelDifference(differingPixels: differing, totalPixels: total, maxChannelDelta: worst,
                               sizesMatch: a.width == b.width && a.height == b.height)
    }
}

/// The pixel difference of two images as an image: transparent where the pixels are equal, opaque orange → dark
/// red (by the largest channel difference) where they differ. Images of different sizes are compared over the
/// union; a pixel inside only one of them counts as fully different.
public enum DifferenceMap {
    public static func make(_ a: RasterImage, _ b: RasterImage) throws -> (PixelDifference, Data) {
        let w = max(a.width, b.width), h = max(a.height, b.height)
        var argb = [UInt32](repeating: 0, count: w * h)
        let stats = PixelComparison.compare(a, b, tolerance: 0) { x, y, delta in
            guard delta > 0 else { return }
            let t = 0.3 + 0.7 * Double(delta) / 255   // small changes stay visible
            let r = 1.0 - 0.45 * t, g = 0.75 * (1 - t), bl = 0.1 * (1 - t)
            argb[y * w + x] = 0xFF00_0000 | UInt32((r * 255).rounded()) << 16 | UInt32((g * 255).rounded()) << 8 | UInt32((bl * 255).rounded())
        }
        return (stats, try PNGEncoder.encode(width: w, height: h, premultipliedARGB: argb))
    }
}

/// Encodes raw pixels as PNG with cairo (the same writer `Canvas` uses for figures).
public enum PNGEncoder {
    /// `argb`: premultiplied ARGB32 pixels, row-major.
    public static func encode(width: Int, height: Int, premultipliedARGB argb: [UInt32]) throws -> Data {
        guard width > 0, height > 0, width <= 32767, height <= 32767, argb.count == width * height else {
            throw GlassboxError.invalidArgument(name: "image", expected: "1…32767 pixels a side and one value per pixel",
                                                found: "\(width)×\(height) with \(argb.count) values")
        }
        guard let surface = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, Int32(width), Int32(height)),
              cairo_surface_status(surface) == CAIRO_STATUS_SUCCESS else {
            throw GlassboxError.message("cairo could not create a \(width)×\(height) image")
        }
        defer { cairo_surface_destroy(surface) }
        cairo_surface_flush(surface)
        let stride = Int(cairo_image_surface_get_stride(surface))
        guard let base = cairo_image_surface_get_data(surface) else { throw GlassboxError.message("cairo gave no pixel memory") }
        for y in 0..<height {
            let row = UnsafeMutableRawPointer(base + y * stride)
            for x in 0..<width { row.storeBytes(of: argb[y * width + x], toByteOffset: x * 4, as: UInt32.self) }
        }
        cairo_surface_mark_dirty(surface)
        let sink = ByteSink()
        let status = withExtendedLifetime(sink) {
            cairo_surface_write_to_png_stream(surface, byteSinkWrite, Unmanaged.passUnretained(sink).toOpaque())
        }
        guard status == CAIRO_STATUS_SUCCESS else {
            throw GlassboxError.message("cairo could not encode a PNG: \(String(cString: cairo_status_to_string(status)))")
        }
        return Data(sink.bytes)
    }
}
