import Foundation
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
/// Each file is downloaded by the `curl` program to a hidden temporary file in the target folder, checked against the
/// announced length and the registry's checksum, and only then renamed over its final name
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
    ///
    /// The transfer is `curl`'s (on PATH): Foundation's URLSession would link libcurl, OpenSSL and Kerberos into every
    /// glassbox process, which cost 8 ms of each start-up, for the one command that downloads. `timeout` bounds the
    /// connection and any stretch of `timeout` seconds without data; redirects are followed over http(s) only.
    @discardableResult
    public static func download(_ url: URL, to path: String, expectedSHA256: String, timeout: TimeInterval = 60) throws -> String {
        let dest = URL(fileURLWithPath: path)
        let tmp = dest.deletingLastPathComponent()
            .appendingPathComponent(".\(dest.lastPathComponent).part-\(ProcessInfo.processInfo.processIdentifier)").path
        let headers = tmp + ".headers"
        defer { unlink(headers) }
        func fail(_ error: GlassboxError) -> GlassboxError {
            unlink(tmp)
            return error
        }
        logInfo("downloading \(url.absoluteString)")
        let result = try Curl.run(url: url.absoluteString, to: tmp, headers: headers, timeout: timeout, label: dest.lastPathComponent)
        if let failure = result.failure { throw fail(.network(url: url.absoluteString, reason: failure + "; nothing was saved")) }
        guard (200..<300).contains(result.status) else {
            throw fail(.network(url: url.absoluteString, reason: "HTTP status \(result.status) (expected 200)"))
        }
        let found: String
        do { found = try SHA256.hex(fileAt: tmp) } catch {
            throw fail(.badFile(path: tmp, field: "download", expected: "the downloaded file", found: "\(error)"))
        }
        guard found == expectedSHA256.lowercased() else {
            throw fail(.badFile(path: path, field: "sha256", expected: expectedSHA256.lowercased(),
                                found: "\(found) (download from \(url.absoluteString) refused and deleted)"))
        }
        guard rename(tmp, path) == 0 else {
            let reason = String(cString: strerror(errno))
            throw fail(.badFile(path: path, field: "write", expected: "a writable location", found: reason))
        }
        logInfo("\(dest.lastPathComponent): \(Curl.size(of: path)) bytes, sha256 \(found) OK")
        return found
    }
}

/// One HTTP(S) transfer by the `curl` program, with a progress bar drawn from the announced length and the size of
/// the file as it grows.
enum Curl {
    struct Result {
        /// The final HTTP status (after redirects); 0 when there was no response.
        var status: Int
        /// Why the transfer failed, in words, or nil when curl finished it.
        var failure: String?
    }

    /// Why curl stopped, for the exit codes a download meets (curl(1), EXIT CODES).
    static func reason(exitCode: Int32, stderr: String, timeout: TimeInterval) -> String {
        switch exitCode {
        case 6: return "could not resolve the host"
        case 7: return "could not connect to the server"
        case 18: return "short read: the connection dropped before the announced length arrived"
        case 23: return "could not write the temporary file"
        case 28: return "timed out (no connection, or no data for \(Int(timeout)) s)"
        case 35, 60: return "TLS failed: \(stderr)"
        case 56: return "the connection dropped while receiving data"
        default:
            let message = stderr.trimmingCharacters(in: .whitespacesAndNewlines)
            return "curl exit \(exitCode)" + (message.isEmpty ? "" : ": \(message)")
        }
    }

    static func run(url: String, to file: String, headers: String, timeout: TimeInterval, label: String) throws -> Result {
        guard let curl = executablePath("curl") else {
            throw GlassboxError.message("datasets fetch downloads with the curl program, which is not on PATH: install it (apt-get install curl)")
        }
        let seconds = String(max(1, Int(timeout.rounded(.up))))
        // -q (first): ignore any ~/.curlrc, so only these options apply.
        let child = try ChildProcess(curl, ["-q", "--silent", "--show-error", "--location", "--proto", "=http,https",
                                            "--proto-redir", "=http,https", "--connect-timeout", seconds, "--speed-limit", "1",
                                            "--speed-time", seconds, "--dump-header", headers, "--output", file,
                                            "--write-out", "%{http_code}", url])
        var bar: ProgressBar?
        while !child.waitForExit(seconds: 0.2) {
            if bar == nil, let length = announcedLength(headers) { bar = ProgressBar(total: length, label: label) }
            bar?.update(size(of: file))
        }
        bar?.finish()
        let (written, errors) = child.output()
        let status = Int(written.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        guard child.process.terminationStatus == 0 else {
            return Result(status: status, failure: reason(exitCode: child.process.terminationStatus, stderr: errors, timeout: timeout))
        }
        return Result(status: status, failure: nil)
    }

    static func size(of file: String) -> Int {
        var st = stat()
        return stat(file, &st) == 0 ? Int(st.st_size) : 0
    }

    /// The Content-Length of the last response in a header dump (redirects write one block each), if any.
    static func announcedLength(_ headers: String) -> Int? {
        guard let text = try? String(contentsOfFile: headers, encoding: .utf8) else { return nil }
        return text.split(whereSeparator: \.isNewline).reversed().lazy.compactMap { line -> Int? in
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2, parts[0].lowercased() == "content-length" else { return nil }
            return Int(parts[1].trimmingCharacters(in: .whitespaces))
        }.first
    }
}
