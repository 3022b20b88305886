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
}
