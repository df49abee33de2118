import Foundation
import GlassboxCore
import GlassboxNN

/// DeepLIFT with the Rescale rule (Shrikumar et al. 2017), as Captum's `DeepLift` (multiply_by_inputs) computes it.
///
/// Multipliers m = ∂ᴰF/∂x are propagated backwards like gradients, layer by layer, from one forward pass on x and
/// one on the baseline x′:
/// - Linear, Conv2d, Flatten, Dropout (evaluation): linear, so the multiplier is the gradient (transposed map).
/// - ReLU, Sigmoid, Tanh: m_in = m_out · Δy/Δz per element (Δ = value at x − value at x′); where |Δz| < ε the
///   ratio is 0/0-like and the derivative at x is used instead (Captum's fallback).
/// - MaxPool2d (Captum's rule, which keeps the summation property): each window's output change Δy = y − y′ goes
///   whole to one input: to the window's argmax at x when y ≥ y′ (then Δz there ≥ Δy ≥ 0), otherwise to the argmax
///   at x′ (then Δz there ≤ Δy < 0). So the multiplier Δy/Δz of that input lies in [0, 1], and where |Δz| < ε, also
///   |Δy| < ε and the gradient at x is used. (Shrikumar et al. suggest plain gradients for max pooling, which breaks
///   Σ attr = F(x) − F(x′); Captum's routing and this one keep it.)
/// The attribution is m ⊙ (x − x′), and Σ attr = F(x) − F(x′) up to float rounding and the ε fallbacks
/// (summation-to-delta), which `Attribution.completenessGap` reports per image.
///
/// A probability target goes through the softmax, which is not element-wise: its multipliers are the gradient of
/// p_t at the midpoint (z + z′)/2 of the logits, scaled so that Σ_j m_j Δz_j = Δp_t exactly (the gradient at x when
/// that scale's denominator is below ε). Captum has no exact rule for a softmax inside the model.
enum DeepLift {
    static func check(_ model: Sequential) throws {
        for (i, l) in model.layers.enumerated() {
            switch l {
            case is Linear, is Conv2d, is ReLU, is Sigmoid, is Tanh, is MaxPool2d, is Flatten, is Dropout: continue
            default:
                throw GlassboxError.invalidArgument(name: "method deeplift", expected: "layers DeepLIFT has a rule for", found: "layer \(i) '\(l.kind)'")
            }
        }
    }

    static func run(_ workers: AttributionWorkers, _ inputs: Tensor, _ reference: Tensor, _ targets: [Int],
                    _ config: AttributionConfig) -> MethodOutput {
        let len = inputs.rowLength, n = inputs.rows
        let maps = SharedFloats(count: n * len), fx = SharedFloats(count: n), fb = SharedFloats(count: n)
        workers.forEachChunk(n, chunk: config.chunkSize) { net, range in
            let (attr, f, f0) = chunk(net, inputs.rows(range), reference.rows(range), targets[range], config)
            maps.write(attr, at: range.lowerBound * len)
            fx.write(f, at: range.lowerBound)
            fb.write(f0, at: range.lowerBound)
        }
        return MethodOutput(maps: Tensor(shape: inputs.shape, scalars: maps.array), outputs: fx.array, baselineOutputs: fb.array)
    }

    static func chunk(_ net: Sequential, _ x: Tensor, _ xb: Tensor, _ targets: ArraySlice<Int>, _ config: AttributionConfig)
        -> (Tensor, [Float], [Float]) {
        let t0 = targets.startIndex, eps = config.deepLiftEpsilon
        // The baseline first, so the layers' caches hold x for the linear layers' backward products.
        let zb = net.forward(xb)
        let inB = [xb] + net.activations.dropLast()
        let outB = net.activations
        let z = net.forward(x)
        let inX = [x] + net.activations.dropLast()
        let outX = net.activations
        let f = TargetSeed.values(z, kind: config.target) { targets[t0 + $0] }
        let f0 = TargetSeed.values(zb, kind: config.target) { targets[t0 + $0] }
        var m = outputMultipliers(z, zb, f, f0, targets, config)
        for i in stride(from: net.layers.count - 1, through: 0, by: -1) {
            let layer = net.layers[i]
            switch layer {
            case is ReLU, is Sigmoid, is Tanh:
                m = rescale(m, zx: inX[i], zb: inB[i], yx: outX[i], yb: outB[i], kind: layer.kind, eps: eps)
            case let pool as MaxPool2d:
                m = maxPool(m, pool, zx: inX[i], zb: inB[i], yx: outX[i], yb: outB[i], eps: eps)
            default:
                m = layer.backward(m, needInputGradient: true)!
            }
        }
        let attr = Tensor(uninitializedShape: x.shape) { dst, count in
            x.withUnsafeBufferPointer { xs in
                xb.withUnsafeBufferPointer { bs in
                    m.withUnsafeBufferPointer { ms in for j in 0..<count { dst[j] = (xs[j] - bs[j]) * ms[j] } }
                }
            }
        }
        return (attr, f, f0)
    }

    /// Multipliers of F with respect to the logits.
    static func outputMultipliers(_ z: Tensor, _ zb: Tensor, _ f: [Float], _ f0: [Float], _ targets: ArraySlice<Int>,
                                  _ config: AttributionConfig) -> Tensor {
        let t0 = targets.startIndex
        guard config.target == .probability else {
            return TargetSeed.make(z, kind: .logit) { targets[t0 + $0] }.seed
        }
        let k = z.rowLength
        let mid = Tensor(shape: z.shape, scalars: zip(z.scalars, zb.scalars).map { ($0 + $1) / 2 })
        var m = TargetSeed.make(mid, kind: .probability) { targets[t0 + $0] }.seed
        let atX = TargetSeed.make(z, kind: .probability) { targets[t0 + $0] }.seed
        for r in 0..<z.rows {
            var dot: Double = 0
            for j in 0..<k { dot += Double(m[flat: r * k + j]) * Double(z[flat: r * k + j] - zb[flat: r * k + j]) }
            let delta = Double(f[r] - f0[r])
            if abs(dot) < Double(config.deepLiftEpsilon) || dot == 0 {
                for j in 0..<k { m[flat: r * k + j] = atX[flat: r * k + j] }
            } else {
                let s = Float(delta / dot)
                for j in 0..<k { m[flat: r * k + j] *= s }
            }
        }
        return m
    }

    /// The Rescale rule for an element-wise activation.
    static func rescale(_ m: Tensor, zx: Tensor, zb: Tensor, yx: Tensor, yb: Tensor, kind: String, eps: Float) -> Tensor {
        let relu = kind == "relu", sigmoid = kind == "sigmoid"
        return Tensor(uninitializedShape: zx.shape) { dst, count in
            m.withUnsafeBufferPointer { g in
                zx.withUnsafeBufferPointer { a in
                    zb.withUnsafeBufferPointer { b in
                        yx.withUnsafeBufferPointer { ya in
                            yb.withUnsafeBufferPointer { yr in
                                for j in 0..<count {
                                    let dz = a[j] - b[j]
                                    if abs(dz) < eps {
                                        let y = ya[j]
                                        let d: Float = relu ? (y > 0 ? 1 : 0) : sigmoid ? y * (1 - y) : 1 - y * y
                                        dst[j] = g[j] * d
                                    } else {
                                        dst[j] = g[j] * (ya[j] - yr[j]) / dz
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Captum's max-pooling rule (see the type's comment).
    static func maxPool(_ m: Tensor, _ pool: MaxPool2d, zx: Tensor, zb: Tensor, yx: Tensor, yb: Tensor, eps: Float) -> Tensor {
        let (n, c, h, w) = (zx.shape[0], zx.shape[1], zx.shape[2], zx.shape[3])
        let planes = n * c, inPlane = h * w, outPlane = yx.shape[2] * yx.shape[3]
        var argX = [Int32](repeating: 0, count: planes * outPlane), argB = argX
        var scratch = [Float](repeating: 0, count: planes * outPlane)
        zx.withUnsafeBufferPointer { s in
            scratch.withUnsafeMutableBufferPointer { d in
                argX.withUnsafeMutableBufferPointer { a in
                    Ops.maxPool(s.baseAddress!, planes: planes, h: h, w: w, kernel: pool.kernel, stride: pool.stride, dst: d.baseAddress!, argmax: a.baseAddress!)
                }
            }
        }
        zb.withUnsafeBufferPointer { s in
            scratch.withUnsafeMutableBufferPointer { d in
                argB.withUnsafeMutableBufferPointer { a in
                    Ops.maxPool(s.baseAddress!, planes: planes, h: h, w: w, kernel: pool.kernel, stride: pool.stride, dst: d.baseAddress!, argmax: a.baseAddress!)
                }
            }
        }
        var routed = [Float](repeating: 0, count: planes * inPlane)
        var gradient = [Float](repeating: 0, count: planes * inPlane)
        m.withUnsafeBufferPointer { g in
            yx.withUnsafeBufferPointer { ya in
                yb.withUnsafeBufferPointer { yr in
                    for p in 0..<planes {
                        for o in 0..<outPlane {
                            let q = p * outPlane + o
                            let hi = max(ya[q], yr[q])
                            routed[p * inPlane + Int(argX[q])] += g[q] * (hi - yr[q])
                            routed[p * inPlane + Int(argB[q])] += g[q] * (ya[q] - hi)
                            gradient[p * inPlane + Int(argX[q])] += g[q]
                        }
                    }
                }
            }
        }
        return Tensor(uninitializedShape: zx.shape) { dst, count in
            zx.withUnsafeBufferPointer { a in
                zb.withUnsafeBufferPointer { b in
                    for j in 0..<count {
                        let dz = a[j] - b[j]
                        dst[j] = abs(dz) < eps ? gradient[j] : routed[j] / dz
                    }
                }
            }
        }
    }
}
