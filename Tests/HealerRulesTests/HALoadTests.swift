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
                "healer.yaml", "prometheus: { url: \"http://127.0.0.1:9090\" }\npools: { web: { backend: be } }\nrules: [rules.yaml]\n\(ha)\n")
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
    }

    @Test(arguments: [
        ("ha: { lease: { duration: 10s, renew_deadline: 10s } }", "longer than renew_deadline"),
        ("ha: { lease: { renew_deadline: 2s, retry_period: 2s } }", "1.2 × retry_period"),
        ("ha: {}", "missing \"lease\""),
        ("ha: { lease: { duration: 15500ms } }", "whole seconds"),
        ("ha: { lease: { identity: \"\" } }", "must not be empty"),
        ("ha: { lease: { duraton: 5s } }", "duraton"),
    ])
    func badTimingsAreRefused(ha: String, message: String) async throws {
        let (loaded, errors) = try await Self.load(ha)
        #expect(loaded == nil)
        #expect(errors.contains { $0.contains("healer.yaml:") && $0.contains(message) }, "\(errors)")
    }
}
