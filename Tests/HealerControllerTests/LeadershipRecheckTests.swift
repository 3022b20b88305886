import Foundation
import HealerController
import HealerCore
import HealerTesting
import Logging
import Synchronization
import Testing

/// A leader that loses its lease between deciding and acting (paused past its lease, say) writes nothing: the
/// shell asks the elector again right before each balancer write and actuator run.
@Suite("Leadership checked again before acting")
struct LeadershipRecheckTests {
    /// Leads for the first `leading` questions, then no more.
    final class Deposed: LeaderElector {
        private let left: Mutex<Int>
        init(leading: Int) { left = Mutex(leading) }
        func isLeader() async -> Bool {
            left.withLock { left in
                defer { left -= 1 }
                return left > 0
            }
        }
    }

    @Test func aLeaderDeposedAfterDecidingWritesNothing() async {
        let metrics = ScriptedMetricsSource()
        metrics.set("error_ratio", values: ["s1": 0.3, "s2": 0, "s3": 0])
        let balancer = FakeBalancer(pools: ["web": ["s1", "s2", "s3"].map { ServerInfo(server: $0) }])
        let actuator = RecordingActuator()
        let ladder = [LadderStep(.setWeight(percent: 25), verify: .seconds(10)), LadderStep(.restart(actuator: "restart-backend"))]
        let configuration = HealerConfiguration.fixture(ladder: ladder, pendingFor: .zero)
        let service = ReconcilerService(
            configuration: configuration,
            dependencies: .init(metrics: metrics, actuator: actuator, balancer: balancer, elector: Deposed(leading: 1)),
            clock: ManualClock(), now: { Date(timeIntervalSince1970: 1_800_000_000) }, logger: Logger(label: "t") { _ in SwiftLogNoOpLogHandler() })
        let pass = await service.runPass()
        #expect(pass.outcome.plan.changes.map(\.action) == [.setWeight(percent: 25)])  // decided as the leader
        #expect(balancer.applied.isEmpty)  // but not written
        #expect(pass.results.outcomes.map(\.failure) == [.notLeader])
        #expect(actuator.calls.isEmpty)
    }

    /// Leads in term 1 when the pass starts, in term 2 (deposed and elected again) by the time it would act.
    final class ReElected: LeaderElector {
        private let asked = Mutex(0)
        func isLeader() async -> Bool { true }
        func term() async -> LeaderTerm? {
            let count = asked.withLock { count in
                count += 1
                return count
            }
            return LeaderTerm(epoch: count == 1 ? 1 : 2, holder: "healer-a")
        }
    }

    /// A shared store in memory that accepts every term.
    actor SharedMemory: SharedStateStore {
        var state: EngineState?
        func load() async throws -> EngineState? { state }
        func save(_ state: EngineState) async throws { self.state = state }
        func takeOver(_ term: LeaderTerm) async throws -> EngineState? { state }
    }

    @Test func aPassOfAnOldTermActsOnNothingAfterTheReplicaWasElectedAgain() async {
        let metrics = ScriptedMetricsSource()
        metrics.set("error_ratio", values: ["s1": 0.3, "s2": 0, "s3": 0])
        let balancer = FakeBalancer(pools: ["web": ["s1", "s2", "s3"].map { ServerInfo(server: $0) }])
        let ladder = [LadderStep(.setWeight(percent: 25), verify: .seconds(10))]
        let service = ReconcilerService(
            configuration: HealerConfiguration.fixture(ladder: ladder, pendingFor: .zero),
            dependencies: .init(metrics: metrics, balancer: balancer, store: SharedMemory(), elector: ReElected()),
            clock: ManualClock(), now: { Date(timeIntervalSince1970: 1_800_000_000) }, logger: Logger(label: "t") { _ in SwiftLogNoOpLogHandler() })
        let pass = await service.runPass()
        #expect(pass.outcome.plan.changes.map(\.action) == [.setWeight(percent: 25)])  // decided and saved in term 1
        #expect(balancer.applied.isEmpty)  // not written in term 2
        #expect(pass.results.outcomes.map(\.failure) == [.notLeader])
    }
}
