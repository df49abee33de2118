import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
#if canImport(Glibc)
import Glibc
#endif
import GlassboxCore

/// What `Fetcher.fetch` did with one file.
public struct FetchedFile: Sendable, Equatable {
    public enum Action: String, Sendable { case downloaded, alreadyPresent = "already present" }
    public var name: String
    public var path: String
    public var sha256: String
    public var action: Action
}

/// Downloads a registered data set into a folder, verifying every file's SHA-256.
///
/// Each file is streamed to a hidden temporary file in the target folder, hashed as it arrives, checked against
/// the registry's checksum and against the announced length, and only then renamed over its final name
/// (`rename(2)` is atomic within a folder). Any failure — HTTP error, dropped connection, short body, wrong
/// checksum — deletes the temporary file, so the folder never holds a partial or unverified file. Files already
/// present with the right checksum are not downloaded again. The API is synchronous, for the command line.
public enum Fetcher {
    /// The default target folder: `datasets/<name>` under the current directory.
    public static func defaultDirectory(for name: String) -> String {
        (FileManager.default.currentDirectoryPath as NSString).appendingPathComponent("datasets/\(name)")
    }

    /// Fetches every file of data set `name` into `directory` (default `datasets/<name>`), from `mirror` instead
    /// of the registry's base URL when given. CIFAR-10's archive is unpacked after it is verified.
    @discardableResult
    public static func fetch(name: String, into directory: String? = nil, mirror: String? = nil,
                             timeout: TimeInterval = 60) throws -> [FetchedFile] {
        let info = try DatasetRegistry.info(name)
        let folder = directory ?? defaultDirectory(for: name)
        var base = mirror ?? info.baseURL
        if !base.hasSuffix("/") { base += "/" }
        guard let baseURL = URL(string: base), let scheme = baseURL.scheme, ["http", "https"].contains(scheme.lowercased()) else {
            throw GlassboxError.invalidArgument(name: mirror == nil ? "base URL of \(name)" : "--mirror",
                                                expected: "an http:// or https:// URL", found: base)
        }
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw GlassboxError.badFile(path: folder, field: "folder", expected: "a folder that can be created",
                                        found: error.localizedDescription)
        }
        var results = [FetchedFile]()
        for file in info.files {
            let path = (folder as NSString).appendingPathComponent(file.name)
            if FileManager.default.fileExists(atPath: path) {
                let have = try SHA256.hex(fileAt: path)
                if have == file.sha256 {
                    logInfo("\(file.name): already present, checksum OK")
                    results.append(FetchedFile(name: file.name, path: path, sha256: have, action: .alreadyPresent))
                    continue
                }
                logInfo("\(file.name): present but checksum \(have) ≠ \(file.sha256); downloading again")
            }
            guard let url = URL(string: file.name, relativeTo: baseURL)?.absoluteURL else {
                throw GlassboxError.invalidArgument(name: "file name", expected: "a URL path", found: file.name)
            }
            let sha = try download(url, to: path, expectedSHA256: file.sha256, timeout: timeout)
            results.append(FetchedFile(name: file.name, path: path, sha256: sha, action: .downloaded))
        }
        if case .cifar10Binary = info.format, let archive = results.first,
           CIFAR10.batchFolder(in: folder, split: .train) == nil || CIFAR10.batchFolder(in: folder, split: .test) == nil {
            logInfo("unpacking \(archive.name)")
            let tar = try Files.readMaybeGzip(archive.path)
            try Tar.extract(tar, name: archive.path, into: folder)
        }
        return results
    }

    /// Downloads `url` to `path` through a temporary file beside it; returns the SHA-256 (which must equal
    /// `expectedSHA256`). Nothing is left at `path` or in the temporary file when this throws.
    @discardableResult
    public static func download(_ url: URL, to path: String, expectedSHA256: String, timeout: TimeInterval = 60) throws -> String {
        let dest = URL(fileURLWithPath: path)
        let tmp = dest.deletingLastPathComponent()
            .appendingPathComponent(".\(dest.lastPathComponent).part-\(ProcessInfo.processInfo.processIdentifier)").path
        let delegate = DownloadDelegate(url: url.absoluteString, tmpPath: tmp, label: dest.lastPathComponent)
        let config = URLSessionConfiguration.ephemeral
        config.timeoutIntervalForRequest = timeout
        config.requestCachePolicy = .reloadIgnoringLocalCacheData
        let session = URLSession(configuration: config, delegate: delegate, delegateQueue: nil)
        logInfo("downloading \(url.absoluteString)")
        session.dataTask(with: url).resume()
        delegate.done.wait()
        session.finishTasksAndInvalidate()
        delegate.closeFile()

        func fail(_ error: GlassboxError) -> GlassboxError {
            unlink(tmp)
            return error
        }
        if let failure = delegate.failure { throw fail(failure) }
        if delegate.expected >= 0 && Int64(delegate.received) != delegate.expected {
            throw fail(.network(url: url.absoluteString,
                                reason: "short read: received \(delegate.received) of \(delegate.expected) bytes (connection dropped); nothing was saved"))
        }
        let found = delegate.digest()
        guard found == expectedSHA256.lowercased() else {
            throw fail(.badFile(path: path, field: "sha256", expected: expectedSHA256.lowercased(),
                                found: "\(found) (download from \(url.absoluteString) refused and deleted)"))
        }
        guard rename(tmp, path) == 0 else {
            let reason = String(cString: strerror(errno))
            throw fail(.badFile(path: path, field: "write", expected: "a writable location", found: reason))
        }
        logInfo("\(dest.lastPathComponent): \(delegate.received) bytes, sha256 \(found) OK")
        return found
    }
}

/// Streams one response body to a file while hashing it. All callbacks run on the session's serial queue; the
/// caller reads the fields only after `done` is signalled.
private final class DownloadDelegate: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    let url: String
    let tmpPath: String
    let done = DispatchSemaphore(value: 0)
    private(set) var failure: GlassboxError?
    private(set) var received = 0
    private(set) var expected: Int64 = -1
    private var handle: FileHandle?
    private var hasher = SHA256()
    private var progress: ProgressBar?
    private let label: String

    init(url: String, tmpPath: String, label: String) {
        self.url = url
        self.tmpPath = tmpPath
        self.label = label
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
                    completionHandler: @escaping (URLSession.ResponseDisposition) -> Void) {
        if let http = response as? HTTPURLResponse, !(200..<300).contains(http.statusCode) {
            failure = .network(url: url, reason: "HTTP status \(http.statusCode) (expected 200)")
            completionHandler(.cancel)
            return
        }
        expected = response.expectedContentLength
        guard FileManager.default.createFile(atPath: tmpPath, contents: nil),
              let h = FileHandle(forWritingAtPath: tmpPath) else {
            failure = .badFile(path: tmpPath, field: "write", expected: "a writable folder", found: "cannot create the temporary file")
            completionHandler(.cancel)
            return
        }
        handle = h
        if expected > 0 { progress = ProgressBar(total: Int(expected), label: label) }
        completionHandler(.allow)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        guard failure == nil, let handle else { return }
        do {
            try handle.write(contentsOf: data)
        } catch {
            failure = .badFile(path: tmpPath, field: "write", expected: "room to write", found: error.localizedDescription)
            dataTask.cancel()
            return
        }
        hasher.update(data)
        received += data.count
        progress?.update(received)
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
        progress?.finish()
        if let error, failure == nil {
            failure = .network(url: url, reason: "download failed after \(received) bytes: \(error.localizedDescription); nothing was saved")
        }
        done.signal()
    }

    func closeFile() {
        try? handle?.close()
        handle = nil
    }

    func digest() -> String {
        hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }
}
