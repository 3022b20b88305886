import Foundation
import HealerCore
import HealerRules
import HealerTesting
import SeriesLabels
import Testing

@Suite("Configuration and rule files")
struct ConfigurationLoaderTests {
    @Test func aValidConfigurationLoadsEveryField() throws {
        let configuration = try ConfigurationLoader.load(path: FixtureDirectory.config("valid"))
        #expect(configuration.prometheus.url == "http://127.0.0.1:9090")
        #expect(configuration.prometheus.pathPrefix == "/prometheus")
        #expect(configuration.prometheus.timeout == .seconds(3))
        #expect(configuration.prometheus.headers == ["X-Scope-OrgID": "ops"])
        #expect(configuration.balancers == ["edge": .haproxy(runtimeAPI: "unix:///run/haproxy/admin.sock")])
        #expect(configuration.actuators["restart"] == .exec(command: ["/usr/local/bin/restart", "{{ .server }}"], timeout: .seconds(30)))
        #expect(configuration.actuators["pager"] == .webhook(url: "https://pager.example/hook", timeout: .seconds(2), headers: [:]))
        let pool = try #require(configuration.pools["web"])
        #expect(pool.spares == ["s9"])
        #expect(pool.minHealthyCapacity == 0.6)
        #expect(pool.maxInFlight == 2)
        #expect(pool.server(for: ["proxy": "be_app", "server": "s1"]) == "s1")
        #expect(pool.server(for: ["proxy": "be_other", "server": "s1"]) == nil)
        #expect(configuration.reconcile.interval == .milliseconds(500))
        #expect(configuration.reconcile.queryConcurrency == 8)
        #expect(configuration.safety.dryRun)
        #expect(configuration.safety.maxActionsPerMinute == 3)
        #expect(configuration.safety.stormMaxUnhealthy == 0.4)
        #expect(configuration.safety.stormCooldown == .seconds(60))
        #expect(configuration.safety.targetCooldown == .seconds(10))
        #expect(configuration.safety.flapTransitions == 6)

        let rule = try #require(configuration.recoveryRules.first)
        #expect(rule.name == "Errors")
        #expect(rule.unhealthy == Threshold(.greater, 0.05))
        #expect(rule.healthy == Threshold(.less, 0.01))
        #expect(rule.pendingFor == .seconds(4))
        #expect(rule.clearFor == .seconds(90))
        #expect(rule.noData == .healthy)
        #expect(rule.maxSampleAge == .seconds(30))
        #expect(rule.rampStep == .seconds(5))
        #expect(rule.budget == Budget(maxAttempts: 2, window: .seconds(1800)))
        #expect(
            rule.ladder.map(\.action) == [
                .setWeight(percent: 25), .drain(waitSessions: .seconds(20)), .restart(actuator: "restart"),
                .quarantine(notify: "pager", releaseAfter: .seconds(3600)),
            ])
        #expect(rule.ladder.map(\.verify) == [.seconds(10), .seconds(30), .seconds(60), .zero])
        #expect(rule.ladder[1].source.line == 16)
        #expect(rule.source.line == 5)
        #expect(rule.source.file.hasSuffix("rules/web.yaml"))
        #expect(configuration.groups.first?.weights.first?.policy == .inverse)
        #expect(configuration.groups.first?.scale.first?.perServerCapacity == 200)
    }

    @Test func theShippedExampleLoads() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let configuration = try ConfigurationLoader.load(path: root.path + "/examples/healer.yaml")
        #expect(configuration.recoveryRules.map(\.name) == ["HighErrorRatio", "HighLatency"])
        #expect(configuration.safety.dryRun)
    }

    @Test func theShippedKubernetesExampleLoads() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let configuration = try ConfigurationLoader.load(path: root.path + "/examples/kubernetes/healer.yaml")
        #expect(configuration.pools["web"]?.selector == "app=web" && configuration.pools["web"]?.backend == "shop")
        #expect(configuration.actuators["restart-pod"] == .kubernetes(.evict, gracePeriod: .seconds(30)))
        #expect(configuration.recoveryRules.map(\.name) == ["PodErrorRatio"])
    }

    @Test func unknownKeysAreNamedWithASuggestion() {
        #expect(
            FixtureDirectory.errors("unknown-keys") == [
                #"healer.yaml:1:1: promethues: unknown key; did you mean "prometheus"?"#,
                #"healer.yaml:1:1: missing "prometheus" (at least its url)"#,
                #"healer.yaml:6:5: pools.web.min_healty_capacity: unknown key; did you mean "min_healthy_capacity"?"#,
                #"rules/web.yaml:9:9: groups[0].rules[0].clear_fr: unknown key; did you mean "clear_for"?"#,
                #"rules/web.yaml:11:13: rules.Errors.ladder: no actuator named "nobody" (none are defined)"#,
            ])
    }

    @Test func wrongTypesAndBadValues() {
        #expect(
            FixtureDirectory.errors("wrong-types") == [
                #"healer.yaml:2:8: prometheus.url: expected an http:// or https:// URL, got "127.0.0.1:9090""#,
                #"healer.yaml:3:12: prometheus.timeout: expected a duration such as 500ms, 30s, 5m or 1h, got "soon""#,
                "healer.yaml:7:27: pools.web.min_healthy_capacity: must be between 0% and 100%, got 160%",
                #"healer.yaml:8:20: pools.web.max_in_flight: expected a whole number, got "many""#,
                "healer.yaml:11:13: reconcile.interval: must be longer than 0s",
                #"healer.yaml:13:12: safety.dry_run: expected true or false, got "maybe""#,
                #"rules/web.yaml:7:20: groups[0].rules[0].unhealthy: expected a comparison such as "> 0.05" or "<= 100", got "greater than 5""#,
                #"rules/web.yaml:9:14: groups[0].rules[0].for: expected a duration such as 500ms, 30s, 5m or 1h, got "10 seconds""#,
                #"rules/web.yaml:10:18: groups[0].rules[0].no_data: expected unknown, healthy or unhealthy, got "ignore""#,
            ])
    }

    @Test func badRulesAcrossFiles() {
        #expect(
            FixtureDirectory.errors("bad-rules")
                == [
                    #"rules/a.yaml:8:18: groups[0].rules[0].healthy: overlaps "unhealthy" (> 0.05): a value cannot be both healthy and unhealthy"#,
                    "rules/a.yaml:9:17: groups[0].rules[0].ladder: an empty ladder can do nothing; list at least one step",
                    "rules/a.yaml:15:13: groups[0].rules[1].ladder[0]: quarantine must be the last step: nothing runs after it",
                    #"rules/a.yaml:15:13: rules.Latency.ladder: quarantine drains the server, which needs a balancer, and pool "web" has none: the step could only fail (give the pool a balancer, or set dry_run to record what would be done)"#,
                    "rules/a.yaml:16:27: groups[0].rules[1].ladder[1].set_weight: must be between 1% and 100%, got 0%",
                    "rules/a.yaml:17:13: groups[0].rules[1].ladder[2]: one action per step, got drain and restart",
                    #"rules/a.yaml:18:13: rules.Latency.ladder: no actuator named "reboot" (defined: restart)"#,
                    #"rules/b.yaml:2:5: groups.b.pool: no pool named "api" (defined: web)"#,
                    #"rules/b.yaml:17:18: rules.Errors.ladder: set_weight needs a balancer, and pool "web" has none"#,
                    #"rules/b.yaml:18:9: rules.Dup: rule "Dup" is already defined at rules/a.yaml:19:9; rule names must be unique (alerts refer to them)"#,
                ].map { $0 })
    }

    @Test func yamlSyntaxErrorsHaveTheirLine() {
        #expect(FixtureDirectory.errors("syntax") == ["healer.yaml:5:6: YAML syntax error: did not find expected ',' or '}'"])
        #expect(FixtureDirectory.errors("duplicate-keys") == [#"healer.yaml:3:3: duplicate key "web" in one mapping"#])
    }

    @Test func aRulePatternMatchingNothingIsAnError() {
        #expect(FixtureDirectory.errors("missing-rules") == [#"healer.yaml:4:8: rules: "nowhere/*.yaml" matches no file"#])
    }

    @Test func aMissingFileIsOneClearError() {
        let error = #expect(throws: ConfigurationErrors.self) { try ConfigurationLoader.load(path: "/nonexistent/healer.yaml") }
        #expect(error?.description == "/nonexistent/healer.yaml: cannot read the file: no such file")
    }

    @Test(arguments: [
        ("> 0.05", "< 0.01", false), ("> 0.05", "< 0.1", true), (">= 1", "<= 1", true), ("> 1", "<= 1", false),
        ("< 10", "> 20", false), ("== 0", "!= 0", false), ("!= 0", "> 5", true), ("> 5", "> 6", true),
    ])
    func thresholdOverlap(unhealthy: String, healthy: String, overlaps: Bool) throws {
        let a = try #require(Threshold(parsing: unhealthy))
        let b = try #require(Threshold(parsing: healthy))
        #expect(a.overlaps(b) == overlaps)
    }

    @Test func templates() throws {
        let template = try TargetTemplate(parsing: "{{ $labels.proxy }}/{{$labels.server}}")
        #expect(template.render(["proxy": "be", "server": "s1"]) == "be/s1")
        #expect(template.render(["proxy": "be"]) == nil)
        #expect(throws: TemplateError.self) { try TargetTemplate(parsing: "{{ .server }}") }
        #expect(throws: TemplateError.self) { try TargetTemplate(parsing: "{{ $labels.server ") }
    }
}

/// Mutating endpoints on the network without a token are refused at load, naming the field.
@Suite("Server exposure at load")
struct ServerExposureLoadTests {
    @Test(arguments: [
        ("server: { listen: \"0.0.0.0:9102\" }", true), ("server: { listen: \"127.0.0.1:9102\" }", false),
        ("server: { listen: \"0.0.0.0:9102\", allow_unauthenticated: true }", false),
        ("server: { listen: \"0.0.0.0:9102\", bearer_token_file: token }", false),
    ])
    func networkWithoutATokenIsRefused(server: String, refused: Bool) async throws {
        let (_, errors) = try await loadMinimal(server: server)
        #expect(errors.contains { $0.contains("server.listen: 0.0.0.0:9102 is reachable from the network") } == refused, "\(errors)")
    }
}

/// A one-pool, one-rule configuration with `server` as its server section: what loaded, and the errors.
private func loadMinimal(server: String) async throws -> (HealerConfiguration?, [String]) {
    try await TemporaryDirectory.with(prefix: "server") { directory in
        try directory.write(
            "rules.yaml",
            "groups: [{ name: web, pool: web, rules: [{ name: E, expr: e, unhealthy: \"> 1\", healthy: \"< 1\", ladder: [{ quarantine: {} }] }] }]"
        )
        try directory.write(
            "healer.yaml",
            "prometheus: { url: \"http://127.0.0.1:9090\" }\npools: { web: { backend: be } }\nrules: [rules.yaml]\nsafety: { dry_run: true }\n\(server)\n"
        )
        let path = directory.path + "/healer.yaml"
        return (try? ConfigurationLoader.load(path: path), FixtureDirectory.errors(loading: path))
    }
}

/// The server's timeouts and connection limit load, and bad ones are refused naming their field.
@Suite("Server limits at load")
struct ServerLimitsLoadTests {
    @Test func limitsLoad() async throws {
        let (loaded, errors) = try await loadMinimal(
            server: "server: { listen: \"[::1]:9102\", read_timeout: 3s, write_timeout: 1m, max_connections: 64 }")
        let server = try #require(loaded?.server, "\(errors)")
        #expect(server.readTimeout == .seconds(3))
        #expect(server.writeTimeout == .seconds(60))
        #expect(server.maxConnections == 64)
        #expect(server.listensOnLoopbackOnly)
    }

    @Test(arguments: [
        ("server: { read_timeout: 0s }", "server.read_timeout"), ("server: { write_timeout: soon }", "server.write_timeout"),
        ("server: { max_connections: 0 }", "server.max_connections"), ("server: { listen: \"9102\" }", "server.listen"),
        ("server: { listen: \"127.0.0.1:99999\" }", "server.listen"),
    ])
    func badLimitsAreRefused(server: String, field: String) async throws {
        let (loaded, errors) = try await loadMinimal(server: server)
        #expect(loaded == nil)
        #expect(errors.contains { $0.contains(field) }, "\(errors)")
    }
}

/// A placeholder inside a shell script would run whatever a label value holds: refused at load, naming the field.
@Suite("Exec templates at load")
struct ExecTemplateLoadTests {
    @Test func aPlaceholderInsideAShellScriptIsRefused() async throws {
        try await TemporaryDirectory.with(prefix: "exec") { directory in
            try directory.write(
                "rules.yaml",
                "groups: [{ name: web, pool: web, rules: [{ name: E, expr: e, unhealthy: \"> 1\", healthy: \"< 1\", ladder: [{ restart: r }] }] }]")
            try directory.write(
                "healer.yaml",
                """
                prometheus: { url: "http://127.0.0.1:9090" }
                actuators:
                  r: { exec: { command: ["/bin/sh", "-c", "restart {{ .server }}"] } }
                pools: { web: { backend: be } }
                rules: [rules.yaml]
                """)
            let errors = FixtureDirectory.errors(loading: directory.path + "/healer.yaml")
            #expect(errors.contains { $0.contains("healer.yaml:3:25: actuators.r.exec.command: a placeholder inside a shell script") }, "\(errors)")
        }
    }
}

/// A typo in a balancer's address is refused at load, naming the field, instead of being skipped at run.
@Suite("Balancer addresses at load")
struct BalancerAddressLoadTests {
    @Test(arguments: [
        "unix://relative/path", "tcp://999.1.1.1:80", "tcp://127.0.0.1:99999", "tcp://:9999", "http://127.0.0.1:9999",
        "tcp://haproxy.internal:9999", "tcp://[::1]:9999",
    ])
    func aBadRuntimeAddressIsRefused(address: String) async throws {
        try await TemporaryDirectory.with(prefix: "balancer") { directory in
            try directory.write(
                "rules.yaml",
                "groups: [{ name: web, pool: web, rules: [{ name: E, expr: e, unhealthy: \"> 1\", healthy: \"< 1\", ladder: [{ drain: {} }] }] }]")
            try directory.write(
                "healer.yaml",
                """
                prometheus: { url: "http://127.0.0.1:9090" }
                balancers: { edge: { haproxy: { runtime_api: "\(address)" } } }
                pools: { web: { balancer: edge, backend: be } }
                rules: [rules.yaml]
                """)
            let errors = FixtureDirectory.errors(loading: directory.path + "/healer.yaml")
            #expect(errors.contains { $0.contains("balancers.edge.haproxy.runtime_api: expected tcp://IPv4-address:port") }, "\(errors)")
        }
    }

    @Test(arguments: ["unix:///run/haproxy/admin.sock", "tcp://127.0.0.1:9999", "tcp://localhost:9999", "tcp://10.1.2.3:1"])
    func aGoodRuntimeAddressParses(address: String) {
        #expect(RuntimeAddress(parsing: address) != nil)
    }
}
