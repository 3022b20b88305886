import Foundation
import HealerTesting
import Testing

/// `healer check` and `healer run`, run as a user would.
@Suite("healer check and healer run, end to end")
struct CheckAndRunTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    @Test func checkPassesOnTheShippedExample() async throws {
        let healer = try BuiltProduct.path("healer")
        try await TemporaryDirectory.with(prefix: "check") { directory in
            let outcome = try await Command.execute(healer, ["check", "--config", Self.root + "/examples/healer.yaml"], in: directory.path)
            #expect(outcome.status == 0)
            #expect(outcome.output.contains("ok: 1 pool, 2 recovery rules, 1 weight, 1 scale, in 1 rule file (dry run)"))
        }
    }

    @Test func checkListsEveryErrorWithItsLine() async throws {
        let healer = try BuiltProduct.path("healer")
        try await TemporaryDirectory.with(prefix: "check") { directory in
            try FileManager.default.createDirectory(atPath: directory.path + "/rules", withIntermediateDirectories: true)
            try directory.write(
                "healer.yaml",
                """
                prometheus: { url: "http://127.0.0.1:9090" }
                pools:
                  web: { backend: be_app, max_in_flight: 0 }
                rules: ["rules/*.yaml"]
                """)
            try directory.write(
                "rules/web.yaml",
                """
                groups:
                  - name: web
                    pool: web
                    rules:
                      - name: Errors
                        expr: errors
                        unhealthy: "> 0.05"
                        healthy: "< 0.01"
                        for: 4 seconds
                        ladder: [{ restart: nobody }]
                """)
            let outcome = try await Command.execute(healer, ["check", "--config", directory.path + "/healer.yaml"], in: directory.path)
            #expect(outcome.status == 1)
            let lines = outcome.output.split(separator: "\n").map { $0.replacingOccurrences(of: directory.path + "/", with: "") }
            #expect(
                lines == [
                    "healer.yaml:3:42: pools.web.max_in_flight: must be between 1 and 10000, got 0",
                    #"rules/web.yaml:9:14: groups[0].rules[0].for: expected a duration such as 500ms, 30s, 5m or 1h, got "4 seconds""#,
                    #"rules/web.yaml:10:18: rules.Errors.ladder: no actuator named "nobody" (none are defined)"#,
                    "healer: healer.yaml: 3 problems; nothing loaded",
                ])
        }
    }

    /// `healer check` says which rules' data age is not, or cannot really be, checked — notes, not errors.
    @Test func checkSaysWhereTheDataAgeIsNotChecked() async throws {
        let healer = try BuiltProduct.path("healer")
        try await TemporaryDirectory.with(prefix: "check") { directory in
            try FileManager.default.createDirectory(atPath: directory.path + "/rules", withIntermediateDirectories: true)
            try directory.write(
                "healer.yaml",
                """
                prometheus: { url: "http://127.0.0.1:9090" }
                pools:
                  web: { backend: be_app }
                rules: ["rules/*.yaml"]
                safety: { dry_run: true }
                """)
            try directory.write(
                "rules/web.yaml",
                """
                groups:
                  - name: web
                    pool: web
                    rules:
                      - { name: Recorded, expr: "server:errors:ratio5m", unhealthy: "> 0.05", healthy: "< 0.01", ladder: [{ quarantine: {} }] }
                      - { name: Constant, expr: "vector(0)", unhealthy: "> 0.05", healthy: "< 0.01", ladder: [{ quarantine: {} }] }
                      - name: Patient
                        expr: errors
                        max_sample_age: 10m
                        unhealthy: "> 0.05"
                        healthy: "< 0.01"
                        ladder: [{ quarantine: {} }]
                      - { name: Unchecked, expr: errors, freshness: none, unhealthy: "> 0.05", healthy: "< 0.01", ladder: [{ quarantine: {} }] }
                """)
            let outcome = try await Command.execute(healer, ["check", "--config", directory.path + "/healer.yaml"], in: directory.path)
            #expect(outcome.status == 0)
            let notes = outcome.output.split(separator: "\n").filter { $0.contains("note:") }.map {
                $0.replacingOccurrences(of: directory.path + "/", with: "")
            }
            #expect(notes.count == 3, "\(notes)")
            #expect(notes.contains { $0.hasPrefix("rules/web.yaml:5:9: Recorded: note: server:errors:ratio5m looks like a recording rule") })
            #expect(notes.contains { $0.hasPrefix("rules/web.yaml:6:9: Constant: note: the age of its data is not checked (it reads no series)") })
            #expect(
                notes.contains { $0.hasPrefix("rules/web.yaml:7:9: Patient: note: max_sample_age 10m is at or above Prometheus' default lookback") })
        }
    }

    @Test func checkRunsEveryExpressionAgainstPrometheus() async throws {
        let healer = try BuiltProduct.path("healer")
        try await PrometheusServer.withRunning { prometheus in
            let ok = try await Command.execute(
                healer, ["check", "--config", Self.root + "/examples/healer.yaml", "--prometheus", prometheus.url], in: prometheus.directory)
            #expect(ok.status == 0)
            #expect(ok.output.contains("HighErrorRatio: ok, 0 series, 0 naming a server of pool web"))
            #expect(ok.output.contains("Saturation: ok, 0 series"))
            #expect(ok.output.contains("HighErrorRatio: freshness ok, covering 0 servers, 0 with stale data now"))
            #expect(!ok.output.contains("note:"))

            try FileManager.default.createDirectory(atPath: prometheus.directory + "/rules", withIntermediateDirectories: true)
            let config = try String(contentsOfFile: Self.root + "/examples/healer.yaml", encoding: .utf8)
                .replacingOccurrences(of: "../rules/*.yaml", with: "rules/*.yaml")
            try config.write(toFile: prometheus.directory + "/healer.yaml", atomically: true, encoding: .utf8)
            let rules = try String(contentsOfFile: Self.root + "/rules/web.yaml", encoding: .utf8)
                .replacingOccurrences(
                    of: "max by (proxy, server) (haproxy_server_response_time_average_seconds",
                    with: "max by (proxy, server) ((haproxy_server_response_time_average_seconds")
            try rules.write(toFile: prometheus.directory + "/rules/web.yaml", atomically: true, encoding: .utf8)
            let broken = try await Command.execute(
                healer, ["check", "--config", prometheus.directory + "/healer.yaml", "--prometheus", prometheus.url], in: prometheus.directory)
            #expect(broken.status == 1)
            #expect(broken.output.contains("/rules/web.yaml:24:9: rules.HighLatency.expr: bad_data: invalid parameter \"query\""))
            #expect(broken.output.contains("healer: 1 expression failed against"))
            // Its selectors cannot be read either, so its data age is not checked: said, not an error.
            #expect(broken.output.contains("HighLatency: note: the age of its data is not checked"))
        }
    }

    /// The answer shows a template's label is missing from every series: an error naming it and the labels there are.
    @Test func checkNamesATemplateLabelNoSeriesHas() async throws {
        let healer = try BuiltProduct.path("healer")
        try await PrometheusServer.withRunning { prometheus in
            try FileManager.default.createDirectory(atPath: prometheus.directory + "/rules", withIntermediateDirectories: true)
            try """
            prometheus: { url: "\(prometheus.url)" }
            balancers: { edge: { haproxy: { runtime_api: "tcp://127.0.0.1:1" } } }
            pools:
              web: { balancer: edge, backend: be_app, servers: [s1] }
            rules: ["rules/*.yaml"]
            """.write(toFile: prometheus.directory + "/healer.yaml", atomically: true, encoding: .utf8)
            try """
            groups:
              - name: web
                pool: web
                rules:
                  - { name: Down, expr: up, unhealthy: "== 0", healthy: "== 1", ladder: [{ drain: {} }] }
            """.write(toFile: prometheus.directory + "/rules/web.yaml", atomically: true, encoding: .utf8)
            let outcome = try await eventually("the first scrape of up", timeout: .seconds(30)) { () -> Command.Outcome? in
                let outcome = try await Command.execute(
                    healer, ["check", "--config", prometheus.directory + "/healer.yaml", "--prometheus", prometheus.url], in: prometheus.directory)
                return outcome.output.contains("Down: ok, 0 series") ? nil : outcome
            }
            #expect(outcome.status == 1)
            #expect(
                outcome.output.contains(
                    "rules.Down.expr: no series names a server of pool web; its target templates read $labels.server, which no series of the "
                        + "answer has (they have: __name__, instance, job)"), "\(outcome.output)")
        }
    }

    @Test func runOnceJudgesEveryServerAgainstARealPrometheus() async throws {
        let healer = try BuiltProduct.path("healer")
        try await PrometheusServer.withRunning { prometheus in
            try FileManager.default.createDirectory(atPath: prometheus.directory + "/rules", withIntermediateDirectories: true)
            try """
            prometheus: { url: "\(prometheus.url.replacingOccurrences(of: "http://", with: "http://healer:hunter2@"))" }
            balancers: { edge: { haproxy: { runtime_api: "tcp://127.0.0.1:1" } } }
            pools:
              monitoring: { balancer: edge, backend: be_prom, target: { server: "{{ $labels.job }}" } }
            rules: ["rules/*.yaml"]
            """.write(toFile: prometheus.directory + "/healer.yaml", atomically: true, encoding: .utf8)
            try """
            groups:
              - name: up
                pool: monitoring
                rules:
                  - name: TargetDown
                    expr: up
                    unhealthy: "== 0"
                    healthy: "== 1"
                    ladder: [{ set_weight: 50% }]
            """.write(toFile: prometheus.directory + "/rules/up.yaml", atomically: true, encoding: .utf8)
            let outcome = try await eventually("the first scrape") { () -> Command.Outcome? in
                let outcome = try await Command.execute(
                    healer, ["run", "--config", prometheus.directory + "/healer.yaml", "--once", "--log-format", "json"], in: prometheus.directory)
                return outcome.output.contains("healthy") && !outcome.output.contains("unknown") ? outcome : nil
            }
            #expect(outcome.status == 0)
            let lines = outcome.output.split(separator: "\n").map(String.init)
            #expect(lines.contains { $0.hasPrefix("{") && $0.contains(#""msg":"healer started""#) })
            #expect(!outcome.output.contains("hunter2"))  // credentials in the URL are never printed
            #expect(lines.contains { $0.hasPrefix("monitoring  prometheus  TargetDown  healthy") })
            // The state went beside the configuration.
            #expect(FileManager.default.fileExists(atPath: prometheus.directory + "/.healer/state.db"))
        }
    }

    @Test func runRefusesToStartOnAStateFileItCannotRead() async throws {
        let healer = try BuiltProduct.path("healer")
        try await TemporaryDirectory.with(prefix: "state") { directory in
            try """
            prometheus: { url: "http://127.0.0.1:1" }
            balancers: { edge: { haproxy: { runtime_api: "tcp://127.0.0.1:1" } } }
            pools:
              web: { balancer: edge, backend: be_web, target: { server: "{{ $labels.server }}" } }
            rules: ["rules.yaml"]
            state: { path: var/state.db }
            """.write(toFile: directory.path + "/healer.yaml", atomically: true, encoding: .utf8)
            try """
            groups:
              - name: web
                pool: web
                rules:
                  - { name: Errors, expr: errors, unhealthy: "> 0.1", healthy: "< 0.01", ladder: [{ set_weight: 50% }] }
            """.write(toFile: directory.path + "/rules.yaml", atomically: true, encoding: .utf8)
            try FileManager.default.createDirectory(atPath: directory.path + "/var", withIntermediateDirectories: true)
            try "this is not a database, it is a note someone left".write(
                toFile: directory.path + "/var/state.db", atomically: true, encoding: .utf8)
            let outcome = try await Command.execute(healer, ["run", "--config", directory.path + "/healer.yaml", "--once"], in: "/")
            #expect(outcome.status == 1)
            #expect(outcome.output.contains("state file \(directory.path)/var/state.db cannot be read"))
            #expect(outcome.output.contains("move it aside"))
        }
    }
}
