import Foundation
import HealerCore
import HealerRules
import HealerTesting
import Testing

/// `ha:` loads client-go's timings and refuses the ones client-go would refuse, naming the field.
@Suite("Leader election at load")
struct HALoadTests {
    static func load(_ ha: String) async throws -> (HealerConfiguration?, [String]) {
        try await TemporaryDirectory.with(prefix: "ha") { directory in
            try directory.write(
                "rules.yaml",
                "groups: [{ name: web, pool: web, rules: [{ name: E, expr: e, unhealthy: \"> 1\", healthy: \"< 1\", ladder: [{ quarantine: {} }] }] }]"
            )
            try directory.write(
                "healer.yaml",
                "prometheus: { url: \"http://127.0.0.1:9090\" }\npools: { web: { backend: be } }\nrules: [rules.yaml]\nsafety: { dry_run: true }\n\(ha)\n"
            )
            let path = directory.path + "/healer.yaml"
            return (try? ConfigurationLoader.load(path: path), FixtureDirectory.errors(loading: path))
        }
    }

    @Test func defaultsAndOverridesLoad() async throws {
        let (defaults, errors) = try await Self.load("ha: { lease: {} }")
        let ha = try #require(defaults?.ha, "\(errors)")
        #expect(ha.leaseName == "healer" && ha.leaseDuration == .seconds(15) && ha.renewDeadline == .seconds(10) && ha.retryPeriod == .seconds(2))
        let (custom, _) = try await Self.load(
            "ha: { lease: { name: healer-eu, namespace: ops, identity: a, duration: 5s, renew_deadline: 4s, retry_period: 1s } }")
        let lease = try #require(custom?.ha)
        #expect(lease.leaseName == "healer-eu" && lease.namespace == "ops" && lease.identity == "a" && lease.leaseDuration == .seconds(5))
        #expect(try await Self.load("").0?.ha == nil)
        #expect(ha.stateConfigMap == "healer-state" && ha.advertiseURL == nil)
        let (shared, _) = try await Self.load("ha: { lease: {}, state_config_map: healer-eu-state, advertise_url: \"http://10.0.3.7:9102/\" }")
        #expect(shared?.ha?.stateConfigMap == "healer-eu-state" && shared?.ha?.advertiseURL == "http://10.0.3.7:9102")
    }

    /// Where followers forward alerts: the configured URL, else the pod's IP with the listen port, else a listen
    /// address that names a host.
    @Test(
        arguments: [
            (nil, "0.0.0.0:9102", "10.0.3.7", "http://10.0.3.7:9102"),
            (nil, "[::]:9102", "fd00::7", "http://[fd00::7]:9102"),
            (nil, "127.0.0.1:9200", nil, "http://127.0.0.1:9200"),
            (nil, "0.0.0.0:9102", nil, nil),
            ("https://healer-a.example:443", "0.0.0.0:9102", "10.0.3.7", "https://healer-a.example:443"),
        ] as [(String?, String, String?, String?)])
    func advertisedURL(configured: String?, listen: String, podIP: String?, expected: String?) {
        var ha = HASettings()
        ha.advertiseURL = configured
        #expect(ha.advertisedURL(listen: listen, podIP: podIP) == expected)
    }

    @Test(arguments: [
        ("ha: { lease: { duration: 10s, renew_deadline: 10s } }", "longer than renew_deadline"),
        ("ha: { lease: { renew_deadline: 2s, retry_period: 2s } }", "1.2 × retry_period"),
        ("ha: {}", "missing \"lease\""),
        ("ha: { lease: { duration: 15500ms } }", "whole seconds"),
        ("ha: { lease: { identity: \"\" } }", "must not be empty"),
        ("ha: { lease: { duraton: 5s } }", "duraton"),
        ("ha: { lease: {}, advertise_url: \"10.0.3.7:9102\" }", "http(s) URL"),
    ])
    func badTimingsAreRefused(ha: String, message: String) async throws {
        let (loaded, errors) = try await Self.load(ha)
        #expect(loaded == nil)
        #expect(errors.contains { $0.contains("healer.yaml:") && $0.contains(message) }, "\(errors)")
    }
}
