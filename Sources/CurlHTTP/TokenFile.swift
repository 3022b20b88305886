import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A bearer token kept in a file, re-read only when the file changes.
///
/// The file's identity (device, inode, size, modification time) is checked with one `stat` per request;
/// a rotation by rename or by symlink swap changes it and the next request reads the new token.
/// Surrounding white space and the final newline are trimmed.
///
/// - Important: Reading is blocking file I/O; ``HTTPClient`` calls ``token()`` on its own transfer thread,
///   never on the cooperative pool.
final class TokenFile: Sendable {
    private struct Identity: Equatable {
        var device: UInt64
        var inode: UInt64
        var size: Int64
        var modified: timespec

        static func == (lhs: Identity, rhs: Identity) -> Bool {
            lhs.device == rhs.device && lhs.inode == rhs.inode && lhs.size == rhs.size
                && lhs.modified.tv_sec == rhs.modified.tv_sec && lhs.modified.tv_nsec == rhs.modified.tv_nsec
        }
    }

    private struct Cache {
        var identity: Identity?
        var token: String = ""
    }

    /// The token file's path.
    let path: String
    private let cache = Mutex(Cache())

    init(path: String) {
        self.path = path
    }

    /// The current token, re-read when the file changed since the last call.
    func token() throws(HTTPClientError) -> String {
        var info = stat()
        guard stat(path, &info) == 0 else { throw .credentials(path: path, reason: String(cString: strerror(errno))) }
        let identity = Identity(
            device: UInt64(info.st_dev), inode: UInt64(info.st_ino), size: Int64(info.st_size), modified: info.st_mtim)
        if let cached = cache.withLock({ $0.identity == identity ? $0.token : nil }) {
            return cached
        }
        let token = try read().trimmingCharacters(in: .whitespacesAndNewlines)
        guard !token.isEmpty else { throw .credentials(path: path, reason: "the file is empty") }
        cache.withLock { $0 = Cache(identity: identity, token: token) }
        return token
    }

    private func read() throws(HTTPClientError) -> String {
        guard let file = fopen(path, "r") else { throw .credentials(path: path, reason: String(cString: strerror(errno))) }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = fread(&buffer, 1, buffer.count, file)
            bytes += buffer[0..<count]
            if count < buffer.count { break }
            if bytes.count > 1 << 20 { throw .credentials(path: path, reason: "the file is larger than 1 MiB") }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
