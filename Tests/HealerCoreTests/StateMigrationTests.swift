import Foundation
import HealerCore
import Testing

/// A state file written by an earlier Healer is read, its incidents put into their stages, and saved anew.
@Suite("State format migration")
struct StateMigrationTests {
    let t = Date(timeIntervalSince1970: 1_790_000_000)

    func key(_ server: String) -> IncidentKey { IncidentKey(rule: "HighErrorRatio", target: TargetID(pool: "web", server: server)) }

    /// `Fixtures/state-v1.json`: written by the format-1 encoder (commit a753f56) with an incident in each phase.
    func formatOne() throws -> EngineState {
        let url = try #require(Bundle.module.url(forResource: "state-v1", withExtension: "json", subdirectory: "Fixtures"))
        return try HealerJSON.decoder(unixDates: false).decode(EngineState.self, from: Data(contentsOf: url))
    }

    @Test func aFormatOneStateIsMigratedIntoStages() throws {
        let state = try formatOne()
        #expect(state.version == EngineState.currentVersion)
        #expect(state.incidents[key("s1")]?.stage == .pending)
        #expect(state.incidents[key("s1")]?.lastValue == 0.3)

        var firing = Incident.Remedy(firedAt: t + 4, wantedStep: 2)
        firing.appliedStep = 1
        firing.stepAppliedAt = t + 20
        firing.waitingForSessions = true
        #expect(state.incidents[key("s2")]?.stage == .firing(firing))
        #expect(state.incidents[key("s2")]?.lastSuppression == .inFlight)

        var recovering = Incident.Remedy(firedAt: t + 4)
        recovering.appliedStep = 0
        recovering.stepAppliedAt = t + 5
        let recovery = Incident.Recovery(
            stages: [DesiredServerState(weightPercent: 100, admin: .ready)], state: DesiredServerState(weightPercent: 50, admin: .ready),
            stateAt: t + 60)
        #expect(state.incidents[key("s3")]?.stage == .recovering(recovering, recovery))
        #expect(state.incidents[key("s3")]?.healthySince == t + 30)
        #expect(state.incidents[key("s3")]?.dryRun == true)

        var quarantined = Incident.Remedy(firedAt: t + 4)
        quarantined.appliedStep = 3
        quarantined.stepAppliedAt = t + 90
        #expect(state.incidents[key("s4")]?.stage == .quarantined(quarantined))
        #expect(state.incidents[key("s4")]?.frozenSince == t + 100)
    }

    /// Saved again, it is written in the current format and reads back the same.
    @Test func aMigratedStateRoundTripsInTheCurrentFormat() throws {
        let state = try formatOne()
        let data = try HealerJSON.encoder(unixDates: false).encode(state)
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.contains("\"remedy\""))
        #expect(!text.contains("\"recoveryStages\""))
        #expect(try HealerJSON.decoder(unixDates: false).decode(EngineState.self, from: data) == state)
    }
}
