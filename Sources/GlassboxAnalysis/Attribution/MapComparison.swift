import Foundation

/// Similarity of two attribution maps, as the sanity checks of Adebayo et al. (2018) measure it.
public enum MapComparison {
    /// Ranks 1…n with ties given their average rank (as `scipy.stats.rankdata`).
    public static func ranks(_ v: [Float]) -> [Double] {
        let order = v.indices.sorted { v[$0] < v[$1] || (v[$0] == v[$1] && $0 < $1) }
        var r = [Double](repeating: 0, count: v.count)
        var i = 0
        while i < order.count {
            var j = i
            while j + 1 < order.count && v[order[j + 1]] == v[order[i]] { j += 1 }
            let average = Double(i + j) / 2 + 1
            for k in i...j { r[order[k]] = average }
            i = j + 1
        }
        return r
    }

    /// Pearson correlation of two equally long samples (0 when either is constant).
    public static func pearson(_ a: [Double], _ b: [Double]) -> Double {
        let n = Double(a.count)
        guard a.count > 1 else { return 0 }
        let ma = a.reduce(0, +) / n, mb = b.reduce(0, +) / n
        var sab = 0.0, saa = 0.0, sbb = 0.0
        for i in a.indices {
            let da = a[i] - ma, db = b[i] - mb
            sab += da * db; saa += da * da; sbb += db * db
        }
        return saa > 0 && sbb > 0 ? sab / (saa * sbb).squareRoot() : 0
    }

    /// Spearman's rank correlation: Pearson's of the (tie-averaged) ranks (as `scipy.stats.spearmanr`).
    public static func spearman(_ a: [Float], _ b: [Float]) -> Double {
        precondition(a.count == b.count)
        return pearson(ranks(a), ranks(b))
    }

    /// Mean structural similarity of two `h × w` maps (one plane each) over 7×7 windows with uniform weights, the
    /// constants K1 = 0.01, K2 = 0.03 and the data range given (scikit-image's `structural_similarity` defaults,
    /// without its border cropping: every window that fits is averaged).
    public static func ssim(_ a: [Float], _ b: [Float], height h: Int, width w: Int, dataRange: Double, window: Int = 7) -> Double {
        precondition(a.count == h * w && b.count == h * w)
        let win = min(window, h, w)
        guard win >= 1, dataRange > 0 else { return a == b ? 1 : 0 }
        let c1 = pow(0.01 * dataRange, 2), c2 = pow(0.03 * dataRange, 2)
        let np = Double(win * win), unbiased = np > 1 ? np / (np - 1) : 1
        var total = 0.0, count = 0
        for y0 in 0...(h - win) {
            for x0 in 0...(w - win) {
                var sa = 0.0, sb = 0.0, saa = 0.0, sbb = 0.0, sab = 0.0
                for y in y0..<(y0 + win) {
                    for x in x0..<(x0 + win) {
                        let u = Double(a[y * w + x]), v = Double(b[y * w + x])
                        sa += u; sb += v; saa += u * u; sbb += v * v; sab += u * v
                    }
                }
                let ma = sa / np, mb = sb / np
                let va = (saa / np - ma * ma) * unbiased, vb = (sbb / np - mb * mb) * unbiased
                let cov = (sab / np - ma * mb) * unbiased
                total += ((2 * ma * mb + c1) * (2 * cov + c2)) / ((ma * ma + mb * mb + c1) * (va + vb + c2))
                count += 1
            }
        }
        return total / Double(count)
    }
}
