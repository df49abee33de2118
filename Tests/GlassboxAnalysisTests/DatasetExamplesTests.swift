import XCTest
import GlassboxCore
import GlassboxNN
@testable import GlassboxAnalysis

final class DatasetExamplesTests: XCTestCase {
    /// Receptive fields of known architectures, worked by hand.
    func testReceptiveFieldArithmetic() throws {
        // conv5 p2 → pool2 → conv5 p2 → pool2: size 5 → 6 → 6 + 4·2 = 14 → 14 + 1·2 = 16; stride 4; padding 2 + 2·2 = 6.
        let lenet = try ModelSpec.parse("input 1x28x28; conv 8 k5 p2; relu; maxpool 2; conv 16 k5 p2; relu; maxpool 2; flatten; linear 10")
        XCTAssertEqual(try ReceptiveWindow.of(lenet, layer: 0), ReceptiveWindow(size: 5, stride: 1, padding: 2))
        XCTAssertEqual(try ReceptiveWindow.of(lenet, layer: 2), ReceptiveWindow(size: 6, stride: 2, padding: 2))
        XCTAssertEqual(try ReceptiveWindow.of(lenet, layer: 3), ReceptiveWindow(size: 14, stride: 2, padding: 6))
        XCTAssertEqual(try ReceptiveWindow.of(lenet, layer: 5), ReceptiveWindow(size: 16, stride: 4, padding: 6))
        XCTAssertNil(try ReceptiveWindow.of(lenet, layer: 6))
        XCTAssertNil(try ReceptiveWindow.of(lenet, layer: 7))
        // Two stride-2 3×3 convolutions with padding 1: size 3 → 3 + 2·2 = 7, stride 4, padding 1 + 1·2 = 3.
        let strided = try ModelSpec.parse("input 3x32x32; conv 4 k3 s2 p1; relu; conv 4 k3 s2 p1")
        XCTAssertEqual(try ReceptiveWindow.of(strided, layer: 2), ReceptiveWindow(size: 7, stride: 4, padding: 3))
        XCTAssertEqual(ReceptiveWindow(size: 16, stride: 4, padding: 6).origin(y: 3, x: 0).top, 6)
        XCTAssertThrowsError(try ReceptiveWindow.of(lenet, layer: 8))
    }

    /// For a chain of convolutions (linear, no pooling) the input pixels an output position depends on are exactly
    /// its receptive-field window, clipped to the image: checked through the input gradient's support.
    func testReceptiveFieldMatchesGradientSupport() throws {
        let spec = try ModelSpec.parse("input 1x20x20; conv 2 k3 p1; conv 2 k3 s2 p1; conv 1 k5 p2")
        let model = try Sequential(spec: spec, seed: 3)
        let rf = try XCTUnwrap(try ReceptiveWindow.of(spec, layer: 2))
        XCTAssertEqual(rf, ReceptiveWindow(size: 3 + 2 + 4 * 2, stride: 2, padding: 1 + 1 + 2 * 2))
        var g = SeededGenerator(seed: 1)
        let x = Tensor.uniform([1, 1, 20, 20], low: 0, high: 1, using: &g)
        let out = model.forward(x, through: 2)
        let (oh, ow) = (out.shape[2], out.shape[3])
        for (y, xx) in [(0, 0), (4, 5), (oh - 1, ow - 1), (2, 9)] {
            var seed = Tensor(zeros: out.shape)
            seed[0, 0, y, xx] = 1
            let dx = model.backward(seed, from: 2)!
            let o = rf.origin(y: y, x: xx)
            for py in 0..<20 {
                for px in 0..<20 {
                    let inside = py >= o.top && py < o.top + rf.size && px >= o.left && px < o.left + rf.size
                    XCTAssertEqual(dx[0, 0, py, px] != 0, inside, "position (\(y), \(xx)) pixel (\(py), \(px))")
                }
            }
        }
    }

    /// Top, bottom and near-zero examples against a brute-force sort of the activations, for a Linear unit, a conv
    /// channel (max over positions, with the argmax position and its crop) and a class logit.
    func testExamplesAgainstBruteForce() throws {
        let spec = "input 1x12x12; conv 3 k3 p1; relu; maxpool 2; flatten; linear 5; tanh; linear 4"
        let model = try Sequential(spec: ModelSpec.parse(spec), seed: 2)
        var g = SeededGenerator(seed: 4)
        let images = Tensor.uniform([57, 1, 12, 12], low: 0, high: 1, using: &g)
        for (layer, spatial) in [(0, SpatialReduction.max), (2, .mean), (5, .max), (6, .max)] {
            let r = try DatasetExamples.find(model: model, images: images,
                                             config: DatasetExamplesConfig(layer: layer, count: 4, spatial: spatial, batchSize: 10))
            let acts = model.forward(images, through: layer)
            let units = acts.shape[1], plane = acts.rowLength / units
            XCTAssertEqual(r.units.count, units)
            for u in r.units {
                let values: [Float] = (0..<57).map { i in
                    let p = Array(acts.scalars[(i * acts.rowLength + u.unit * plane)..<(i * acts.rowLength + (u.unit + 1) * plane)])
                    return spatial == .mean && plane > 1 ? p.reduce(0, +) / Float(plane) : p.max()!
                }
                let byValue = values.enumerated().sorted { $0.element > $1.element }.prefix(4).map(\.offset)
                XCTAssertEqual(u.top.map(\.index), byValue, "layer \(layer) unit \(u.unit)")
                XCTAssertEqual(u.bottom.map(\.index), values.enumerated().sorted { $0.element < $1.element }.prefix(4).map(\.offset))
                XCTAssertEqual(u.nearZero.map(\.index), values.enumerated().sorted { abs($0.element) < abs($1.element) }.prefix(4).map(\.offset))
                for e in u.top { XCTAssertEqual(e.value, values[e.index], accuracy: 1e-5) }
                XCTAssertEqual(u.maximum, values.max()!, accuracy: 1e-6)
                if layer == 0 {
                    // The crop is the 3×3 window around the argmax, which is where the channel takes its maximum.
                    let e = u.top[0], pos = try XCTUnwrap(e.position)
                    XCTAssertEqual(acts[e.index, u.unit, pos[0], pos[1]], e.value)
                    let crop = try XCTUnwrap(e.crop)
                    XCTAssertEqual(crop.size, 3)
                    XCTAssertEqual(crop.top, pos[0] - 1)
                    for dy in 0..<3 {
                        for dx in 0..<3 {
                            let (y, x) = (pos[0] - 1 + dy, pos[1] - 1 + dx)
                            let expected: Float = y >= 0 && y < 12 && x >= 0 && x < 12 ? images[e.index, 0, y, x] : 0
                            XCTAssertEqual(crop.pixels[dy * 3 + dx], expected)
                        }
                    }
                }
            }
            XCTAssertEqual(r.receptiveField == nil, layer >= 4)
        }
        // Bad arguments throw with the argument's name.
        XCTAssertThrowsError(try DatasetExamples.find(model: model, images: images, config: DatasetExamplesConfig(layer: 9)))
        XCTAssertThrowsError(try DatasetExamples.find(model: model, images: images, config: DatasetExamplesConfig(layer: 6, units: [4])))
        XCTAssertThrowsError(try DatasetExamples.find(model: model, images: images, config: DatasetExamplesConfig(layer: 6, count: 0)))
    }
}
