import Foundation
import HealerController
import HealerCore
import HealerTesting
import Testing

/// The deduplication memory of Alertmanager deliveries is bounded by age and by size, and says what it forgot.
@Suite("Alert intake memory")
struct AlertIntakeTests {
    static func payload(_ fingerprints: Range<Int>) -> AlertmanagerPayload {
        let alerts = fingerprints.map { index in
            #"{"status":"firing","labels":{"alertname":"errors","server":"s1"},"startsAt":"2026-11-30T00:00:00Z","fingerprint":"f\#(index)"}"#
        }
        let json = #"{"version":"4","alerts":[\#(alerts.joined(separator: ","))]}"#
        return try! JSONDecoder().decode(AlertmanagerPayload.self, from: Data(json.utf8))
    }

    @Test func theMemoryIsBoundedBySizeAndAgeAndCountsWhatItForgets() {
        let engine = Engine(configuration: .fixture())
        let intake = AlertIntake(memory: .seconds(60), capacity: 100)
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        let first = intake.receive(Self.payload(0..<250), engine: engine, now: start) { _, _ in }
        #expect(first.allSatisfy { $0 == .accepted })
        #expect(intake.remembered == 100)
        #expect(intake.evicted == 150)
        // The newest 100 are still known; the forgotten ones are judged again (the rule's query still decides).
        #expect(intake.receive(Self.payload(150..<250), engine: engine, now: start) { _, _ in }.allSatisfy { $0 == .duplicate })
        #expect(intake.receive(Self.payload(0..<1), engine: engine, now: start) { _, _ in } == [.accepted])
        // After their age, deliveries are forgotten without counting as evicted.
        let later = start.addingTimeInterval(61)
        #expect(intake.receive(Self.payload(200..<201), engine: engine, now: later) { _, _ in } == [.accepted])
        #expect(intake.remembered == 1)
        #expect(intake.evicted == 151)
    }
}
