import Foundation
import HealerCore
import HealerHAProxy
import Testing

@Suite("Runtime API parsers on captured HAProxy 2.6.12 answers")
struct RuntimeParsersTests {
    func fixture(_ name: String) throws -> String {
        let url = try #require(Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures"))
        return try String(contentsOf: url, encoding: .utf8)
    }

    @Test func serversState() throws {
        let servers = try RuntimeParsers.serversState(try fixture("show_servers_state.txt"))
        #expect(servers.map(\.server) == ["s1", "s2", "s3"])
        #expect(servers.map(\.adminState) == [.ready, .drain, .maint])
        #expect(servers.map(\.initialWeight) == [100, 100, 50])
        #expect(servers.map(\.userWeight) == [100, 100, 50])
        #expect(servers.map(\.isRunning) == [true, true, false])
        #expect(servers.allSatisfy { $0.backend == "be_app" })
    }

    @Test func stat() throws {
        let rows = try RuntimeParsers.stat(try fixture("show_stat.csv"))
        let servers = rows.filter { $0["svname"] != "BACKEND" && $0["svname"] != "FRONTEND" }
        #expect(servers.map { $0["svname"] } == ["s1", "s2", "s3"])
        #expect(servers.map { $0["status"] } == ["no check", "DRAIN", "MAINT"])
        #expect(servers.map { $0["scur"] } == ["0", "0", "0"])
        #expect(servers.map { $0["weight"] } == ["100", "100", "50"])
    }

    @Test func info() throws {
        let info = RuntimeParsers.info(try fixture("show_info.txt"))
        #expect(info["Name"] == "HAProxy")
        #expect(info["Version"]?.hasPrefix("2.6") == true)
        #expect(Int(info["Pid"] ?? "") != nil)
        #expect(Int(info["Uptime_sec"] ?? "") != nil)
    }

    @Test(arguments: [
        "", "1\n", "2\n# be_id be_name\n", "1\nbe_id be_name srv_name\n",
        "1\n# be_name srv_name srv_op_state srv_admin_state srv_uweight srv_iweight\nbe_app s1 two 0 100 100\n",
    ])
    func malformedServersState(text: String) {
        #expect(throws: HAProxyError.self) { try RuntimeParsers.serversState(text) }
    }

    @Test func commandsValidateNamesBeforeTheWire() throws {
        #expect(try RuntimeCommand.setWeight(backend: "be_app", server: "s1", weight: 25).wireText() == "set weight be_app/s1 25")
        #expect(
            try RuntimeCommand.setState(backend: "be_app", server: "s-1.a:b", state: .drain).wireText() == "set server be_app/s-1.a:b state drain")
        for bad in ["s1; shutdown sessions server be_app/s2", "s 1", "s1\nshow info", "a/b", "", "s1\\"] {
            #expect(throws: HAProxyError.invalidName(bad)) { try RuntimeCommand.setWeight(backend: "be_app", server: bad, weight: 1).wireText() }
        }
        #expect(throws: HAProxyError.invalidWeight(300)) { try RuntimeCommand.setWeight(backend: "be_app", server: "s1", weight: 300).wireText() }
    }

    @Test(arguments: [
        ("tcp://127.0.0.1:9999", RuntimeAddress.tcp(host: "127.0.0.1", port: 9999)),
        ("unix:///run/haproxy/admin.sock", .unix(path: "/run/haproxy/admin.sock")),
    ])
    func addresses(text: String, expected: RuntimeAddress) {
        #expect(RuntimeAddress(parsing: text) == expected)
        #expect(expected.description == text)
    }

    @Test(arguments: ["tcp://127.0.0.1", "tcp://:80", "unix://relative", "http://x:1", "tcp://h:0"])
    func badAddresses(text: String) {
        #expect(RuntimeAddress(parsing: text) == nil)
    }
}

/// Answers as HAProxy 2.6.12 sends them after `set severity-output number;` (protocols.md §3.2–3.4).
@Suite struct RuntimeAnswerTests {
    @Test(arguments: [
        ("\n[3]: Absolute weight can only be between 0 and 256 inclusive.\n\n", "Absolute weight can only be between 0 and 256 inclusive."),
        ("\n[3]: Empty weight string empty or preceded by garbage\n\n", "Empty weight string empty or preceded by garbage"),
        ("\n[3]: Trailing garbage in weight string\n\n", "Trailing garbage in weight string"),
        ("\n[3]: No such server.\n\n", "No such server."),
        ("\n[3]: No such backend.\n\n", "No such backend."),
        ("\n[3]: Require 'backend/server'.\n\n", "Require 'backend/server'."),
        ("\n[3]: Relative weight must be positive.\n\n", "Relative weight must be positive."),
        ("\n[3]: Proxy is disabled.\n\n", "Proxy is disabled."),
        (
            "\n[3]: 'set server <srv> state' expects 'ready', 'drain' and 'maint'.\n\n",
            "'set server <srv> state' expects 'ready', 'drain' and 'maint'."
        ),
        ("\n[3]: cannot change health on a tracking server.\n\n", "cannot change health on a tracking server."),
        ("\nPermission denied\n\n", "Permission denied"),
        (
            "\nUnknown command, but maybe one of the following ones is a better match:\n  help\n\n",
            "Unknown command, but maybe one of the following ones is a better match:"
        ),
    ])
    func errorsAreRejections(raw: String, message: String) {
        #expect(throws: HAProxyError.rejected(command: "c", message: message)) { try RuntimeClient.output(of: raw, command: "c") }
    }

    @Test func successesAndData() throws {
        #expect(try RuntimeClient.output(of: "\n\n", command: "c") == "")
        #expect(try RuntimeClient.output(of: "\n25 (initial 100)\n\n", command: "c") == "25 (initial 100)")
        #expect(try RuntimeClient.output(of: "\n[6]: done\n\n", command: "c") == "")
    }
}
