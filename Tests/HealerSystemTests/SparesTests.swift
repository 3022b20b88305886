import Foundation
import HealerController
import HealerCore
import HealerHAProxy
import HealerTesting
import Testing

/// Elastic capacity through a real HAProxy: a spare enters rotation under load and leaves when it cools.
@Suite("Spares, end to end", .serialized)
struct SparesTests {
    @Test func aSpareEntersRotationUnderLoadAndLeavesWhenItCools() async throws {
        let scale = ScaleRule(
            name: "Saturation", expression: #"sum(rate(haproxy_backend_http_requests_total{proxy="be_app"}[3s]))"#, perServerCapacity: 20,
            outAbove: 0.8, inBelow: 0.3, pendingFor: .seconds(2), cooldown: .seconds(3))
        let errors = RecoveryRule(
            name: "ErrorRatio", pool: "web", expression: SystemFixture.errorRatio, unhealthy: Threshold(.greater, 0.05),
            healthy: Threshold(.less, 0.01),
            pendingFor: .seconds(2), ladder: [LadderStep(.setWeight(percent: 25))])
        try await SystemFixture.run(servers: ["s1", "s2"], spares: ["s3"], rules: [errors], scale: [scale]) { system in
            #expect(try await system.state(of: "s3").adminState == .maint)  // configured `disabled`
            // About 60 requests per second or more against 2 servers of 20: far above 80 %.
            let load = LoadGenerator(url: system.haproxy.frontendURL, concurrency: 2, pause: .milliseconds(20), maximum: .seconds(60))
            try await waitUntil("the spare to enter rotation", timeout: .seconds(40)) {
                (try await system.state(of: "s3")).adminState == .ready
            }
            #expect(system.recorded("s3", .scaleOut))
            try await waitUntil("the spare to serve requests", timeout: .seconds(20)) {
                load.all.suffix(200).contains { $0.body.contains("ok from s3") }
            }
            await load.stop()
            try await waitUntil("the spare to leave rotation", timeout: .seconds(40)) {
                (try await system.state(of: "s3")).adminState == .drain
            }
            #expect(system.recorded("s3", .scaleIn))
        }
    }
}
