import Foundation
import HealerController
import HealerCore
import HealerStore
import HealerTesting
import Logging
import Synchronization
import Testing

/// Intent before action, and a restart that remembers: the loop with a real SQLite store.
@Suite("Durable state in the loop")
struct DurableStateTests {
    static let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
    static let servers = ["web": ["s1", "s2", "s3"].map { ServerInfo(server: $0) }]

    func service(store: any StateStore, metrics: ScriptedMetricsSource, balancer: FakeBalancer, actuator: RecordingActuator = RecordingActuator())
        -> ReconcilerService<ManualClock>
    {
        ReconcilerService(
            configuration: .fixture(pendingFor: .zero),
            dependencies: .init(metrics: metrics, actuator: actuator, balancer: balancer, store: store), clock: ManualClock(),
            now: { Date(timeIntervalSince1970: 1_800_000_000) }, logger: Self.logger)
    }

    /// A Healer killed after it lowered s1's weight, and a balancer reloaded meanwhile: the new Healer reads
    /// the incident back and puts the remedy back, without opening a new incident.
    @Test func aRestartedControllerReassertsTheRemediesInForce() async throws {
        try await TemporaryDirectory.with(prefix: "durable") { directory in
            let path = directory.path + "/state.db"
            let metrics = ScriptedMetricsSource()
            metrics.set("error_ratio", values: ["s1": 0.3, "s2": 0, "s3": 0])
            let first = FakeBalancer(pools: Self.servers)
            let store = try await SQLiteStateStore.open(path: path)
            await service(store: store, metrics: metrics, balancer: first).runPass()
            #expect(first.current(TargetID(pool: "web", server: "s1")) == DesiredServerState(weightPercent: 25))
            await store.close()  // the first Healer is gone

            let reopened = try await SQLiteStateStore.open(path: path)
            // Why it acted survives the restart too.
            #expect(try await reopened.recentRecords(limit: 100).contains { $0.server == "s1" && $0.action != nil })
            let reloaded = FakeBalancer(pools: Self.servers)  // back at full weight
            let restarted = service(store: reopened, metrics: metrics, balancer: reloaded)
            let pass = await restarted.runPass()
            #expect(reloaded.current(TargetID(pool: "web", server: "s1")) == DesiredServerState(weightPercent: 25))
            #expect(restarted.currentState?.incidents.count == 1)
            #expect(!pass.outcome.records.contains { $0.code == .pending })  // not opened again
            #expect(restarted.stateProblem == nil)
        }
    }

    @Test func nothingIsDoneWhenTheIntentCannotBeSaved() async throws {
        let metrics = ScriptedMetricsSource()
        metrics.set("error_ratio", values: ["s1": 0.3, "s2": 0, "s3": 0])
        let balancer = FakeBalancer(pools: Self.servers)
        let store = FailingStore(failLoad: false)
        let service = service(store: store, metrics: metrics, balancer: balancer)
        let pass = await service.runPass()
        #expect(balancer.applied.isEmpty)
        #expect(pass.results.isEmpty)
        #expect(service.currentState == nil)  // the decision is taken again next pass
        #expect(service.stateProblem?.hasPrefix("cannot be saved, so passes do nothing") == true)  // /readyz names it
        #expect(pass.outcome.records.contains { $0.code == .stateUnsaved && $0.pool == "*" })
    }

    /// A loop over a store that can fill up or be lost, after a pass that saved a remedy on s1.
    func remedySaved() async -> (ReconcilerService<ManualClock>, ScriptedMetricsSource, FakeBalancer, FillingStore) {
        let metrics = ScriptedMetricsSource()
        metrics.set("error_ratio", values: ["s1": 0.3, "s2": 0, "s3": 0])
        let balancer = FakeBalancer(pools: Self.servers)
        let store = FillingStore()
        let service = service(store: store, metrics: metrics, balancer: balancer)
        await service.runPass()
        return (service, metrics, balancer, store)
    }

    /// Disk full after a remedy was saved, and the balancer restarts: the pass can save nothing new, but the
    /// remedy already saved is put back.
    @Test func whatWasSavedIsReassertedWhileNothingNewCanBe() async throws {
        let (service, metrics, balancer, store) = await remedySaved()
        let s1 = TargetID(pool: "web", server: "s1")
        #expect(balancer.current(s1) == DesiredServerState(weightPercent: 25))
        store.fill()
        balancer.restart()
        metrics.set("error_ratio", values: ["s1": 0.3, "s2": 0.3, "s3": 0])  // s2 turns sick: nothing new may be done
        let pass = await service.runPass()
        #expect(service.stateProblem != nil)
        #expect(pass.results.isEmpty)
        #expect(balancer.current(s1) == DesiredServerState(weightPercent: 25))
        #expect(balancer.current(TargetID(pool: "web", server: "s2")) == .normal)
    }

    /// A state file lost while running (removed, replaced): not even a re-assertion — another Healer may own the path.
    @Test func nothingIsWrittenOnceTheStateFileIsLost() async throws {
        let (service, _, balancer, store) = await remedySaved()
        store.lose()
        balancer.restart()
        await service.runPass()
        #expect(balancer.current(TargetID(pool: "web", server: "s1")) == .normal)
        #expect(service.stateProblem != nil)
    }

    @Test func nothingIsDoneWhileTheSavedStateCannotBeRead() async throws {
        let metrics = ScriptedMetricsSource()
        metrics.set("error_ratio", values: ["s1": 0.3, "s2": 0, "s3": 0])
        let balancer = FakeBalancer(pools: Self.servers)
        let service = service(store: FailingStore(failLoad: true), metrics: metrics, balancer: balancer)
        let pass = await service.runPass()
        #expect(balancer.applied.isEmpty)
        #expect(service.currentState == nil)
        #expect(pass.outcome.records.contains { $0.code == .stateUnreadable && $0.pool == "*" })
        #expect(service.stateProblem?.hasPrefix("cannot be read") == true)
    }
}

/// A store whose disk is gone.
struct FailingStore: StateStore {
    struct Broken: Error {}
    var failLoad: Bool

    func load() async throws -> EngineState? {
        if failLoad { throw Broken() }
        return nil
    }

    func save(_ state: EngineState) async throws { throw Broken() }
}

/// A store that works until its disk fills, or its file is lost.
final class FillingStore: StateStore, Sendable {
    struct Full: StateStoreFailure {
        var meansStateLost: Bool
    }
    private let state = Mutex((full: false, lost: false, saved: EngineState?.none))

    func fill() { state.withLock { $0.full = true } }
    func lose() { state.withLock { $0.lost = true } }

    func load() async throws -> EngineState? { state.withLock { $0.saved } }

    func save(_ engineState: EngineState) async throws {
        try state.withLock { state in
            if state.full || state.lost { throw Full(meansStateLost: state.lost) }
            state.saved = engineState
        }
    }
}
