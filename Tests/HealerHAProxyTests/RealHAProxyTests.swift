import Foundation
import HealerCore
import HealerHAProxy
import HealerTesting
import Testing

/// Every runtime API command against a real HAProxy 2.6 from the Debian package.
@Suite("Runtime API against a real HAProxy")
struct RealHAProxyTests {
    static func withHAProxy(_ body: (HAProxyServer, RuntimeClient) async throws -> Void) async throws {
        let backend = try ScriptedHTTPServer { _ in .text("ok") }
        defer { backend.stop() }
        try await HAProxyServer.withRunning(configuration: { ports in
            HAProxyServer.configuration(
                ports: ports,
                servers: [
                    .init(name: "s1", port: backend.port), .init(name: "s2", port: backend.port),
                    .init(name: "s3", port: backend.port, weight: 50, disabled: true),
                ])
        }) { haproxy in
            try await body(haproxy, RuntimeClient(address: try #require(RuntimeAddress(parsing: haproxy.runtimeAddress))))
        }
    }

    @Test func readsServersStatStatsAndInfo() async throws {
        try await Self.withHAProxy { haproxy, client in
            let servers = try RuntimeParsers.serversState(try await client.execute(.showServersState(backend: "be_app")))
            #expect(servers.map(\.server) == ["s1", "s2", "s3"])
            #expect(servers.map(\.adminState) == [.ready, .ready, .maint])
            #expect(servers.map(\.initialWeight) == [100, 100, 50])
            let stat = try RuntimeParsers.stat(try await client.execute(.showStat(backend: "be_app")))
            #expect(stat.compactMap { $0["svname"] }.contains("s1"))
            let info = RuntimeParsers.info(try await client.execute(.showInfo))
            #expect(info["Name"] == "HAProxy")
        }
    }

    @Test func setWeightAndStateAreReadBack() async throws {
        try await Self.withHAProxy { _, client in
            #expect(try await client.execute(.setWeight(backend: "be_app", server: "s1", weight: 25)) == "")
            #expect(try await client.execute(.setState(backend: "be_app", server: "s2", state: .drain)) == "")
            #expect(try await client.execute(.setState(backend: "be_app", server: "s3", state: .ready)) == "")
            let weight = try await client.execute(.getWeight(backend: "be_app", server: "s1"))
            #expect(weight == "25 (initial 100)")
            let servers = try RuntimeParsers.serversState(try await client.execute(.showServersState(backend: "be_app")))
            #expect(servers.map(\.userWeight) == [25, 100, 50])
            #expect(servers.map(\.adminState) == [.ready, .drain, .ready])
            #expect(try await client.execute(.setState(backend: "be_app", server: "s2", state: .maint)) == "")
            let after = try RuntimeParsers.serversState(try await client.execute(.showServersState(backend: "be_app")))
            #expect(after[1].adminState == .maint)
        }
    }

    @Test func errorsAreHAProxysOwnWords() async throws {
        try await Self.withHAProxy { _, client in
            await #expect(throws: HAProxyError.rejected(command: "set weight be_app/nope 10", message: "No such server.")) {
                _ = try await client.execute(.setWeight(backend: "be_app", server: "nope", weight: 10))
            }
            await #expect(throws: HAProxyError.rejected(command: "set weight nope/s1 10", message: "No such backend.")) {
                _ = try await client.execute(.setWeight(backend: "nope", server: "s1", weight: 10))
            }
            await #expect(throws: HAProxyError.rejected(command: "set server be_app/nope state drain", message: "No such server.")) {
                _ = try await client.execute(.setState(backend: "be_app", server: "nope", state: .drain))
            }
        }
    }

    @Test func unreachableIsRetryable() async throws {
        let client = RuntimeClient(address: .tcp(host: "127.0.0.1", port: try FreePort.next()))
        let error = await #expect(throws: HAProxyError.self) { _ = try await client.execute(.showInfo) }
        #expect(error?.isRetryable == true)
        #expect(error?.description.contains("unreachable") == true)
    }

    @Test func unixSocket() async throws {
        let backend = try ScriptedHTTPServer { _ in .text("ok") }
        defer { backend.stop() }
        let socketPath = FileManager.default.temporaryDirectory.path + "/healer-hp-\(UUID().uuidString.prefix(6)).sock"
        defer { try? FileManager.default.removeItem(atPath: socketPath) }
        try await HAProxyServer.withRunning(configuration: { ports in
            HAProxyServer.configuration(ports: ports, servers: [.init(name: "s1", port: backend.port)])
                .replacingOccurrences(of: "    stats timeout 2m", with: "    stats timeout 2m\n    stats socket \(socketPath) mode 600 level admin")
        }) { _ in
            let client = RuntimeClient(address: .unix(path: socketPath))
            try await waitUntil("the unix socket") { (try? await client.execute(.showInfo)) != nil }
            #expect(try await client.execute(.setWeight(backend: "be_app", server: "s1", weight: 10)) == "")
            #expect(try await client.execute(.getWeight(backend: "be_app", server: "s1")) == "10 (initial 100)")
        }
    }
}
