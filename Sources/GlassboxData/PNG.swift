import CPNG
import Foundation
import GlassboxCore

/// PNG files through libpng: the header, decoding into float pixels, and encoding (for exported image folders and
/// the tests' fixtures).
///
/// What is read: grey and RGB at 8 or 16 bits, grey at 1/2/4 bits (expanded to 8), palette images (expanded to RGB),
/// interlaced or not. Alpha channels and tRNS transparency are dropped, as torchvision's `convert("RGB")` drops
/// them. Sample values are taken as stored (no gamma correction, like PIL).
public enum PNGFile {
    /// The IHDR fields, and what decoding makes of them.
    public struct Header: Equatable, Sendable {
        public var width: Int
        public var height: Int
        public var bitDepth: Int
        /// 0 grey, 2 RGB, 3 palette, 4 grey + alpha, 6 RGB + alpha.
        public var colorType: Int
        public var interlaced: Bool

        /// Grey (colour types 0 and 4) decodes to one channel, the rest to three.
        public var isGrey: Bool { colorType == 0 || colorType == 4 }
        /// Largest sample value: 65 535 for 16-bit images, 255 otherwise (lower depths are expanded to 8 bits).
        public var maxValue: Float { bitDepth == 16 ? 65535 : 255 }

        public var colorName: String {
            ["grey", "?", "RGB", "palette", "grey+alpha", "?", "RGBA"][min(6, max(0, colorType))] + " \(bitDepth)-bit"
        }
    }

    /// Widest and tallest image read (a header can claim 2³¹ × 2³¹ pixels).
    public static let maxSide = 16_384

    static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    /// Parses the signature and IHDR from the first 33 bytes of a file.
    public static func header(_ data: Data, source: String) throws -> Header {
        func bad(_ field: String, _ expected: String, _ found: String) -> GlassboxError { .badFile(path: source, field: field, expected: expected, found: found) }
        let b = [UInt8](data.prefix(33))
        guard b.count >= 8, Array(b[0..<8]) == signature else {
            throw bad("signature", "a PNG file", b.count < 8 ? "\(b.count) bytes" : "other data (not a PNG file)")
        }
        guard b.count == 33 else { throw bad("header", "a complete IHDR chunk", "a truncated file") }
        func u32(_ o: Int) -> Int { Int(b[o]) << 24 | Int(b[o + 1]) << 16 | Int(b[o + 2]) << 8 | Int(b[o + 3]) }
        guard u32(8) == 13, String(decoding: b[12..<16], as: UTF8.self) == "IHDR" else { throw bad("header", "an IHDR chunk first", "something else") }
        let h = Header(width: u32(16), height: u32(20), bitDepth: Int(b[24]), colorType: Int(b[25]), interlaced: b[28] == 1)
        let depths: [Int: [Int]] = [0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16]]
        guard let allowed = depths[h.colorType], allowed.contains(h.bitDepth) else {
            throw bad("header", "a valid colour type and bit depth", "colour type \(h.colorType), \(h.bitDepth) bits")
        }
        guard h.width > 0, h.height > 0, h.width <= maxSide, h.height <= maxSide else {
            throw bad("size", "1 to \(maxSide) pixels each way", "\(h.width)×\(h.height)")
        }
        return h
    }

    /// Reads just enough of a file for its header.
    public static func readHeader(_ path: String) throws -> Header {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw GlassboxError.missingFile(path: path, hint: "") }
        defer { try? handle.close() }
        let data = (try? handle.read(upToCount: 33)) ?? Data()
        return try header(data, source: path)
    }

    /// Decodes a PNG into `channels` × H × W floats at `out` (channel-major, as `[C, H, W]`): grey is repeated into
    /// three channels when `channels` is 3; samples are divided by the largest value when `scale` is on.
    /// `expected` (the header read earlier) must match the file's.
    public static func decode(_ data: Data, source: String, expected: Header, channels: Int, scale: Bool, into out: UnsafeMutablePointer<Float>) throws {
        var info = glassbox_png_info()
        var error = glassbox_png_error()
        let bytesPerSample = expected.bitDepth == 16 ? 2 : 1
        let stored = expected.isGrey ? 1 : 3
        let (w, h) = (expected.width, expected.height)
        var pixels = [UInt8](repeating: 0, count: w * h * stored * bytesPerSample)
        let status = data.withUnsafeBytes { raw in
            pixels.withUnsafeMutableBufferPointer { p in
                glassbox_png_decode(raw.bindMemory(to: UInt8.self).baseAddress, raw.count, UInt32(maxSide), &info, p.baseAddress, p.count, &error)
            }
        }
        guard status == 0 else {
            let message = withUnsafeBytes(of: error.message) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            throw GlassboxError.badFile(path: source, field: "PNG data", expected: "a complete, valid PNG", found: message)
        }
        guard Int(info.width) == w, Int(info.height) == h, Int(info.channels) == stored, Int(info.bytes_per_sample) == bytesPerSample else {
            throw GlassboxError.badFile(path: source, field: "header", expected: "\(w)×\(h) \(expected.colorName)", found: "a different image on decoding")
        }
        let divisor: Float = scale ? expected.maxValue : 1
        let plane = w * h
        pixels.withUnsafeBufferPointer { p in
            for c in 0..<channels {
                let from = stored == 1 ? 0 : c
                let dst = out + c * plane
                if bytesPerSample == 1 {
                    for i in 0..<plane { dst[i] = Float(p[i * stored + from]) / divisor }
                } else {
                    p.withMemoryRebound(to: UInt16.self) { q in
                        for i in 0..<plane { dst[i] = Float(q[i * stored + from]) / divisor }
                    }
                }
            }
        }
    }

    /// Encodes packed rows as libpng expects them (`stride` bytes per row; 16-bit samples in native byte order):
    /// colour type 0/2/3/4/6, bit depth 1–16, `palette` RGB triples for type 3. No timestamps: same pixels, same bytes.
    public static func encode(width: Int, height: Int, colorType: Int, bitDepth: Int, rows: [UInt8], stride: Int, palette: [UInt8] = []) throws -> Data {
        guard width > 0, height > 0, width <= maxSide, height <= maxSide, rows.count >= stride * height else {
            throw GlassboxError.invalidArgument(name: "PNG image", expected: "1 to \(maxSide) pixels each way with \(stride * height) bytes", found: "\(width)×\(height), \(rows.count) bytes")
        }
        var sink = glassbox_png_sink()
        var error = glassbox_png_error()
        let status = rows.withUnsafeBufferPointer { r in
            palette.withUnsafeBufferPointer { pal in
                glassbox_png_encode(UInt32(width), UInt32(height), Int32(colorType), Int32(bitDepth), r.baseAddress, stride, pal.baseAddress,
                                    Int32(palette.count / 3), &sink, &error)
            }
        }
        guard status == 0, let base = sink.data else {
            let message = withUnsafeBytes(of: error.message) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            throw GlassboxError.message("PNG encoding failed: \(message)")
        }
        defer { free(base) }
        return Data(bytes: base, count: sink.size)
    }

    /// An 8-bit grey or RGB PNG of a `[C, H, W]` image (C = 1 or 3) whose values are in [0, 1] (rounded, clipped).
    public static func encode(image: UnsafeBufferPointer<Float>, channels: Int, height: Int, width: Int) throws -> Data {
        guard channels == 1 || channels == 3 else {
            throw GlassboxError.invalidArgument(name: "image channels", expected: "1 (grey) or 3 (RGB) to write a PNG", found: "\(channels)")
        }
        let plane = width * height
        var rows = [UInt8](repeating: 0, count: plane * channels)
        for c in 0..<channels {
            for i in 0..<plane {
                let v = image[c * plane + i] * 255
                rows[i * channels + c] = UInt8(v.isNaN ? 0 : Swift.min(255, Swift.max(0, v.rounded())))
            }
        }
        return try encode(width: width, height: height, colorType: channels == 1 ? 0 : 2, bitDepth: 8, rows: rows, stride: width * channels)
    }
}
