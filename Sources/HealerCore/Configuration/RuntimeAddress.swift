/// Where HAProxy's runtime API (stats socket) listens.
public enum RuntimeAddress: Sendable, Equatable, CustomStringConvertible {
    /// `tcp://host:port` (`stats socket ipv4@127.0.0.1:9999 level admin`).
    case tcp(host: String, port: Int)
    /// `unix:///run/haproxy/admin.sock`.
    case unix(path: String)

    /// Parses `tcp://host:port` or `unix:///path`; `nil` otherwise, or when the runtime client could never connect to
    /// it: the host must be an IPv4 address or `localhost` (no name resolution, no IPv6 yet), a socket path at most
    /// 107 bytes (the size of `sun_path`).
    public init?(parsing text: String) {
        if text.hasPrefix("unix://") {
            let path = String(text.dropFirst("unix://".count))
            guard path.hasPrefix("/"), path.utf8.count <= 107 else { return nil }
            self = .unix(path: path)
        } else if text.hasPrefix("tcp://") {
            let rest = text.dropFirst("tcp://".count)
            guard let colon = rest.lastIndex(of: ":"), let port = Int(rest[rest.index(after: colon)...]), (1...65535).contains(port) else {
                return nil
            }
            let host = String(rest[..<colon])
            guard !host.isEmpty else { return nil }
            if host != "localhost" {
                let octets = host.split(separator: ".", omittingEmptySubsequences: false)
                guard octets.count == 4, octets.allSatisfy({ UInt8($0) != nil }) else { return nil }
            }
            self = .tcp(host: host, port: port)
        } else {
            return nil
        }
    }

    public var description: String {
        switch self {
        case .tcp(let host, let port): "tcp://\(host):\(port)"
        case .unix(let path): "unix://\(path)"
        }
    }
}
