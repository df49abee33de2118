import Foundation
import GlassboxCore

/// An sRGB colour with components in 0…1.
public struct RGB: Codable, Equatable, Hashable, Sendable {
    public var r: Double, g: Double, b: Double

    public init(_ r: Double, _ g: Double, _ b: Double) { self.r = r; self.g = g; self.b = b }

    /// `#RRGGBB` (the `#` is optional).
    public init(hex: String) {
        let digits = hex.hasPrefix("#") ? String(hex.dropFirst()) : hex
        let v = UInt32(digits, radix: 16) ?? 0
        self.init(Double(v >> 16 & 0xFF) / 255, Double(v >> 8 & 0xFF) / 255, Double(v & 0xFF) / 255)
    }

    public static let black = RGB(0, 0, 0)
    public static let white = RGB(1, 1, 1)
    /// Axis lines, tick marks and labels.
    public static let ink = RGB(0.15, 0.15, 0.15)
    public static let gridGrey = RGB(0.88, 0.88, 0.88)

    /// 8-bit components, rounded.
    public var bytes: (UInt8, UInt8, UInt8) { (Self.byte(r), Self.byte(g), Self.byte(b)) }
    public var hex: String { let (r, g, b) = bytes; return String(format: "#%02x%02x%02x", r, g, b) }

    /// Relative luminance (WCAG), used to pick black or white text on a coloured cell.
    public var luminance: Double {
        func lin(_ c: Double) -> Double { c <= 0.04045 ? c / 12.92 : pow((c + 0.055) / 1.055, 2.4) }
        return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b)
    }
    /// Black or white, whichever reads better on this colour.
    public var contrastingText: RGB { luminance > 0.22 ? .black : .white }

    static func byte(_ v: Double) -> UInt8 { UInt8(max(0, min(255, (v * 255).rounded()))) }

    static func mix(_ a: RGB, _ b: RGB, _ t: Double) -> RGB {
        RGB(a.r + (b.r - a.r) * t, a.g + (b.g - a.g) * t, a.b + (b.b - a.b) * t)
    }
}

/// Named colour maps a figure can store in JSON.
public enum ColorMapName: String, Codable, Sendable, CaseIterable {
    case viridis, cividis
    /// ColorBrewer RdBu reversed: blue for negative, white at the centre, red for positive.
    case rdBu
    case grey

    public var map: ColorMap {
        switch self {
        case .viridis: return .viridis
        case .cividis: return .cividis
        case .rdBu: return .rdBu
        case .grey: return .grey
        }
    }
}

/// A continuous colour map: piecewise-linear in sRGB through anchor colours, also sampled as a 256-entry table.
///
/// The maps are generated here (piecewise-linear in sRGB) from published anchor colours:
/// - viridis: the ten evenly spaced colours `viridis(10)` of the viridis definition (van der Walt & Smith, CC0)
///   plus its documented quartile stops (#3b528b, #21918c, #5ec962);
/// - cividis: the ten evenly spaced colours of Nuñez, Anderton & Renslow (2018);
/// - RdBu: the 11-class ColorBrewer scheme (Brewer), reversed so that negative is blue.
/// Between anchors the tables are linear, so they match the published 256-entry maps to within a few
/// 8-bit steps, which is invisible in a figure and exact at every anchor.
public struct ColorMap: Sendable, Equatable {
    public let name: String
    /// The anchors the map is defined by (position 0…1, colour), sorted.
    public let anchors: [(position: Double, color: RGB)]
    /// The map sampled at 256 evenly spaced points (for export and colour bars).
    public let table: [RGB]

    public init(name: String, anchors: [(position: Double, color: RGB)], entries: Int = 256) {
        precondition(anchors.count >= 2 && entries >= 2)
        let sorted = anchors.sorted { $0.position < $1.position }
        var table: [RGB] = []
        table.reserveCapacity(entries)
        for i in 0..<entries {
            let t = Double(i) / Double(entries - 1)
            var k = 0
            while k < sorted.count - 2 && t > sorted[k + 1].position { k += 1 }
            let a = sorted[k], b = sorted[k + 1]
            let f = b.position > a.position ? max(0, min(1, (t - a.position) / (b.position - a.position))) : 0
            table.append(RGB.mix(a.color, b.color, f))   // same formula as color(at:)
        }
        self.name = name
        self.anchors = sorted
        self.table = table
    }

    /// Anchors evenly spaced over 0…1.
    public init(name: String, evenlySpaced hexes: [String], extra: [(Double, String)] = []) {
        let n = Double(hexes.count - 1)
        var anchors = hexes.enumerated().map { (position: Double($0.offset) / n, color: RGB(hex: $0.element)) }
        anchors += extra.map { (position: $0.0, color: RGB(hex: $0.1)) }
        self.init(name: name, anchors: anchors)
    }

    /// Colour at `t` in 0…1 (clamped; NaN gives the low end): linear in sRGB between the anchors, so exact at them.
    public func color(at t: Double) -> RGB {
        guard t.isFinite else { return t == .infinity ? anchors[anchors.count - 1].color : anchors[0].color }
        let x = max(0, min(1, t))
        var k = 0
        while k < anchors.count - 2 && x > anchors[k + 1].position { k += 1 }
        let a = anchors[k], b = anchors[k + 1]
        let f = b.position > a.position ? max(0, min(1, (x - a.position) / (b.position - a.position))) : 0
        return RGB.mix(a.color, b.color, f)
    }

    public static func == (a: ColorMap, b: ColorMap) -> Bool { a.name == b.name && a.table == b.table }

    public static let viridis = ColorMap(
        name: "viridis",
        evenlySpaced: ["#440154", "#482878", "#3e4a89", "#31688e", "#26828e", "#1f9e89", "#35b779", "#6dcd59", "#b4de2c", "#fde725"],
        extra: [(0.25, "#3b528b"), (0.5, "#21918c"), (0.75, "#5ec962")])

    public static let cividis = ColorMap(
        name: "cividis",
        evenlySpaced: ["#00204d", "#00336f", "#39486b", "#575c6d", "#707173", "#8a8779", "#a69d75", "#c4b56c", "#e4cf5b", "#ffea46"])

    /// RdBu reversed (blue = low/negative, near-white #f7f7f7 = middle, red = high/positive).
    public static let rdBu = ColorMap(
        name: "rdBu",
        evenlySpaced: ["#053061", "#2166ac", "#4393c3", "#92c5de", "#d1e5f0", "#f7f7f7", "#fddbc7", "#f4a582", "#d6604d", "#b2182b", "#67001f"])

    public static let grey = ColorMap(name: "grey", anchors: [(0, .black), (1, .white)])
}

/// Maps values to 0…1 for a colour map.
public enum ColorLimits: Codable, Equatable, Sendable {
    /// The data's own minimum and maximum.
    case auto
    /// ±max|v|, so zero sits in the middle of a diverging map.
    case symmetric
    /// Fixed limits.
    case fixed(low: Double, high: Double)

    /// Concrete (low, high) for `values`, never equal.
    public func resolve(_ values: [Double]) -> (low: Double, high: Double) {
        let finite = values.filter(\.isFinite)
        var lo: Double, hi: Double
        switch self {
        case .auto: lo = finite.min() ?? 0; hi = finite.max() ?? 1
        case .symmetric: let m = finite.map(abs).max() ?? 1; lo = -m; hi = m
        case let .fixed(l, h): lo = l; hi = h
        }
        if !(hi > lo) { let c = lo; lo = c - (c == 0 ? 1 : abs(c) * 0.5); hi = c + (c == 0 ? 1 : abs(c) * 0.5) }
        return (lo, hi)
    }
}

/// Okabe & Ito's eight colours, distinguishable with the common colour-vision deficiencies.
public enum OkabeIto {
    public static let black = RGB(hex: "#000000")
    public static let orange = RGB(hex: "#e69f00")
    public static let skyBlue = RGB(hex: "#56b4e9")
    public static let bluishGreen = RGB(hex: "#009e73")
    public static let yellow = RGB(hex: "#f0e442")
    public static let blue = RGB(hex: "#0072b2")
    public static let vermillion = RGB(hex: "#d55e00")
    public static let reddishPurple = RGB(hex: "#cc79a7")

    /// All eight in the published order (black first).
    public static let colors: [RGB] = [black, orange, skyBlue, bluishGreen, yellow, blue, vermillion, reddishPurple]

    /// Colour of data series `i`: the published order without black first (black is for axes), cycling.
    public static func series(_ i: Int) -> RGB {
        let order = [blue, orange, bluishGreen, vermillion, skyBlue, reddishPurple, yellow, black]
        return order[((i % order.count) + order.count) % order.count]
    }
}

/// The Glassbox signed-weight colour map: red for positive, blue for negative, brightness ∝ |w| / scale
/// (clamped at 1), black at zero, and black for pruned or masked weights.
public struct WeightColorMap: Equatable, Sendable {
    public var scale: Double

    public init(scale: Double) { self.scale = scale }

    public func color(_ w: Double, masked: Bool = false) -> RGB {
        guard !masked, w.isFinite, scale > 0 else { return .black }
        let t = min(1, abs(w) / scale)
        return w > 0 ? RGB(t, 0, 0) : RGB(0, 0, t)
    }
}
