import Foundation
import GlassboxCore
@testable import GlassboxAnalysis

/// The 3×3 grid x, y ∈ {−1, 0, 1} in row-major order (y outer, x inner).
let topologyGrid: [(x: Double, y: Double)] = [-1.0, 0, 1].flatMap { y in [-1.0, 0, 1].map { x in (x, y) } }

/// Subtract the filter's own mean, divide by its own norm.
func topologyNormalise(_ f: [Double]) -> [Double] {
    let m = f.reduce(0, +) / Double(f.count)
    let c = f.map { $0 - m }
    let norm = c.reduce(0) { $0 + $1 * $1 }.squareRoot()
    return c.map { $0 / norm }
}

/// C(θ)(x, y) = cos θ·x + sin θ·y on the grid, normalised; `count` evenly spaced θ in [0, 2π).
func circleFilters(_ count: Int) -> [Double] {
    (0..<count).flatMap { i -> [Double] in
        let t = 2 * Double.pi * Double(i) / Double(count)
        return topologyNormalise(topologyGrid.map { cos(t) * $0.x + sin(t) * $0.y })
    }
}

/// K(θ1, θ2)(x, y) = sin θ2·u + cos θ2·Q(u), u = cos θ1·x + sin θ1·y, Q(t) = 2t² − 1, normalised.
/// θ1 ∈ [0, π) (K(θ1 + π, θ2) = K(θ1, −θ2): the Klein bottle's twisted gluing), θ2 ∈ [0, 2π).
func kleinFilters(_ n1: Int, _ n2: Int) -> [Double] {
    var out: [Double] = []
    for i in 0..<n1 {
        let t1 = Double.pi * Double(i) / Double(n1)
        for j in 0..<n2 {
            let t2 = 2 * Double.pi * Double(j) / Double(n2)
            out += topologyNormalise(topologyGrid.map { g in
                let u = cos(t1) * g.x + sin(t1) * g.y
                return sin(t2) * u + cos(t2) * (2 * u * u - 1)
            })
        }
    }
    return out
}

/// A standard normal sample (Box–Muller).
func gaussian(_ rng: inout SeededGenerator) -> Double {
    let u = Double.random(in: Double.ulpOfOne..<1, using: &rng), w = Double.random(in: 0..<1, using: &rng)
    return (-2 * log(u)).squareRoot() * cos(2 * .pi * w)
}

func euclideanDistances(_ points: [Double], dimension d: Int) -> [Double] {
    let n = points.count / d
    var out = [Double](repeating: 0, count: n * n)
    for i in 0..<n {
        for j in 0..<n where j != i {
            var s = 0.0
            for k in 0..<d { let t = points[i * d + k] - points[j * d + k]; s += t * t }
            out[i * n + j] = s.squareRoot()
        }
    }
    return out
}

/// Reference barcodes: every simplex of dimension ≤ maxDimension + 1 and diameter ≤ threshold listed explicitly,
/// sorted by (diameter, dimension), boundary matrix reduced with the standard column algorithm over Z/p.
/// Deliberately plain and slow; shares no code with VietorisRips.
func referenceBarcodes(distances: [Double], n: Int, maxDimension: Int, threshold: Double, modulus p: Int) -> [[PersistenceBar]] {
    struct S { var verts: [Int]; var diam: Double }
    var simplices: [S] = []
    func extend(_ verts: [Int], _ diam: Double) {
        simplices.append(S(verts: verts, diam: diam))
        guard verts.count <= maxDimension + 1 else { return }
        for v in (verts.last! + 1)..<max(verts.last! + 1, n) {
            var d = diam
            for w in verts { d = max(d, distances[v * n + w]) }
            if d <= threshold { extend(verts + [v], d) }
        }
    }
    for v in 0..<n { extend([v], 0) }
    simplices.sort { ($0.diam, $0.verts.count) < ($1.diam, $1.verts.count) }
    var position: [[Int]: Int] = [:]
    for (i, s) in simplices.enumerated() { position[s.verts] = i }
    func inv(_ a: Int) -> Int { var r = 1; var b = a % p; var e = p - 2; while e > 0 { if e & 1 == 1 { r = r * b % p }; b = b * b % p; e >>= 1 }; return r }
    // Columns as dictionaries row → coefficient.
    var columns: [[Int: Int]] = simplices.map { s in
        var col: [Int: Int] = [:]
        if s.verts.count > 1 {
            for i in 0..<s.verts.count {
                var face = s.verts; face.remove(at: i)
                col[position[face]!] = i % 2 == 0 ? 1 : p - 1
            }
        }
        return col
    }
    var lowOwner: [Int: Int] = [:]
    var bars = [[PersistenceBar]](repeating: [], count: maxDimension + 1)
    var paired = Set<Int>()
    for j in 0..<columns.count {
        while let low = columns[j].keys.max(), let i = lowOwner[low] {
            let factor = (p - columns[j][low]! * inv(columns[i][low]!) % p) % p
            for (r, c) in columns[i] {
                let v = ((columns[j][r] ?? 0) + factor * c) % p
                columns[j][r] = v == 0 ? nil : v
            }
        }
        if let low = columns[j].keys.max() {
            lowOwner[low] = j
            paired.insert(low); paired.insert(j)
            let dim = simplices[low].verts.count - 1
            if dim <= maxDimension && simplices[j].diam > simplices[low].diam {
                bars[dim].append(PersistenceBar(birth: simplices[low].diam, death: simplices[j].diam))
            }
        }
    }
    for (i, s) in simplices.enumerated() where !paired.contains(i) && s.verts.count - 1 <= maxDimension {
        bars[s.verts.count - 1].append(PersistenceBar(birth: s.diam, death: .infinity))
    }
    return bars.map { $0.sorted { ($0.birth, $0.death) < ($1.birth, $1.death) } }
}
