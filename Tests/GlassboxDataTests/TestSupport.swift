import Foundation
#if canImport(Glibc)
import Glibc
#endif
import XCTest
@testable import GlassboxCore
@testable import GlassboxData

/// A fresh temporary folder, removed by the caller's `defer`.
func makeTempDir(_ label: String = "data") throws -> String {
    let path = (NSTemporaryDirectory() as NSString).appendingPathComponent("glassbox-\(label)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// Repository root, found from this file: Tests/GlassboxDataTests/TestSupport.swift → ../../..
let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path
/// `shared/` sits beside the repository (worktree or CI clone).
let sharedMNIST = ((repoRoot as NSString).deletingLastPathComponent as NSString).appendingPathComponent("shared/datasets/mnist")

/// Asserts that `body` throws exactly `expected`.
func assertThrows<T>(_ expected: GlassboxError, _ body: @autoclosure () throws -> T,
                     file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertThrowsError(try body(), file: file, line: line) { error in
        XCTAssertEqual(error as? GlassboxError, expected, file: file, line: line)
    }
}

/// Returns the thrown `GlassboxError` (failing the test when nothing, or something else, is thrown).
func thrownError<T>(_ body: @autoclosure () throws -> T, file: StaticString = #filePath, line: UInt = #line) -> GlassboxError? {
    do {
        _ = try body()
        XCTFail("expected an error", file: file, line: line)
    } catch let e as GlassboxError {
        return e
    } catch {
        XCTFail("expected a GlassboxError, got \(error)", file: file, line: line)
    }
    return nil
}

/// Files in `dir` (including hidden ones), sorted.
func listing(_ dir: String) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted()
}

/// A tiny HTTP/1.1 server on 127.0.0.1 (ephemeral port) for download tests. It answers `GET /path` from a
/// fixed table, one connection at a time, closing each connection after the response. A route may announce a
/// `Content-Length` larger than its body to simulate a connection dropped mid-transfer. Bounded: it serves at
/// most `maxRequests` requests and stops by itself after `lifetime` seconds, or when `stop()` is called.
final class LoopbackHTTPServer: @unchecked Sendable {
    struct Route {
        var body: Data
        var announcedLength: Int? = nil
        var status = 200
    }

    let port: UInt16
    private let listener: Int32
    private let routes: [String: Route]
    private let lock = NSLock()
    private var stopped = false
    private let finished = DispatchSemaphore(value: 0)
    private(set) var requests: [String] = []

    init(routes: [String: Route], lifetime: TimeInterval = 30, maxRequests: Int = 50) throws {
        self.routes = routes
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw GlassboxError.message("socket() failed: errno \(errno)") }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        addr.sin_addr = in_addr(s_addr: inet_addr("127.0.0.1"))
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 8) == 0 else { close(fd); throw GlassboxError.message("bind/listen failed: errno \(errno)") }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        port = UInt16(bigEndian: addr.sin_port)
        listener = fd
        let deadline = Date().addingTimeInterval(lifetime)
        let thread = Thread { [self] in
            var served = 0
            while served < maxRequests && Date() < deadline && !isStopped {
                var pfd = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
                guard poll(&pfd, 1, 100) > 0 else { continue }
                let conn = accept(listener, nil, nil)
                guard conn >= 0 else { continue }
                serve(conn)
                served += 1
            }
            finished.signal()
        }
        thread.start()
    }

    var baseURL: String { "http://127.0.0.1:\(port)/" }

    private var isStopped: Bool {
        lock.lock(); defer { lock.unlock() }
        return stopped
    }

    func stop() {
        lock.lock()
        let already = stopped
        stopped = true
        lock.unlock()
        guard !already else { return }
        finished.wait()
        close(listener)
    }

    deinit { stop() }

    private func serve(_ conn: Int32) {
        defer { close(conn) }
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(conn, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var request = [UInt8]()
        var buf = [UInt8](repeating: 0, count: 4096)
        while request.count < 65536 {
            let n = recv(conn, &buf, buf.count, 0)
            if n <= 0 { return }
            request += buf[0..<n]
            if request.count >= 4, String(decoding: request, as: UTF8.self).contains("\r\n\r\n") { break }
        }
        let firstLine = String(decoding: request, as: UTF8.self).split(separator: "\r\n").first ?? ""
        let parts = firstLine.split(separator: " ")
        let path = parts.count >= 2 ? String(parts[1]) : "/"
        lock.lock(); requests.append(path); lock.unlock()
        let route = routes[path] ?? Route(body: Data("not found".utf8), status: 404)
        let reason = route.status == 200 ? "OK" : "Not Found"
        let head = "HTTP/1.1 \(route.status) \(reason)\r\nContent-Type: application/octet-stream\r\n"
            + "Content-Length: \(route.announcedLength ?? route.body.count)\r\nConnection: close\r\n\r\n"
        sendAll(conn, Data(head.utf8))
        sendAll(conn, route.body)
    }

    private func sendAll(_ conn: Int32, _ data: Data) {
        data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            var off = 0
            while off < raw.count {
                let n = send(conn, raw.baseAddress! + off, raw.count - off, Int32(MSG_NOSIGNAL))
                if n <= 0 { return }
                off += n
            }
        }
    }
}
