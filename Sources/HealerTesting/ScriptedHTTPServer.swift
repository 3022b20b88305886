public import CurlHTTP
public import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A small HTTP/1.1 server on 127.0.0.1 whose every answer a test scripts, including the broken ones a real
/// server rarely gives: slow answers, hangs, truncated bodies, dropped connections.
///
/// It runs on its own threads (blocking sockets never touch the cooperative pool), keeps connections alive,
/// and counts what a test wants to assert: accepted connections, requests, connections closed by the client.
public final class ScriptedHTTPServer: Sendable {
    /// A request as received.
    public struct Request: Sendable {
        /// The method, e.g. `POST`.
        public var method: String
        /// The request target: path and query string.
        public var target: String
        /// The header fields in order.
        public var headers: [HTTPHeader]
        /// The body (by `Content-Length`).
        public var body: Data

        /// The path without the query string.
        public var path: String { String(target.split(separator: "?", maxSplits: 1).first ?? "") }
        /// The body as text.
        public var bodyText: String { String(decoding: body, as: UTF8.self) }
        /// The first header named `name`, case-insensitively.
        public func header(_ name: String) -> String? { headers.first { $0.name.lowercased() == name.lowercased() }?.value }
        /// The fields of a form-encoded body (or of the query string for a body-less request).
        public var formFields: [String: String] {
            let text = body.isEmpty ? String(target.split(separator: "?", maxSplits: 1).dropFirst().first ?? "") : bodyText
            var fields: [String: String] = [:]
            for pair in text.split(separator: "&") {
                let parts = pair.split(separator: "=", maxSplits: 1).map {
                    $0.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String($0)
                }
                fields[parts[0]] = parts.count > 1 ? parts[1] : ""
            }
            return fields
        }
    }

    /// What to do with a request.
    public indirect enum Reply: Sendable {
        /// A complete response; `Content-Length` is added.
        case respond(status: Int, headers: [HTTPHeader], body: Data)
        /// Waits, then replies (a slow server).
        case delayed(Duration, Reply)
        /// Writes these bytes as they are, then closes the connection (truncated or malformed answers).
        case raw(Data)
        /// Never answers; keeps the connection open until the client closes it or the server stops.
        case hang
        /// Closes the connection without a byte of answer.
        case close

        /// A JSON response.
        public static func json(_ text: String, status: Int = 200, headers: [HTTPHeader] = []) -> Reply {
            .respond(status: status, headers: [HTTPHeader("Content-Type", "application/json")] + headers, body: Data(text.utf8))
        }

        /// A plain-text response.
        public static func text(_ text: String, status: Int = 200) -> Reply {
            .respond(status: status, headers: [HTTPHeader("Content-Type", "text/plain; charset=utf-8")], body: Data(text.utf8))
        }
    }

    private struct Counters {
        var accepted = 0
        var closedByClient = 0
        var requests: [Request] = []
        var connections: [Int32] = []
    }

    /// The port it listens on.
    public let port: Int
    /// `http://127.0.0.1:<port>`.
    public var url: String { "http://127.0.0.1:\(port)" }

    private let listener: Int32
    private let handler: @Sendable (Request) -> Reply
    private let counters = Mutex(Counters())
    private let stopped = Atomic<Bool>(false)

    /// Starts listening on a free loopback port; `handler` decides every reply.
    public init(_ handler: @escaping @Sendable (Request) -> Reply) throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw HarnessError.system("socket: \(String(cString: strerror(errno)))") }
        var yes: Int32 = 1
        setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = LoopbackAddress.make(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(descriptor, 64) == 0 else {
            close(descriptor)
            throw HarnessError.system("bind/listen: \(String(cString: strerror(errno)))")
        }
        self.listener = descriptor
        self.port = try LoopbackAddress.port(of: descriptor)
        self.handler = handler
        let thread = Thread { [self] in self.acceptLoop() }
        thread.name = "scripted-http-accept"
        thread.start()
    }

    /// Connections accepted so far.
    public var acceptedConnections: Int { counters.withLock { $0.accepted } }
    /// Connections the client closed (as opposed to the server).
    public var connectionsClosedByClient: Int { counters.withLock { $0.closedByClient } }
    /// Every request received, in order.
    public var requests: [Request] { counters.withLock { $0.requests } }

    /// Stops accepting, closes every connection and ends every hang.
    public func stop() {
        guard !stopped.exchange(true, ordering: .sequentiallyConsistent) else { return }
        shutdown(listener, Int32(SHUT_RDWR))
        counters.withLock { $0.connections.forEach { shutdown($0, Int32(SHUT_RDWR)) } }
    }

    /// Starts a server, runs `body`, and stops the server afterwards (also when `body` throws).
    @discardableResult
    public static func with<R: Sendable>(
        _ handler: @escaping @Sendable (Request) -> Reply, _ body: (ScriptedHTTPServer) async throws -> R
    ) async throws -> R {
        let server = try ScriptedHTTPServer(handler)
        defer { server.stop() }
        return try await body(server)
    }

    deinit {
        stop()
    }

    // MARK: - Threads

    private var isStopped: Bool { stopped.load(ordering: .sequentiallyConsistent) }

    private func acceptLoop() {
        defer { close(listener) }
        while !isStopped {
            guard waitReadable(listener) else { continue }
            let connection = accept(listener, nil, nil)
            guard connection >= 0 else { continue }
            counters.withLock {
                $0.accepted += 1
                $0.connections.append(connection)
            }
            let thread = Thread { [self] in self.serve(connection) }
            thread.name = "scripted-http-connection"
            thread.start()
        }
    }

    /// Waits up to 50 ms for `descriptor` to become readable.
    private func waitReadable(_ descriptor: Int32) -> Bool {
        var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        return poll(&entry, 1, 50) > 0
    }

    private func serve(_ connection: Int32) {
        defer {
            counters.withLock { $0.connections.removeAll { $0 == connection } }
            close(connection)
        }
        var buffer = Data()
        while !isStopped {
            guard let request = readRequest(connection, buffer: &buffer) else { return }
            counters.withLock { $0.requests.append(request) }
            guard reply(handler(request), on: connection) else { return }
            if request.header("Connection")?.lowercased() == "close" { return }
        }
    }

    /// Reads one request; `nil` when the client closed the connection or the server stopped.
    private func readRequest(_ connection: Int32, buffer: inout Data) -> Request? {
        let separator = Data("\r\n\r\n".utf8)
        while true {
            if let end = buffer.range(of: separator) {
                let head = String(decoding: buffer[buffer.startIndex..<end.lowerBound], as: UTF8.self)
                var lines = head.components(separatedBy: "\r\n")
                let requestLine = lines.removeFirst().split(separator: " ")
                let headers = lines.compactMap { line -> HTTPHeader? in
                    guard let colon = line.firstIndex(of: ":") else { return nil }
                    return HTTPHeader(String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
                }
                let length = headers.first { $0.name.lowercased() == "content-length" }.flatMap { Int($0.value) } ?? 0
                while buffer.distance(from: end.upperBound, to: buffer.endIndex) < length {
                    guard receive(connection, into: &buffer) else { return nil }
                }
                let bodyStart = end.upperBound
                let body = Data(buffer[bodyStart..<buffer.index(bodyStart, offsetBy: length)])
                buffer = Data(buffer[buffer.index(bodyStart, offsetBy: length)...])
                return Request(
                    method: requestLine.first.map(String.init) ?? "", target: requestLine.dropFirst().first.map(String.init) ?? "",
                    headers: headers, body: body)
            }
            guard receive(connection, into: &buffer) else { return nil }
        }
    }

    /// Reads what is available; `false` when the connection is closed (counted when the client closed it).
    private func receive(_ connection: Int32, into buffer: inout Data) -> Bool {
        while !isStopped {
            guard waitReadable(connection) else { continue }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let count = recv(connection, &chunk, chunk.count, 0)
            if count > 0 {
                buffer.append(contentsOf: chunk[0..<count])
                return true
            }
            if !isStopped { counters.withLock { $0.closedByClient += 1 } }
            return false
        }
        return false
    }

    /// Sends `reply`; `false` when the connection must close afterwards.
    private func reply(_ reply: Reply, on connection: Int32) -> Bool {
        switch reply {
        case .respond(let status, let headers, let body):
            var head = "HTTP/1.1 \(status) \(Self.reason(status))\r\nContent-Length: \(body.count)\r\n"
            for header in headers { head += "\(header.name): \(header.value)\r\n" }
            return send(Data((head + "\r\n").utf8) + body, on: connection)
        case .delayed(let delay, let next):
            let until = ContinuousClock.now.advanced(by: delay)
            while ContinuousClock.now < until, !isStopped { usleep(5_000) }
            return isStopped ? false : self.reply(next, on: connection)
        case .raw(let bytes):
            _ = send(bytes, on: connection)
            return false
        case .hang:
            var ignored = Data()
            while receive(connection, into: &ignored) {}
            return false
        case .close:
            return false
        }
    }

    private func send(_ data: Data, on connection: Int32) -> Bool {
        data.withUnsafeBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let sent = Glibc.send(connection, bytes.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
                if sent <= 0 { return false }
                offset += sent
            }
            return true
        }
    }

    private static func reason(_ status: Int) -> String {
        switch status {
        case 200: "OK"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 404: "Not Found"
        case 422: "Unprocessable Entity"
        case 500: "Internal Server Error"
        case 503: "Service Unavailable"
        default: "Status"
        }
    }
}
