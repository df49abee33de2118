import Foundation

/// Image-level shape measurements of a digit, after Morpho-MNIST (Castro et al. 2019), computed at the image's own
/// resolution on its foreground.
public enum Morphometry {
    /// Mean stroke thickness in pixels: the mean over skeleton pixels of 2·d − 1, d the Euclidean distance to the
    /// background (a straight stroke k pixels wide gives k). Nil without skeleton.
    public static func thickness(skeleton s: [Bool], distance d: [Double]) -> Double? {
        var sum = 0.0, n = 0
        for i in s.indices where s[i] { sum += 2 * d[i] - 1; n += 1 }
        return n == 0 ? nil : sum / Double(n)
    }

    /// Slant in degrees from the foreground's second moments: with x to the right and y downwards, the shear
    /// s = −cov(x, y) / var(y) maps the digit's vertical axis, and the slant is atan(s): positive when the top leans
    /// right. Nil when the foreground has no vertical extent.
    public static func slantDegrees(foreground fg: [Bool], height h: Int, width w: Int) -> Double? {
        var n = 0.0, sx = 0.0, sy = 0.0
        for y in 0..<h { for x in 0..<w where fg[y * w + x] { n += 1; sx += Double(x); sy += Double(y) } }
        guard n > 0 else { return nil }
        let mx = sx / n, my = sy / n
        var cxy = 0.0, cyy = 0.0
        for y in 0..<h {
            for x in 0..<w where fg[y * w + x] {
                cxy += (Double(x) - mx) * (Double(y) - my)
                cyy += (Double(y) - my) * (Double(y) - my)
            }
        }
        guard cyy > 0 else { return nil }
        return atan(-cxy / cyy) * 180 / Double.pi
    }

    /// The bin of `value` among ascending `edges`: 0 below edges[0], i when edges[i−1] ≤ value < edges[i],
    /// edges.count at or above the last edge.
    public static func bin(_ value: Double, edges: [Double]) -> Int {
        edges.firstIndex { value < $0 } ?? edges.count
    }
}

/// Colour names of a pixel from hue, saturation and value bins.
public enum ColourNames {
    /// The names in the order `name(r:g:b:)` returns their index.
    public static let names = ["black", "white", "grey", "red", "orange", "yellow", "green", "cyan", "blue", "purple", "pink"]

    /// HSV (V = max, S = (max − min)/max, hue in degrees) → name: V < 0.2 black; else S < 0.25: white when V ≥ 0.8,
    /// grey otherwise; else by hue: red [345°, 15°), orange [15°, 45°), yellow [45°, 70°), green [70°, 165°),
    /// cyan [165°, 195°), blue [195°, 255°), purple [255°, 290°), pink [290°, 345°). Returns an index into `names`.
    public static func index(r: Float, g: Float, b: Float) -> Int {
        let mx = max(r, g, b), mn = min(r, g, b)
        if mx < 0.2 { return 0 }
        let s = (mx - mn) / mx
        if s < 0.25 { return mx >= 0.8 ? 1 : 2 }
        let d = mx - mn
        var hue: Float
        if mx == r { hue = 60 * ((g - b) / d) } else if mx == g { hue = 60 * ((b - r) / d + 2) } else { hue = 60 * ((r - g) / d + 4) }
        if hue < 0 { hue += 360 }
        switch hue {
        case 15..<45: return 4
        case 45..<70: return 5
        case 70..<165: return 6
        case 165..<195: return 7
        case 195..<255: return 8
        case 255..<290: return 9
        case 290..<345: return 10
        default: return 3
        }
    }
}
