import Foundation
import HealerController
import HealerCore
import HealerPrometheus
import HealerTesting
import SeriesLabels
import Testing

/// How the metrics source turns Prometheus answers into a rule's samples, on the client's fast reader and on its
/// `JSONDecoder` path alike.
@Suite("Prometheus metrics source")
struct PrometheusMetricsSourceTests {
    static let time = Date(timeIntervalSince1970: 1_700_000_000)

    /// The observation of `expression` from a server that answers `body`, keeping the `server` label.
    static func observe(answering body: String) async throws -> RuleObservation {
        let server = try ScriptedHTTPServer { _ in .json(body) }
        defer { server.stop() }
        let source = PrometheusMetricsSource(client: PrometheusClient(configuration: PrometheusConfiguration(url: server.url)))
        return await source.observe("error_ratio", at: time, keepingLabels: ["server"])
    }

    // The second answer's label name has an escape: the fast reader refuses it and `JSONDecoder` reads it.
    @Test(arguments: [
        #"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"proxy":"be","server":"s1"},"value":[1700000000,"0.5"]}]}}"#,
        #"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"proxy":"be","serv\u0065r":"s1"},"value":[1700000000,"0.5"]}]}}"#,
    ])
    func aVectorBecomesOneSamplePerSeriesWithTheKeptLabelsOnly(body: String) async throws {
        let observation = try await Self.observe(answering: body)
        guard case .series(let samples) = observation.outcome else {
            Issue.record("no series: \(observation.outcome)")
            return
        }
        #expect(samples == [SeriesSample(labels: ["server": "s1"], value: 0.5)])
        #expect(observation.evaluatedAt == Self.time)
    }

    @Test func aScalarIsOneSampleWithoutLabelsAtItsOwnTime() async throws {
        let observation = try await Self.observe(
            answering: #"{"status":"success","data":{"resultType":"scalar","result":[1700000001.5,"2"]}}"#)
        guard case .series(let samples) = observation.outcome else {
            Issue.record("no series: \(observation.outcome)")
            return
        }
        #expect(samples == [SeriesSample(labels: [:], value: 2)])
        #expect(observation.evaluatedAt == Date(timeIntervalSince1970: 1_700_000_001.5))
    }

    @Test func aStringIsTheWrongResultType() async throws {
        let observation = try await Self.observe(answering: #"{"status":"success","data":{"resultType":"string","result":[1700000000,"x"]}}"#)
        #expect(observation.failure?.reason == .wrongResultType)
    }
}
