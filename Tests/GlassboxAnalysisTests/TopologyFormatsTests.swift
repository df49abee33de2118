import Foundation
import GlassboxCore
import XCTest
@testable import GlassboxAnalysis

final class TopologyFormatsTests: XCTestCase {
    /// A version-1.0 .npy file written byte by byte as NumPy lays it out (header padded to a multiple of 64).
    func npy(descr: String, shape: String, fortran: Bool = false, payload: [UInt8]) -> Data {
        var header = "{'descr': '\(descr)', 'fortran_order': \(fortran ? "True" : "False"), 'shape': \(shape), }"
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        var bytes: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0]
        bytes += [UInt8(header.utf8.count & 0xff), UInt8(header.utf8.count >> 8)]
        bytes += Array(header.utf8)
        return Data(bytes + payload)
    }

    func le<T: FixedWidthInteger>(_ x: T) -> [UInt8] { withUnsafeBytes(of: x.littleEndian) { Array($0) } }

    func testNPYFloat32AndFloat64InCAndFortranOrder() throws {
        let v: [Float] = [1, 2, 3, 4, 5, 6]
        let f4 = try PointFormats.parse(npy(descr: "<f4", shape: "(3, 2)", payload: v.flatMap { le($0.bitPattern) }), source: "a.npy")
        XCTAssertEqual(f4.dimension, 2)
        XCTAssertEqual(f4.values, [1, 2, 3, 4, 5, 6])
        let w: [Double] = [1, 3, 5, 2, 4, 6]   // column-major of the same 3 × 2 matrix
        let f8 = try PointFormats.parse(npy(descr: "<f8", shape: "(3, 2)", fortran: true, payload: w.flatMap { le($0.bitPattern) }),
                                        source: "b.npy")
        XCTAssertEqual(f8.values, [1, 2, 3, 4, 5, 6])
    }

    func testNPYErrorsNameTheProblem() {
        let payload = [UInt8](repeating: 0, count: 24)
        XCTAssertThrowsError(try PointFormats.parse(npy(descr: "<U6", shape: "(1, 1)", payload: payload), source: "x.npy")) {
            XCTAssertTrue("\($0)".contains("descr"))
        }
        // Big-endian floats read (the shared NumPy reader swaps them).
        let big = try? PointFormats.parse(npy(descr: ">f8", shape: "(3, 1)", payload: [1.0, -2, 0.5].flatMap { le($0.bitPattern.byteSwapped) }),
                                          source: "x.npy")
        XCTAssertEqual(big?.values, [1, -2, 0.5])
        XCTAssertThrowsError(try PointFormats.parse(npy(descr: "<f8", shape: "(3,)", payload: payload), source: "x.npy")) {
            XCTAssertTrue("\($0)".contains("2-D"))
        }
        XCTAssertThrowsError(try PointFormats.parse(npy(descr: "<f8", shape: "(4, 1)", payload: payload), source: "x.npy")) {
            XCTAssertTrue("\($0)".contains("bytes"))
        }
        XCTAssertThrowsError(try PointFormats.parse(Data([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]), source: "x.npy"))
        XCTAssertThrowsError(try PointFormats.parse(Data(), source: "x.txt"))
    }

    func testCSVWithHeaderAndErrors() throws {
        let c = try PointFormats.parse(Data("x,y\n1, 2\n\n3,4.5\n".utf8), source: "p.csv")
        XCTAssertEqual(c.values, [1, 2, 3, 4.5])
        XCTAssertEqual(c.dimension, 2)
        XCTAssertThrowsError(try PointFormats.parse(Data("1,2\n3\n".utf8), source: "p.csv")) {
            XCTAssertEqual("\($0)", "p.csv: line 2: expected 2 values, found 1")
        }
        XCTAssertThrowsError(try PointFormats.parse(Data("1,2\n3,abc\n".utf8), source: "p.csv"))
        XCTAssertThrowsError(try PointFormats.parse(Data("".utf8), source: "p.csv"))
    }

    func number(_ text: String) -> Double? {
        Array(text.utf8).withUnsafeBufferPointer { PointFormats.parseNumber($0) }
    }

    /// The CSV number reader gives exactly `Double(String)`'s answer: on the shortest, 17-digit and NumPy
    /// (`%.18e`) renderings of random doubles, on halfway cases, and on forms only the slow path reads.
    func testNumbersAreReadExactlyLikeDoubleString() {
        var rng = SeededGenerator(seed: 17)
        var texts = ["0", "-0", "+1", "1.", ".5", "-.5", "00012.5000", "1e5", "1E+05", "2.5e-3", "123456789012345678",
                     "1234567890123456789", "12345678901234567890", "9007199254740993", "9007199254740992.5",
                     "0.1", "0.3", "1e-300", "1e308", "1e309", "4.9e-324", "inf", "-infinity", "nan", "0x1p3", "1e", "e5",
                     "-", ".", "1.2.3", "1,2", " 1", "1 ", "", "1e-27", "1e27", "1e28", "123456789e-35",
                     "8.988465674311579e+307", "2.2250738585072014e-308", "0.000000000000000000000000001"]
        for _ in 0..<3000 {
            let bits = UInt64.random(in: 0...UInt64.max, using: &rng)
            let v = Double(bitPattern: bits)
            let w = Double.random(in: -10...10, using: &rng) * pow(10, Double(Int.random(in: -12...12, using: &rng)))
            for x in [v, w] where x.isFinite {
                texts.append("\(x)")
                texts.append(String(format: "%.17g", x))
                texts.append(String(format: "%.18e", x))
                texts.append(String(format: "%.6f", x))
            }
        }
        // Halfway between two Doubles: 1 + 2⁻⁵³ and 2⁵³ + 1 written out in full round to even.
        texts.append("1.00000000000000011102230246251565404236316680908203125")
        texts.append("9007199254740993.0")
        for t in texts {
            let expected = Double(t)
            let got = number(t)
            if let e = expected, let g = got {
                XCTAssertEqual(e.bitPattern, g.bitPattern, "'\(t)'")
                if e.isNaN { XCTAssertTrue(g.isNaN) }
            } else {
                XCTAssertEqual(expected == nil, got == nil, "'\(t)'")
            }
        }
    }

    func testCSVLineEndingsSpacesAndErrors() throws {
        let c = try PointFormats.parse(Data("1,2\r\n 3 ,\t4\r\n\r\n5,6".utf8), source: "p.csv")
        XCTAssertEqual(c.values, [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(c.dimension, 2)
        let h = try PointFormats.parse(Data("a,b\n-1.5e2,+0.25\n".utf8), source: "p.csv")
        XCTAssertEqual(h.values, [-150, 0.25])
        // A header is only the first line.
        XCTAssertThrowsError(try PointFormats.parse(Data("1,2\nx,y\n".utf8), source: "p.csv")) {
            XCTAssertEqual("\($0)", "p.csv: line 2: expected numbers separated by commas, found 'x'")
        }
        XCTAssertThrowsError(try PointFormats.parse(Data("1,2\n3,,4\n".utf8), source: "p.csv")) {
            XCTAssertEqual("\($0)", "p.csv: line 2: expected numbers separated by commas, found ''")
        }
        XCTAssertThrowsError(try PointFormats.parse(Data("1,2\n3,4,5\n".utf8), source: "p.csv")) {
            XCTAssertEqual("\($0)", "p.csv: line 2: expected 2 values, found 3")
        }
        XCTAssertThrowsError(try PointFormats.parse(Data("\n\n".utf8), source: "p.csv"))
        XCTAssertThrowsError(try PointFormats.parse(Data([0x31, 0x2C, 0xFF, 0x0A]), source: "p.csv")) {
            XCTAssertTrue("\($0)".contains("UTF-8"), "\($0)")
        }
        // Every value of a NumPy-style file comes back bit for bit.
        var rng = SeededGenerator(seed: 4)
        let values = (0..<600).map { _ in Double.random(in: -3...3, using: &rng) }
        let text = stride(from: 0, to: 600, by: 3).map { i in values[i..<(i + 3)].map { String(format: "%.18e", $0) }.joined(separator: ",") }
            .joined(separator: "\n") + "\n"
        let parsed = try PointFormats.parse(Data(text.utf8), source: "big.csv")
        XCTAssertEqual(parsed.values, values.map { Double(String(format: "%.18e", $0))! })
        XCTAssertEqual(parsed.values, values)
    }

    /// Whitespace around lines and fields, CRLF, "-0", 19 significant digits and a value only the slow path reads
    /// (1e300): the same numbers as Double(String). (Written for the byte-level fast path of the ph-speed branch,
    /// whose parsePlainCSV this reader replaces.)
    func testPlainCSVFastPathReadsTheSameNumbers() throws {
        let text = " 0.1,-2.5e-3\t,\t1e300 \r\n\n3.000000000000000444,  -0 ,5\n"
        let c = try PointFormats.parse(Data(text.utf8), source: "p.csv")
        XCTAssertEqual(c.dimension, 3)
        XCTAssertEqual(c.values, [0.1, -2.5e-3, 1e300, Double("3.000000000000000444")!, -0.0, 5])
        XCTAssertEqual(c.values[4].sign, .minus)
        XCTAssertEqual(try PointFormats.parse(Data("x,y\n1,2\n".utf8), source: "p.csv").values, [1, 2])   // header
        XCTAssertThrowsError(try PointFormats.parse(Data("1,2\n3\n".utf8), source: "p.csv"))                 // ragged
    }
}
