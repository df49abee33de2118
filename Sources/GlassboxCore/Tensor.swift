/// A dense, row-major, contiguous tensor of `Float` with value semantics.
///
/// Storage is a Swift array, so copies are cheap until one side writes (copy on write).
/// Hot loops should go through `withUnsafeBufferPointer` / `withUnsafeMutableBufferPointer`.
public struct Tensor: Equatable, Sendable {
    public private(set) var shape: [Int]
    public var scalars: [Float]

    /// A tensor of zeros.
    public init(zeros shape: [Int]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        self.shape = shape
        self.scalars = [Float](repeating: 0, count: shape.reduce(1, *))
    }

    public init(repeating value: Float, shape: [Int]) {
        self.shape = shape
        self.scalars = [Float](repeating: value, count: shape.reduce(1, *))
    }

    /// Wraps existing values; `scalars.count` must equal the product of `shape`.
    public init(shape: [Int], scalars: [Float]) {
        precondition(shape.reduce(1, *) == scalars.count,
                     "shape \(shape) needs \(shape.reduce(1, *)) values, got \(scalars.count)")
        self.shape = shape
        self.scalars = scalars
    }

    /// A tensor whose storage is left uninitialised and then filled by `body`, which must write every element.
    public init(uninitializedShape shape: [Int], _ body: (UnsafeMutablePointer<Float>, Int) -> Void) {
        let n = shape.reduce(1, *)
        self.shape = shape
        self.scalars = [Float](unsafeUninitializedCapacity: n) { buf, count in
            if n > 0 { body(buf.baseAddress!, n) }
            count = n
        }
    }

    public var count: Int { scalars.count }
    public var rank: Int { shape.count }

    /// Size of dimension 0 (the batch), or 1 for a scalar.
    public var rows: Int { shape.first ?? 1 }
    /// Product of every dimension after the first.
    public var rowLength: Int { shape.count <= 1 ? 1 : shape.dropFirst().reduce(1, *) }

    public func reshaped(_ newShape: [Int]) -> Tensor {
        var t = self
        t.reshape(newShape)
        return t
    }

    public mutating func reshape(_ newShape: [Int]) {
        precondition(newShape.reduce(1, *) == scalars.count, "cannot reshape \(shape) to \(newShape)")
        shape = newShape
    }

    public subscript(flat i: Int) -> Float {
        get { scalars[i] }
        set { scalars[i] = newValue }
    }

    /// Element access by full index (slow path, for tests and small code).
    public subscript(_ index: Int...) -> Float {
        get { scalars[offset(index)] }
        set { scalars[offset(index)] = newValue }
    }

    @inline(__always)
    func offset(_ index: [Int]) -> Int {
        precondition(index.count == shape.count, "index \(index) does not match shape \(shape)")
        var o = 0
        for (i, d) in zip(index, shape) {
            precondition(i >= 0 && i < d, "index \(index) out of range for shape \(shape)")
            o = o * d + i
        }
        return o
    }

    @inlinable
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try scalars.withUnsafeBufferPointer(body)
    }

    @inlinable
    public mutating func withUnsafeMutableBufferPointer<R>(_ body: (inout UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R {
        try scalars.withUnsafeMutableBufferPointer(body)
    }

    /// Rows `range` of dimension 0, as a new tensor.
    public func rows(_ range: Range<Int>) -> Tensor {
        let len = rowLength
        var s = shape
        if s.isEmpty { s = [1] }
        s[0] = range.count
        return Tensor(shape: s, scalars: Array(scalars[(range.lowerBound * len)..<(range.upperBound * len)]))
    }

    /// Gathers rows `indices` of dimension 0 into a new tensor.
    public func gatherRows(_ indices: [Int]) -> Tensor {
        let len = rowLength
        var s = shape
        s[0] = indices.count
        return Tensor(uninitializedShape: s) { dst, _ in
            scalars.withUnsafeBufferPointer { src in
                for (r, i) in indices.enumerated() {
                    (dst + r * len).update(from: src.baseAddress! + i * len, count: len)
                }
            }
        }
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let head = scalars.prefix(8).map { String(format: "%.4g", $0) }.joined(separator: ", ")
        return "Tensor(\(shape): [\(head)\(scalars.count > 8 ? ", …" : "")])"
    }
}
