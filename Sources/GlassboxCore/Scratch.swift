/// Per-worker scratch memory that lives as long as its owner and is reused across calls.
///
/// Handing raw pointers to workers (instead of indexing a Swift array of arrays from several threads)
/// keeps the parallel loops free of exclusivity checks and allocations.
public final class ScratchBuffers {
    private var buffers: [UnsafeMutablePointer<Float>] = []
    private var capacity = 0

    public init() {}

    /// At least `count` floats for each of `workers` workers. Contents are unspecified.
    public func pointers(workers: Int, count: Int) -> [UnsafeMutablePointer<Float>] {
        if count > capacity {
            for b in buffers { b.deallocate() }
            buffers = []
            capacity = count
        }
        while buffers.count < workers {
            let p = UnsafeMutablePointer<Float>.allocate(capacity: capacity)
            p.initialize(repeating: 0, count: capacity)
            buffers.append(p)
        }
        return Array(buffers.prefix(workers))
    }

    deinit { for b in buffers { b.deallocate() } }
}
