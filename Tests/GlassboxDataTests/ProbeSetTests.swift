import Foundation
import XCTest
@testable import GlassboxCore
@testable import GlassboxData

/// Two hand-made 28×28 images: a ring (label 0) and an upright 3-pixel bar (label 1), grey 0.9 on black.
func handProbeImages() -> Tensor {
    let h = 28, w = 28
    var px = [Float](repeating: 0, count: 2 * h * w)
    for y in 0..<h {
        for x in 0..<w {
            let r = (Double((y - 14) * (y - 14) + (x - 14) * (x - 14))).squareRoot()
            if r >= 5 && r <= 8 { px[y * w + x] = 0.9 }
            if y >= 4 && y < 24 && x >= 13 && x < 16 { px[h * w + y * w + x] = 0.9 }
        }
    }
    return Tensor(shape: [2, 1, h, w], scalars: px)
}

/// The pixels of image `i` set in `c`'s mask.
func pixels(_ c: Concept, image i: Int, _ layout: MaskLayout) -> [Int] {
    (0..<layout.pixelsPerImage).filter { c.mask[layout.bit(image: i, pixel: $0)] }
}

final class ProbeSetTests: XCTestCase {
    func testConceptsFromHandMadeImages() throws {
        let images = handProbeImages()
        let probes = try ProbeSets.fromImages(images: images, labels: [0, 1], classNames: ["ring", "bar"], name: "mnist-hand")
        let L = probes.layout
        XCTAssertEqual(L.wordsPerImage, 13)
        func c(_ n: String) throws -> Concept { try XCTUnwrap(probes.concept(named: n), n) }
        // Foreground = the drawn pixels (Otsu splits 0 from 0.9).
        for i in 0..<2 {
            let drawn = (0..<784).filter { images.scalars[i * 784 + $0] > 0 }
            XCTAssertEqual(pixels(try c("foreground"), image: i, L), drawn)
            XCTAssertEqual(pixels(try c("background"), image: i, L).count, 784 - drawn.count)
        }
        // The ring has one hole (its inside), the bar none.
        let hole = try c("hole")
        let inside = (0..<784).filter { p in
            let y = p / 28, x = p % 28
            return (Double((y - 14) * (y - 14) + (x - 14) * (x - 14))).squareRoot() < 5
        }
        XCTAssertEqual(pixels(hole, image: 0, L), inside)
        XCTAssertEqual(pixels(hole, image: 1, L), [])
        // Image-level class concepts cover whole images.
        XCTAssertEqual(pixels(try c("class-ring"), image: 0, L).count, 784)
        XCTAssertEqual(pixels(try c("class-ring"), image: 1, L).count, 0)
        XCTAssertTrue(try c("class-bar").imageLevel)
        XCTAssertEqual(try c("class-bar").category, .class)
        // The bar: two endpoints, no junction, a vertical edge and no horizontal edge along its sides.
        let ends = pixels(try c("endpoint"), image: 1, L).map { $0 / 28 }
        XCTAssertFalse(ends.isEmpty)
        XCTAssertTrue(ends.allSatisfy { $0 <= 7 || $0 >= 20 }, "endpoint marks near the bar's ends: rows \(ends)")
        XCTAssertTrue(probes.concept(named: "junction").map { pixels($0, image: 1, L).isEmpty } ?? true)
        XCTAssertEqual(pixels(try c("edge-vertical"), image: 1, L).filter { $0 / 28 == 14 }.map { $0 % 28 }, [12, 13, 15, 16])
        XCTAssertTrue(pixels(try c("edge-horizontal"), image: 1, L).allSatisfy { $0 / 28 <= 5 || $0 / 28 >= 22 })
        // Grid cells tile each image.
        let cells = ProbeSets.gridNames.map { try! c($0) }
        XCTAssertEqual(cells.reduce(0) { $0 + $1.mask.popcount }, 2 * 784)
        XCTAssertEqual(pixels(cells[0], image: 1, L).count, 100)   // rows 0–9 × columns 0–9
        // Morphometry for digits: the upright bar is in the upright slant bin, 3 pixels thick (above 2.25: thick).
        XCTAssertEqual(pixels(try c("slant-upright"), image: 1, L).count, 784)
        XCTAssertEqual(try c("slant-upright").category, .morphology)
        XCTAssertEqual(pixels(try c("thickness-thick"), image: 1, L).count, 784)
        // Its core column is a thick stroke (width 3 > 2), its sides take the width of the skeleton next to them.
        XCTAssertEqual(pixels(try c("stroke-thick"), image: 1, L).filter { $0 / 28 == 14 }.map { $0 % 28 }, [13, 14, 15])
        // Intensity: 0.9 is "white", 0 "black".
        XCTAssertEqual(pixels(try c("intensity-white"), image: 1, L).count, 60)
        XCTAssertNil(probes.concept(named: "intensity-dark"), "empty concepts are dropped")
        // Morphometry is off for data not named mnist…, and on request.
        let other = try ProbeSets.fromImages(images: images, labels: nil, classNames: [], name: "fashion")
        XCTAssertNil(other.concept(named: "slant-upright"))
        XCTAssertNil(other.concept(named: "class-ring"))
    }

    func testConceptsDoNotDependOnThreadCount() throws {
        let images = handProbeImages()
        let saved = Parallel.threads
        defer { Parallel.threads = saved }
        Parallel.threads = 1
        let a = try ProbeSets.fromImages(images: images, labels: [0, 1], classNames: ["ring", "bar"], name: "mnist")
        Parallel.threads = 4
        let b = try ProbeSets.fromImages(images: images, labels: [0, 1], classNames: ["ring", "bar"], name: "mnist")
        XCTAssertEqual(a, b)
    }

    func testBadImageInputThrows() {
        let bad = Tensor(shape: [1, 1, 4, 4], scalars: [Float](repeating: 1.5, count: 16))
        XCTAssertThrowsError(try ProbeSets.fromImages(images: bad, labels: nil, classNames: [], name: "x"))
        let twoChannels = Tensor(zeros: [1, 2, 4, 4])
        XCTAssertThrowsError(try ProbeSets.fromImages(images: twoChannels, labels: nil, classNames: [], name: "x"))
        XCTAssertThrowsError(try ProbeSets.fromImages(images: Tensor(zeros: [1, 1, 4, 4]), labels: [3], classNames: ["a"], name: "x"))
        var cfg = ImageConceptConfig()
        cfg.slantEdgesDegrees = [10, -10]
        XCTAssertThrowsError(try ProbeSets.fromImages(images: Tensor(zeros: [1, 1, 4, 4]), labels: nil, classNames: [], name: "x", config: cfg))
    }

    // MARK: Synthetic

    /// The ≥ 50 % rule on squares: pixel-aligned squares are exact, and a square shifted by fractions keeps the
    /// pixels it covers by more than half.
    func testSyntheticSquareMasksFollowTheHalfCoverageRule() {
        let r = SyntheticRenderer(width: 28, height: 28)
        let aligned = r.mask(SyntheticObject(kind: .square, x: 5, y: 7, size: 10))
        XCTAssertEqual(aligned, canvas(28, 28, [(7, 17, 5, 15)]))
        let shifted = r.mask(SyntheticObject(kind: .square, x: 5.3, y: 7.6, size: 10))
        // Column 5 is covered 70 %, column 15 30 %; row 7 40 %, row 17 60 %; so the corner pixel (17, 5) 42 %.
        XCTAssertEqual(shifted, canvas(28, 28, [(8, 17, 5, 15), (17, 18, 6, 15)]))
        let (region, _) = r.render(SyntheticObject(kind: .square, x: 5.3, y: 7.6, size: 10))
        XCTAssertEqual(Double(region[10 * 28 + 5]) / 255, 0.7, accuracy: 0.01)
        XCTAssertEqual(Double(region[7 * 28 + 10]) / 255, 0.4, accuracy: 0.07)
    }

    /// Areas of drawn shapes: a disc of radius r has ≈ πr² pixels, a ring the annulus, a cross 5/9 of its square,
    /// a triangle half its square, a horizontal bar length × thickness.
    func testSyntheticShapeAreas() {
        let r = SyntheticRenderer(width: 32, height: 32)
        func area(_ k: SyntheticKind, _ s: Double, at x: Double = 4) -> Int { r.mask(SyntheticObject(kind: k, x: x, y: x, size: s)).filter { $0 }.count }
        XCTAssertEqual(Double(area(.disc, 20)), Double.pi * 100, accuracy: 6)
        let t = 20.0 / 5
        XCTAssertEqual(Double(area(.ring, 20)), Double.pi * (100 - (10 - t) * (10 - t)), accuracy: 8)
        XCTAssertEqual(area(.square, 20), 400)
        XCTAssertEqual(Double(area(.cross, 18)), 18.0 * 18 * 5 / 9, accuracy: 8)
        XCTAssertEqual(Double(area(.triangle, 20)), 200, accuracy: 8)
        XCTAssertEqual(area(.barHorizontal, 20), 20 * 4)
        XCTAssertEqual(area(.barVertical, 20), 20 * 4)
        // A diagonal bar 4 pixels thick spans 5 or 6 diagonals of pixel centres depending on where it lies, so its
        // ≥ 50 % mask is 85 or 103 pixels for an area of 97; Cairo's coverage itself sums to the area.
        let diagonalArea = (20 * 2.0.squareRoot() - 4) * 4
        for k in [SyntheticKind.barRising, .barFalling] {
            let (cov, _) = r.render(SyntheticObject(kind: k, x: 4.3, y: 4.3, size: 20))
            XCTAssertEqual(cov.reduce(0.0) { $0 + Double($1) } / 255, diagonalArea, accuracy: 0.01 * diagonalArea)
            XCTAssertEqual(Double(area(k, 20, at: 4.3)), diagonalArea, accuracy: 0.15 * diagonalArea)
        }
        // A texture's region is its whole patch; its paint is the pattern (about half of it for stripes and checkers).
        let (patch, paint) = r.render(SyntheticObject(kind: .stripesVertical, x: 4, y: 4, size: 16, cell: 2))
        XCTAssertEqual(patch.filter { $0 >= 128 }.count, 256)
        XCTAssertEqual(Double(paint.filter { $0 >= 128 }.count), 128, accuracy: 16)
        let (_, checks) = r.render(SyntheticObject(kind: .checkers, x: 4, y: 4, size: 16, cell: 2))
        XCTAssertEqual(checks.filter { $0 >= 128 }.count, 128)
    }

    /// A generated set: objects never overlap, every lit pixel lies at an object, and object pixels are painted.
    func testSyntheticSetIsConsistent() throws {
        let cfg = SyntheticProbeConfig(count: 300, seed: 7)
        let probes = try ProbeSets.synthetic(cfg)
        XCTAssertEqual(probes.images.shape, [300, 1, 28, 28])
        XCTAssertGreaterThanOrEqual(probes.concepts.count, 100, "concepts: \(probes.concepts.map(\.name))")
        let kinds = SyntheticKind.allCases.compactMap { probes.concept(named: $0.rawValue) }
        XCTAssertEqual(kinds.count, SyntheticKind.allCases.count)
        var union = probes.layout.emptyMask()
        for k in kinds { union.formUnion(k.mask) }
        XCTAssertEqual(union.popcount, kinds.reduce(0) { $0 + $1.mask.popcount }, "object masks are disjoint")
        // Sizes partition the objects, shape/bar/texture too.
        let sizes = ["small", "medium", "large"].map { try! XCTUnwrap(probes.concept(named: $0)).mask }
        XCTAssertEqual(sizes.reduce(probes.layout.emptyMask(), |), union)
        XCTAssertEqual(sizes.map(\.popcount).reduce(0, +), union.popcount)
        let groups = ["shape", "bar", "texture"].map { try! XCTUnwrap(probes.concept(named: $0)).mask }
        XCTAssertEqual(groups.reduce(probes.layout.emptyMask(), |), union)
        // Every pixel brighter than the anti-aliasing fringe is at an object; solid objects are painted ≥ 0.25.
        let L = probes.layout
        let solid = (["shape", "bar"].map { try! XCTUnwrap(probes.concept(named: $0)).mask }).reduce(L.emptyMask(), |)
        for i in 0..<300 {
            for p in 0..<784 {
                let v = probes.images.scalars[i * 784 + p]
                let bit = L.bit(image: i, pixel: p)
                if solid[bit] { XCTAssertGreaterThanOrEqual(v, 0.25) }
                if v > 0.5 {
                    let y = p / 28, x = p % 28
                    var near = false
                    for yy in max(0, y - 1)...min(27, y + 1) { for xx in max(0, x - 1)...min(27, x + 1) where union[L.bit(image: i, pixel: yy * 28 + xx)] { near = true } }
                    XCTAssertTrue(near, "lit pixel \(p) of image \(i) away from every object")
                }
            }
        }
        // The drawn probe set carries the computed concepts of its images too.
        XCTAssertNotNil(probes.concept(named: "edge-vertical"))
        XCTAssertNotNil(probes.concept(named: "top-left"))
    }

    func testSyntheticIsDeterministic() throws {
        let saved = Parallel.threads
        defer { Parallel.threads = saved }
        Parallel.threads = 1
        let a = try ProbeSets.synthetic(SyntheticProbeConfig(count: 50, seed: 1))
        Parallel.threads = 3
        let b = try ProbeSets.synthetic(SyntheticProbeConfig(count: 50, seed: 1))
        XCTAssertEqual(a.encoded(), b.encoded())
        let c = try ProbeSets.synthetic(SyntheticProbeConfig(count: 50, seed: 2))
        XCTAssertNotEqual(a.contentHash, c.contentHash)
    }

    func testSyntheticColour() throws {
        let probes = try ProbeSets.synthetic(.colour32(count: 200, seed: 3))
        XCTAssertEqual(probes.images.shape, [200, 3, 32, 32])
        XCTAssertEqual(probes.layout.wordsPerImage, 16)
        let red = try XCTUnwrap(probes.concept(named: "red-object"))
        XCTAssertEqual(red.category, .colour)
        // Pixels of solid red objects that are fully covered look red to the HSV namer.
        let L = probes.layout
        let solid = ["shape", "bar"].compactMap { probes.concept(named: $0)?.mask }.reduce(L.emptyMask(), |)
        var checked = 0
        for bit in (red.mask & solid).setIndices {
            let i = bit / (16 * 64), p = bit % (16 * 64)
            let rgb = (0..<3).map { probes.images.scalars[((i * 3) + $0) * 1024 + p] }
            if abs(rgb[0] - 0.9) < 1e-6 { XCTAssertEqual(ColourNames.index(r: rgb[0], g: rgb[1], b: rgb[2]), 3); checked += 1 }
        }
        XCTAssertGreaterThan(checked, 20)
        XCTAssertNotNil(probes.concept(named: "red"), "computed colour names")
    }

    func testSyntheticConfigValidation() {
        var c = SyntheticProbeConfig()
        c.maxObjects = 0
        XCTAssertThrowsError(try ProbeSets.synthetic(c))
        c = SyntheticProbeConfig(sizeEdges: [0.5, 0.4, 0.6, 0.7])
        XCTAssertThrowsError(try ProbeSets.synthetic(c))
        c = SyntheticProbeConfig(count: 0)
        XCTAssertThrowsError(try ProbeSets.synthetic(c))
    }

    // MARK: Encoding

    func testEncodingRoundTrip() throws {
        let a = try ProbeSets.fromImages(images: handProbeImages(), labels: [0, 1], classNames: ["ring", "bar"], name: "mnist-hand")
        let data = a.encoded()
        let b = try ProbeSet.decode(data)
        XCTAssertEqual(a, b)
        XCTAssertEqual(b.encoded(), data)
        let s = try ProbeSets.synthetic(.colour32(count: 20, seed: 5))
        XCTAssertEqual(try ProbeSet.decode(s.encoded()), s)
        XCTAssertEqual(try ProbeSet.decode(try s.subset([3, 1]).encoded()), try s.subset([3, 1]))
    }

    /// Corrupt bytes throw a `GlassboxError` naming the part; a valid checksum over invalid contents is caught by
    /// the field checks; random mutations never crash.
    func testCorruptEncodingsThrow() throws {
        let probes = try ProbeSets.fromImages(images: handProbeImages(), labels: [0, 1], classNames: ["ring", "bar"], name: "mnist")
        let data = [UInt8](probes.encoded())
        func field(_ bytes: [UInt8]) -> String? {
            do { _ = try ProbeSet.decode(Data(bytes), source: "p.bin"); return nil } catch let e as GlassboxError {
                if case let .badFile(path, field, _, _) = e { XCTAssertEqual(path, "p.bin"); return field }
                XCTFail("\(e)"); return nil
            } catch { XCTFail("\(error)"); return nil }
        }
        func resealed(_ b: [UInt8]) -> [UInt8] {
            var body = Array(b[0..<(b.count - 32)])
            var h = SHA256(); h.update(Data(body)); body += h.finalize()
            return body
        }
        var flipped = data; flipped[data.count / 2] ^= 0x40
        XCTAssertEqual(field(flipped), "checksum")
        XCTAssertEqual(field(Array(data[0..<(data.count - 5)])), "checksum")
        XCTAssertEqual(field(Array(data.prefix(10))), "magic")
        var magic = data; magic[0] = UInt8(ascii: "X")
        XCTAssertEqual(field(magic), "magic")
        // Resealed truncation: the reader runs out of bytes.
        XCTAssertNotNil(field(resealed(Array(data[0..<(data.count - 100)]))))
        // A stray padding bit in the first concept's first image (bit 784 = word 12, bit 16) with a valid checksum.
        let firstMask = probes.encoded().count - 32 - probes.concepts.reduce(0) { $0 + 4 + $1.name.utf8.count + 4 + $1.category.rawValue.utf8.count + 1 + 8 + $1.mask.words.count * 8 }
        let c0 = probes.concepts[0]
        let wordsStart = firstMask + 4 + c0.name.utf8.count + 4 + c0.category.rawValue.utf8.count + 1 + 8
        var stray = data; stray[wordsStart + 12 * 8 + 2] |= 0x01
        XCTAssertEqual(field(resealed(stray)), "concept '\(c0.name)' mask")
        var pop = data; pop[wordsStart - 8] ^= 0x01
        XCTAssertEqual(field(resealed(pop)), "concept '\(c0.name)' popcount")
        // Image values outside [0, 1].
        let imagesStart = 8 + 4 + 16 + 4 + probes.name.utf8.count + 4 + probes.classNames.reduce(0) { $0 + 4 + $1.utf8.count } + 1 + 2 * 4
        var big = data; big[imagesStart + 3] = 0x7F
        XCTAssertEqual(field(resealed(big)), "images")
        // Random resealed mutations: decode or throw, never trap.
        var g = SeededGenerator(seed: 11)
        for _ in 0..<300 {
            var m = data
            for _ in 0..<(1 + g.int(below: 3)) { m[g.int(below: m.count - 32)] = UInt8(truncatingIfNeeded: g.next()) }
            _ = try? ProbeSet.decode(Data(resealed(m)))
        }
    }
}
