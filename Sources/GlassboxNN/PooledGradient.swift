import GlassboxCore

/// The gradient with respect to a max pooling's input when windows do not overlap: zero except at each window's
/// maximum, so it is kept as lists. Per (sample, channel) plane, `slots` places (one per window), of which `counts`
/// hold the non-zero gradients as (index of the maximum inside the input plane, value), in window order.
/// A training pass hands it to the convolution before the pooling, whose sparse backward then neither forms nor
/// scans the dense gradient (`Conv2d.backward(listed:)`).
public struct PooledGradient {
    /// The input's shape `[n, c, h, w]`.
    public let shape: [Int]
    public let slots: Int
    public internal(set) var positions: [Int32]
    public internal(set) var values: [Float]
    public internal(set) var counts: [Int32]
}

extension PooledGradient {
    /// The convolution and the max pooling after it when the pooling can hand the convolution its input gradient as
    /// lists: a stride-1 convolution (`Conv2d.acceptsListedGradient`) and non-overlapping windows
    /// (`MaxPool2d.listsInputGradient`); nil otherwise.
    public static func fusable(_ first: Layer, _ second: Layer) -> (Conv2d, MaxPool2d)? {
        guard let conv = first as? Conv2d, conv.acceptsListedGradient,
              let pool = second as? MaxPool2d, pool.listsInputGradient else { return nil }
        return (conv, pool)
    }
}

extension MaxPool2d {
    /// True when `listedInputGradient` applies: windows do not overlap (stride = kernel), so each input value gets
    /// at most one gradient.
    public var listsInputGradient: Bool { stride == kernel }

    /// The input gradient of the last forward pass as lists, from the output gradient `dy`; the same values as
    /// `backward(dy)` at the same places, every other input gradient zero.
    public func listedInputGradient(_ dy: Tensor) -> PooledGradient {
        precondition(listsInputGradient && dy.count == argmax.count, "maxpool listed gradient needs non-overlapping windows and the forward's shape")
        let planes = inputShape[0] * inputShape[1], slots = dy.shape[2] * dy.shape[3]
        // Slots past a plane's count are never read, so the lists start uninitialised (not zeroed).
        var g = PooledGradient(shape: inputShape, slots: slots,
                               positions: [Int32](unsafeUninitializedCapacity: planes * slots) { $1 = planes * slots },
                               values: [Float](unsafeUninitializedCapacity: planes * slots) { $1 = planes * slots },
                               counts: [Int32](repeating: 0, count: planes))
        dy.withUnsafeBufferPointer { d in argmax.withUnsafeBufferPointer { a in
            g.positions.withUnsafeMutableBufferPointer { ps in g.values.withUnsafeMutableBufferPointer { vs in
                g.counts.withUnsafeMutableBufferPointer { cs in
                    for plane in 0..<planes {
                        let base = plane * slots
                        var count = 0
                        // Without branches, which the random pattern of zeros (behind a ReLU) would mispredict.
                        for j in base..<(base + slots) {
                            let v = d[j]
                            ps[base + count] = a[j]; vs[base + count] = v
                            count &+= Conv2d.isNonzero(v)
                        }
                        cs[plane] = Int32(count)
                    }
                }
            } }
        } }
        return g
    }
}
