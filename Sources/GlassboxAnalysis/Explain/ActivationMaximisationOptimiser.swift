import Foundation
import GlassboxCore
import GlassboxNN

/// The gradient-ascent loop of activation maximisation: every (unit, seed) pair is one image of one batch, with its
/// own random stream (stream `unit·2²⁰ + seed` of the configured seed), so an image does not depend on which other
/// units share the batch.
final class AscentLoop {
    let net: Sequential
    let config: ActivationMaximisationConfig
    let c: Int, h: Int, w: Int
    let modelInput: [Int]
    let layerShapes: [[Int]]
    let objectiveLayer: Int
    let jobs: [(unit: Int, seed: Int)]
    let basis: FourierBasis?

    init(net: Sequential, config: ActivationMaximisationConfig, imageShape: [Int], modelInput: [Int], layerShapes: [[Int]],
         objectiveLayer: Int, units: [Int]) {
        self.net = net; self.config = config
        (c, h, w) = (imageShape[0], imageShape[1], imageShape[2])
        self.modelInput = modelInput; self.layerShapes = layerShapes; self.objectiveLayer = objectiveLayer
        jobs = units.flatMap { u in (0..<config.seedsPerUnit).map { (u, $0) } }
        basis = config.parameterisation == .fourier ? FourierBasis(height: imageShape[1], width: imageShape[2]) : nil
    }

    var plane: Int { h * w }
    var len: Int { c * plane }
    /// Parameters per image.
    var perImage: Int { basis.map { c * $0.count } ?? len }

    func run() -> [OptimisedImage] {
        let b = jobs.count
        var gens = jobs.map { SeededGenerator.derived(seed: config.seed, stream: UInt64($0.unit) << 20 | UInt64($0.seed)) }
        var params = [Float](repeating: 0, count: b * perImage)
        for i in 0..<b { for j in 0..<perImage { params[i * perImage + j] = config.initialNoise * gens[i].normal() } }
        if config.parameterisation == .pixel { project(&params) }
        var m = [Float](repeating: 0, count: params.count), v = m
        var traces = [[Float]](repeating: [], count: b)
        let start = measure(image(params).x)
        for step in 0..<config.steps {
            let x = image(params).x
            let transforms = (0..<b).map { i in
                ImageTransform.random(jitter: config.jitter, scale: config.scale, rotationDegrees: config.rotationDegrees, using: &gens[i])
            }
            let taps = transforms.map { $0.isIdentity ? nil : $0.taps(h: h, w: w) }
            let seen = transform(x, taps)
            let (objective, gSeen) = objectiveGradient(seen)
            if step % config.traceEvery == 0 { for i in 0..<b { traces[i].append(objective[i]) } }
            var g = adjoint(gSeen, taps)
            if config.totalVariation > 0 {
                x.withUnsafeBufferPointer { xs in
                    g.withUnsafeMutableBufferPointer { gs in
                        for p in 0..<(b * c) {
                            TotalVariation.addGradient(xs.baseAddress! + p * plane, h: h, w: w, scale: -config.totalVariation,
                                                       into: gs.baseAddress! + p * plane)
                        }
                    }
                }
            }
            // Through the range map (clip passes the gradient straight through).
            if config.range == .sigmoid { for j in 0..<g.count { g[j] *= x[j] * (1 - x[j]) } }
            let dp: [Float]
            if let basis {
                var d = [Float](repeating: 0, count: params.count)
                g.withUnsafeBufferPointer { gs in d.withUnsafeMutableBufferPointer { basis.adjoint(gs.baseAddress!, m: b * c, into: $0.baseAddress!) } }
                dp = d
            } else {
                dp = g
            }
            update(&params, dp, &m, &v, step: step + 1)
            if config.parameterisation == .pixel {
                if config.blurEvery > 0 && (step + 1) % config.blurEvery == 0 {
                    params = ImageFilters.blur(Tensor(shape: [b, c, h, w], scalars: params), sigma: config.blurSigma).scalars
                }
                project(&params)
            }
        }
        let final = image(params).x
        let end = measure(final)
        return jobs.enumerated().map { i, job in
            OptimisedImage(unit: job.unit, seedIndex: job.seed, pixels: Array(final[(i * len)..<((i + 1) * len)]),
                           activation: end.requested[i], startActivation: start.requested[i], objective: end.objective[i], trace: traces[i])
        }
    }

    /// The pre-range values u and the image x for every job.
    func image(_ params: [Float]) -> (u: [Float], x: [Float]) {
        var u: [Float]
        if let basis {
            u = [Float](repeating: 0, count: jobs.count * len)
            params.withUnsafeBufferPointer { p in u.withUnsafeMutableBufferPointer { basis.synthesise(p.baseAddress!, m: jobs.count * c, into: $0.baseAddress!) } }
        } else {
            u = params
        }
        let x: [Float] = u.map { v in
            switch config.range {
            case .sigmoid: return Ops.sigmoid(v)
            case .clip: return min(1, max(0, 0.5 + v))
            case .none: return 0.5 + v
            }
        }
        return (u, x)
    }

    /// Pixel parameters: the L2 ball around `l2Center`, then the clip range.
    func project(_ p: inout [Float]) {
        if let r = config.l2Radius {
            for i in 0..<jobs.count {
                var n2: Float = 0
                for j in 0..<len { let d = 0.5 + p[i * len + j] - config.l2Center; n2 += d * d }
                let n = n2.squareRoot()
                if n > r {
                    for j in 0..<len { p[i * len + j] = config.l2Center + (0.5 + p[i * len + j] - config.l2Center) * r / n - 0.5 }
                }
            }
        }
        if config.range == .clip { for j in p.indices { p[j] = min(0.5, max(-0.5, p[j])) } }
    }

    func transform(_ x: [Float], _ taps: [(index: [Int32], weight: [Float])?]) -> [Float] {
        var out = x
        for (i, t) in taps.enumerated() {
            guard let t else { continue }
            for ch in 0..<c {
                let base = i * len + ch * plane
                for p in 0..<plane {
                    var s: Float = 0
                    for k in 0..<4 {
                        let idx = t.index[4 * p + k]
                        s += t.weight[4 * p + k] * (idx >= 0 ? x[base + Int(idx)] : config.fill)
                    }
                    out[base + p] = s
                }
            }
        }
        return out
    }

    func adjoint(_ g: [Float], _ taps: [(index: [Int32], weight: [Float])?]) -> [Float] {
        var out = g
        for (i, t) in taps.enumerated() {
            guard let t else { continue }
            for ch in 0..<c {
                let base = i * len + ch * plane
                for p in 0..<plane { out[base + p] = 0 }
                for p in 0..<plane {
                    let gp = g[base + p]
                    for k in 0..<4 {
                        let idx = t.index[4 * p + k]
                        if idx >= 0 { out[base + Int(idx)] += t.weight[4 * p + k] * gp }
                    }
                }
            }
        }
        return out
    }

    func batch(_ x: [Float]) -> Tensor {
        Tensor(shape: [jobs.count] + (modelInput.count == 3 ? modelInput : [len]), scalars: x)
    }

    /// Unit j's value in a layer's output (`[N, …]`): the unit, or its channel's mean or centre.
    func unitValues(_ a: Tensor, layer: Int) -> [Float] {
        let shape = layerShapes[layer], per = a.rowLength
        let pl = shape.dropFirst().reduce(1, *)
        return jobs.enumerated().map { i, job in
            let base = i * per + job.unit * pl
            if shape.count == 3 {
                if config.channelObjective == .centre { return a[flat: base + (shape[1] / 2) * shape[2] + shape[2] / 2] }
                var s: Float = 0
                for q in 0..<pl { s += a[flat: base + q] }
                return s / Float(pl)
            }
            return a[flat: base]
        }
    }

    /// The requested layer's and the objective layer's values, without transforms.
    func measure(_ x: [Float]) -> (requested: [Float], objective: [Float]) {
        _ = net.forward(batch(x), through: config.layer)
        return (unitValues(net.activations[config.layer], layer: config.layer), unitValues(net.activations[objectiveLayer], layer: objectiveLayer))
    }

    /// The objective per image and its gradient with respect to the (transformed) image.
    func objectiveGradient(_ x: [Float]) -> ([Float], [Float]) {
        let out = net.forward(batch(x), through: objectiveLayer)
        let values = unitValues(out, layer: objectiveLayer)
        let shape = layerShapes[objectiveLayer], per = out.rowLength, pl = shape.dropFirst().reduce(1, *)
        var seed = Tensor(zeros: out.shape)
        for (i, job) in jobs.enumerated() {
            let base = i * per + job.unit * pl
            if shape.count == 3 {
                if config.channelObjective == .centre { seed[flat: base + (shape[1] / 2) * shape[2] + shape[2] / 2] = 1 }
                else { for q in 0..<pl { seed[flat: base + q] = 1 / Float(pl) } }
            } else {
                seed[flat: base] = 1
            }
        }
        var g = seed
        for i in stride(from: objectiveLayer, through: 0, by: -1) {
            var gi = net.layers[i].backward(g, needInputGradient: true)!
            if config.redirectDeadReLUs && net.layers[i] is ReLU { redirect(&gi, from: g, output: net.activations[i]) }
            g = gi
        }
        return (values, g.scalars)
    }

    /// lucid's redirected ReLU gradient: for an image whose ReLU gradient is zero everywhere while the incoming one
    /// is not, pass the incoming gradient where the unit is on or where it would push a negative input upwards.
    func redirect(_ gi: inout Tensor, from g: Tensor, output y: Tensor) {
        let per = g.rowLength
        gi.withUnsafeMutableBufferPointer { d in
            g.withUnsafeBufferPointer { gs in
                y.withUnsafeBufferPointer { ys in
                    for s in 0..<g.rows {
                        let o = s * per
                        var dead = true, incoming = false
                        for j in 0..<per {
                            if d[o + j] != 0 { dead = false; break }
                            if gs[o + j] != 0 { incoming = true }
                        }
                        guard dead && incoming else { continue }
                        for j in 0..<per { d[o + j] = ys[o + j] > 0 || gs[o + j] > 0 ? gs[o + j] : 0 }
                    }
                }
            }
        }
    }

    /// One ascent step (the objective is maximised).
    func update(_ p: inout [Float], _ g: [Float], _ m: inout [Float], _ v: inout [Float], step: Int) {
        let lr = config.learningRate
        switch config.optimizer {
        case .gradientAscent:
            for j in p.indices { p[j] += lr * g[j] }
        case .adam:
            let b1: Float = 0.9, b2: Float = 0.999, eps: Float = 1e-8
            let c1 = 1 - powf(b1, Float(step)), c2 = 1 - powf(b2, Float(step))
            for j in p.indices {
                m[j] = b1 * m[j] + (1 - b1) * g[j]
                v[j] = b2 * v[j] + (1 - b2) * g[j] * g[j]
                p[j] += lr * (m[j] / c1) / ((v[j] / c2).squareRoot() + eps)
            }
        }
    }
}
