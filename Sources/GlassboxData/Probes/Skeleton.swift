/// Stroke skeletons: Zhang–Suen thinning and the skeleton's endpoints and junctions.
public enum Skeleton {
    /// The 8 neighbours of (y, x) in the order P2…P9 of Zhang & Suen (1984): N, NE, E, SE, S, SW, W, NW.
    /// Pixels outside the image count as background.
    /// Returned as bits: bit i is neighbour i of that order.
    @inline(__always)
    static func neighbours(_ m: [Bool], _ y: Int, _ x: Int, _ h: Int, _ w: Int) -> UInt8 {
        @inline(__always) func at(_ dy: Int, _ dx: Int) -> UInt8 {
            let ny = y + dy, nx = x + dx
            return ny >= 0 && ny < h && nx >= 0 && nx < w && m[ny * w + nx] ? 1 : 0
        }
        return at(-1, 0) | at(-1, 1) << 1 | at(0, 1) << 2 | at(1, 1) << 3 | at(1, 0) << 4 | at(1, -1) << 5 | at(0, -1) << 6 | at(-1, -1) << 7
    }

    @inline(__always) static func bit(_ p: UInt8, _ i: Int) -> Bool { p & (1 << UInt8(i)) != 0 }

    /// Number of 0→1 transitions going once round the 8-neighbourhood (the crossing number):
    /// 1 at the tip or along a line's side, 2 inside a line, ≥ 3 where branches meet.
    @inline(__always)
    static func transitions(_ p: UInt8) -> Int {
        let next = p >> 1 | p << 7   // bit i holds neighbour i + 1 (cyclically)
        return (~p & next).nonzeroBitCount
    }

    /// Zhang & Suen's thinning (CACM 1984): alternate two sub-iterations that delete a foreground pixel P1 when
    /// 2 ≤ B(P1) ≤ 6 neighbours, exactly one 0→1 transition round them, and P2·P4·P6 = 0, P4·P6·P8 = 0 (first
    /// sub-iteration) or P2·P4·P8 = 0, P2·P6·P8 = 0 (second), until nothing changes. Deletions of a sub-iteration
    /// are decided on the image as it was at its start.
    public static func thin(_ fg: [Bool], height h: Int, width w: Int) -> [Bool] {
        var m = fg
        var changed = true
        while changed {
            changed = false
            for step in 0..<2 {
                var remove: [Int] = []
                for y in 0..<h {
                    for x in 0..<w where m[y * w + x] {
                        let p = neighbours(m, y, x, h, w)
                        let b = p.nonzeroBitCount
                        guard b >= 2, b <= 6, transitions(p) == 1 else { continue }
                        // bit 0 = P2 (N), 2 = P4 (E), 4 = P6 (S), 6 = P8 (W)
                        let (n, e, so, we) = (bit(p, 0), bit(p, 2), bit(p, 4), bit(p, 6))
                        let ok = step == 0 ? !(n && e && so) && !(e && so && we) : !(n && e && we) && !(n && so && we)
                        if ok { remove.append(y * w + x) }
                    }
                }
                for i in remove { m[i] = false }
                if !remove.isEmpty { changed = true }
            }
        }
        return m
    }

    /// Endpoints of a skeleton: pixels with exactly one skeleton neighbour, or with two that touch each other
    /// (a tip that ends in a step) — i.e. one run of neighbours (crossing number 1) of at most two pixels.
    public static func endpoints(_ s: [Bool], height h: Int, width w: Int) -> [Bool] {
        var out = [Bool](repeating: false, count: h * w)
        for y in 0..<h {
            for x in 0..<w where s[y * w + x] {
                let p = neighbours(s, y, x, h, w)
                let b = p.nonzeroBitCount
                if b == 1 || (b == 2 && transitions(p) == 1) { out[y * w + x] = true }
            }
        }
        return out
    }

    /// Junctions of a skeleton: pixels where three or more branches meet (crossing number ≥ 3).
    public static func junctions(_ s: [Bool], height h: Int, width w: Int) -> [Bool] {
        var out = [Bool](repeating: false, count: h * w)
        for y in 0..<h {
            for x in 0..<w where s[y * w + x] {
                if transitions(neighbours(s, y, x, h, w)) >= 3 { out[y * w + x] = true }
            }
        }
        return out
    }

    /// Local stroke width: at a skeleton pixel s, 2·d(s) − 1 with d the Euclidean distance to the background
    /// (a straight stroke k pixels wide, k odd, gives k). Every foreground pixel takes the width of the skeleton pixel
    /// a breadth-first search through the foreground (8-neighbours, seeds in raster order) reaches it from first.
    /// Returns 0 outside the foreground (and everywhere when the skeleton is empty).
    public static func strokeWidths(foreground fg: [Bool], skeleton s: [Bool], distance d: [Double], height h: Int, width w: Int) -> [Double] {
        var width = [Double](repeating: 0, count: h * w)
        var seen = [Bool](repeating: false, count: h * w)
        var queue: [Int] = []
        queue.reserveCapacity(h * w)
        for i in 0..<(h * w) where s[i] && fg[i] {
            width[i] = 2 * d[i] - 1
            seen[i] = true
            queue.append(i)
        }
        var head = 0
        while head < queue.count {
            let p = queue[head]; head += 1
            let y = p / w, x = p % w
            for dy in -1...1 {
                for dx in -1...1 where dy != 0 || dx != 0 {
                    let ny = y + dy, nx = x + dx
                    guard ny >= 0, ny < h, nx >= 0, nx < w else { continue }
                    let q = ny * w + nx
                    if fg[q] && !seen[q] { seen[q] = true; width[q] = width[p]; queue.append(q) }
                }
            }
        }
        return width
    }
}
