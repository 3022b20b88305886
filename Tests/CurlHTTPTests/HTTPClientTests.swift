import CurlHTTP
import Foundation
import HealerTesting
import Testing

@Suite("HTTPClient against scripted loopback servers")
struct HTTPClientTests {
    let client = HTTPClient(configuration: HTTPClientConfiguration(connectTimeout: .seconds(2), timeout: .seconds(10)))

    @Test func getReturnsStatusHeadersAndBody() async throws {
        try await ScriptedHTTPServer.with({ _ in .json(#"{"ok":true}"#, headers: [HTTPHeader("X-Answer", "42")]) }) { server in
            let response = try await client.get(server.url + "/thing?x=1")
            #expect(response.status == 200)
            #expect(response.text == #"{"ok":true}"#)
            #expect(response.header("x-answer") == "42")
            #expect(response.header("content-type") == "application/json")
            #expect(server.requests.map(\.target) == ["/thing?x=1"])
            #expect(server.requests.first?.method == "GET")
        }
    }

    @Test func formPostEncodesEveryReservedCharacter() async throws {
        try await ScriptedHTTPServer.with({ _ in .text("ok") }) { server in
            let expression = #"sum by (server) (rate(x{code=~"5.."}[1m])) + 1 & 2 = é"#
            _ = try await client.execute(.form(url: server.url + "/api/v1/query", fields: [("query", expression), ("time", "1.5")]))
            let request = try #require(server.requests.first)
            #expect(request.method == "POST")
            #expect(request.header("Content-Type") == "application/x-www-form-urlencoded")
            #expect(request.formFields == ["query": expression, "time": "1.5"])
            #expect(request.header("Expect") == nil)
        }
    }

    @Test func jsonPostSendsTheEncodedBody() async throws {
        struct Payload: Codable, Equatable { var name: String; var count: Int }
        try await ScriptedHTTPServer.with({ _ in .text("ok") }) { server in
            _ = try await client.execute(.json(url: server.url + "/hook", body: Payload(name: "s1", count: 3)))
            let request = try #require(server.requests.first)
            #expect(request.header("Content-Type") == "application/json")
            #expect(try JSONDecoder().decode(Payload.self, from: request.body) == Payload(name: "s1", count: 3))
        }
    }

    @Test func otherMethodsAreSentAsAsked() async throws {
        try await ScriptedHTTPServer.with({ _ in .text("") }) { server in
            for method in [HTTPMethod.put, .patch, .delete, .head] {
                _ = try await client.execute(HTTPRequest(method: method, url: server.url + "/x", body: method == .head ? nil : Data("b".utf8)))
            }
            #expect(server.requests.map(\.method) == ["PUT", "PATCH", "DELETE", "HEAD"])
            #expect(server.requests.prefix(3).map(\.bodyText) == ["b", "b", "b"])
        }
    }

    @Test func configuredAndPerRequestHeadersAreSent() async throws {
        let client = HTTPClient(configuration: HTTPClientConfiguration(headers: [HTTPHeader("X-Scope-OrgID", "tenant-a")]))
        try await ScriptedHTTPServer.with({ _ in .text("") }) { server in
            _ = try await client.get(server.url, headers: [HTTPHeader("X-Request", "1")])
            let request = try #require(server.requests.first)
            #expect(request.header("X-Scope-OrgID") == "tenant-a")
            #expect(request.header("X-Request") == "1")
            #expect(request.header("User-Agent")?.hasPrefix("healer/") == true)
        }
    }

    @Test func headersWithLineBreaksAreRefusedBeforeSending() async throws {
        try await ScriptedHTTPServer.with({ _ in .text("") }) { server in
            await #expect(throws: HTTPClientError.self) {
                _ = try await client.get(server.url, headers: [HTTPHeader("X-Evil", "a\r\nInjected: yes")])
            }
            #expect(server.requests.isEmpty)
        }
    }

    @Test func basicAndBearerAuthorization() async throws {
        try await ScriptedHTTPServer.with({ _ in .text("") }) { server in
            _ = try await HTTPClient(configuration: .init(authorization: .basic(username: "ops", password: "s3cret:x"))).get(server.url)
            _ = try await HTTPClient(configuration: .init(authorization: .bearer("abc"))).get(server.url)
            #expect(server.requests.map { $0.header("Authorization") } == ["Basic b3BzOnMzY3JldDp4", "Bearer abc"])
        }
    }

    @Test func rotatedTokenFileIsReadAgain() async throws {
        try await TemporaryDirectory.with(prefix: "token") { directory in
            let path = try directory.write("token", "first-token\n")
            let client = HTTPClient(configuration: .init(authorization: .bearerTokenFile(path: path)))
            try await ScriptedHTTPServer.with({ _ in .text("") }) { server in
                _ = try await client.get(server.url)
                _ = try await client.get(server.url)
                // Rotate the way Kubernetes does: a new file moved over the old name.
                try directory.write("token.new", "second-token")
                _ = rename(directory.path + "/token.new", path)
                _ = try await client.get(server.url)
                #expect(server.requests.map { $0.header("Authorization") } == ["Bearer first-token", "Bearer first-token", "Bearer second-token"])
            }
        }
    }

    @Test func missingTokenFileIsACredentialsError() async throws {
        let client = HTTPClient(configuration: .init(authorization: .bearerTokenFile(path: "/nonexistent/healer-token")))
        try await ScriptedHTTPServer.with({ _ in .text("") }) { server in
            let error = await #expect(throws: HTTPClientError.self) { _ = try await client.get(server.url) }
            guard case .credentials(let path, _) = error else { Issue.record("unexpected \(String(describing: error))"); return }
            #expect(path == "/nonexistent/healer-token")
            #expect(error?.isRetryable == false)
            #expect(server.requests.isEmpty)
        }
    }

    @Test func keepAliveReusesOneConnection() async throws {
        try await ScriptedHTTPServer.with({ _ in .json("{}") }) { server in
            var newConnections: [Int] = []
            for _ in 0..<5 {
                newConnections.append(try await client.execute(.form(url: server.url + "/api/v1/query", fields: [("query", "up")])).newConnections)
            }
            #expect(server.acceptedConnections == 1)
            #expect(newConnections == [1, 0, 0, 0, 0])
        }
    }

    @Test func concurrentRequestsAllComplete() async throws {
        try await ScriptedHTTPServer.with({ request in .text(request.target) }) { server in
            let bodies = try await withThrowingTaskGroup(of: String.self) { group in
                for index in 0..<32 { group.addTask { try await client.get(server.url + "/\(index)").text } }
                return try await group.reduce(into: Set<String>()) { $0.insert($1) }
            }
            #expect(bodies == Set((0..<32).map { "/\($0)" }))
            #expect(server.acceptedConnections <= 32)
        }
    }

    @Test func totalTimeoutFiresOnASlowServer() async throws {
        try await ScriptedHTTPServer.with({ _ in .delayed(.seconds(30), .text("late")) }) { server in
            let client = HTTPClient(configuration: .init(timeout: .milliseconds(300)))
            let error = await #expect(throws: HTTPClientError.self) { _ = try await client.get(server.url) }
            guard case .transport(let failure) = error else { Issue.record("unexpected \(String(describing: error))"); return }
            #expect(failure.isTimeout)
            #expect(failure.code == 28)
            #expect(error?.isRetryable == true)
        }
    }

    @Test func perRequestTimeoutOverridesTheClientDefault() async throws {
        try await ScriptedHTTPServer.with({ _ in .hang }) { server in
            let error = await #expect(throws: HTTPClientError.self) { _ = try await client.get(server.url, timeout: .milliseconds(200)) }
            guard case .transport(let failure) = error else { Issue.record("unexpected \(String(describing: error))"); return }
            #expect(failure.isTimeout)
        }
    }

    @Test func refusedPortIsARetryableTransportError() async throws {
        let port = try FreePort.next()
        let error = await #expect(throws: HTTPClientError.self) { _ = try await client.get("http://127.0.0.1:\(port)/") }
        guard case .transport(let failure) = error else { Issue.record("unexpected \(String(describing: error))"); return }
        #expect(failure.isConnectionRefused)
        #expect(failure.url == "http://127.0.0.1:\(port)/")
        #expect(error?.isRetryable == true)
    }

    @Test func truncatedBodyIsARetryableTransportError() async throws {
        let reply = ScriptedHTTPServer.Reply.raw(Data("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"status\":\"succ".utf8))
        try await ScriptedHTTPServer.with({ _ in reply }) { server in
            let error = await #expect(throws: HTTPClientError.self) { _ = try await client.get(server.url) }
            guard case .transport(let failure) = error else { Issue.record("unexpected \(String(describing: error))"); return }
            #expect(failure.code == 18)  // CURLE_PARTIAL_FILE
            #expect(error?.isRetryable == true)
        }
    }

    @Test func droppedConnectionIsARetryableTransportError() async throws {
        try await ScriptedHTTPServer.with({ _ in .close }) { server in
            let error = await #expect(throws: HTTPClientError.self) { _ = try await client.get(server.url) }
            guard case .transport(let failure) = error else { Issue.record("unexpected \(String(describing: error))"); return }
            #expect(failure.code == 52)  // CURLE_GOT_NOTHING
            #expect(error?.isRetryable == true)
        }
    }

    @Test func non2xxIsAResponseAndRequireSuccessTypesIt() async throws {
        try await ScriptedHTTPServer.with({ _ in .text("Service Unavailable", status: 503) }) { server in
            let response = try await client.get(server.url)
            #expect(response.status == 503)
            #expect(throws: HTTPClientError.status(503, body: "Service Unavailable")) { try response.requireSuccess() }
            #expect(HTTPClientError.status(503, body: "").isRetryable)
            #expect(!HTTPClientError.status(404, body: "").isRetryable)
        }
    }

    @Test func oversizedBodyIsRefused() async throws {
        let client = HTTPClient(configuration: .init(maxResponseBytes: 1000))
        try await ScriptedHTTPServer.with({ _ in .text(String(repeating: "x", count: 5000)) }) { server in
            await #expect(throws: HTTPClientError.responseTooLarge(limit: 1000)) { _ = try await client.get(server.url) }
        }
    }

    @Test func gzipIsAskedForAndDecoded() async throws {
        // "hello healer" compressed with gzip.
        let compressed = try await TemporaryDirectory.with(prefix: "gzip") { directory in
            try directory.write("body", "hello healer")
            try await Command.run(["gzip", "-n", directory.path + "/body"], package: "gzip", in: directory.path)
            return try Data(contentsOf: URL(fileURLWithPath: directory.path + "/body.gz"))
        }
        let reply = ScriptedHTTPServer.Reply.respond(status: 200, headers: [HTTPHeader("Content-Encoding", "gzip")], body: compressed)
        try await ScriptedHTTPServer.with({ _ in reply }) { server in
            let response = try await client.get(server.url)
            #expect(response.text == "hello healer")
            #expect(server.requests.first?.header("Accept-Encoding")?.contains("gzip") == true)
        }
    }

    @Test func cancellationAbortsAnInFlightTransfer() async throws {
        try await ScriptedHTTPServer.with({ _ in .hang }) { server in
            let client = HTTPClient(configuration: .init(timeout: .seconds(60)))
            let task = Task { try await client.get(server.url) }
            try await waitUntil("the request to reach the server") { server.requests.count == 1 }
            task.cancel()
            await #expect(throws: CancellationError.self) { _ = try await task.value }
            _ = try? await waitUntil("the client to close its connection") { server.connectionsClosedByClient >= 1 }
            #expect(
                server.connectionsClosedByClient == 1,
                "accepted \(server.acceptedConnections) connections, \(server.requests.count) requests, closed by the client \(server.connectionsClosedByClient)"
            )
        }
    }

    @Test func cancellationBeforeTheRequestStartsSendsNothing() async throws {
        try await ScriptedHTTPServer.with({ _ in .text("") }) { server in
            let task = Task {
                withUnsafeCurrentTask { $0?.cancel() }
                return try await client.get(server.url)
            }
            await #expect(throws: CancellationError.self) { _ = try await task.value }
            _ = try await client.get(server.url)  // the loop is still healthy afterwards
            #expect(server.requests.count == 1)
        }
    }

    @Test func unsupportedSchemeIsNotRetryable() async throws {
        let error = await #expect(throws: HTTPClientError.self) { _ = try await client.get("ftp://127.0.0.1/") }
        guard case .transport(let failure) = error else { Issue.record("unexpected \(String(describing: error))"); return }
        #expect(failure.code == 1)  // CURLE_UNSUPPORTED_PROTOCOL
        #expect(error?.isRetryable == false)
    }

    @Test func errorURLsHideCredentialsAndQueryStrings() async throws {
        let port = try FreePort.next()
        let error = await #expect(throws: HTTPClientError.self) {
            _ = try await client.get("http://ops:secret@127.0.0.1:\(port)/api/v1/query?query=up#x")
        }
        guard case .transport(let failure) = error else { Issue.record("unexpected \(String(describing: error))"); return }
        #expect(failure.url == "http://127.0.0.1:\(port)/api/v1/query")
        #expect(!failure.description.contains("secret"))
    }
}
