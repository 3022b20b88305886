import CurlHTTP
import Foundation
import HealerPrometheus
import HealerTesting
import Testing

@Suite("Prometheus client against broken and proxied servers")
struct TransportFailureTests {
    @Test func plainText503OfAStartingPrometheusIsUnavailableAndRetryable() async throws {
        try await ScriptedHTTPServer.with({ _ in .text("Service Unavailable", status: 503) }) { server in
            let client = PrometheusClient(configuration: .init(url: server.url))
            let error = await #expect(throws: PrometheusError.self) { _ = try await client.query("up") }
            #expect(error?.kind == .unavailable)
            #expect(error?.status == 503)
            #expect(error?.message == "Service Unavailable")
            #expect(error?.isRetryable == true)
            let ready = try await client.isReady()
            #expect(!ready)
        }
    }

    @Test func garbageJSONIsAnInvalidResponse() async throws {
        try await ScriptedHTTPServer.with({ _ in .text("<html>Grafana</html>") }) { server in
            let client = PrometheusClient(configuration: .init(url: server.url))
            let error = await #expect(throws: PrometheusError.self) { _ = try await client.query("up") }
            #expect(error?.kind == .invalidResponse)
            #expect(error?.message.contains("<html>Grafana</html>") == true)
            #expect(error?.isRetryable == false)
        }
    }

    @Test func jsonTruncatedWithinAValidResponseIsAnInvalidResponse() async throws {
        let body = String(try Fixture.text("vector_up").prefix(60))
        try await ScriptedHTTPServer.with({ _ in .json(body) }) { server in
            let error = await #expect(throws: PrometheusError.self) {
                _ = try await PrometheusClient(configuration: .init(url: server.url)).query("up")
            }
            #expect(error?.kind == .invalidResponse)
        }
    }

    @Test func bodyCutOffByTheConnectionIsARetryableTransportError() async throws {
        let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n"
        let reply = ScriptedHTTPServer.Reply.raw(Data((head + String(try Fixture.text("vector_up").prefix(60))).utf8))
        try await ScriptedHTTPServer.with({ _ in reply }) { server in
            let error = await #expect(throws: PrometheusError.self) {
                _ = try await PrometheusClient(configuration: .init(url: server.url)).query("up")
            }
            #expect(error?.kind == .transport)
            guard case .transport(let failure) = error?.transport else { Issue.record("not a transport error"); return }
            #expect(failure.code == 18)  // CURLE_PARTIAL_FILE
            #expect(error?.isRetryable == true)
        }
    }

    @Test func unreachableServerIsARetryableTransportError() async throws {
        let port = try FreePort.next()
        let client = PrometheusClient(configuration: .init(url: "http://127.0.0.1:\(port)"))
        let error = await #expect(throws: PrometheusError.self) { _ = try await client.query("up") }
        #expect(error?.kind == .transport)
        #expect(error?.isRetryable == true)
        await #expect(throws: PrometheusError.self) { _ = try await client.isReady() }
    }

    @Test func clientTimeoutIsARetryableTransportError() async throws {
        try await ScriptedHTTPServer.with({ _ in .hang }) { server in
            let client = PrometheusClient(configuration: .init(url: server.url, http: .init(timeout: .milliseconds(200))))
            let error = await #expect(throws: PrometheusError.self) { _ = try await client.query("up") }
            guard case .transport(let failure) = error?.transport else { Issue.record("not a transport error"); return }
            #expect(failure.isTimeout)
            #expect(error?.isRetryable == true)
        }
    }

    @Test func unauthorizedProxyAnswer() async throws {
        try await ScriptedHTTPServer.with({ _ in .text("Unauthorized", status: 401) }) { server in
            let error = await #expect(throws: PrometheusError.self) {
                _ = try await PrometheusClient(configuration: .init(url: server.url)).query("up")
            }
            #expect(error?.kind == .unauthorized)
            #expect(error?.isRetryable == false)
        }
    }

    @Test func queryParametersPrefixAndHeadersForThanosAndMimir() async throws {
        let reply = ScriptedHTTPServer.Reply.json(try Fixture.text("vector_up"))
        try await ScriptedHTTPServer.with({ _ in reply }) { server in
            let configuration = PrometheusConfiguration(
                url: server.url + "/", pathPrefix: "prometheus/",
                http: .init(authorization: .bearer("t0ken"), headers: [HTTPHeader("X-Scope-OrgID", "team-a")]),
                queryTimeout: .seconds(5), partialResponse: false)
            let client = PrometheusClient(configuration: configuration)
            _ = try await client.query("sum(up)", at: Date(timeIntervalSince1970: 1700000000.25))
            _ = try await client.queryRange(
                "up", start: Date(timeIntervalSince1970: 100), end: Date(timeIntervalSince1970: 200), step: .seconds(10), timeout: .milliseconds(1500)
            )
            let requests = server.requests
            #expect(requests.map(\.target) == ["/prometheus/api/v1/query", "/prometheus/api/v1/query_range"])
            #expect(requests.map(\.method) == ["POST", "POST"])
            #expect(requests[0].formFields == ["query": "sum(up)", "time": "1700000000.250", "timeout": "5000ms", "partial_response": "false"])
            #expect(
                requests[1].formFields == [
                    "query": "up", "start": "100.000", "end": "200.000", "step": "10000ms", "timeout": "1500ms", "partial_response": "false",
                ])
            #expect(requests.allSatisfy { $0.header("X-Scope-OrgID") == "team-a" && $0.header("Authorization") == "Bearer t0ken" })
        }
    }
}
