/// Where HAProxy's runtime API (stats socket) listens.
public enum RuntimeAddress: Sendable, Equatable, CustomStringConvertible {
    /// `tcp://host:port` (`stats socket ipv4@127.0.0.1:9999 level admin`).
    case tcp(host: String, port: Int)
    /// `unix:///run/haproxy/admin.sock`.
    case unix(path: String)

    /// Parses `tcp://host:port` or `unix:///path`; `nil` otherwise.
    public init?(parsing text: String) {
        if text.hasPrefix("unix://") {
            let path = String(text.dropFirst("unix://".count))
            guard path.hasPrefix("/") else { return nil }
            self = .unix(path: path)
        } else if text.hasPrefix("tcp://") {
            let rest = text.dropFirst("tcp://".count)
            guard let colon = rest.lastIndex(of: ":"), let port = Int(rest[rest.index(after: colon)...]), (1...65535).contains(port) else {
                return nil
            }
            let host = String(rest[..<colon])
            guard !host.isEmpty else { return nil }
            // A host written as an IPv4 address must be one (`999.1.1.1` is a typo, not a name).
            if host.allSatisfy({ $0.isNumber || $0 == "." }) {
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
