import Foundation

/// Small image operations on one H×W image (row-major, pixel `(y, x)` at `y·W + x`), used to compute concept
/// masks. Each is a plain function of its inputs with the rule it implements stated, so tests can check it on
/// hand-made images.
public enum ImageOps {
    /// Otsu's threshold over a 256-bin histogram of values in [0, 1] (bin = ⌊256·v⌋, capped at 255): the bin k
    /// that maximises the between-class variance of {bins ≤ k} and {bins > k} (the smallest such k). A pixel is
    /// foreground when its bin is > k. Returns nil for a constant image (no split exists).
    public static func otsuBin(_ v: UnsafeBufferPointer<Float>) -> Int? {
        var hist = [Double](repeating: 0, count: 256)
        for x in v { hist[bin(x)] += 1 }
        let total = Double(v.count)
        let sumAll = (0..<256).reduce(0.0) { $0 + Double($1) * hist[$1] }
        var w0 = 0.0, sum0 = 0.0, best = -1.0, bestK: Int?
        for k in 0..<255 {
            w0 += hist[k]; sum0 += Double(k) * hist[k]
            let w1 = total - w0
            guard w0 > 0, w1 > 0 else { continue }
            let m0 = sum0 / w0, m1 = (sumAll - sum0) / w1
            let between = w0 * w1 * (m0 - m1) * (m0 - m1)
            if between > best { best = between; bestK = k }
        }
        return bestK
    }

    /// The histogram bin of a value in [0, 1] used by `otsuBin`.
    @inline(__always) public static func bin(_ x: Float) -> Int { min(255, max(0, Int(x * 256))) }

    /// Foreground by Otsu (bin > Otsu bin), or by `threshold` (value > threshold) when given.
    public static func foreground(_ v: UnsafeBufferPointer<Float>, threshold: Float?) -> [Bool] {
        if let t = threshold { return v.map { $0 > t } }
        guard let k = otsuBin(v) else { return [Bool](repeating: false, count: v.count) }
        return v.map { bin($0) > k }
    }

    /// Sobel gradients with replicated borders: gx = [−1 0 1; −2 0 2; −1 0 1] (x to the right),
    /// gy = its transpose (y downwards).
    public static func sobel(_ v: UnsafeBufferPointer<Float>, height h: Int, width w: Int) -> (gx: [Float], gy: [Float]) {
        var gx = [Float](repeating: 0, count: h * w), gy = gx
        @inline(__always) func at(_ y: Int, _ x: Int) -> Float { v[min(h - 1, max(0, y)) * w + min(w - 1, max(0, x))] }
        for y in 0..<h {
            for x in 0..<w {
                let a = at(y - 1, x - 1), b = at(y - 1, x), c = at(y - 1, x + 1)
                let d = at(y, x - 1), f = at(y, x + 1)
                let g = at(y + 1, x - 1), hh = at(y + 1, x), i = at(y + 1, x + 1)
                gx[y * w + x] = (c + 2 * f + i) - (a + 2 * d + g)
                gy[y * w + x] = (g + 2 * hh + i) - (a + 2 * b + c)
            }
        }
        return (gx, gy)
    }

    /// The orientation bin of a gradient: θ = atan2(gy, gx) folded into [0°, 180°), bins of 45° centred on 0°, 45°,
    /// 90°, 135°. The edge runs perpendicular to the gradient, so bin 0 is a vertical edge, 1 a rising edge (/),
    /// 2 a horizontal edge, 3 a falling edge (\) (y grows downwards).
    public static func orientationBin(gx: Float, gy: Float) -> Int {
        var t = Double(atan2(gy, gx)) * 180 / Double.pi
        if t < 0 { t += 180 }
        if t >= 180 { t -= 180 }
        return Int(((t + 22.5) / 45).rounded(.down)) % 4
    }

    /// Labels the connected components of `m` (8- or 4-connectivity); returns labels (−1 outside `m`) and the count.
    public static func components(_ m: [Bool], height h: Int, width w: Int, eight: Bool) -> (labels: [Int], count: Int) {
        var labels = [Int](repeating: -1, count: h * w)
        var count = 0
        var stack: [Int] = []
        let offsets = eight ? [(-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1)] : [(-1, 0), (0, -1), (0, 1), (1, 0)]
        for start in 0..<(h * w) where m[start] && labels[start] < 0 {
            labels[start] = count
            stack.append(start)
            while let p = stack.popLast() {
                let y = p / w, x = p % w
                for (dy, dx) in offsets {
                    let ny = y + dy, nx = x + dx
                    guard ny >= 0, ny < h, nx >= 0, nx < w else { continue }
                    let q = ny * w + nx
                    if m[q] && labels[q] < 0 { labels[q] = count; stack.append(q) }
                }
            }
            count += 1
        }
        return (labels, count)
    }

    /// Enclosed regions (holes): the 4-connected background components that do not touch the image border (the
    /// foreground is taken 8-connected, the usual dual pair). Returns their pixels and how many there are.
    public static func holes(foreground fg: [Bool], height h: Int, width w: Int) -> (mask: [Bool], count: Int) {
        let bg = fg.map { !$0 }
        let (labels, n) = components(bg, height: h, width: w, eight: false)
        var touches = [Bool](repeating: false, count: n)
        for y in 0..<h {
            for x in 0..<w where (y == 0 || y == h - 1 || x == 0 || x == w - 1) && labels[y * w + x] >= 0 {
                touches[labels[y * w + x]] = true
            }
        }
        let mask = labels.map { $0 >= 0 && !touches[$0] }
        return (mask, touches.filter { !$0 }.count)
    }

    /// Euclidean distance from every pixel to the nearest pixel outside `m` (pixels beyond the border count as
    /// outside), 0 outside `m`: the exact squared-distance transform of Felzenszwalb & Huttenlocher (2012),
    /// one pass over columns and one over rows.
    public static func distanceTransform(_ m: [Bool], height h: Int, width w: Int) -> [Double] {
        // Pad by one pixel of background so the border counts as outside.
        let ph = h + 2, pw = w + 2
        let inf = Double(ph * ph + pw * pw)
        var f = [Double](repeating: 0, count: ph * pw)
        for y in 0..<h { for x in 0..<w where m[y * w + x] { f[(y + 1) * pw + x + 1] = inf } }
        var col = [Double](repeating: 0, count: max(ph, pw)), out = col
        for x in 0..<pw {
            for y in 0..<ph { col[y] = f[y * pw + x] }
            edt1D(col, ph, &out)
            for y in 0..<ph { f[y * pw + x] = out[y] }
        }
        for y in 0..<ph {
            for x in 0..<pw { col[x] = f[y * pw + x] }
            edt1D(col, pw, &out)
            for x in 0..<pw { f[y * pw + x] = out[x] }
        }
        var d = [Double](repeating: 0, count: h * w)
        for y in 0..<h { for x in 0..<w { d[y * w + x] = f[(y + 1) * pw + x + 1].squareRoot() } }
        return d
    }

    /// One-dimensional squared distance transform of sampled function `f` (lower envelope of parabolas).
    static func edt1D(_ f: [Double], _ n: Int, _ d: inout [Double]) {
        var v = [Int](repeating: 0, count: n), z = [Double](repeating: 0, count: n + 1)
        var k = 0
        z[0] = -.infinity; z[1] = .infinity
        for q in 1..<max(1, n) {
            var s = ((f[q] + Double(q * q)) - (f[v[k]] + Double(v[k] * v[k]))) / Double(2 * q - 2 * v[k])
            while s <= z[k] {
                k -= 1
                s = ((f[q] + Double(q * q)) - (f[v[k]] + Double(v[k] * v[k]))) / Double(2 * q - 2 * v[k])
            }
            k += 1
            v[k] = q; z[k] = s; z[k + 1] = .infinity
        }
        k = 0
        for q in 0..<n {
            while z[k + 1] < Double(q) { k += 1 }
            d[q] = Double((q - v[k]) * (q - v[k])) + f[v[k]]
        }
    }

    /// Sets every pixel within Chebyshev distance `r` of a set pixel (a (2r+1)² square, clipped to the image).
    public static func dilate(_ m: [Bool], height h: Int, width w: Int, radius r: Int) -> [Bool] {
        guard r > 0 else { return m }
        var out = [Bool](repeating: false, count: h * w)
        for y in 0..<h {
            for x in 0..<w where m[y * w + x] {
                for yy in max(0, y - r)...min(h - 1, y + r) { for xx in max(0, x - r)...min(w - 1, x + r) { out[yy * w + xx] = true } }
            }
        }
        return out
    }

    /// The 3×3 grid cell (row-major 0…8) of pixel (y, x): row ⌊3y/H⌋, column ⌊3x/W⌋.
    @inline(__always) public static func gridCell(y: Int, x: Int, height h: Int, width w: Int) -> Int { (3 * y / h) * 3 + 3 * x / w }
}
