import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Loopback ports for services that a test starts.
public enum FreePort {
    /// A TCP port on 127.0.0.1 that was free a moment ago.
    ///
    /// Drawn at random below Linux's ephemeral range (32768–60999), so that the outgoing connections of
    /// concurrent tests cannot take it between this call and the server's `bind`.
    ///
    /// A port is handed out at most once per test process, so that two tests starting services at the same
    /// moment cannot both be given a port that neither has bound yet.
    public static func next() throws -> Int {
        for _ in 0..<500 {
            let port = Int.random(in: 20000..<32768)
            guard handedOut.withLock({ $0.insert(port).inserted }) else { continue }
            if (try? bindable(port)) == port { return port }
        }
        return try bindable(0)
    }

    private static let handedOut = Mutex<Set<Int>>([])

    /// Binds 127.0.0.1:`port` (0: the kernel picks), closes the socket again and returns the port bound.
    private static func bindable(_ port: Int) throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw HarnessError.system("socket: \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        var address = LoopbackAddress.make(port: port)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw HarnessError.system("bind: \(String(cString: strerror(errno)))") }
        return try LoopbackAddress.port(of: descriptor)
    }
}

/// `sockaddr_in` helpers for 127.0.0.1.
enum LoopbackAddress {
    static func make(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr = in_addr(s_addr: UInt32(0x7F00_0001).bigEndian)
        return address
    }

    static func port(of descriptor: Int32) throws -> Int {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        guard named == 0 else { throw HarnessError.system("getsockname: \(String(cString: strerror(errno)))") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
