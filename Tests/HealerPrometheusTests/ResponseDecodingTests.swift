import CurlHTTP
import Foundation
import HealerPrometheus
import HealerTesting
import SeriesLabels
import Testing

@Suite("Decoding captured Prometheus 2.42 answers")
struct ResponseDecodingTests {
    @Test func vector() async throws {
        try await Fixture.withClient(serving: "vector_up") { client, _ in
            let response = try await client.query("up")
            guard case .vector(let samples) = response.result else { Issue.record("not a vector"); return }
            #expect(samples.count == 1)
            #expect(samples[0].labels == ["__name__": "up", "instance": "127.0.0.1:19090", "job": "prometheus"])
            #expect(samples[0].value == 1)
            #expect(abs(samples[0].timestamp.timeIntervalSince1970 - 1795726808.818) < 0.0005)
            #expect(response.warnings.isEmpty)
        }
    }

    @Test func emptyVectorIsASuccess() async throws {
        try await Fixture.withClient(serving: "vector_empty") { client, _ in
            let response = try await client.query("nonexistent_metric")
            #expect(response.result == .vector([]))
        }
    }

    @Test func specialValues() async throws {
        try await Fixture.withClient(serving: "vector_special") { client, _ in
            guard case .vector(let samples) = try await client.query("x").result else { Issue.record("not a vector"); return }
            let byLabel = Dictionary(uniqueKeysWithValues: samples.map { ($0.labels["a"] ?? "", $0.value) })
            #expect(byLabel[""]?.isNaN == true)
            #expect(byLabel["b"] == -.infinity)
            #expect(byLabel["c"] == 1e-300)
        }
        try await Fixture.withClient(serving: "scalar_inf") { client, _ in
            guard case .scalar(let point) = try await client.query("1/0").result else { Issue.record("not a scalar"); return }
            #expect(point.value == .infinity)
        }
    }

    @Test func stringResult() async throws {
        try await Fixture.withClient(serving: "string") { client, _ in
            guard case .string(let text, _) = try await client.query(#""hello""#).result else { Issue.record("not a string"); return }
            #expect(text == "hello")
        }
    }

    @Test func matrix() async throws {
        try await Fixture.withClient(serving: "matrix_up") { client, _ in
            let response = try await client.queryRange(
                "up", start: Date(timeIntervalSince1970: 1795726800), end: Date(timeIntervalSince1970: 1795726806), step: .seconds(2))
            guard case .matrix(let series) = response.result else { Issue.record("not a matrix"); return }
            #expect(series.count == 1)
            #expect(series[0].points.map(\.value) == [1, 1])
            #expect(series[0].points.map(\.timestamp.timeIntervalSince1970) == [1795726804, 1795726806])
        }
    }

    @Test func warningsAndInfosAreSurfaced() async throws {
        try await Fixture.withClient(serving: "warnings_partial_response") { client, _ in
            let response = try await client.query("x")
            #expect(response.warnings == ["partial response: store 10.0.0.7:10901 unavailable"])
            #expect(response.infos.count == 1)
            #expect(
                response.result
                    == .vector([Sample(labels: ["server": "s1"], point: Point(timestamp: Date(timeIntervalSince1970: 1795726808.818), value: 0.25))]))
        }
    }

    @Test func nativeHistogramsAreRefusedByName() async throws {
        try await Fixture.withClient(serving: "vector_native_histogram") { client, _ in
            let error = await #expect(throws: PrometheusError.self) { _ = try await client.query("h") }
            #expect(error?.kind == .invalidResponse)
            #expect(error?.message.contains("native histogram") == true)
        }
    }

    @Test(arguments: [
        ("error_bad_data", 400, PrometheusError.Kind.badData, false),
        ("error_bad_time", 400, .badData, false),
        ("error_execution", 422, .execution, false),
        ("error_timeout", 503, .timeout, true),
        ("error_victoriametrics", 422, .execution, false),
    ])
    func errorEnvelopes(fixture: String, status: Int, kind: PrometheusError.Kind, retryable: Bool) async throws {
        try await Fixture.withClient(serving: fixture, status: status) { client, _ in
            let error = await #expect(throws: PrometheusError.self) { _ = try await client.query("x") }
            #expect(error?.kind == kind)
            #expect(error?.status == status)
            #expect(error?.isRetryable == retryable)
            #expect(error?.endpoint == "/api/v1/query")
            #expect(error?.message.isEmpty == false)
        }
    }

    @Test func targets() async throws {
        try await Fixture.withClient(serving: "targets") { client, _ in
            let targets = try await client.targets()
            #expect(targets.activeTargets.count == 1)
            let target = targets.activeTargets[0]
            #expect(target.health == .up)
            #expect(target.labels["job"] == "prometheus")
            #expect(target.scrapePool == "prometheus")
            #expect(target.lastError.isEmpty)
            #expect(target.lastScrapeDate != nil)
            #expect(targets.droppedTargets.isEmpty)
        }
    }
}

@Suite("RFC 3339 as Go writes it")
struct RFC3339Tests {
    @Test(arguments: [
        ("2026-11-26T20:25:43.693579758Z", 1795724743.693579758),
        ("2026-11-26T20:25:43Z", 1795724743),
        ("2026-11-26T21:25:43.5+01:00", 1795724743.5),
        ("1970-01-01T00:00:00Z", 0),
        ("0001-01-01T00:00:00Z", -62135596800),
    ])
    func parses(text: String, seconds: Double) throws {
        let date = try #require(RFC3339.parse(text))
        #expect(abs(date.timeIntervalSince1970 - seconds) < 1e-6)
    }

    @Test(arguments: ["", "2026-11-26", "2026-11-26T20:25:43", "2026-13-26T20:25:43Z", "2026-11-26T20:25:43.Z", "yesterday"])
    func rejects(text: String) {
        #expect(RFC3339.parse(text) == nil)
    }
}

@Suite struct PrometheusValueTests {
    @Test(arguments: [("1", 1.0), ("0.25", 0.25), ("1e-300", 1e-300), ("-2", -2), ("+Inf", Double.infinity), ("-Inf", -Double.infinity)])
    func parses(text: String, value: Double) {
        #expect(PrometheusValue.parse(text) == value)
    }

    @Test func nanAndGarbage() {
        #expect(PrometheusValue.parse("NaN")?.isNaN == true)
        #expect(PrometheusValue.parse("abc") == nil)
        #expect(PrometheusValue.parse("") == nil)
    }

    @Test func timeFormats() {
        #expect(PrometheusTime.format(Date(timeIntervalSince1970: 1795726808.818)) == "1795726808.818")
        #expect(PrometheusTime.format(Date(timeIntervalSince1970: 5.005)) == "5.005")
        #expect(PrometheusTime.format(Duration.seconds(5)) == "5000ms")
        #expect(PrometheusTime.format(Duration.milliseconds(1)) == "1ms")
    }
}
