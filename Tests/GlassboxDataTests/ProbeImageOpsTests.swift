import XCTest
@testable import GlassboxCore
@testable import GlassboxData

/// A hand-drawn binary image: `rows` of '#' (on) and '.' (off).
func sketch(_ rows: [String]) -> (mask: [Bool], h: Int, w: Int) {
    let h = rows.count, w = rows[0].count
    return (rows.flatMap { $0.map { $0 == "#" } }, h, w)
}

/// An H×W canvas with filled axis-aligned rectangles (rows y0..<y1, columns x0..<x1).
func canvas(_ h: Int, _ w: Int, _ rects: [(Int, Int, Int, Int)]) -> [Bool] {
    var m = [Bool](repeating: false, count: h * w)
    for (y0, y1, x0, x1) in rects { for y in y0..<y1 { for x in x0..<x1 { m[y * w + x] = true } } }
    return m
}

/// Number of 8-connected components of the set pixels.
func blobCount(_ m: [Bool], _ h: Int, _ w: Int) -> Int { ImageOps.components(m, height: h, width: w, eight: true).count }

final class ProbeImageOpsTests: XCTestCase {
    func testOtsuSplitsTwoLevels() {
        let v: [Float] = (0..<100).map { $0 < 60 ? 0.1 : 0.85 }
        let fg = v.withUnsafeBufferPointer { ImageOps.foreground($0, threshold: nil) }
        XCTAssertEqual(fg, v.map { $0 > 0.5 })
        let constant = [Float](repeating: 0.3, count: 16)
        XCTAssertNil(constant.withUnsafeBufferPointer { ImageOps.otsuBin($0) })
        XCTAssertEqual(constant.withUnsafeBufferPointer { ImageOps.foreground($0, threshold: nil) }, [Bool](repeating: false, count: 16))
        XCTAssertEqual(v.withUnsafeBufferPointer { ImageOps.foreground($0, threshold: 0.5) }, v.map { $0 > 0.5 })
    }

    func testOrientationBins() {
        XCTAssertEqual(ImageOps.orientationBin(gx: 1, gy: 0), 0)
        XCTAssertEqual(ImageOps.orientationBin(gx: -1, gy: 0), 0)
        XCTAssertEqual(ImageOps.orientationBin(gx: 1, gy: 1), 1)
        XCTAssertEqual(ImageOps.orientationBin(gx: -1, gy: -1), 1)
        XCTAssertEqual(ImageOps.orientationBin(gx: 0, gy: 1), 2)
        XCTAssertEqual(ImageOps.orientationBin(gx: 0, gy: -1), 2)
        XCTAssertEqual(ImageOps.orientationBin(gx: -1, gy: 1), 3)
        XCTAssertEqual(ImageOps.orientationBin(gx: 1, gy: -1), 3)
        XCTAssertEqual(ImageOps.orientationBin(gx: 1, gy: 0.38), 0)   // 20.8° stays in the vertical-edge bin
        XCTAssertEqual(ImageOps.orientationBin(gx: 1, gy: 0.45), 1)   // 24.2° is in the rising bin
    }

    /// Sobel on bars: a full-height vertical bar only lights the vertical-edge bin, a horizontal bar only the
    /// horizontal one, and diagonal lines mostly their own diagonal bin.
    func testSobelBinsOfBars() throws {
        let h = 20, w = 20
        func edgeBins(_ m: [Bool]) -> [Int] {
            let v = m.map { Float($0 ? 1 : 0) }
            let (gx, gy) = v.withUnsafeBufferPointer { ImageOps.sobel($0, height: h, width: w) }
            var counts = [0, 0, 0, 0]
            for i in 0..<(h * w) where gx[i] * gx[i] + gy[i] * gy[i] >= 1 { counts[ImageOps.orientationBin(gx: gx[i], gy: gy[i])] += 1 }
            return counts
        }
        let vertical = edgeBins(canvas(h, w, [(0, 20, 8, 11)]))
        XCTAssertEqual(vertical, [4 * 20, 0, 0, 0])   // columns 7, 8 and 10, 11 on both sides: 4 per row
        let horizontal = edgeBins(canvas(h, w, [(8, 11, 0, 20)]))
        XCTAssertEqual(horizontal, [0, 0, 4 * 20, 0])
        var rising = [Bool](repeating: false, count: h * w), falling = rising
        for y in 0..<h { for x in 0..<w where abs(x + y - (w - 1)) <= 1 { rising[y * w + x] = true } }
        for y in 0..<h { for x in 0..<w where abs(x - y) <= 1 { falling[y * w + x] = true } }
        let r = edgeBins(rising), f = edgeBins(falling)
        XCTAssertGreaterThan(Double(r[1]), 0.9 * Double(r.reduce(0, +)), "rising line: \(r)")
        XCTAssertGreaterThan(Double(f[3]), 0.9 * Double(f.reduce(0, +)), "falling line: \(f)")
        // Step edge magnitude: a clean 0→1 step gives |gx| = 4.
        let step = canvas(5, 6, [(0, 5, 3, 6)]).map { Float($0 ? 1 : 0) }
        let (gx, _) = step.withUnsafeBufferPointer { ImageOps.sobel($0, height: 5, width: 6) }
        XCTAssertEqual(gx[2 * 6 + 2], 4)
        XCTAssertEqual(gx[2 * 6 + 3], 4)
        XCTAssertEqual(gx[2 * 6 + 0], 0)
    }

    func testHolesOfHandDrawnShapes() {
        let ring = sketch([
            "..........",
            "...####...",
            "..#....#..",
            "..#....#..",
            "..#....#..",
            "...####...",
            "..........",
        ])
        let r = ImageOps.holes(foreground: ring.mask, height: ring.h, width: ring.w)
        XCTAssertEqual(r.count, 1)
        XCTAssertEqual(r.mask.filter { $0 }.count, 12)   // the 4×3 inside
        let eight = sketch([
            ".###.",
            ".#.#.",
            ".###.",
            ".#.#.",
            ".###.",
        ])
        XCTAssertEqual(ImageOps.holes(foreground: eight.mask, height: 5, width: 5).count, 2)
        let c = sketch([
            ".###.",
            ".#...",
            ".#...",
            ".###.",
        ])
        XCTAssertEqual(ImageOps.holes(foreground: c.mask, height: 4, width: 5).count, 0)
        // A pixel inside a diamond drawn with diagonal steps is a hole: the background is 4-connected, so it cannot
        // leak out between two diagonally touching foreground pixels.
        let diamond = sketch([
            "..#..",
            ".#.#.",
            "..#..",
        ])
        XCTAssertEqual(ImageOps.holes(foreground: diamond.mask, height: 3, width: 5).count, 1)
        // A disc has none.
        XCTAssertEqual(ImageOps.holes(foreground: canvas(9, 9, [(2, 7, 2, 7)]), height: 9, width: 9).count, 0)
    }

    func testDistanceTransformMatchesBruteForce() {
        var g = SeededGenerator(seed: 3)
        for _ in 0..<20 {
            let h = 3 + g.int(below: 10), w = 3 + g.int(below: 10)
            let m = (0..<(h * w)).map { _ in g.uniform() < 0.7 }
            let d = ImageOps.distanceTransform(m, height: h, width: w)
            for y in 0..<h {
                for x in 0..<w {
                    var best = Double.infinity
                    guard m[y * w + x] else { XCTAssertEqual(d[y * w + x], 0); continue }
                    for yy in -1...h { for xx in -1...w where yy < 0 || yy >= h || xx < 0 || xx >= w || !m[yy * w + xx] {
                        best = min(best, Double((yy - y) * (yy - y) + (xx - x) * (xx - x)).squareRoot())
                    } }
                    XCTAssertEqual(d[y * w + x], best, accuracy: 1e-12)
                }
            }
        }
    }

    /// Thinning, endpoints and junctions of thick strokes: an L has two endpoints and no junction, a T three
    /// endpoints and one junction, a plus four endpoints and one junction, a ring neither.
    func testSkeletonKeypointsOfLetters() {
        let h = 21, w = 21
        func keypoints(_ fg: [Bool]) -> (skeleton: Int, endpoints: Int, junctions: Int) {
            let s = Skeleton.thin(fg, height: h, width: w)
            return (s.filter { $0 }.count, blobCount(Skeleton.endpoints(s, height: h, width: w), h, w),
                    blobCount(Skeleton.junctions(s, height: h, width: w), h, w))
        }
        let l = keypoints(canvas(h, w, [(3, 18, 4, 7), (15, 18, 4, 17)]))
        XCTAssertEqual(l.endpoints, 2, "L")
        XCTAssertEqual(l.junctions, 0, "L")
        let t = keypoints(canvas(h, w, [(3, 6, 3, 18), (3, 18, 9, 12)]))
        XCTAssertEqual(t.endpoints, 3, "T")
        XCTAssertEqual(t.junctions, 1, "T")
        let plus = keypoints(canvas(h, w, [(9, 12, 2, 19), (2, 19, 9, 12)]))
        XCTAssertEqual(plus.endpoints, 4, "+")
        XCTAssertEqual(plus.junctions, 1, "+")
        var ring = [Bool](repeating: false, count: h * w)
        for y in 0..<h { for x in 0..<w { let r = (Double((y - 10) * (y - 10) + (x - 10) * (x - 10))).squareRoot(); ring[y * w + x] = r >= 5 && r <= 7.5 } }
        let o = keypoints(ring)
        XCTAssertEqual(o.endpoints, 0, "ring")
        XCTAssertEqual(o.junctions, 0, "ring")
        XCTAssertEqual(ImageOps.holes(foreground: Skeleton.thin(ring, height: h, width: w), height: h, width: w).count, 1, "the ring's skeleton is a closed loop")
    }

    /// A one-pixel line is its own skeleton; thinning a bar gives a connected, one-pixel-wide centre line.
    func testThinningOfLinesAndBars() {
        let line = canvas(7, 12, [(3, 4, 1, 11)])
        XCTAssertEqual(Skeleton.thin(line, height: 7, width: 12), line)
        let bar = canvas(9, 16, [(2, 7, 2, 14)])
        let s = Skeleton.thin(bar, height: 9, width: 16)
        XCTAssertEqual(blobCount(s, 9, 16), 1)
        for x in 5..<11 { XCTAssertEqual((0..<9).filter { s[$0 * 16 + x] }, [4], "column \(x) of the 5-wide bar's skeleton") }
    }

    /// Stroke width at the skeleton is the bar's width; thickness (Morpho-MNIST) of 1, 3, 5 pixel bars is 1, 3, 5.
    func testStrokeWidthAndThickness() {
        let h = 24, w = 24
        for width in [1, 3, 5] {
            let fg = canvas(h, w, [(3, 21, 10, 10 + width)])
            let s = Skeleton.thin(fg, height: h, width: w)
            let d = ImageOps.distanceTransform(fg, height: h, width: w)
            let widths = Skeleton.strokeWidths(foreground: fg, skeleton: s, distance: d, height: h, width: w)
            // Away from the ends every foreground pixel takes the bar's width.
            for y in 8..<16 { for x in 10..<(10 + width) { XCTAssertEqual(widths[y * w + x], Double(width), "width \(width) at (\(y), \(x))") } }
            let t = Morphometry.thickness(skeleton: s, distance: d)!
            XCTAssertEqual(t, Double(width), accuracy: width == 1 ? 1e-9 : 0.35, "thickness of a \(width)-pixel bar")
        }
        XCTAssertNil(Morphometry.thickness(skeleton: [false, false], distance: [0, 0]))
    }

    /// Slant from second moments: an upright bar has 0°, a bar whose top is shifted right by s per row leans right
    /// by atan(s), and mirrored it leans left.
    func testSlant() {
        let h = 21, w = 21
        XCTAssertEqual(Morphometry.slantDegrees(foreground: canvas(h, w, [(2, 19, 9, 12)]), height: h, width: w)!, 0, accuracy: 1e-9)
        var lean = [Bool](repeating: false, count: h * w), mirror = lean
        for y in 2..<19 {
            let shift = (18 - y) / 2   // top right: x grows by 1 every 2 rows going up
            for x in (4 + shift)..<(7 + shift) { lean[y * w + x] = true; mirror[y * w + (w - 1 - x)] = true }
        }
        let a = Morphometry.slantDegrees(foreground: lean, height: h, width: w)!
        XCTAssertEqual(a, atan(0.5) * 180 / .pi, accuracy: 2.5)
        XCTAssertEqual(Morphometry.slantDegrees(foreground: mirror, height: h, width: w)!, -a, accuracy: 1e-9)
        XCTAssertNil(Morphometry.slantDegrees(foreground: canvas(h, w, [(5, 6, 2, 19)]), height: h, width: w), "no vertical extent")
        XCTAssertEqual(Morphometry.bin(-12, edges: [-10, 10]), 0)
        XCTAssertEqual(Morphometry.bin(-10, edges: [-10, 10]), 1)
        XCTAssertEqual(Morphometry.bin(9.9, edges: [-10, 10]), 1)
        XCTAssertEqual(Morphometry.bin(10, edges: [-10, 10]), 2)
    }

    func testGridCellsAndDilation() {
        let rows = (0..<28).map { ImageOps.gridCell(y: $0, x: 0, height: 28, width: 28) / 3 }
        XCTAssertEqual(rows, [Int](repeating: 0, count: 10) + [Int](repeating: 1, count: 9) + [Int](repeating: 2, count: 9))
        XCTAssertEqual(ImageOps.gridCell(y: 27, x: 27, height: 28, width: 28), 8)
        XCTAssertEqual(ImageOps.gridCell(y: 12, x: 27, height: 28, width: 28), 5)
        var one = [Bool](repeating: false, count: 25)
        one[0] = true; one[12] = true
        let d = ImageOps.dilate(one, height: 5, width: 5, radius: 1)
        XCTAssertEqual(d.filter { $0 }.count, 4 + 9 - 1)   // corner square 2×2 and centre 3×3 sharing pixel (1, 1)
    }

    func testColourNames() {
        for (i, name) in SyntheticPalette.names.enumerated() {
            let (r, g, b) = SyntheticPalette.rgb[i]
            XCTAssertEqual(ColourNames.names[ColourNames.index(r: r, g: g, b: b)], name)
        }
        XCTAssertEqual(ColourNames.names[ColourNames.index(r: 0.1, g: 0.1, b: 0.15)], "black")
        XCTAssertEqual(ColourNames.names[ColourNames.index(r: 1, g: 0, b: 0.1)], "red")   // hue 354°
    }
}
