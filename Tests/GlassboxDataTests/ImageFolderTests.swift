import Foundation
import XCTest
@testable import GlassboxCore
@testable import GlassboxData

/// PNG images written with libpng in each variant the reader accepts or refuses, laid out as torchvision's
/// ImageFolder, and read back into tensors whose every value is known.
final class ImageFolderTests: XCTestCase {
    var dir = ""
    override func setUpWithError() throws { dir = try makeTempDir("images") }
    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    /// Writes a PNG (rows packed as PNG stores them) at `relative` below the test folder.
    @discardableResult
    func png(_ relative: String, width: Int, height: Int, colorType: Int = 0, bitDepth: Int = 8, rows: [UInt8], palette: [UInt8] = []) throws -> String {
        let path = (dir as NSString).appendingPathComponent(relative)
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let channels = [0: 1, 2: 3, 3: 1, 4: 2, 6: 4][colorType]!
        let stride = (width * channels * bitDepth + 7) / 8
        let data = try PNGFile.encode(width: width, height: height, colorType: colorType, bitDepth: bitDepth, rows: rows, stride: stride, palette: palette)
        try data.write(to: URL(fileURLWithPath: path))
        return path
    }

    func root(_ name: String = "set") -> String { (dir as NSString).appendingPathComponent(name) }

    func testGreyRGBPaletteAlphaAnd16BitGiveTheStoredValues() throws {
        // 2×2 images, one per variant, decoded one by one.
        let grey = try png("v/grey.png", width: 2, height: 2, rows: [0, 51, 102, 255])
        let rgb = try png("v/rgb.png", width: 2, height: 2, colorType: 2, rows: [255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30])
        let pal = try png("v/pal.png", width: 2, height: 2, colorType: 3, rows: [1, 0, 2, 1], palette: [0, 0, 0, 200, 100, 50, 1, 2, 3])
        let rgba = try png("v/rgba.png", width: 2, height: 1, colorType: 6, rows: [9, 8, 7, 0, 1, 2, 3, 255])
        // 16-bit samples in native (little-endian) order, as libpng's writer is told to swap them.
        let deep = try png("v/deep.png", width: 2, height: 1, bitDepth: 16, rows: [0x01, 0x00, 0xFF, 0xFF])
        let bits = try png("v/bits.png", width: 4, height: 1, bitDepth: 2, rows: [0b00_01_10_11])
        func decode(_ path: String, channels: Int? = nil, scale: Bool = true) throws -> [Float] {
            let h = try PNGFile.readHeader(path)
            let c = channels ?? (h.isGrey ? 1 : 3)
            var out = [Float](repeating: -1, count: c * h.width * h.height)
            try out.withUnsafeMutableBufferPointer { try PNGFile.decode(Files.read(path), source: path, expected: h, channels: c, scale: scale, into: $0.baseAddress!) }
            return out
        }
        XCTAssertEqual(try decode(grey), [0, 51, 102, 255].map { Float($0) / 255 })
        XCTAssertEqual(try decode(grey, scale: false), [0, 51, 102, 255])
        XCTAssertEqual(try decode(grey, channels: 3), [0, 51, 102, 255, 0, 51, 102, 255, 0, 51, 102, 255].map { Float($0) / 255 })
        // Channel-major: all red values, then green, then blue.
        XCTAssertEqual(try decode(rgb, scale: false), [255, 0, 0, 10, 0, 255, 0, 20, 0, 0, 255, 30])
        XCTAssertEqual(try decode(pal, scale: false), [200, 0, 1, 200, 100, 0, 2, 100, 50, 0, 3, 50])
        XCTAssertEqual(try decode(rgba, scale: false), [9, 1, 8, 2, 7, 3], "alpha dropped")
        XCTAssertEqual(try decode(deep), [1 / 65535, 1])
        XCTAssertEqual(try decode(bits, scale: false), [0, 85, 170, 255], "2-bit grey expanded to 8 bits")
        XCTAssertEqual(try PNGFile.readHeader(pal).isGrey, false)
        XCTAssertEqual(try PNGFile.readHeader(deep).maxValue, 65535)
    }

    func testFolderLayoutClassOrderAndTensors() throws {
        // Class folders sort by bytes, as Python sorts them: "B" < "a" < "b"; files inside sort too, subfolders after.
        try png("set/train/b/2.png", width: 2, height: 1, rows: [2, 2])
        try png("set/train/b/1.png", width: 2, height: 1, rows: [1, 1])
        try png("set/train/a/x.png", width: 2, height: 1, rows: [3, 3])
        try png("set/train/a/sub/y.png", width: 2, height: 1, rows: [4, 4])
        try png("set/train/B/z.png", width: 2, height: 1, rows: [5, 5])
        for (c, v) in [("B", 6), ("a", 7), ("b", 8)] { try png("set/test/\(c)/t.png", width: 2, height: 1, rows: [UInt8(v), 0]) }
        try Data("hidden".utf8).write(to: URL(fileURLWithPath: root() + "/train/a/.DS_Store"))
        let folder = try ImageFolder.scan(root())
        XCTAssertEqual(folder.classNames, ["B", "a", "b"])
        XCTAssertEqual(folder.train?.map(\.relative), ["train/B/z.png", "train/a/x.png", "train/a/sub/y.png", "train/b/1.png", "train/b/2.png"])
        let (train, test) = try folder.load(name: "set", scale: false)
        XCTAssertEqual(train?.images.shape, [5, 1, 1, 2])
        XCTAssertEqual(train?.images.scalars, [5, 5, 3, 3, 4, 4, 1, 1, 2, 2])
        XCTAssertEqual(train?.labels, [0, 1, 1, 2, 2])
        XCTAssertEqual(test.labels, [0, 1, 2])
        XCTAssertEqual(test.images.scalars, [6, 0, 7, 0, 8, 0])
        // Through a data request, with limits and a re-split of the test split.
        let limited = try DataRequest(dataset: "folder:\(root())", trainLimit: 2).load()
        XCTAssertEqual(limited.train.count, 2)
        XCTAssertEqual(limited.test.images.scalars, [6, 0, 7, 0, 8, 0].map { Float($0) / 255 })
        let resplit = try DataRequest(dataset: "folder:\(root())", resplit: [2, 1], seed: 3).load()
        XCTAssertEqual(resplit.train.count + resplit.test.count, 3)
        XCTAssertEqual(DataRequest(dataset: "folder:\(root())/").defaultName, "set")
    }

    func testGreyAndColourTogetherLoadAsRGB() throws {
        try png("set/train/a/1.png", width: 1, height: 1, rows: [100])
        try png("set/test/a/1.png", width: 1, height: 1, colorType: 2, rows: [1, 2, 3])
        let (train, test) = try ImageFolder.scan(root()).load(name: "s", scale: false)
        XCTAssertEqual(train?.images.scalars, [100, 100, 100])
        XCTAssertEqual(test.images.shape, [1, 3, 1, 1])
        XCTAssertEqual(test.images.scalars, [1, 2, 3])
    }

    func testOneSetLayoutIsTheTestSplitAndTrainingOnItNeedsAResplit() throws {
        try png("set/cat/1.png", width: 1, height: 1, rows: [1])
        try png("set/dog/1.png", width: 1, height: 1, rows: [2])
        let folder = try ImageFolder.scan(root())
        XCTAssertFalse(folder.hasSplitFolders)
        XCTAssertNil(folder.train)
        let pair = try DataRequest(dataset: "folder:\(root())").load()
        XCTAssertEqual(pair.train.count, 0)
        XCTAssertEqual(pair.test.classNames, ["cat", "dog"])
    }

    func testBadFilesGiveOneClearErrorEach() throws {
        let good = try png("set/train/a/1.png", width: 3, height: 2, rows: [UInt8](repeating: 7, count: 6))
        try png("set/test/a/1.png", width: 3, height: 2, rows: [UInt8](repeating: 7, count: 6))
        let whole = try Files.read(good)
        func loadError() -> String { "\(thrownError(try ImageFolder.scan(self.root()).load(name: "s")).map { "\($0)" } ?? "")" }

        // Truncated inside the image data.
        let truncated = root() + "/test/a/2.png"
        try whole.prefix(whole.count - 20).write(to: URL(fileURLWithPath: truncated))
        XCTAssertTrue(loadError().hasPrefix("\(truncated): PNG data: expected a complete, valid PNG, found "), loadError())
        // Not a PNG at all, under a .png name.
        try Data("GIF89a not really".utf8).write(to: URL(fileURLWithPath: truncated))
        XCTAssertEqual(loadError(), "\(truncated): signature: expected a PNG file, found other data (not a PNG file)")
        // A second size: the first odd file is named.
        try FileManager.default.removeItem(atPath: truncated)
        let odd = try png("set/test/a/3.png", width: 2, height: 2, rows: [0, 0, 0, 0])
        XCTAssertEqual(loadError(), "\(odd): size: expected 3×2 like train/a/1.png (all images one size), found 2×2")
        try FileManager.default.removeItem(atPath: odd)
        // A non-PNG file in a class folder.
        let jpeg = root() + "/train/a/photo.jpg"
        try Data([0xFF, 0xD8]).write(to: URL(fileURLWithPath: jpeg))
        XCTAssertEqual("\(thrownError(try ImageFolder.scan(self.root()))!)",
                       "\(jpeg): image: expected PNG images (.png) only in class folders, found 'jpg' file (convert it to PNG, or move it out)")
        try FileManager.default.removeItem(atPath: jpeg)
        // Classes that differ between the splits; an empty class folder.
        try FileManager.default.createDirectory(atPath: root() + "/train/b", withIntermediateDirectories: true)
        XCTAssertEqual("\(thrownError(try ImageFolder.scan(self.root()))!)",
                       "\(root() + "/train/b"): images: expected at least one .png image in each class folder, found none")
        try png("set/train/b/1.png", width: 3, height: 2, rows: [UInt8](repeating: 1, count: 6))
        XCTAssertEqual("\(thrownError(try ImageFolder.scan(self.root()))!)",
                       "\(root()): class folders: expected the same classes in train/ and test/, found only in train/: b; only in test/: none")
    }

    func testAHeaderClaimingAHugeImageIsRefusedBeforeAnyAllocation() throws {
        let path = try png("set/test/a/1.png", width: 1, height: 1, rows: [0])
        var bytes = [UInt8](try Files.read(path))
        bytes[16...19] = [0x80, 0, 0, 0]   // width 2³¹
        bytes[20...23] = [0x80, 0, 0, 0]   // height 2³¹
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        XCTAssertEqual("\(thrownError(try ImageFolder.scan(self.root()).load(name: "s"))!)",
                       "\(path): size: expected 1 to 16384 pixels each way, found 2147483648×2147483648")
        // Within the per-side limit but a header the data do not match: libpng's CRC check refuses it.
        bytes[16...19] = [0, 0, 0x10, 0]
        bytes[20...23] = [0, 0, 0x10, 0]
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        XCTAssertTrue("\(thrownError(try ImageFolder.scan(self.root()).load(name: "s"))!)".contains("PNG data: expected a complete, valid PNG"))
    }

    func testFingerprintSeesAFileMovedToAnotherClass() throws {
        try png("set/train/a/1.png", width: 1, height: 1, rows: [1])
        try png("set/train/b/2.png", width: 1, height: 1, rows: [2])
        try png("set/test/a/1.png", width: 1, height: 1, rows: [1])
        try png("set/test/b/3.png", width: 1, height: 1, rows: [3])
        let before = try ImageFolder.scan(root()).fingerprint()
        try FileManager.default.moveItem(atPath: root() + "/train/a/1.png", toPath: root() + "/train/b/1.png")
        try png("set/train/a/4.png", width: 1, height: 1, rows: [1])
        XCTAssertNotEqual(try ImageFolder.scan(root()).fingerprint(), before)
        let inputs = try DataRequest(dataset: "folder:\(root())").resolveInputs()
        XCTAssertEqual(inputs.files, [])
        XCTAssertEqual(inputs.fingerprints.count, 1)
    }

    func testWriteThenReadGivesTheSameImagesAndLabels() throws {
        // Class names that do not sort in label order get index prefixes, so the labels survive the round trip.
        let names = ["T-shirt/top", "Bag", ".hidden"]
        XCTAssertEqual(ImageFolder.folderNames(names), ["0-T-shirt_top", "1-Bag", "2-_hidden"])
        XCTAssertEqual(ImageFolder.folderNames(["0", "1", "2"]), ["0", "1", "2"])
        let values: [Float] = (0..<24).map { Float($0 * 10) / 255 }
        let data = Dataset(name: "d", images: Tensor(shape: [4, 3, 1, 2], scalars: values), labels: [2, 0, 1, 0], classNames: names)
        let out = root("exported")
        try ImageFolder.write([("train", data), ("test", data)], to: out)
        let pair = try DataRequest(dataset: "folder:\(out)").load()
        XCTAssertEqual(pair.test.classNames, ["0-T-shirt_top", "1-Bag", "2-_hidden"])
        // Class-major order on reading: the label-0 samples (1 and 3) first.
        XCTAssertEqual(pair.test.labels, [0, 0, 1, 2])
        for (j, i) in [1, 3, 2, 0].enumerated() {
            XCTAssertEqual(Array(pair.test.images.scalars[(6 * j)..<(6 * j + 6)]), Array(values[(6 * i)..<(6 * i + 6)]))
        }
        // Writing the same images again leaves the folder alone; a folder glassbox did not write is never replaced.
        let stamp = try FileManager.default.attributesOfItem(atPath: out + "/test")[.modificationDate] as? Date
        try ImageFolder.write([("train", data), ("test", data)], to: out)
        XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: out + "/test")[.modificationDate] as? Date, stamp)
        try FileManager.default.createDirectory(atPath: root("mine"), withIntermediateDirectories: true)
        XCTAssertTrue("\(thrownError(try ImageFolder.write([("test", data)], to: self.root("mine")))!)".contains("that glassbox did not write"))
        // A class without images would renumber the classes when read back.
        let partial = data.subset([1, 3])
        XCTAssertTrue("\(thrownError(try ImageFolder.write([("test", partial)], to: self.root("p")))!)".contains("no image of class 'Bag'"))
    }
}
