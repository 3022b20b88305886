import CurlHTTP
import Foundation
import HealerController
import HealerCore
import HealerServer
import HealerTesting
import Testing

@Suite("Controller HTTP surface")
struct HTTPSurfaceTests {
    @Test func probesSayWhatIsMissing() async throws {
        try await ServerHarness.run { harness in
            #expect(try await harness.get("/healthz").text == "ok\n")
            let notYet = try await harness.get("/readyz")
            #expect(notYet.status == 503)
            #expect(notYet.text.contains("reconcile: no pass yet"))
            harness.metrics.set("error_ratio", values: ["s1": 0, "s2": 0, "s3": 0])
            await harness.api.service.runPass()
            let ready = try await harness.get("/readyz")
            #expect(ready.status == 200)
            #expect(ready.text == "reconcile: ok\nprometheus: ok\nrules: ok\nbalancers: ok\nstate: ok\nconfig: ok\n")
            harness.metrics.fail("error_ratio")
            await harness.api.service.runPass()
            #expect(try await harness.get("/readyz").status == 200)  // a failed pass just now is within the allowance
        }
    }

    /// A rule whose own expression is wrong is named, counted and recorded, but does not make Healer unready (an
    /// unready pod leaves its Service, and the webhooks and API of every other rule with it); Prometheus failing
    /// does, and so does every rule being wrong (Healer then protects nothing).
    @Test func aBrokenRuleIsNamedButDoesNotMakeHealerUnready() async throws {
        let configuration = HealerConfiguration.fixture(pendingFor: .zero).adding(rule: "latency", expression: "latency_ratio")
        try await ServerHarness.run(configuration: configuration) { harness in
            harness.metrics.fail("error_ratio", reason: .badData, message: "parse error at char 9: unclosed left parenthesis")
            harness.metrics.set("latency_ratio", values: ["s1": 0, "s2": 0, "s3": 0])
            await harness.api.service.runPass()
            let ready = try await harness.get("/readyz")
            #expect(ready.status == 200)
            #expect(ready.text.contains("rules: errors cannot be evaluated"))
            #expect(harness.api.service.brokenRules["errors"]?.reason == .badData)
            let metrics = try await harness.get("/metrics").text
            #expect(metrics.contains(#"healer_rule_evaluation_failures_total{reason="bad_data",rule="errors"} 1"#))
            #expect(metrics.contains(#"healer_rule_evaluation_failures_total{reason="wrong_result_type",rule="errors"} 0"#))
            let records = harness.api.service.lastPass?.outcome.records.filter { $0.kind == .rule } ?? []
            #expect(records.map(\.failure) == [.badData])

            harness.metrics.fail("error_ratio", reason: .unavailable, message: "HTTP 503")
            await harness.api.service.runPass()
            #expect(harness.api.service.brokenRules.isEmpty)
            #expect(try await harness.get("/metrics").text.contains(#"healer_rule_evaluation_failures_total{reason="unavailable",rule="errors"} 1"#))

            // Every rule wrong: nothing is protected, and Healer says so.
            let lastHealthy = harness.api.service.lastSuccessfulPass
            harness.metrics.fail("error_ratio", reason: .badData, message: "parse error")
            harness.metrics.fail("latency_ratio", reason: .badData, message: "parse error")
            await harness.api.service.runPass()
            #expect(harness.api.service.lastSuccessfulPass == lastHealthy)
            #expect(harness.api.service.brokenRules.keys.sorted() == ["errors", "latency"])
        }
    }

    /// A rule whose value is `+Inf` (`x / 0`) is judged, saved, journalled and served like any other; the API writes
    /// non-finite numbers as Prometheus does, and `healer status` / `healer decisions` read them back.
    @Test func infiniteValuesGoThroughTheAPI() async throws {
        try await ServerHarness.run { harness in
            harness.metrics.set("error_ratio", values: ["s1": .infinity, "s2": 0, "s3": 0])
            await harness.api.service.runPass()
            let decisions = try await harness.get("/api/v1/decisions?pool=web&target=s1")
            #expect(decisions.status == 200)
            #expect(decisions.text.contains(#""value":"+Inf""#))
            let records = try HealerJSON.decoder().decode([DecisionRecord].self, from: decisions.body)
            #expect(records.contains { $0.value == .infinity && $0.kind == .action })
            let status = try await harness.get("/api/v1/status")
            #expect(status.status == 200)
            let report = try HealerJSON.decoder().decode(StatusReport.self, from: status.body)
            #expect(report.pools.first?.servers.first { $0.server == "s1" }?.values["errors"] == .infinity)
        }
    }

    /// A web page open in an operator's browser must not be able to pause Healer or release a quarantine.
    @Test func mutatingEndpointsRefuseRequestsFromWebPages() async throws {
        try await ServerHarness.run { harness in
            let fromPage = try await harness.post("/api/v1/pause", origin: "https://evil.example")
            #expect(fromPage.status == 403)
            #expect(harness.api.service.currentState?.pause.global != true)
            let fromPageAlert = try await harness.post("/api/v1/alerts", body: "{}", origin: "null")
            #expect(fromPageAlert.status == 403)
            #expect(try await harness.post("/api/v1/pause").status == 202)  // curl, Alertmanager
            #expect(try await harness.get("/api/v1/status").status == 200)  // reading is not changing
        }
    }

    /// A balancer that cannot be seen is named in /readyz; Healer stays ready (other pools, the API and webhooks work).
    @Test func anUnreachableBalancerIsNamedInReadiness() async throws {
        try await ServerHarness.run { harness in
            harness.metrics.set("error_ratio", values: ["s1": 0, "s2": 0, "s3": 0])
            harness.balancer.setUnreachable("connection refused")
            await harness.api.service.runPass()
            let ready = try await harness.get("/readyz")
            #expect(ready.status == 200)
            #expect(ready.text.contains("balancers: pool web cannot be seen, nothing in it changes: connection refused"))
        }
    }

    @Test func metricsAreTextFormatWithProcessMetrics() async throws {
        try await ServerHarness.run { harness in
            let response = try await harness.get("/metrics")
            #expect(response.header("Content-Type") == "text/plain; version=0.0.4; charset=utf-8")
            for name in [
                "healer_reconcile_total", "healer_actions_suppressed_total", "healer_verdicts", "process_cpu_seconds_total",
                "process_resident_memory_bytes",
                "process_open_fds", "process_start_time_seconds",
            ] {
                #expect(response.text.contains("# TYPE \(name) "), "\(name) missing")
            }
            #expect(response.text.hasSuffix("\n"))
            // promtool's own linter accepts it.
            try await TemporaryDirectory.with(prefix: "metrics") { directory in
                let file = try directory.write("metrics.txt", response.text)
                let promtool = try Executable.find("promtool", package: "prometheus")
                let outcome = try await Command.execute("/bin/sh", ["-c", "\(promtool) check metrics < \(file)"], in: directory.path)
                #expect(outcome.status == 0, "promtool check metrics: \(outcome.output)")
            }
        }
    }

    @Test func theWebhookAndMutatingEndpointsNeedTheToken() async throws {
        try await ServerHarness.run(token: "s3cret") { harness in
            let payload = alertPayload([("firing", ["alertname": "errors", "server": "s1"], "2026-11-26T20:25:31.942Z", "aa")])
            #expect(try await harness.post("/api/v1/alerts", body: payload).status == 401)
            #expect(try await harness.post("/api/v1/alerts", body: payload, token: "wrong").status == 401)
            #expect(try await harness.post("/api/v1/alerts", body: payload, token: "s3cre").status == 401)
            #expect(try await harness.post("/api/v1/pause").status == 401)
            #expect(try await harness.post("/api/v1/reload").status == 401)
            let refused = try await harness.post("/api/v1/pause", token: "bad")
            #expect(!refused.text.contains("s3cret"))
            #expect(try await harness.post("/api/v1/alerts", body: payload, token: "s3cret").status == 200)
            #expect(try await harness.post("/api/v1/pause", token: "s3cret").status == 202)
            // Reading needs no token.
            #expect(try await harness.get("/api/v1/status").status == 200)
        }
    }

    @Test func alertsAreMatchedDeduplicatedAndResolvedOnesIgnored() async throws {
        try await ServerHarness.run { harness in
            let payload = alertPayload([
                ("firing", ["alertname": "HighErrors", "healer_rule": "errors", "server": "s1"], "2026-11-26T20:25:31.942Z", "f1"),
                ("firing", ["alertname": "errors", "server": "s9"], "2026-11-26T20:25:31.942Z", "f2"),
                ("firing", ["alertname": "nosuchrule", "server": "s1"], "2026-11-26T20:25:31.942Z", "f3"),
                ("resolved", ["alertname": "errors", "server": "s2"], "2026-11-26T20:25:31.942Z", "f4"),
                ("firing", ["alertname": "errors"], "2026-11-26T20:25:31.942Z", "f5"),
            ])
            let first = try await harness.post("/api/v1/alerts", body: payload)
            #expect(first.status == 200)
            #expect(
                try JSONDecoder().decode([String: Int].self, from: first.body) == [
                    "accepted": 1, "unknown_rule": 1, "resolved": 1, "unknown_target": 2,
                ])
            let again = try await harness.post("/api/v1/alerts", body: payload)
            #expect(try JSONDecoder().decode([String: Int].self, from: again.body)["duplicate"] == 1)
            // The accepted alert for s1 is confirmed by the rule's own query and acted on; s9 is not in the pool.
            harness.metrics.set("error_ratio", values: ["s1": 0.3, "s2": 0, "s3": 0])
            let pass = await harness.api.service.runPass()
            #expect(
                pass.outcome.records.contains {
                    $0.code == .alertConfirmed && $0.why == .alertConfirmed(alert: "HighErrors")
                })
            let metrics = try await harness.get("/metrics").text
            #expect(metrics.contains(#"healer_alerts_received_total{status="duplicate"} 1"#))
            #expect(metrics.contains(#"healer_alerts_received_total{status="unknown_target"} 4"#))
            #expect(metrics.contains(#"healer_alerts_received_total{status="resolved"} 2"#))
        }
    }

    /// Another version's fields may mean something else; a start that cannot be read breaks the idempotency key.
    @Test func aPayloadOfAnotherVersionOrWithAnUnreadableStartIsRefused() async throws {
        try await ServerHarness.run { harness in
            let good = alertPayload([("firing", ["alertname": "errors", "server": "s1"], "2026-11-26T20:25:31.942123456Z", "g1")])
            let version = try await harness.post("/api/v1/alerts", body: good.replacingOccurrences(of: #""version":"4""#, with: #""version":"3""#))
            #expect(version.status == 400 && version.text.contains(#"version \"3\""#), "\(version.text)")
            for start in ["yesterday", "2026-11-26 20:25:31Z", "2026-13-26T20:25:31Z", ""] {
                let bad = alertPayload([
                    ("firing", ["alertname": "errors", "server": "s1"], "2026-11-26T20:25:31Z", "b0"),
                    ("firing", ["alertname": "errors", "server": "s2"], start, "b1"),
                ])
                let refused = try await harness.post("/api/v1/alerts", body: bad)
                #expect(refused.status == 400 && refused.text.contains("alerts[1].startsAt"), "\(start): \(refused.text)")
            }
            for start in ["2026-11-26T20:25:31.942123456Z", "2026-11-26T21:25:31+01:00", "2026-11-26T20:25:31Z"] {
                let accepted = try await harness.post(
                    "/api/v1/alerts", body: alertPayload([("firing", ["alertname": "errors", "server": "s1"], start, start)]))
                #expect(accepted.status == 200, "\(start): \(accepted.text)")
            }
            // Nothing of a refused payload was taken: the first alert of it is not a duplicate now.
            let retried = try await harness.post(
                "/api/v1/alerts", body: alertPayload([("firing", ["alertname": "errors", "server": "s1"], "2026-11-26T20:25:31Z", "b0")]))
            #expect(try JSONDecoder().decode([String: Int].self, from: retried.body)["accepted"] == 1)
        }
    }

    @Test func malformedAndOversizedBodies() async throws {
        try await ServerHarness.run { harness in
            let malformed = try await harness.post("/api/v1/alerts", body: "{not json")
            #expect(malformed.status == 400)
            let wrongShape = try await harness.post("/api/v1/alerts", body: #"{"version":"4"}"#)
            #expect(wrongShape.status == 400)
            let huge = try await harness.post("/api/v1/alerts", body: String(repeating: "x", count: 10_000))
            #expect(huge.status == 413)
        }
    }

    @Test func pauseResumeReleaseAndDecisions() async throws {
        let ladder = [LadderStep(.quarantine(notify: nil, releaseAfter: nil))]
        try await ServerHarness.run(configuration: .fixture(ladder: ladder, pendingFor: .zero)) { harness in
            harness.metrics.set("error_ratio", values: ["s1": 0.3, "s2": 0, "s3": 0])
            #expect(try await harness.post("/api/v1/pause?pool=web").status == 202)
            #expect(try await harness.post("/api/v1/pause?pool=nope").status == 404)
            let paused = await harness.api.service.runPass()
            #expect(paused.outcome.plan.isQuiet)
            #expect(paused.outcome.records.first?.code == .operatorPaused)
            #expect(try await harness.post("/api/v1/resume?pool=web").status == 202)
            let resumed = await harness.api.service.runPass()
            #expect(resumed.outcome.state.incidents.values.first?.phase == .quarantined)

            #expect(try await harness.post("/api/v1/quarantine/web/s2/release").status == 404)
            #expect(try await harness.post("/api/v1/quarantine/web/s1/release").status == 202)
            harness.metrics.set("error_ratio", values: ["s1": 0, "s2": 0, "s3": 0])
            let released = await harness.api.service.runPass()
            #expect(released.outcome.records.contains { $0.code == .recovering && $0.reason.hasSuffix("by an operator") })

            let decisions =
                try JSONSerialization.jsonObject(with: try await harness.get("/api/v1/decisions?pool=web&target=s1&limit=2").body) as? [[String: Any]]
            #expect(decisions?.count == 2)
            #expect(decisions?.allSatisfy { $0["server"] as? String == "s1" } == true)
            let status = try JSONSerialization.jsonObject(with: try await harness.get("/api/v1/status").body) as? [String: Any]
            let pools = status?["pools"] as? [[String: Any]]
            #expect(pools?.first?["name"] as? String == "web")
            #expect((pools?.first?["servers"] as? [[String: Any]])?.count == 3)
        }
    }

    @Test func aBrokenReloadKeepsTheOldRulesAndAGoodOneKeepsIncidents() async throws {
        try await TemporaryDirectory.with(prefix: "reload") { directory in
            let broken = directory.path + "/broken"
            let configuration = HealerConfiguration.fixture(pendingFor: .zero)
            let loader: @Sendable () throws -> HealerConfiguration = {
                if FileManager.default.fileExists(atPath: broken) {
                    throw ConfigurationErrorsStub(text: "rules/web.yaml:3:5: groups[0].pool: missing")
                }
                var next = configuration
                next.safety.maxActionsPerMinute = 7
                return next
            }
            try await ServerHarness.run(configuration: configuration, loader: loader) { harness in
                harness.metrics.set("error_ratio", values: ["s1": 0.3, "s2": 0, "s3": 0])
                await harness.api.service.runPass()
                #expect(harness.api.service.currentState?.incidents.count == 1)

                _ = FileManager.default.createFile(atPath: broken, contents: Data())
                let failed = try await harness.post("/api/v1/reload")
                #expect(failed.status == 400)
                #expect(failed.text.contains("groups[0].pool"))
                #expect(harness.api.service.engine.configuration.safety.maxActionsPerMinute == 100)
                #expect(try await harness.get("/readyz").text.contains("config: the last reload failed"))
                #expect(try await harness.get("/metrics").text.contains("healer_config_last_reload_successful 0.0"))

                try FileManager.default.removeItem(atPath: broken)
                #expect(try await harness.post("/api/v1/reload").status == 200)
                #expect(harness.api.service.engine.configuration.safety.maxActionsPerMinute == 7)
                #expect(harness.api.service.currentState?.incidents.count == 1)  // incident state survives
                #expect(try await harness.get("/metrics").text.contains("healer_config_last_reload_successful 1.0"))
            }
        }
    }
}

struct ConfigurationErrorsStub: Error, CustomStringConvertible {
    var text: String
    var description: String { text }
}
