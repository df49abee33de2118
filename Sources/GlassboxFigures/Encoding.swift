import CCairo
import CZlib
import Foundation
import GlassboxCore

/// PNG chunk surgery: cairo writes no resolution, so the DPI goes into a pHYs chunk right after IHDR.
public enum PNGChunks {
    static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    /// The chunks of a PNG as (type, data), in file order. Throws when the signature, a length or a CRC is wrong.
    public static func chunks(_ png: Data) throws -> [(type: String, data: Data)] {
        let b = [UInt8](png)
        guard b.count >= 8, Array(b[0..<8]) == signature else {
            throw GlassboxError.badFile(path: "PNG data", field: "signature", expected: "89 50 4E 47 0D 0A 1A 0A", found: "\(b.prefix(8))")
        }
        var out: [(String, Data)] = []
        var i = 8
        while i + 12 <= b.count {
            let len = Int(be32(b, i))
            guard i + 12 + len <= b.count else {
                throw GlassboxError.badFile(path: "PNG data", field: "chunk length", expected: "≤ \(b.count - i - 12)", found: "\(len)")
            }
            let typeAndData = Array(b[(i + 4)..<(i + 8 + len)])
            let stored = be32(b, i + 8 + len)
            let computed = crc(typeAndData)
            let type = String(decoding: typeAndData[0..<4], as: UTF8.self)
            guard stored == computed else {
                throw GlassboxError.badFile(path: "PNG data", field: "\(type) CRC", expected: String(format: "%08x", computed), found: String(format: "%08x", stored))
            }
            out.append((type, Data(typeAndData[4...])))
            i += 12 + len
            if type == "IEND" { break }
        }
        return out
    }

    /// Inserts (or replaces) a pHYs chunk with `pixelsPerMetre` on both axes, unit metre, right after IHDR.
    public static func insertPhys(_ png: Data, pixelsPerMetre: UInt32) throws -> Data {
        let b = [UInt8](png)
        // Signature (8) + IHDR: length (4), type (4), 13 data bytes, CRC (4).
        let ihdrEnd = 8 + 4 + 4 + 13 + 4
        guard b.count > ihdrEnd, Array(b[0..<8]) == signature, String(decoding: b[12..<16], as: UTF8.self) == "IHDR" else {
            throw GlassboxError.badFile(path: "PNG data", field: "header", expected: "PNG signature and IHDR", found: "\(b.prefix(16))")
        }
        var rest: [UInt8] = []
        var i = ihdrEnd
        while i + 12 <= b.count {   // copy every chunk except an existing pHYs
            let len = Int(be32(b, i))
            let end = min(b.count, i + 12 + len)
            if String(decoding: b[(i + 4)..<(i + 8)], as: UTF8.self) != "pHYs" { rest += b[i..<end] }
            i = end
        }
        let body: [UInt8] = Array("pHYs".utf8) + bytes(pixelsPerMetre) + bytes(pixelsPerMetre) + [1]
        let chunk = bytes(9) + body + bytes(crc(body))
        return Data(Array(b[0..<ihdrEnd]) + chunk + rest)
    }

    /// The pHYs values (x, y pixels per unit, unit 1 = metre), or nil when the PNG has none.
    public static func phys(_ png: Data) throws -> (x: UInt32, y: UInt32, unit: UInt8)? {
        guard let c = try chunks(png).first(where: { $0.type == "pHYs" }), c.data.count == 9 else { return nil }
        let d = [UInt8](c.data)
        return (be32(d, 0), be32(d, 4), d[8])
    }

    static func crc(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBufferPointer { UInt32(crc32(0, $0.baseAddress, uInt($0.count))) }
    }

    static func be32(_ b: [UInt8], _ i: Int) -> UInt32 {
        UInt32(b[i]) << 24 | UInt32(b[i + 1]) << 16 | UInt32(b[i + 2]) << 8 | UInt32(b[i + 3])
    }

    static func bytes(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }
}

/// Cairo's SVG ids (`surface12`, `glyph0-3`, `clip5`, …) come from process-wide counters, so the same figure
/// rendered twice in one process gets different ids. This renames every id to its prefix plus the order of first
/// appearance, so identical figures give identical bytes.
enum SVGIds {
    static func normalise(_ svg: Data) -> Data {
        let s = [UInt8](svg)
        let idMarker = Array("id=\"".utf8)
        let markers: [[UInt8]] = [idMarker, Array("\"#".utf8), Array("(#".utf8)]
        func isIdChar(_ c: UInt8) -> Bool {
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x2D || c == 0x5F
        }
        func matches(_ m: [UInt8], at i: Int) -> Bool {
            guard i + m.count <= s.count else { return false }
            for k in 0..<m.count where s[i + k] != m[k] { return false }
            return true
        }
        func name(at j: Int) -> (String, Int) {
            var e = j
            while e < s.count && isIdChar(s[e]) { e += 1 }
            return (String(decoding: s[j..<e], as: UTF8.self), e)
        }
        // Pass 1: every defined id, in document order, gets prefix + ordinal within its prefix.
        var names: [String: String] = [:]
        var counters: [String: Int] = [:]
        var i = 0
        while i < s.count {
            if matches(idMarker, at: i) {
                let (old, e) = name(at: i + idMarker.count)
                if !old.isEmpty && names[old] == nil {
                    let prefix = String(old.prefix { $0.isLetter })
                    let n = counters[prefix, default: 0]
                    counters[prefix] = n + 1
                    names[old] = "\(prefix)\(n)"
                }
                i = e
            } else {
                i += 1
            }
        }
        // Pass 2: rewrite definitions and references of those ids only.
        var out: [UInt8] = []
        out.reserveCapacity(s.count)
        i = 0
        outer: while i < s.count {
            for m in markers where matches(m, at: i) {
                let (old, e) = name(at: i + m.count)
                if let new = names[old] {
                    out += m
                    out += Array(new.utf8)
                    i = e
                    continue outer
                }
            }
            out.append(s[i])
            i += 1
        }
        return Data(out)
    }
}

/// Decoded 8-bit RGBA pixels (not premultiplied), for pixel tests and figure diffs.
public struct RasterImage: Equatable, Sendable {
    public let width: Int
    public let height: Int
    /// Row-major RGBA, 4 bytes per pixel.
    public let rgba: [UInt8]

    public init(width: Int, height: Int, rgba: [UInt8]) {
        precondition(rgba.count == width * height * 4)
        self.width = width; self.height = height; self.rgba = rgba
    }

    /// Decodes a PNG with cairo.
    public init(png: Data) throws {
        final class Source { let bytes: [UInt8]; var offset = 0; init(_ b: [UInt8]) { bytes = b } }
        let source = Source([UInt8](png))
        let read: cairo_read_func_t = { closure, data, length in
            guard let closure, let data else { return CAIRO_STATUS_READ_ERROR }
            let src = Unmanaged<Source>.fromOpaque(closure).takeUnretainedValue()
            let n = Int(length)
            guard src.offset + n <= src.bytes.count else { return CAIRO_STATUS_READ_ERROR }
            src.bytes.withUnsafeBufferPointer { data.update(from: $0.baseAddress! + src.offset, count: n) }
            src.offset += n
            return CAIRO_STATUS_SUCCESS
        }
        let surface: OpaquePointer? = withExtendedLifetime(source) {
            cairo_image_surface_create_from_png_stream(read, Unmanaged.passUnretained(source).toOpaque())
        }
        guard let surface else { throw GlassboxError.badFile(path: "PNG data", field: "image", expected: "a PNG cairo can read", found: "nothing") }
        defer { cairo_surface_destroy(surface) }
        let status = cairo_surface_status(surface)
        guard status == CAIRO_STATUS_SUCCESS else {
            throw GlassboxError.badFile(path: "PNG data", field: "image", expected: "a PNG cairo can read",
                                        found: String(cString: cairo_status_to_string(status)))
        }
        cairo_surface_flush(surface)
        let w = Int(cairo_image_surface_get_width(surface)), h = Int(cairo_image_surface_get_height(surface))
        let stride = Int(cairo_image_surface_get_stride(surface))
        let format = cairo_image_surface_get_format(surface)
        var px = [UInt8](repeating: 0, count: w * h * 4)
        if let data = cairo_image_surface_get_data(surface), w > 0, h > 0 {
            for y in 0..<h {
                let row = UnsafeRawPointer(data + y * stride)
                for x in 0..<w {
                    let v = row.load(fromByteOffset: x * 4, as: UInt32.self)
                    var a = UInt32(255), r = (v >> 16) & 0xFF, g = (v >> 8) & 0xFF, b = v & 0xFF
                    if format == CAIRO_FORMAT_ARGB32 {
                        a = v >> 24
                        if a == 0 { r = 0; g = 0; b = 0 } else if a < 255 {   // un-premultiply
                            r = (r * 255 + a / 2) / a; g = (g * 255 + a / 2) / a; b = (b * 255 + a / 2) / a
                        }
                    }
                    let o = (y * w + x) * 4
                    px[o] = UInt8(min(r, 255)); px[o + 1] = UInt8(min(g, 255)); px[o + 2] = UInt8(min(b, 255)); px[o + 3] = UInt8(a)
                }
            }
        }
        self.init(width: w, height: h, rgba: px)
    }

    /// (r, g, b, a) of pixel (x, y), origin top left.
    public func pixel(_ x: Int, _ y: Int) -> (r: UInt8, g: UInt8, b: UInt8, a: UInt8) {
        let o = (y * width + x) * 4
        return (rgba[o], rgba[o + 1], rgba[o + 2], rgba[o + 3])
    }

    /// Compares pixel by pixel over the union of both images (origin top left): a pixel differs when any channel
    /// differs by more than `tolerance`; a pixel inside only one image counts as different (channel delta 255).
    public func difference(from other: RasterImage, tolerance: Int) -> PixelDifference {
        PixelComparison.compare(self, other, tolerance: tolerance) { _, _, _ in }
    }
}

public struct PixelDifference: Equatable, Sendable {
    public var differingPixels: Int
    public var totalPixels: Int
    public var maxChannelDelta: Int
    public var sizesMatch: Bool
    public var differingShare: Double { totalPixels == 0 ? 0 : Double(differingPixels) / Double(totalPixels) }
}
