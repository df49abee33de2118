import Foundation
import XCTest
@testable import GlassboxCore
@testable import GlassboxData

/// `.npy` and `.npz` files written byte by byte as NumPy writes them (no NumPy needed), read back as arrays and as
/// data sets; and the corrupt ones, each refused with one clear error.
final class NumpyTests: XCTestCase {
    var dir = ""
    override func setUpWithError() throws { dir = try makeTempDir("numpy") }
    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    /// A version-1.0 `.npy`: magic, header dict padded with spaces to a multiple of 64 bytes, then the payload.
    func npy(_ descr: String, _ shape: String, fortran: Bool = false, _ payload: [UInt8]) -> Data {
        npy(literal: "'\(descr)'", shape, fortran: fortran, payload)
    }

    /// The same with the descr written as a Python literal (a structured dtype is a list).
    func npy(literal descr: String, _ shape: String, fortran: Bool = false, _ payload: [UInt8]) -> Data {
        var header = "{'descr': \(descr), 'fortran_order': \(fortran ? "True" : "False"), 'shape': \(shape), }"
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        return Data([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0, UInt8(header.utf8.count & 0xFF), UInt8(header.utf8.count >> 8)] + Array(header.utf8) + payload)
    }

    func le<T: FixedWidthInteger>(_ x: T) -> [UInt8] { withUnsafeBytes(of: x.littleEndian) { Array($0) } }
    func be<T: FixedWidthInteger>(_ x: T) -> [UInt8] { withUnsafeBytes(of: x.bigEndian) { Array($0) } }

    /// A zip archive laid out as `np.savez` (method 0) or `np.savez_compressed` (method 8) writes it: with
    /// `zip64Local`, local headers carry saturated sizes and a zip64 extra field, as Python's `force_zip64` writes them.
    func zip(_ entries: [(String, Data)], method: Int = 0, zip64Local: Bool = true, crcFix: ((Int) -> UInt32?)? = nil) throws -> Data {
        var out = Data(), central = Data()
        func u16(_ v: Int, _ d: inout Data) { d.append(contentsOf: le(UInt16(v))) }
        func u32(_ v: UInt32, _ d: inout Data) { d.append(contentsOf: le(v)) }
        for (i, (name, data)) in entries.enumerated() {
            let body = method == 8 ? try Files.deflate(data, level: 6, windowBits: -15) : data
            let crc = crcFix?(i) ?? ZipWriter.crc32(data)
            let offset = UInt32(out.count)
            u32(0x0403_4B50, &out); u16(zip64Local ? 45 : 20, &out); u16(0, &out); u16(method, &out); u16(0, &out); u16(33, &out); u32(crc, &out)
            if zip64Local {
                u32(0xFFFF_FFFF, &out); u32(0xFFFF_FFFF, &out); u16(name.utf8.count, &out); u16(20, &out); out.append(Data(name.utf8))
                u16(1, &out); u16(16, &out); out.append(contentsOf: le(UInt64(data.count))); out.append(contentsOf: le(UInt64(body.count)))
            } else {
                u32(UInt32(body.count), &out); u32(UInt32(data.count), &out); u16(name.utf8.count, &out); u16(0, &out); out.append(Data(name.utf8))
            }
            out.append(body)
            u32(0x0201_4B50, &central); u16(45, &central); u16(20, &central); u16(0, &central); u16(method, &central); u16(0, &central); u16(33, &central)
            u32(crc, &central); u32(UInt32(body.count), &central); u32(UInt32(data.count), &central); u16(name.utf8.count, &central)
            u16(0, &central); u16(0, &central); u16(0, &central); u16(0, &central); u32(0, &central); u32(offset, &central); central.append(Data(name.utf8))
        }
        let cdOffset = UInt32(out.count)
        out.append(central)
        u32(0x0605_4B50, &out); u16(0, &out); u16(0, &out); u16(entries.count, &out); u16(entries.count, &out)
        u32(UInt32(central.count), &out); u32(cdOffset, &out); u16(0, &out)
        return out
    }

    func save(_ data: Data, _ name: String) throws -> String {
        let path = (dir as NSString).appendingPathComponent(name)
        try data.write(to: URL(fileURLWithPath: path))
        return path
    }

    func message(_ body: @autoclosure () throws -> Any) -> String { thrownError(try body()).map { "\($0)" } ?? "no error" }

    // MARK: .npy

    func testEveryReadableDtypeAndByteOrder() throws {
        func read(_ d: Data) throws -> NumpyArray { try NumpyArray.parse(d, source: "t.npy") }
        XCTAssertEqual(try read(npy("|u1", "(3,)", [0, 7, 255])).floats(source: ""), [0, 7, 255])
        XCTAssertEqual(try read(npy("|b1", "(2,)", [1, 0])).integers(source: ""), [1, 0])
        XCTAssertEqual(try read(npy("<i2", "(2,)", le(Int16(-3)) + le(Int16(300)))).integers(source: ""), [-3, 300])
        XCTAssertEqual(try read(npy(">i4", "(2,)", be(Int32(-70000)) + be(Int32(5)))).integers(source: ""), [-70000, 5])
        XCTAssertEqual(try read(npy("<i8", "(1,)", le(Int64.min))).integers(source: ""), [Int64.min])
        XCTAssertEqual(try read(npy("<u2", "(1,)", le(UInt16(65535)))).floats(source: ""), [65535])
        XCTAssertEqual(try read(npy("<f2", "(2,)", le(Float16(1.5).bitPattern) + le(Float16(-0.25).bitPattern))).floats(source: ""), [1.5, -0.25])
        XCTAssertEqual(try read(npy("<f4", "(2,)", le(Float(0.1).bitPattern) + le(Float(-2).bitPattern))).floats(source: ""), [0.1, -2])
        XCTAssertEqual(try read(npy(">f8", "(1,)", be(Double(1e-3).bitPattern))).doubles(source: ""), [1e-3])
        let u = try read(npy("<U3", "(2,)", [UInt32(0x63), 0x61, 0x74, 0xE9, 0, 0].flatMap { le($0) }))
        XCTAssertEqual(try u.strings(source: ""), ["cat", "é"])
        XCTAssertEqual(try read(npy("|S4", "(2,)", Array("dog\0bird".utf8))).strings(source: ""), ["dog", "bird"])
        // Fortran order: the first index runs fastest; read back in C order.
        let f = try read(npy("|u1", "(2, 3, 2)", fortran: true, (0..<12).map { UInt8($0) }))
        XCTAssertEqual(f.shape, [2, 3, 2])
        // Element [i, j, k] sits at i + 2j + 6k in Fortran order.
        var expected: [Float] = []
        for i in 0..<2 { for j in 0..<3 { for k in 0..<2 { expected.append(Float(i + 2 * j + 6 * k)) } } }
        XCTAssertEqual(try f.floats(source: ""), expected)
        XCTAssertEqual(try read(npy("<f4", "()", le(Float(3).bitPattern))).floats(source: ""), [3], "a 0-d array holds one value")
    }

    func testWrittenArraysReadBackAndHaveNumPysHeaderLayout() throws {
        let arrays = [NumpyArray(floats: [1, -2.5, 3, 4, 5, 6], shape: [2, 3]), NumpyArray(integers: [-1, 9], shape: [2]),
                      NumpyArray(bytes: [1, 2, 3, 4], shape: [1, 2, 2]), NumpyArray(strings: ["a", "bcd"])]
        for a in arrays {
            let data = a.encoded()
            XCTAssertEqual((data.count - a.bytes.count) % 64, 0, "header padded to 64 bytes")
            XCTAssertEqual(try NumpyArray.parse(data, source: "x"), a)
        }
        XCTAssertEqual(arrays[3].dtype, "<U3")
        XCTAssertTrue(String(decoding: arrays[1].encoded().prefix(70), as: UTF8.self).contains("'shape': (2,)"))
        let path = (dir as NSString).appendingPathComponent("a.npz")
        try NumpyArchive.write([("w", arrays[0]), ("names", arrays[3])], to: path)
        let back = try NumpyArchive.read(path)
        XCTAssertEqual(back.map(\.name), ["w", "names"])
        XCTAssertEqual(back[0].array, arrays[0])
    }

    func testMalformedNPYFilesAreRefusedClearly() throws {
        func parse(_ d: Data) throws -> NumpyArray { try NumpyArray.parse(d, source: "t.npy") }
        XCTAssertTrue(message(try parse(npy("|O", "(1,)", [0, 0, 0, 0, 0, 0, 0, 0]))).contains("object array, which NumPy pickles"))
        XCTAssertTrue(message(try parse(npy("<c8", "(1,)", [UInt8](repeating: 0, count: 8)))).hasPrefix("t.npy: descr: expected bool, integers"))
        XCTAssertEqual(message(try parse(npy("<f4", "(3,)", [0, 0, 0, 0]))), "t.npy: data: expected 12 bytes ([3] of <f4), found 4 bytes")
        // Sizes whose product overflows: refused before any allocation.
        XCTAssertTrue(message(try parse(npy("<f8", "(4611686018427387904, 4)", []))).contains("t.npy: shape: expected at most 2147483648 elements"))
        XCTAssertTrue(message(try parse(npy("<f4", "(-1,)", []))).contains("non-negative"))
        XCTAssertTrue(message(try parse(npy(literal: "[('a', '<f4')]", "(1,)", [0, 0, 0, 0]))).contains("structured dtype"))
        XCTAssertTrue(message(try parse(Data("PK\u{3}\u{4}not npy".utf8))).hasPrefix("t.npy: magic: expected \\x93NUMPY"))
        var short = npy("<f4", "(1,)", [0, 0, 0, 0])
        short[8] = 0xFF
        XCTAssertEqual(message(try parse(short)), "t.npy: header: expected 255 bytes, found a truncated file")
    }

    // MARK: .npz data sets

    func u8(_ values: [Int]) -> [UInt8] { values.map { UInt8($0) } }

    func testNPZLayoutsAndDtypesBecomeDataSets() throws {
        // One set x [N, H, W] uint8 with class names, stored (np.savez): the test split.
        let x = npy("|u1", "(3, 1, 2)", u8([0, 255, 51, 102, 10, 20]))
        let y = npy("<i8", "(3,)", [2, 0, 1].flatMap { le(Int64($0)) })
        let names = npy("<U4", "(3,)", ["ant", "bee", "cow"].flatMap { n in (Array(n.unicodeScalars.map(\.value)) + [0]).flatMap { le($0) } })
        let one = try save(try zip([("x.npy", x), ("y.npy", y), ("class_names.npy", names)]), "one.npz")
        let pair = try DataRequest(dataset: "npz:\(one)").load()
        XCTAssertEqual(pair.train.count, 0)
        XCTAssertEqual(pair.test.images.shape, [3, 1, 1, 2])
        XCTAssertEqual(pair.test.images.scalars, [0, 255, 51, 102, 10, 20].map { Float($0) / 255 })
        XCTAssertEqual(pair.test.labels, [2, 0, 1])
        XCTAssertEqual(pair.test.classNames, ["ant", "bee", "cow"])

        // Keras's layout, compressed (np.savez_compressed): float32 [N, C, H, W] used as stored; classes from the labels.
        let floats: [Float] = [0.5, -1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 1e-3]
        let xf = npy("<f4", "(2, 3, 1, 2)", floats.flatMap { le($0.bitPattern) })
        let yt = npy("<i4", "(2,)", le(Int32(1)) + le(Int32(0)))
        let keras = try save(try zip([("x_train.npy", xf), ("y_train.npy", yt), ("x_test.npy", xf), ("y_test.npy", yt)], method: 8), "k.npz")
        let k = try DataRequest(dataset: "npz:\(keras)").load()
        XCTAssertEqual(k.train.images.shape, [2, 3, 1, 2])
        XCTAssertEqual(k.train.images.scalars, floats)
        XCTAssertEqual(k.test.classNames, ["0", "1"])

        // Channels-last uint8 [N, H, W, 3] becomes [N, 3, H, W]; unscaled values stay 0…255.
        let hwc = npy("|u1", "(1, 2, 2, 3)", u8(Array(1...12)))
        let last = try save(try zip([("x.npy", hwc), ("y.npy", npy("|u1", "(1,)", [0]))], zip64Local: false), "last.npz")
        let l = try DataRequest(dataset: "npz:\(last)", normalization: Normalization(scale: false)).load()
        XCTAssertEqual(l.test.images.shape, [1, 3, 2, 2])
        XCTAssertEqual(l.test.images.scalars, [1, 4, 7, 10, 2, 5, 8, 11, 3, 6, 9, 12])

        // A .npy pair.
        let xp = try save(x, "x.npy"), yp = try save(y, "y.npy")
        let p = try DataRequest(dataset: "npy:\(xp),\(yp)", resplit: [2, 1], seed: 1).load()
        XCTAssertEqual(p.train.count, 2)
        XCTAssertEqual(p.test.count, 1)
        XCTAssertEqual(p.test.classNames, ["0", "1", "2"])
    }

    func testCorruptOrInconsistentNPZFilesGiveOneClearErrorEach() throws {
        let x = npy("|u1", "(2, 1, 1)", [1, 2])
        let y = npy("<i8", "(2,)", le(Int64(0)) + le(Int64(1)))
        func load(_ entries: [(String, Data)], method: Int = 0) throws -> String {
            let path = try save(try zip(entries, method: method), "bad.npz")
            return message(try DataRequest(dataset: "npz:\(path)").load())
        }
        let bad = (dir as NSString).appendingPathComponent("bad.npz")
        XCTAssertEqual(try load([("x.npy", x), ("y.npy", npy("<i8", "(2,)", le(Int64(-1)) + le(Int64(1))))]),
                       "\(bad) (y): label 0: expected a class index ≥ 0, found -1")
        XCTAssertEqual(try load([("x.npy", x), ("y.npy", npy("<f4", "(2,)", [UInt8](repeating: 0, count: 8)))]),
                       "\(bad) (y): dtype: expected integers, found '<f4' (convert with .astype(np.int64))")
        XCTAssertEqual(try load([("x.npy", x), ("y.npy", npy("<i8", "(3,)", [UInt8](repeating: 0, count: 24)))]),
                       "\(bad) (y): shape: expected [2] (one label per image), found [3]")
        XCTAssertEqual(try load([("x.npy", x), ("y.npy", y), ("class_names.npy", npy("|S1", "(1,)", [65]))]),
                       "\(bad) (y): label 1: expected a class index below the 1 class names, found 1")
        XCTAssertEqual(try load([("x.npy", npy("<i8", "(1, 1, 1)", le(Int64(1)))), ("y.npy", npy("<i8", "(1,)", le(Int64(0))))]),
                       "\(bad) (x): dtype: expected uint8, uint16 or float images, found '<i8'")
        XCTAssertEqual(try load([("x.npy", npy("|u1", "(2, 2)", [1, 2, 3, 4])), ("y.npy", y)]),
                       "\(bad) (x): shape: expected [N, H, W], [N, C, H, W] or [N, H, W, C], found [2, 2]")
        XCTAssertEqual(try load([("images.npy", x), ("labels.npy", y)]),
                       "\(bad): arrays: expected x_train, y_train, x_test, y_test (or x, y; optional class_names), found images, labels")
        XCTAssertEqual(try load([("x_train.npy", x), ("y_train.npy", y)]),
                       "\(bad): arrays: expected x_test and y_test beside x_train and y_train, found x_train, y_train")

        // Damaged archives.
        let good = try zip([("x.npy", x), ("y.npy", y)], method: 8)
        let truncated = try save(good.prefix(good.count - 30), "t.npz")
        XCTAssertEqual(message(try DataRequest(dataset: "npz:\(truncated)").load()),
                       "\(truncated): end record: expected a zip archive, found a truncated archive (no end record)")
        let crc = try save(try zip([("x.npy", x), ("y.npy", y)], crcFix: { $0 == 1 ? 0xDEAD_BEEF : nil }), "c.npz")
        XCTAssertTrue(message(try DataRequest(dataset: "npz:\(crc)").load()).hasPrefix("\(crc) (y.npy): zip entry: expected CRC-32 deadbeef, found "))
        var flipped = good
        flipped[60] ^= 0xFF   // inside the first entry's deflate data
        let corrupt = try save(flipped, "d.npz")
        XCTAssertTrue(message(try DataRequest(dataset: "npz:\(corrupt)").load()).hasPrefix("\(corrupt) (x.npy): zip entry: expected "))
        var bzip = try zip([("x.npy", x), ("y.npy", y)])
        let cd = bzip.count - 22 - 2 * (46 + 5)
        bzip[cd + 10] = 12   // method 12 (bzip2) in the first central directory entry
        let other = try save(bzip, "b.npz")
        XCTAssertEqual(message(try DataRequest(dataset: "npz:\(other)").load()),
                       "\(other) (x.npy): zip entry: expected stored (0) or deflate (8) compression, found method 12")
        // A central directory claiming a gigantic size for a few deflate bytes is refused before allocating.
        var bomb = good
        let cd2 = bomb.count - 22 - 2 * (46 + 5)
        bomb.replaceSubrange((cd2 + 24)..<(cd2 + 28), with: le(UInt32(0xFFFF_FFF0)))
        let b = try save(bomb, "bomb.npz")
        XCTAssertTrue(message(try DataRequest(dataset: "npz:\(b)").load()).contains("zip entry: expected at most 1032× the"))
        XCTAssertEqual(message(try DataRequest(dataset: "npz:\(dir)/missing.npz").load()),
                       "dataset: expected an existing file or folder for 'npz:\(dir)/missing.npz', found nothing at \(dir)/missing.npz")
    }
}
