import FakeKubernetes
import Foundation
import HealerController
import HealerCore
import HealerKubernetes
import HealerTesting
import Logging
import ServiceLifecycle
import ServiceLifecycleTestKit
import Synchronization
import Testing

/// Leader election on a Lease in the fake API server, with short timings (the semantics are client-go's; timing
/// goals belong to the failover benchmark).
@Suite("Leader election on a Lease")
struct LeaseElectorTests {
    /// A monotonic clock the test moves by hand: expiries happen when the test says, not when a loaded machine does.
    final class ManualInstant: Sendable {
        private let instant = Mutex(ContinuousClock.now)
        var now: ContinuousClock.Instant { instant.withLock { $0 } }
        func advance(by duration: Duration) { instant.withLock { $0 = $0.advanced(by: duration) } }
    }

    /// An elector with client-go's timings (15 s lease, 10 s renew deadline), judging by `clock`.
    static func elector(
        _ identity: String, server: FakeKubernetesAPIServer, clock: ManualInstant = ManualInstant(),
        onTransition: (@Sendable (Bool, String?) -> Void)? = nil
    ) -> LeaseElector {
        LeaseElector(
            settings: .init(
                name: "healer", namespace: "ops", identity: identity, leaseDuration: .seconds(15), renewDeadline: .seconds(10),
                retryPeriod: .milliseconds(200)),
            client: KubernetesClient(connection: KubernetesConnection(server: server.url, namespace: "ops")),
            logger: Logger(label: "election") { _ in SwiftLogNoOpLogHandler() }, onTransition: onTransition, monotonicNow: { clock.now })
    }

    static func lease(_ server: FakeKubernetesAPIServer) -> JSONValue? {
        server.object("leases", namespace: "ops", name: "healer", apiVersion: "coordination.k8s.io/v1")
    }

    @Test func oneReplicaLeadsTheOtherFollowsAndTakesOverWhenTheLeaseExpires() async throws {
        try await FakeKubernetesAPIServer.with { server in
            let clock = ManualInstant()
            let first = Self.elector("healer-a", server: server, clock: clock)
            let second = Self.elector("healer-b", server: server, clock: clock)
            #expect(await first.tryAcquireOrRenew())
            let lease = try #require(Self.lease(server))
            #expect(lease.value(at: "spec.holderIdentity") == "healer-a" && lease.value(at: "spec.leaseTransitions") == 0)
            #expect(lease.value(at: "spec.renewTime")?.string?.range(of: #"\.\d{6}Z$"#, options: .regularExpression) != nil)
            // While the holder renews, the other never leads, however long it waits between renewals within the lease.
            for _ in 0..<5 {
                #expect(await !second.tryAcquireOrRenew())
                clock.advance(by: .seconds(9))
                #expect(await first.tryAcquireOrRenew())
                #expect(await first.isLeader())
            }
            #expect(await !second.tryAcquireOrRenew())
            // The holder stops renewing (killed): not before its lease has run out by the follower's clock does it lead.
            clock.advance(by: .seconds(14))
            #expect(await !second.tryAcquireOrRenew())
            clock.advance(by: .seconds(2))
            #expect(await second.tryAcquireOrRenew())
            let taken = try #require(Self.lease(server))
            #expect(taken.value(at: "spec.holderIdentity") == "healer-b" && taken.value(at: "spec.leaseTransitions") == 1)
            // The old leader, resuming, is no longer the leader by its own clock, and loses the next round.
            #expect(await !first.isLeader())
            #expect(await !first.tryAcquireOrRenew())
        }
    }

    /// A follower's next round comes no later than the holder's lease runs out by its clock (a dead leader is
    /// succeeded then, not up to a jittered retry period later), and never sooner than client-go's once it has run out.
    @Test func aFollowerTriesAgainWhenTheLeaseRunsOutNotLater() async throws {
        try await FakeKubernetesAPIServer.with { server in
            let clock = ManualInstant()
            let first = Self.elector("healer-a", server: server, clock: clock)
            let second = Self.elector("healer-b", server: server, clock: clock)  // retry period 0.2 s: jittered 0.2–0.44 s
            #expect(await first.tryAcquireOrRenew())
            #expect(await first.nextRoundDelay() == .milliseconds(200))  // a leader renews every retry period
            #expect(await !second.tryAcquireOrRenew())
            // 15 s of lease left: the jittered retry period comes first.
            let early = await second.nextRoundDelay()
            #expect(early >= .milliseconds(200) && early <= .milliseconds(440))
            // 0.1 s left: the next round comes when it runs out (plus at most 0.1 s).
            clock.advance(by: .milliseconds(14_900))
            let atExpiry = await second.nextRoundDelay()
            #expect(atExpiry >= .milliseconds(110) && atExpiry <= .milliseconds(200))
            // Run out, and the round failed (the API did not answer): no faster than client-go.
            clock.advance(by: .seconds(1))
            server.beginOutage("/leases/")
            #expect(await !second.tryAcquireOrRenew())
            let afterFailure = await second.nextRoundDelay()
            #expect(afterFailure >= .milliseconds(200))
            server.endOutage("/leases/")
            #expect(await second.tryAcquireOrRenew())
        }
    }

    @Test func aWriteNamingAStaleVersionLosesTheRound() async throws {
        try await FakeKubernetesAPIServer.with { server in
            let first = Self.elector("healer-a", server: server)
            #expect(await first.tryAcquireOrRenew())
            // Someone else writes the lease between this replica's read and write.
            server.failNext(
                "PUT", pathSuffix: "/leases/healer", with: .conflict(resource: "leases.coordination.k8s.io", name: "healer", message: "modified"))
            #expect(await !first.tryAcquireOrRenew())
            #expect(await first.tryAcquireOrRenew())  // the next round, reading the current version, renews
            let puts = server.requests.filter { $0.method == "PUT" }
            #expect(puts.allSatisfy { $0.body.contains(#""resourceVersion""#) })
        }
    }

    @Test func aLeaderThatCannotRenewStepsDown() async throws {
        let server = try FakeKubernetesAPIServer()
        let transitions = Mutex<[Bool]>([])
        let elector = LeaseElector(
            settings: .init(
                name: "healer", namespace: "ops", identity: "healer-a", leaseDuration: .seconds(2), renewDeadline: .milliseconds(1500),
                retryPeriod: .milliseconds(200)),
            client: KubernetesClient(connection: KubernetesConnection(server: server.url, namespace: "ops")),
            logger: Logger(label: "election") { _ in SwiftLogNoOpLogHandler() },
            onTransition: { leading, _ in transitions.withLock { $0.append(leading) } })
        #expect(await elector.tryAcquireOrRenew())
        server.stop()  // the API server is unreachable: no renewal succeeds any more
        try await waitUntil("the leader to step down", timeout: .seconds(30), interval: .milliseconds(100)) {
            await elector.tryAcquireOrRenew()
            return await !elector.isLeader()
        }
        // It says so once, by its renew deadline (shorter than the lease, so before another replica could lead).
        #expect(transitions.withLock { $0 } == [true, false])
    }

    /// A renewal cut off by the shutdown may have landed all the same: the release, finding the lease newer than the
    /// one it kept, reads it again and releases it if it still names this replica, and leaves another's alone.
    @Test func aReleaseAfterARenewalItDidNotSeeReleasesOnlyItsOwnLease() async throws {
        try await FakeKubernetesAPIServer.with { server in
            let first = Self.elector("healer-a", server: server)
            let unseen = Self.elector("healer-a", server: server)  // its renewal is the one the first never saw
            #expect(await first.tryAcquireOrRenew())
            #expect(await unseen.tryAcquireOrRenew())
            await first.release()
            #expect(Self.lease(server)?.value(at: "spec.holderIdentity") == "")
            #expect(await !first.isLeader())
        }
        try await FakeKubernetesAPIServer.with { server in
            let clock = ManualInstant()
            let first = Self.elector("healer-a", server: server, clock: clock)
            let second = Self.elector("healer-b", server: server, clock: clock)
            #expect(await first.tryAcquireOrRenew())
            #expect(await !second.tryAcquireOrRenew())
            clock.advance(by: .seconds(16))
            #expect(await second.tryAcquireOrRenew())
            await first.release()
            #expect(Self.lease(server)?.value(at: "spec.holderIdentity") == "healer-b")
        }
    }

    @Test func gracefulShutdownReleasesTheLeaseSoTheOtherLeadsAtOnce() async throws {
        try await FakeKubernetesAPIServer.with { server in
            let first = Self.elector("healer-a", server: server)
            let second = Self.elector("healer-b", server: server)
            try await testGracefulShutdown { trigger in
                let run = Task { try await first.run() }
                try await waitUntil("the first to lead", timeout: .seconds(30)) { await first.isLeader() }
                trigger.triggerGracefulShutdown()
                try await run.value
            }
            let released = try #require(Self.lease(server))
            #expect(released.value(at: "spec.holderIdentity") == "" && released.value(at: "spec.leaseDurationSeconds") == 1)
            #expect(await !first.isLeader())
            #expect(await second.tryAcquireOrRenew())  // no wait for an expiry
            // Exactly the calls the RBAC Role grants leader election.
            let used = Set(
                server.requests.compactMap(\.permission).map { KubernetesPermission(group: $0.group, resource: $0.resource, verb: $0.verb) })
            #expect(used == Set(KubernetesPermission.leaderElection), "\(used.sorted())")
        }
    }

    @Test(arguments: [
        (Duration.seconds(10), Duration.seconds(10), Duration.seconds(2), true), (.seconds(15), .seconds(2), .seconds(2), true),
        (.seconds(15), .seconds(10), .seconds(2), false),
    ])
    func timingsAreCheckedAsClientGoChecksThem(lease: Duration, renew: Duration, retry: Duration, refused: Bool) {
        let settings = LeaseElector.Settings(name: "l", namespace: "n", identity: "i", leaseDuration: lease, renewDeadline: renew, retryPeriod: retry)
        #expect((settings.problem != nil) == refused)
    }
}
