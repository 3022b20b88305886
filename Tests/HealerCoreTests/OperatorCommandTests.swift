import Foundation
import HealerCore
import HealerTesting
import Testing

/// Operators' commands are values the engine applies, each with its record.
@Suite("Operator commands")
struct OperatorCommandTests {
    let engine = Engine(configuration: .fixture())
    let now = Date(timeIntervalSince1970: 1_000_000)

    @Test func pauseAndResumeAPoolOrEverything() {
        var (state, records) = engine.apply(.pause(pool: "web"), to: EngineState(), now: now)
        #expect(state.pause.pools == ["web"])
        #expect(!state.pause.global)
        #expect(records.map(\.kind) == [.pool])
        #expect(records.map(\.pool) == ["web"])
        (state, records) = engine.apply(.pause(pool: nil), to: state, now: now)
        #expect(state.pause.global)
        #expect(records.map(\.pool) == ["*"])
        (state, _) = engine.apply(.resume(pool: nil), to: state, now: now)
        #expect(!state.pause.global)
        #expect(state.pause.pools.isEmpty)  // resuming everything lifts every pool's pause too
    }

    @Test func releasingATargetThatIsNotQuarantinedChangesNothing() {
        let (state, records) = engine.apply(.releaseQuarantine(TargetID(pool: "web", server: "s1")), to: EngineState(), now: now)
        #expect(state.incidents.isEmpty)
        #expect(records.isEmpty)
    }
}
