import GlassboxCore

/// How a unit's h×w activation map is brought to the probe images' H×W pixels.
public enum Upsampler: String, Codable, CaseIterable, Sendable {
    /// Bilinear resize with the half-pixel convention (PyTorch `interpolate(mode: "bilinear", align_corners=False)`,
    /// PIL/scipy bilinear resize when enlarging — NetDissect-Lite): output pixel k samples the map at
    /// (k + 0.5)·h/H − 0.5, clamped at 0, between its two neighbours (the last one repeated at the far edge).
    case bilinear
    /// Linear spline anchored at each unit's receptive-field centre (the original NetDissect's `upsampleL`): unit i
    /// sits at input pixel offset + i·step (`ReceptiveField`); pixels between two centres interpolate linearly,
    /// pixels beyond the first or last centre take its value (as FITPACK clamps). Centres are exact, also where they
    /// fall between two pixels (after a 2×2 pooling: 0.5 + 2i); the original takes the whole pixel start + size // 2
    /// there (1 + 2i).
    case receptiveField = "receptive-field"
}

/// Per-axis interpolation weights: output index k reads source i0[k] and i1[k] with weight w[k] on i1.
struct AxisInterpolation {
    var i0: [Int], i1: [Int], w: [Float]

    /// Half-pixel bilinear (see `Upsampler.bilinear`).
    static func bilinear(source n: Int, target m: Int) -> AxisInterpolation {
        var a = AxisInterpolation(i0: [], i1: [], w: [])
        let scale = Double(n) / Double(m)
        for k in 0..<m {
            let src = max(0, (Double(k) + 0.5) * scale - 0.5)
            let lo = min(Int(src), n - 1)
            a.i0.append(lo)
            a.i1.append(min(lo + 1, n - 1))
            a.w.append(Float(src - Double(lo)))
        }
        return a
    }

    /// Receptive-field anchored linear spline (see `Upsampler.receptiveField`).
    static func receptiveField(source n: Int, target m: Int, field f: ReceptiveField) -> AxisInterpolation {
        var a = AxisInterpolation(i0: [], i1: [], w: [])
        for k in 0..<m {
            let t = (Double(k) - f.offset) / f.step
            if t <= 0 || n == 1 {
                a.i0.append(0); a.i1.append(0); a.w.append(0)
            } else if t >= Double(n - 1) {
                a.i0.append(n - 1); a.i1.append(n - 1); a.w.append(0)
            } else {
                let lo = Int(t)
                a.i0.append(lo); a.i1.append(lo + 1); a.w.append(Float(t - Double(lo)))
            }
        }
        return a
    }
}

/// Upsamples h×w maps to H×W with separable linear interpolation.
struct MapUpsampler {
    let h: Int, w: Int, H: Int, W: Int
    let rows: AxisInterpolation, cols: AxisInterpolation

    init(height h: Int, width w: Int, toHeight H: Int, toWidth W: Int, method: Upsampler, field: ReceptiveField?) throws {
        self.h = h; self.w = w; self.H = H; self.W = W
        switch method {
        case .bilinear:
            rows = .bilinear(source: h, target: H); cols = .bilinear(source: w, target: W)
        case .receptiveField:
            guard let f = field else {
                throw GlassboxError.invalidArgument(name: "upsampler", expected: "bilinear for activations without a receptive field",
                                                    found: "receptive-field")
            }
            rows = .receptiveField(source: h, target: H, field: f); cols = .receptiveField(source: w, target: W, field: f)
        }
    }

    /// `out[y·W + x]` from `map[i·w + j]`; `row` is scratch of at least w floats.
    @inline(__always)
    func apply(_ map: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ row: UnsafeMutablePointer<Float>) {
        for y in 0..<H {
            let a = map + rows.i0[y] * w, b = map + rows.i1[y] * w, t = rows.w[y]
            for j in 0..<w { row[j] = a[j] + t * (b[j] - a[j]) }
            let o = out + y * W
            for x in 0..<W {
                let u = row[cols.i0[x]], v = row[cols.i1[x]]
                o[x] = u + cols.w[x] * (v - u)
            }
        }
    }
}
