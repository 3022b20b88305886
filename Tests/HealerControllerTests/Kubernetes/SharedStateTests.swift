import FakeKubernetes
import Foundation
import HealerController
import HealerCore
import HealerKubernetes
import HealerStore
import HealerTesting
import Logging
import Synchronization
import Testing

/// Two replicas sharing their state in a ConfigMap of the fake API server: a new leader resumes the incidents in
/// force, a deposed leader's writes are refused by the fence, and no action is taken twice.
@Suite("Shared state and fencing")
struct SharedStateTests {
    typealias ManualInstant = LeaseElectorTests.ManualInstant

    static func store(_ server: FakeKubernetesAPIServer, maxDataBytes: Int = ConfigMap.maxDataBytes - 16_384) -> ConfigMapStateStore {
        ConfigMapStateStore(
            client: KubernetesClient(connection: KubernetesConnection(server: server.url, namespace: "ops")), name: "healer-state", namespace: "ops",
            maxDataBytes: maxDataBytes)
    }

    static func configMap(_ server: FakeKubernetesAPIServer) -> JSONValue? {
        server.object("configmaps", namespace: "ops", name: "healer-state", apiVersion: "v1")
    }

    static func record(_ code: DecisionReason.Code, pool: String = "web") -> DecisionRecord {
        var record = DecisionRecord(time: Date(timeIntervalSince1970: 1_800_000_000), kind: .pool, pool: pool, because: .stateUnreadable)
        record.code = code
        return record
    }

    // MARK: - The store

    @Test func theFirstLeaderCreatesTheObjectAndAnotherReplicaReadsWhatItSaved() async throws {
        try await FakeKubernetesAPIServer.with { server in
            let leader = Self.store(server)
            #expect(try await leader.takeOver(LeaderTerm(epoch: 0, holder: "healer-a")) == nil)
            var state = EngineState(maxActionsPerMinute: 6)
            state.pause.pools = ["web"]
            try await leader.save(state, appending: [Self.record(.operatorPaused)])
            let map = try #require(Self.configMap(server))
            #expect(map.value(at: "data.epoch") == "0" && map.value(at: "data.holder") == "healer-a")
            #expect(map.value(at: "data.format") == .string(String(EngineState.currentVersion)))
            let follower = Self.store(server)
            #expect(try await follower.load()?.pause.pools == ["web"])
            #expect(try await follower.recentRecords(limit: 10).map(\.code) == [.operatorPaused])
        }
    }

    @Test func aDeposedLeadersSaveIsRefusedOnceTheNewLeaderHasFencedEvenBeforeItSavesAnything() async throws {
        try await FakeKubernetesAPIServer.with { server in
            let old = Self.store(server)
            _ = try await old.takeOver(LeaderTerm(epoch: 0, holder: "healer-a"))
            try await old.save(EngineState(maxActionsPerMinute: 6))
            let new = Self.store(server)
            _ = try await new.takeOver(LeaderTerm(epoch: 1, holder: "healer-b"))
            await #expect {
                try await old.save(EngineState(maxActionsPerMinute: 6))
            } throws: { error in
                guard case SharedStateError.fenced(_, let by) = error else { return false }
                return by == LeaderTerm(epoch: 1, holder: "healer-b") && (error as? any StateStoreFailure)?.meansStateLost == true
            }
            // Nor can it take the object back with its old term.
            await #expect(throws: SharedStateError.self) { try await old.takeOver(LeaderTerm(epoch: 0, holder: "healer-a")) }
            #expect(Self.configMap(server)?.value(at: "data.holder") == "healer-b")
            // The new leader writes on.
            try await new.save(EngineState(maxActionsPerMinute: 6))
        }
    }

    /// After a conflict, anything but "the object still names this term" means deposed: the pass writes nothing.
    @Test func aConflictWhoseOutcomeCannotBeReadCountsAsDeposed() async throws {
        try await FakeKubernetesAPIServer.with { server in
            let store = Self.store(server)
            _ = try await store.takeOver(LeaderTerm(epoch: 0, holder: "healer-a"))
            server.failNext(
                "PUT", pathSuffix: "/configmaps/healer-state", with: .conflict(resource: "configmaps", name: "healer-state", message: "x"))
            server.failNext("GET", pathSuffix: "/configmaps/healer-state", with: .unavailable)
            await #expect {
                try await store.save(EngineState(maxActionsPerMinute: 6))
            } throws: { error in
                (error as? any StateStoreFailure)?.meansStateLost == true
            }
        }
    }

    /// A Lease deleted (or renamed) is created again above every epoch that fenced the state: its leader takes the
    /// state over instead of being refused for ever.
    @Test func aRecreatedLeaseStartsAboveTheStoredEpoch() async throws {
        try await FakeKubernetesAPIServer.with { server in
            let old = Self.store(server)
            _ = try await old.takeOver(LeaderTerm(epoch: 5, holder: "healer-a"))
            try await old.save(EngineState(maxActionsPerMinute: 6))
            let store = Self.store(server)
            let elector = LeaseElector(
                settings: .init(name: "healer", namespace: "ops", identity: "healer-b"),
                client: KubernetesClient(connection: KubernetesConnection(server: server.url, namespace: "ops")),
                logger: Logger(label: "election") { _ in SwiftLogNoOpLogHandler() }, firstEpoch: { try? await store.nextEpoch() })
            #expect(await elector.tryAcquireOrRenew())
            let term = try #require(await elector.term())
            #expect(term.epoch == 6)
            _ = try await store.takeOver(term)
            // The old leader is fenced out.
            await #expect(throws: SharedStateError.self) { try await old.save(EngineState(maxActionsPerMinute: 6)) }
        }
    }

    @Test func aReplicaThatDidNotTakeOverNeverWrites() async throws {
        try await FakeKubernetesAPIServer.with { server in
            let follower = Self.store(server)
            await #expect(throws: SharedStateError.self) { try await follower.save(EngineState(maxActionsPerMinute: 6)) }
            #expect(Self.configMap(server) == nil)
        }
    }

    @Test func theSameHolderTakesOverAgainInItsOwnTermAfterAPause() async throws {
        try await FakeKubernetesAPIServer.with { server in
            let store = Self.store(server)
            var state = EngineState(maxActionsPerMinute: 6)
            state.pause.pools = ["web"]
            _ = try await store.takeOver(LeaderTerm(epoch: 2, holder: "healer-a"))
            try await store.save(state)
            // Stopped leading (the API was unreachable), then renewed the same lease: same holder, same epoch.
            #expect(try await store.takeOver(LeaderTerm(epoch: 2, holder: "healer-a"))?.pause.pools == ["web"])
            // Another holder claiming that same epoch is not a later term.
            await #expect(throws: SharedStateError.self) { try await Self.store(server).takeOver(LeaderTerm(epoch: 2, holder: "healer-b")) }
        }
    }

    @Test func decisionsAreTrimmedToFitAndAStateThatCannotFitIsRefused() async throws {
        try await FakeKubernetesAPIServer.with { server in
            let store = Self.store(server, maxDataBytes: 6_000)
            _ = try await store.takeOver(LeaderTerm(epoch: 0, holder: "healer-a"))
            let records = (0..<100).map { Self.record(.operatorPaused, pool: "pool-\($0)") }
            try await store.save(EngineState(maxActionsPerMinute: 6), appending: records)
            let kept = try await store.recentRecords(limit: 1000)
            #expect(!kept.isEmpty && kept.count < 100)
            #expect(kept.last?.pool == "pool-99")  // the newest are kept
            var huge = EngineState(maxActionsPerMinute: 6)
            huge.pause.pools = Set((0..<1000).map { "pool-\($0)" })
            await #expect {
                try await store.save(huge)
            } throws: { error in
                if case SharedStateError.tooLarge = error { true } else { false }
            }
        }
    }

    @Test func theAPIServerRefusesAConfigMapOverOneMebibyte() async throws {
        try await FakeKubernetesAPIServer.with { server in
            let client = KubernetesClient(connection: KubernetesConnection(server: server.url, namespace: "ops"))
            let big = ConfigMap(metadata: .init(name: "big", namespace: "ops"), data: ["a": String(repeating: "x", count: ConfigMap.maxDataBytes)])
            await #expect {
                _ = try await client.createConfigMap(big)
            } throws: { error in
                (error as? KubernetesError)?.code == 422
            }
        }
    }

    // MARK: - Two replicas

    /// Two replicas of one Healer: one balancer, one actuator, one API server; each its own elector and store.
    final class Replicas: Sendable {
        let metrics = ScriptedMetricsSource()
        let balancer = FakeBalancer(pools: ["web": ["s1", "s2", "s3"].map { ServerInfo(server: $0) }])
        let actuator = RecordingActuator()
        /// The wall-clock time both replicas give their engines.
        final class Wall: Sendable {
            let time = Mutex(Date(timeIntervalSince1970: 1_800_000_000))
        }
        let wall = Wall()
        let electors: [LeaseElector]
        let services: [ReconcilerService<ManualClock>]

        init(server: FakeKubernetesAPIServer, clocks: [ManualInstant]) {
            let ladder = [LadderStep(.setWeight(percent: 25), verify: .seconds(10)), LadderStep(.restart(actuator: "restart-backend"))]
            let configuration = HealerConfiguration.fixture(ladder: ladder, pendingFor: .zero)
            electors = ["healer-a", "healer-b"].enumerated().map { LeaseElectorTests.elector($1, server: server, clock: clocks[$0]) }
            var services: [ReconcilerService<ManualClock>] = []
            for elector in electors {
                services.append(
                    ReconcilerService(
                        configuration: configuration,
                        dependencies: .init(
                            metrics: metrics, actuator: actuator, balancer: balancer, store: SharedStateTests.store(server), elector: elector),
                        clock: ManualClock(), now: { [wall] in wall.time.withLock { $0 } },
                        logger: Logger(label: "replica") { _ in SwiftLogNoOpLogHandler() }))
            }
            self.services = services
            metrics.set("error_ratio", values: ["s1": 0.3, "s2": 0, "s3": 0])
        }

        func advance(_ seconds: Double) { wall.time.withLock { $0 = $0.addingTimeInterval(seconds) } }

        /// Every step applied, by either replica.
        func stepsApplied(_ reports: [ReconcilerService<ManualClock>.PassReport]) -> [DecisionAction?] {
            reports.flatMap(\.outcome.records).filter { $0.code == .stepApplied }.map(\.actionType)
        }
    }

    @Test func aNewLeaderResumesTheIncidentAtItsStepAndNoActionIsTakenTwice() async throws {
        try await FakeKubernetesAPIServer.with { server in
            let clock = ManualInstant()
            let replicas = Replicas(server: server, clocks: [clock, clock])
            let (a, b) = (replicas.services[0], replicas.services[1])
            #expect(await replicas.electors[0].tryAcquireOrRenew())
            #expect(await !replicas.electors[1].tryAcquireOrRenew())
            var reports = [await a.runPass()]
            #expect(reports[0].outcome.records.first?.why == .leaderTookOver(epoch: 0, holder: "healer-a", incidents: 0))
            #expect(replicas.balancer.current(TargetID(pool: "web", server: "s1"))?.weightPercent == 25)
            // The follower reads the leader's state, judges, and does nothing.
            let followed = await b.runPass()
            #expect(followed.outcome.state.incidents.count == 1)
            #expect(followed.results.outcomes.isEmpty && replicas.balancer.applied.count == 1)
            // Each replica's status names the holder, and whether it is itself.
            #expect(a.leadership == Leadership(leading: true, holder: "healer-a"))
            #expect(b.leadership == Leadership(leading: false, holder: "healer-a"))

            // The leader is killed between its two steps; the follower leads once the lease has run out by its clock.
            clock.advance(by: .seconds(16))
            #expect(await replicas.electors[1].tryAcquireOrRenew())
            replicas.advance(11)  // past the first step's verification
            let tookOver = await b.runPass()
            reports.append(tookOver)
            #expect(tookOver.outcome.records.first?.why == .leaderTookOver(epoch: 1, holder: "healer-b", incidents: 1))
            #expect(replicas.actuator.calls.map(\.actuator) == ["restart-backend"])  // the next step, not the first again
            #expect(replicas.stepsApplied(reports) == [.setWeight(percent: 25), .restart(actuator: "restart-backend")])
            #expect(replicas.balancer.applied.count == 1)
            #expect(b.leadership == Leadership(leading: true, holder: "healer-b"))
        }
    }

    /// The state taken over is the state from then on, even when the takeover pass cannot save: the next pass does not
    /// fall back to the replica's older view from when it followed (which would take the first step again).
    @Test func aTakeoverWhoseFirstSaveFailsResumesTheStateItTookOver() async throws {
        try await FakeKubernetesAPIServer.with { server in
            let clock = ManualInstant()
            let replicas = Replicas(server: server, clocks: [clock, clock])
            let (a, b) = (replicas.services[0], replicas.services[1])
            #expect(await replicas.electors[0].tryAcquireOrRenew())
            #expect(await !replicas.electors[1].tryAcquireOrRenew())
            _ = await b.runPass()  // a follower's view from before the leader acted: no step applied
            _ = await a.runPass()  // the leader takes the first step
            #expect(replicas.balancer.applied.count == 1)
            clock.advance(by: .seconds(16))
            #expect(await replicas.electors[1].tryAcquireOrRenew())
            // The takeover write goes through; the save after it does not.
            server.failNext("PUT", pathSuffix: "/configmaps/healer-state", with: .unavailable, after: 1)
            let failed = await b.runPass()
            #expect(failed.outcome.records.contains { $0.code == .stateUnsaved })
            replicas.advance(11)
            _ = await b.runPass()
            #expect(replicas.balancer.applied.count == 1)  // the first step is not taken again
            #expect(replicas.actuator.calls.map(\.actuator) == ["restart-backend"])
        }
    }

    @Test func aPausedLeaderThatResumesAfterTheTakeoverActsOnNothing() async throws {
        try await FakeKubernetesAPIServer.with { server in
            // Each replica judges by its own monotonic clock: the paused one's stands still (SIGSTOP).
            let (paused, running) = (ManualInstant(), ManualInstant())
            let replicas = Replicas(server: server, clocks: [paused, running])
            let (a, b) = (replicas.services[0], replicas.services[1])
            #expect(await replicas.electors[0].tryAcquireOrRenew())
            _ = await a.runPass()
            #expect(await !replicas.electors[1].tryAcquireOrRenew())
            running.advance(by: .seconds(16))
            #expect(await replicas.electors[1].tryAcquireOrRenew())
            replicas.advance(11)
            let tookOver = await b.runPass()  // fences, and takes the next step
            #expect(replicas.actuator.calls.count == 1)
            // The paused leader resumes: by its clock it still leads, but its save is refused, so it does nothing.
            #expect(await replicas.electors[0].isLeader())
            let resumed = await a.runPass()
            #expect(resumed.outcome.records.contains { $0.code == .stateUnsaved })
            #expect(resumed.results.outcomes.isEmpty)
            #expect(replicas.actuator.calls.count == 1 && replicas.balancer.applied.count == 1)
            #expect(Self.configMap(server)?.value(at: "data.holder") == "healer-b")
            // Its next renewal finds the other holder: it follows, and records why.
            #expect(await !replicas.electors[0].tryAcquireOrRenew())
            let following = await a.runPass()
            #expect(following.outcome.records.contains { $0.why == .leaderStepDown(holder: "healer-b") })
            #expect(tookOver.outcome.state.incidents.count == 1)
        }
    }
}
