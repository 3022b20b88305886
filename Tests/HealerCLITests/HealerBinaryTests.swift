import Foundation
import HealerTesting
import Testing

/// The built `healer` binary, run as a user would, against a real Prometheus.
@Suite("healer query, end to end")
struct HealerBinaryTests {
    @Test func queryPrintsATableAndFailsWithOneClearLine() async throws {
        let healer = try BuiltProduct.path("healer")
        try await PrometheusServer.withRunning { prometheus in
            // `up` exists once Prometheus has scraped itself.
            let table = try await eventually("the first scrape of up") { () -> Command.Outcome? in
                let outcome = try await Command.execute(healer, ["query", "up", "--prometheus", prometheus.url], in: prometheus.directory)
                return outcome.output.contains("prometheus") ? outcome : nil
            }
            #expect(table.status == 0)
            let lines = table.output.split(separator: "\n").map(String.init)
            // The table goes to standard output, the timing line to standard error; the log interleaves them.
            #expect(lines.contains { $0.hasPrefix("NAME  INSTANCE") && $0.hasSuffix("VALUE   AGE") })
            #expect(lines.contains { $0.hasPrefix("up    127.0.0.1:\(prometheus.port)  prometheus") && $0.hasSuffix("s") })
            #expect(lines.contains { $0.hasPrefix("1 series in ") })

            let json = try await Command.execute(healer, ["query", "up", "--json", "--prometheus", prometheus.url], in: prometheus.directory)
            #expect(json.status == 0)
            #expect(json.output.contains(#""resultType" : "vector""#))

            let bad = try await Command.execute(healer, ["query", "up{", "--prometheus", prometheus.url], in: prometheus.directory)
            #expect(bad.status == 1)
            #expect(bad.output.hasPrefix("healer: Prometheus /api/v1/query: bad_data (HTTP 400):"))
            #expect(bad.output.split(separator: "\n").count == 1)
        }
    }

    @Test func unreachablePrometheusAndUsageErrors() async throws {
        let healer = try BuiltProduct.path("healer")
        try await TemporaryDirectory.with(prefix: "cli") { directory in
            let port = try FreePort.next()
            let unreachable = try await Command.execute(healer, ["query", "up", "--prometheus", "http://127.0.0.1:\(port)"], in: directory.path)
            #expect(unreachable.status == 1)
            #expect(unreachable.output.contains("curl error 7"))

            let usage = try await Command.execute(healer, ["query", "up", "--timeout", "soon"], in: directory.path)
            #expect(usage.status == 64)
            #expect(usage.output.contains("--timeout"))
        }
    }
}
