import Foundation
import HealerCore
import HealerTesting
import SeriesLabels
import Testing

@Suite("Label sets and verdict tables")
struct LabelsAndVerdictTableTests {
    @Test func labelsStaySortedWithEachNameOnce() {
        var labels: Labels = ["server": "s1", "job": "api", "__name__": "up", "job": "web"]
        #expect(labels.names == ["__name__", "job", "server"])
        #expect(labels["job"] == "web")  // the later pair wins
        labels["az"] = "b"
        labels["__name__"] = nil
        #expect(labels.names == ["az", "job", "server"])
        #expect(labels == Labels(["server": "s1", "az": "b", "job": "web"]))
        #expect(labels.dictionary == ["server": "s1", "az": "b", "job": "web"])
        #expect(labels.description == #"{az="b", job="web", server="s1"}"#)
    }

    @Test func unsortedOrRepeatedPairsAreNormalisedWhenRead() {
        let read = Labels(reading: [.init(name: "b", value: "1"), .init(name: "a", value: "2"), .init(name: "b", value: "3")])
        #expect(read.names == ["a", "b"])
        #expect(read["b"] == "3")
        let many = Labels((0..<40).map { ("label\($0)", "v\($0)") })  // past the linear scan
        #expect(many["label7"] == "v7")
        #expect(many["label39"] == "v39")
        #expect(many["label40"] == nil)
    }

    /// A server the balancer lists twice is one row, as first listed: s1 first in rotation (read, once), s2 first a
    /// spare (out of rotation without series: not read), whatever their second listing says.
    @Test func aServerListedTwiceIsOneRowAsFirstListed() {
        var scenario = EngineScenario(HealerConfiguration.fixture(servers: ["s1", "s2"]))
        let inventory = [
            "web": [
                ServerInfo(server: "s1"), ServerInfo(server: "s2", isSpare: true), ServerInfo(server: "s1", isSpare: true), ServerInfo(server: "s2"),
            ]
        ]
        let outcome = scenario.pass(at: 0, ["errors": ["s1": 0.0]], inventory: inventory)
        #expect(outcome.verdicts.map(\.key.target.server) == ["s1"])
        #expect(outcome.verdicts.map(\.verdict) == [.healthy])
    }

    @Test func aVerdictTableBuiltFromReportsGivesThemBackAndCountsThem() {
        let reports = [
            VerdictReport(key: IncidentKey(rule: "r", target: TargetID(pool: "web", server: "s1")), verdict: .healthy, value: 0.1),
            VerdictReport(
                key: IncidentKey(rule: "r", target: TargetID(pool: "web", server: "s2")), verdict: .unhealthy, value: 0.02, phase: .firing),
            VerdictReport(
                key: IncidentKey(rule: "q", target: TargetID(pool: "web", server: "s1")), verdict: .unknown, unknownReason: .stale),
        ]
        let table = VerdictTable(reports)
        #expect(Array(table) == reports)
        #expect(table.count(pool: "web", rule: "r", verdict: .unhealthy) == 1)
        #expect(table.count(pool: "web", rule: "r", verdict: .healthy) == 1)
        #expect(table.count(pool: "web", rule: "q", verdict: .unknown) == 1)
        #expect(table.count(pool: "db", rule: "r", verdict: .healthy) == 0)
    }

    /// A spare out of rotation without series has no reading: the table skips its row, and its counts agree.
    @Test func anEnginePassReportsEveryReadTargetOnceInOrder() {
        let engine = Engine(configuration: .fixture(servers: ["s1", "s2", "s3"], spares: ["spare"]))
        let samples = ["s1": 0.0, "s2": 0.3, "s3": 0.03].map { SeriesSample(labels: ["server": $0.key], value: $0.value) }
        let outcome = engine.reconcile(
            state: EngineState(), observations: Observations(rules: ["errors": .series(samples, at: .init(timeIntervalSince1970: 100))]),
            now: .init(timeIntervalSince1970: 100))
        #expect(outcome.verdicts.map(\.key.target.server) == ["s1", "s2", "s3"])
        #expect(outcome.verdicts.map(\.verdict) == [.healthy, .unhealthy, .healthy])
        #expect(outcome.verdicts[1].phase == .pending)
        #expect(outcome.verdicts.count(pool: "web", rule: "errors", verdict: .healthy) == 2)
        #expect(outcome.verdicts.count(pool: "web", rule: "errors", verdict: .unhealthy) == 1)
    }
}
