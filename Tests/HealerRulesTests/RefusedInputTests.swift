import Foundation
import HealerCore
import HealerRules
import HealerTesting
import Testing

/// Input that used to be accepted and must not be: each is refused at load, naming the file, line and field.
@Suite("Bad input refused at the door")
struct RefusedInputTests {
    static let rules = #"""
        groups:
          - name: web
            pool: web
            rules:
              - { name: Errors, expr: "sum by (server) (e)", unhealthy: "> 1", healthy: "< 1", ladder: [{ drain: {} }, { quarantine: {} }] }
        """#

    /// A valid configuration (one pool behind HAProxy, the rule file above) with `extra` appended and `rules` as its
    /// rule file; returns what loading it gives.
    static func load(_ extra: String = "", pool: String = "web: { balancer: edge, backend: be_app, servers: [s1, s2] }", rules: String = rules)
        async throws -> (HealerConfiguration?, [String])
    {
        try await TemporaryDirectory.with(prefix: "refused") { directory in
            try directory.write("rules.yaml", rules)
            try directory.write(
                "healer.yaml",
                """
                prometheus: { url: "http://127.0.0.1:9090" }
                balancers: { edge: { haproxy: { runtime_api: "tcp://127.0.0.1:9999" } } }
                pools:
                  \(pool)
                rules: [rules.yaml]
                \(extra)
                """)
            let path = directory.path + "/healer.yaml"
            return (try? ConfigurationLoader.load(path: path), FixtureDirectory.errors(loading: path))
        }
    }

    @Test func theBaseConfigurationLoads() async throws {
        let (loaded, errors) = try await Self.load()
        #expect(loaded != nil, "\(errors)")
    }

    @Test(arguments: [
        ("reconcile: { interval: 99999999999d }", "reconcile.interval: must be at most 1h, got 99999999999d"),
        ("reconcile: { max_sample_age: 400d }", "reconcile.max_sample_age: must be at most 1d"),
        ("safety: { cooldown: 8d }", "safety.cooldown: must be at most 1d"),
        ("prometheus_extra: 1", "unknown key"),
        ("safety: { storm: { max_unhealthy: 0% } }", "safety.storm.max_unhealthy: must be above 0%"),
        ("server: { listen: \"127.0.0.1:70000\" }", "server.listen: expected host:port (a port from 0 to 65535"),
        ("ha: { lease: { duration: 2h } }", "must be at most 1h"),
    ])
    func aBadSettingIsRefused(extra: String, message: String) async throws {
        let (loaded, errors) = try await Self.load(extra)
        #expect(loaded == nil)
        #expect(errors.contains { $0.contains("healer.yaml:") && $0.contains(message) }, "\(errors)")
    }

    @Test(arguments: [
        ("for: 9223372036s", "for: must be at most 1w, got 9223372036s"),
        ("clear_for: 30d", "clear_for: must be at most 1w"),
    ])
    func aBadRuleDurationIsRefused(field: String, message: String) async throws {
        let rules = Self.rules.replacingOccurrences(of: #"healthy: "< 1","#, with: #"healthy: "< 1", \#(field),"#)
        let (loaded, errors) = try await Self.load(rules: rules)
        #expect(loaded == nil)
        #expect(errors.contains { $0.contains("rules.yaml:") && $0.contains(message) }, "\(errors)")
    }

    /// NUL, a right-to-left override, a zero-width space: a name that shows as something else, or nothing.
    @Test(arguments: ["\\0", "\\u202E", "\\u200B"])
    func aNameWithAControlOrFormattingCharacterIsRefused(character: String) async throws {
        let pool = try await Self.load(pool: "\"we\(character)b\": { balancer: edge, backend: be_app, servers: [s1] }")
        #expect(pool.0 == nil && pool.1.contains { $0.contains("control or invisible formatting characters") }, "\(pool.1)")
        let backend = try await Self.load(pool: "web: { balancer: edge, backend: \"be\(character)app\", servers: [s1] }")
        #expect(backend.0 == nil && backend.1.contains { $0.contains("pools.web.backend: must not contain control") }, "\(backend.1)")
        let server = try await Self.load(pool: "web: { balancer: edge, backend: be_app, servers: [\"s\(character)1\"] }")
        #expect(server.0 == nil && server.1.contains { $0.contains("pools.web.servers[0]: must not contain control") }, "\(server.1)")
        let rule = try await Self.load(rules: Self.rules.replacingOccurrences(of: "name: Errors", with: "name: \"Err\(character)ors\""))
        #expect(rule.0 == nil && rule.1.contains { $0.contains("rules.yaml:") && $0.contains("must not contain control") }, "\(rule.1)")
    }

    @Test func aFileThatIsNotUTF8IsRefusedAtItsFirstBadByte() async throws {
        try await TemporaryDirectory.with(prefix: "utf8") { directory in
            try directory.write(
                "healer.yaml", "prometheus: { url: \"http://127.0.0.1:9090\" }\npools: { web: { backend: be } }\nrules: [rules.yaml]\n")
            var bytes = Array("groups:\n  - name: w".utf8)
            bytes += [0xFF, 0xFE]
            try Data(bytes).write(to: URL(fileURLWithPath: directory.path + "/rules.yaml"))
            let errors = FixtureDirectory.errors(loading: directory.path + "/healer.yaml")
            #expect(errors.contains { $0.contains("rules.yaml") && $0.contains("is not UTF-8: an invalid byte at line 2, column 12") }, "\(errors)")
        }
    }

    @Test func aFileThatStartsWithAByteOrderMarkIsRead() async throws {
        try await TemporaryDirectory.with(prefix: "bom") { directory in
            try directory.write("rules.yaml", "\u{FEFF}" + Self.rules)
            try directory.write(
                "healer.yaml",
                "\u{FEFF}prometheus: { url: \"http://127.0.0.1:9090\" }\nbalancers: { edge: { haproxy: { runtime_api: \"tcp://127.0.0.1:9999\" } } }\n"
                    + "pools: { web: { balancer: edge, backend: be_app, servers: [s1] } }\nrules: [rules.yaml]\n")
            let path = directory.path + "/healer.yaml"
            #expect((try? ConfigurationLoader.load(path: path)) != nil, "\(FixtureDirectory.errors(loading: path))")
        }
    }

    @Test func aStatePathNamingADirectoryIsRefused() async throws {
        let (loaded, errors) = try await Self.load("state: { path: /tmp }")
        #expect(loaded == nil)
        #expect(errors.contains { $0.contains("state.path: names a directory") }, "\(errors)")
    }

    /// Without a balancer, a ladder that drains or quarantines can only fail.
    @Test func aPoolWithoutABalancerWhoseLadderCanOnlyFailIsRefused() async throws {
        let rules = Self.rules.replacingOccurrences(of: "ladder: [{ drain: {} }, { quarantine: {} }]", with: "ladder: [{ quarantine: {} }]")
        let (loaded, errors) = try await Self.load(pool: "web: { backend: be_app, servers: [s1, s2] }", rules: rules)
        #expect(loaded == nil)
        #expect(errors.contains { $0.contains("quarantine drains the server, which needs a balancer") }, "\(errors)")
    }

    @Test func aRuleFileOverItsLimitIsRefusedQuickly() async throws {
        try await TemporaryDirectory.with(prefix: "big") { directory in
            try directory.write(
                "healer.yaml", "prometheus: { url: \"http://127.0.0.1:9090\" }\npools: { web: { backend: be } }\nrules: [rules.yaml]\n")
            let group = "  - { name: g, pool: web, rules: [] }\n"
            try ("groups:\n" + String(repeating: group, count: (5 << 20) / group.utf8.count)).write(
                toFile: directory.path + "/rules.yaml", atomically: true, encoding: .utf8)
            let errors = FixtureDirectory.errors(loading: directory.path + "/healer.yaml")
            #expect(errors.contains { $0.contains("rules.yaml") && $0.contains("more than the 4.0 MiB such a file may be") }, "\(errors)")
        }
    }

    /// A template that reads a label the expression's aggregation drops can name no server: warned at load.
    @Test(arguments: [
        ("sum by (proxy) (e)", ["server"]),
        ("sum(e)", ["server"]),
        ("sum by (proxy) (a) / sum by (proxy) (b) > 0.05", ["server"]),
        ("sum by (server) (e)", []),
        ("sum by (server) (a) / on (server) sum by (server, proxy) (b)", []),
        ("e", []),
        ("sum without (instance) (e)", []),
    ])
    func aTemplateLabelTheExpressionCannotReturnIsWarned(expression: String, missing: [String]) async throws {
        let rules = Self.rules.replacingOccurrences(of: "expr: \"sum by (server) (e)\"", with: "expr: \"\(expression)\"")
        let (loaded, errors) = try await Self.load(rules: rules)
        let configuration = try #require(loaded, "\(errors)")
        let warnings = ConfigurationWarnings.of(configuration)
        #expect(warnings.map(\.field) == (missing.isEmpty ? [] : ["rules.Errors.expr"]))
        for label in missing { #expect(warnings.first?.message.contains("$labels.\(label)") == true) }
    }
}
