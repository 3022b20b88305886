import Dispatch
import Foundation
public import HealerCore

#if canImport(Glibc)
    import Glibc
#endif

/// HAProxy's runtime API, one command per connection.
///
/// Every command is sent as `set severity-output number; <command>` so that errors carry a `[N]:` prefix and
/// cannot be mistaken for data. Sockets are blocking with timeouts and run on a Dispatch queue, never on
/// Swift's cooperative pool.
public struct RuntimeClient: Sendable {
    /// Where the API listens.
    public let address: RuntimeAddress
    /// Connect, send and receive limit for one command.
    public let timeout: Duration

    private static let queue = DispatchQueue(label: "healer.haproxy.runtime", attributes: .concurrent)

    /// Creates a client.
    public init(address: RuntimeAddress, timeout: Duration = .seconds(2)) {
        self.address = address
        self.timeout = timeout
    }

    /// Runs `command` and returns its output (empty for a successful `set`).
    ///
    /// - Throws: ``HAProxyError``.
    public func execute(_ command: RuntimeCommand) async throws(HAProxyError) -> String {
        let text = try command.wireText()
        let raw = try await exchange("set severity-output number; \(text)\n")
        return try Self.output(of: raw, command: text)
    }

    /// Splits off the answer of `set severity-output number` and turns a `[N]:` message of severity 0–4 into an error.
    public static func output(of raw: String, command: String) throws(HAProxyError) -> String {
        var text = Substring(raw)
        if text.hasPrefix("\n") { text = text.dropFirst() }  // the empty answer of `set severity-output`
        while text.hasSuffix("\n") { text = text.dropLast() }  // every answer ends with an empty line
        if text.hasPrefix("["), let close = text.firstIndex(of: "]"), let severity = Int(text[text.index(after: text.startIndex)..<close]) {
            let message = text[text.index(after: close)...].drop { $0 == ":" || $0 == " " }.trimmingCharacters(in: .whitespacesAndNewlines)
            if severity <= 4 { throw .rejected(command: command, message: message) }
            return ""
        }
        if text.hasPrefix("Unknown command") || text.hasPrefix("Permission denied") {
            throw .rejected(command: command, message: String(text.split(separator: "\n").first ?? ""))
        }
        return String(text)
    }

    private func exchange(_ request: String) async throws(HAProxyError) -> String {
        let address = self.address
        let timeout = self.timeout
        let result: Result<String, HAProxyError> = await withCheckedContinuation { continuation in
            Self.queue.async { continuation.resume(returning: Self.blockingExchange(request, address: address, timeout: timeout)) }
        }
        return try result.get()
    }

    private static func blockingExchange(_ request: String, address: RuntimeAddress, timeout: Duration) -> Result<String, HAProxyError> {
        func failure(_ what: String) -> Result<String, HAProxyError> {
            .failure(.unreachable(address: address.description, reason: "\(what): \(String(cString: strerror(errno)))"))
        }
        let descriptor: Int32
        switch address {
        case .tcp: descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        case .unix: descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        }
        guard descriptor >= 0 else { return failure("socket") }
        defer { close(descriptor) }
        var limit = timeval(tv_sec: Int(timeout.components.seconds), tv_usec: Int(timeout.components.attoseconds / 1_000_000_000_000))
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(descriptor, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))

        let connected: Int32
        switch address {
        case .tcp(let host, let port):
            var socketAddress = sockaddr_in()
            socketAddress.sin_family = sa_family_t(AF_INET)
            socketAddress.sin_port = in_port_t(UInt16(port).bigEndian)
            guard inet_pton(AF_INET, host == "localhost" ? "127.0.0.1" : host, &socketAddress.sin_addr) == 1 else {
                return .failure(.unreachable(address: address.description, reason: "not an IPv4 address: \(host)"))
            }
            connected = withUnsafePointer(to: &socketAddress) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        case .unix(let path):
            var socketAddress = sockaddr_un()
            socketAddress.sun_family = sa_family_t(AF_UNIX)
            let bytes = Array(path.utf8)
            guard bytes.count < MemoryLayout.size(ofValue: socketAddress.sun_path) else {
                return .failure(.unreachable(address: address.description, reason: "socket path too long"))
            }
            withUnsafeMutableBytes(of: &socketAddress.sun_path) { buffer in
                buffer.copyBytes(from: bytes)
                buffer[bytes.count] = 0
            }
            connected = withUnsafePointer(to: &socketAddress) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
        }
        guard connected == 0 else { return failure("connect") }

        let sent = request.utf8CString.withUnsafeBufferPointer { buffer in
            send(descriptor, buffer.baseAddress, buffer.count - 1, Int32(MSG_NOSIGNAL))
        }
        guard sent == request.utf8.count else { return failure("send") }

        var response: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = recv(descriptor, &chunk, chunk.count, 0)
            if count > 0 {
                response += chunk[0..<count]
            } else if count == 0 {
                break  // HAProxy closes after answering
            } else {
                return failure("receive")
            }
        }
        return .success(String(decoding: response, as: UTF8.self))
    }
}
