import CurlHTTP
import Foundation
import HealerPrometheus
import HealerTesting
import SeriesLabels
import Testing

/// Against a real Prometheus 2.42 from the Debian package, started per test on a free loopback port.
@Suite("Prometheus client against a real Prometheus")
struct RealPrometheusTests {
    @Test func knownAnswersRangeQueriesAndSpecialValues() async throws {
        try await PrometheusServer.withRunning { prometheus in
            let client = PrometheusClient(configuration: .init(url: prometheus.url))
            // `up` of the self-scrape appears after the first scrape.
            let sample = try await eventually("up{job=\"prometheus\"} to be scraped") { () -> Sample? in
                guard case .vector(let samples) = try await client.query(#"up{job="prometheus"}"#).result else { return nil }
                return samples.first
            }
            #expect(sample.value == 1)
            #expect(sample.labels == ["__name__": "up", "job": "prometheus", "instance": "127.0.0.1:\(prometheus.port)"])

            let end = Date(timeIntervalSince1970: Double(Int(Date().timeIntervalSince1970)))
            let range = try await client.queryRange("vector(1)", start: end.addingTimeInterval(-10), end: end, step: .seconds(1))
            guard case .matrix(let series) = range.result else { Issue.record("not a matrix: \(range.result)"); return }
            #expect(series.count == 1)
            #expect(series.first?.points.count == 11)  // start and end are both included
            #expect(series.first?.points.first?.timestamp == end.addingTimeInterval(-10))

            guard case .scalar(let infinity) = try await client.query("1/0").result else { Issue.record("not a scalar"); return }
            #expect(infinity.value == .infinity)
            let special = try await client.query(#"vector(0/0) or label_replace(vector(-1/0), "a", "b", "", "")"#)
            guard case .vector(let samples) = special.result else { Issue.record("not a vector"); return }
            #expect(samples.contains { $0.value.isNaN && $0.labels.isEmpty })
            #expect(samples.contains { $0.value == -.infinity && $0.labels == ["a": "b"] })

            let string = try await client.query(#""hello""#)
            guard case .string(let text, _) = string.result else { Issue.record("not a string"); return }
            #expect(text == "hello")

            let pinned = try await client.query("time()", at: Date(timeIntervalSince1970: 1_700_000_000.5))
            #expect(pinned.result == .scalar(Point(timestamp: Date(timeIntervalSince1970: 1_700_000_000.5), value: 1_700_000_000.5)))
        }
    }

    @Test func errorEnvelopesOfARealServer() async throws {
        try await PrometheusServer.withRunning { prometheus in
            let client = PrometheusClient(configuration: .init(url: prometheus.url))

            let parse = await #expect(throws: PrometheusError.self) { _ = try await client.query("up{") }
            #expect(parse?.kind == .badData)
            #expect(parse?.status == 400)
            #expect(parse?.message.contains("parse error") == true)
            #expect(parse?.isRetryable == false)

            let twoSeries = #"(vector(1) or label_replace(vector(1), "x", "y", "", ""))"#
            let execution = await #expect(throws: PrometheusError.self) { _ = try await client.query("\(twoSeries) * on() \(twoSeries)") }
            #expect(execution?.kind == .execution)
            #expect(execution?.status == 422)
            #expect(execution?.message.contains("many-to-many") == true)

            // A subquery of 604,800 steps cannot finish in 1 ms.
            let timeout = await #expect(throws: PrometheusError.self) {
                _ = try await client.query("count(count_over_time(vector(1)[7d:1s]))", timeout: .milliseconds(1))
            }
            #expect(timeout?.kind == .timeout)
            #expect(timeout?.status == 503)
            #expect(timeout?.isRetryable == true)
        }
    }

    @Test func targetsAndReadiness() async throws {
        try await PrometheusServer.withRunning { prometheus in
            let client = PrometheusClient(configuration: .init(url: prometheus.url))
            let answer1 = try await client.isReady()
            #expect(answer1)
            let target = try await eventually("the self-scrape target to be up") { () -> ActiveTarget? in
                try await client.targets(state: .active).activeTargets.first { $0.health == .up }
            }
            #expect(target.scrapePool == "prometheus")
            #expect(target.scrapeUrl == "http://127.0.0.1:\(prometheus.port)/metrics")
            #expect(target.lastError.isEmpty)
            #expect(target.lastScrapeDate.map { abs($0.timeIntervalSinceNow) < 120 } == true)
        }
    }

    @Test func routePrefixLikeAProxyInFront() async throws {
        try await PrometheusServer.withRunning(routePrefix: "/prometheus") { prometheus in
            let base = "http://127.0.0.1:\(prometheus.port)"
            let client = PrometheusClient(configuration: .init(url: base, pathPrefix: "/prometheus"))
            let answer2 = try await client.isReady()
            #expect(answer2)
            let answer3 = try await client.query("vector(2)").result.resultType
            #expect(answer3 == "vector")
            let withoutPrefix = PrometheusClient(configuration: .init(url: base))
            let error = await #expect(throws: PrometheusError.self) { _ = try await withoutPrefix.query("vector(2)") }
            #expect(error?.kind == .notFound)
        }
    }

    @Test func keepAliveAndCompressionWithARealServer() async throws {
        try await PrometheusServer.withRunning { prometheus in
            let http = HTTPClient()
            var newConnections = 0
            var last: HTTPResponse?
            for _ in 0..<5 {
                let response = try await http.execute(.form(url: prometheus.url + "/api/v1/query", fields: [("query", "vector(1)")]))
                newConnections += response.newConnections
                last = response
            }
            // At most one new connection for five queries (none when the readiness probe's is reused).
            #expect(newConnections <= 1)
            #expect(["gzip", "deflate"].contains(last?.header("Content-Encoding") ?? "identity"))
            #expect(last?.text.hasPrefix(#"{"status":"success""#) == true)
        }
    }

    @Test func mutualTLSWithAGeneratedCertificateAuthority() async throws {
        try await TemporaryDirectory.with(prefix: "tls") { directory in
            let certificates = try await TestCertificates.generate(in: directory.path)
            let web = """
                tls_server_config:
                  cert_file: \(certificates.serverCertificateFile)
                  key_file: \(certificates.serverKeyFile)
                  client_auth_type: RequireAndVerifyClientCert
                  client_ca_file: \(certificates.caFile)
                """
            let trusted = TLSConfiguration(
                caFile: certificates.caFile, certificateFile: certificates.clientCertificateFile, keyFile: certificates.clientKeyFile)
            try await PrometheusServer.withRunning(
                configuration: { _ in "global: {}\n" }, webConfiguration: web,
                probe: HTTPClientConfiguration(connectTimeout: .seconds(1), timeout: .seconds(2), tls: trusted)
            ) { prometheus in
                #expect(prometheus.url.hasPrefix("https://"))
                let client = PrometheusClient(configuration: .init(url: prometheus.url, http: .init(tls: trusted)))
                let answer4 = try await client.query("vector(1)").result.resultType
                #expect(answer4 == "vector")

                // Without our CA the server's certificate is not trusted.
                let untrusted = PrometheusClient(
                    configuration: .init(
                        url: prometheus.url, http: .init(tls: .init(certificateFile: trusted.certificateFile, keyFile: trusted.keyFile))))
                let verification = await #expect(throws: PrometheusError.self) { _ = try await untrusted.query("vector(1)") }
                guard case .transport(let failure) = verification?.transport else { Issue.record("not a transport error"); return }
                #expect(failure.code == 60)  // CURLE_PEER_FAILED_VERIFICATION
                #expect(verification?.isRetryable == false)

                // Skipping verification is possible, but the server still demands our client certificate.
                let insecure = PrometheusClient(configuration: .init(url: prometheus.url, http: .init(tls: .init(insecureSkipVerify: true))))
                await #expect(throws: PrometheusError.self) { _ = try await insecure.query("vector(1)") }
                let insecureWithCertificate = PrometheusClient(
                    configuration: .init(
                        url: prometheus.url,
                        http: .init(tls: .init(certificateFile: trusted.certificateFile, keyFile: trusted.keyFile, insecureSkipVerify: true))))
                let answer5 = try await insecureWithCertificate.query("vector(1)").result.resultType
                #expect(answer5 == "vector")
            }
        }
    }
}
