import Foundation
import HealerController
import HealerServer
import HealerTesting
import Testing

/// `healer status` and `healer decisions` against a running controller's API.
@Suite("healer status and decisions")
struct StatusCommandTests {
    @Test func tablesAndJSONFromTheAPI() async throws {
        let healer = try BuiltProduct.path("healer")
        try await ServerHarness.run(token: "t0ken") { harness in
            harness.metrics.set("error_ratio", values: ["s1": 0.3, "s2": 0, "s3": 0])
            await harness.api.service.runPass()
            try await TemporaryDirectory.with(prefix: "status") { directory in
                let token = try directory.write("token", "t0ken\n")
                let status = try await Command.execute(healer, ["status", "--server", harness.url], in: directory.path)
                #expect(status.status == 0)
                #expect(status.output.contains("pool web (backend be_app): healthy capacity 67% (floor 50%)"))
                #expect(status.output.contains("SERVER  WEIGHT  STATE  ERRORS"))
                #expect(status.output.contains("s1         25%  ready  unhealthy 0.3 [firing]"))
                #expect(status.output.contains("incidents:"))

                let decisions = try await Command.execute(healer, ["decisions", "--server", harness.url, "--target", "s1"], in: directory.path)
                #expect(decisions.status == 0)
                #expect(decisions.output.contains("step 1: set_weight 25%; verifying for 10s"))

                let json = try await Command.execute(
                    healer, ["decisions", "--server", harness.url, "--json", "--limit", "1", "--token-file", token], in: directory.path)
                let records = try JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [[String: Any]]
                #expect(records?.count == 1)

                let down = try await Command.execute(healer, ["status", "--server", "http://127.0.0.1:\(try FreePort.next())"], in: directory.path)
                #expect(down.status == 1)
                #expect(down.output.hasPrefix("healer: cannot reach the controller at"))
            }
        }
    }
}
