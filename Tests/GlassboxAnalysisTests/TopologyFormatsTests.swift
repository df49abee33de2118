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
        XCTAssertThrowsError(try PointFormats.parse(npy(descr: ">f8", shape: "(3, 1)", payload: payload), source: "x.npy")) {
            XCTAssertTrue("\($0)".contains("descr"))
        }
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

    func testPlainCSVFastPathReadsTheSameNumbers() throws {
        let text = " 0.1,-2.5e-3\t,\t1e300 \r\n\n3.000000000000000444,  -0 ,5\n"
        let c = try PointFormats.parse(Data(text.utf8), source: "p.csv")
        XCTAssertEqual(c.dimension, 3)
        XCTAssertEqual(c.values, [0.1, -2.5e-3, 1e300, Double("3.000000000000000444")!, -0.0, 5])
        XCTAssertNotNil(PointFormats.parsePlainCSV(Data(text.utf8)))
        XCTAssertNil(PointFormats.parsePlainCSV(Data("x,y\n1,2\n".utf8)))   // header: general path
        XCTAssertNil(PointFormats.parsePlainCSV(Data("1,2\n3\n".utf8)))      // ragged: general path words the error
    }
}
