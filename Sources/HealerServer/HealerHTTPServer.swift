import Foundation
import HealerController
public import HealerCore
public import Hummingbird
import HummingbirdCore
public import Logging
import NIOCore
import Prometheus

/// Healer's HTTP surface: `/metrics`, `/healthz`, `/readyz`, the Alertmanager receiver and the admin API.
///
/// The webhook and the mutating endpoints take `Authorization: Bearer <token>` when a token is configured;
/// a wrong or missing token gets 401 without detail. Bodies are limited (413 beyond).
public enum HealerHTTPServer {
    /// Server settings.
    public struct Settings: Sendable {
        /// `host:port`.
        public var listen: String
        /// The bearer token mutating endpoints and the webhook require, if any.
        public var token: String?
        /// Largest accepted request body.
        public var maxBodyBytes: Int
        /// How long a client has to send a whole request once its connection is ready for one.
        public var readTimeout: Duration
        /// How long a client has to take a response.
        public var writeTimeout: Duration
        /// Connections served at once; further ones wait in the accept queue.
        public var maxConnections: Int

        /// Creates settings.
        public init(
            listen: String, token: String? = nil, maxBodyBytes: Int = 1 << 20, readTimeout: Duration = ServerSettings().readTimeout,
            writeTimeout: Duration = ServerSettings().writeTimeout, maxConnections: Int = ServerSettings().maxConnections
        ) {
            self.listen = listen
            self.token = token
            self.maxBodyBytes = maxBodyBytes
            self.readTimeout = readTimeout
            self.writeTimeout = writeTimeout
            self.maxConnections = maxConnections
        }
    }

    /// The router with every route.
    public static func router(api: ControllerAPI, settings: Settings) -> Router<BasicRequestContext> {
        let router = Router()
        let authorize = { @Sendable (request: Request) throws in try Self.authorize(request, token: settings.token) }
        let body = { @Sendable (request: Request) async throws -> Data in try await Self.body(request, limit: settings.maxBodyBytes) }

        router.get("/metrics") { _, _ -> Response in
            api.processMetrics.update()
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: api.metrics.registry.emitToBuffer())))
        }
        router.get("/healthz") { _, _ -> String in "ok\n" }
        router.get("/readyz") { _, _ -> Response in
            let (ready, checks) = api.readiness()
            return Response(
                status: ready ? .ok : .serviceUnavailable, headers: [.contentType: "text/plain; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: checks.joined(separator: "\n") + "\n")))
        }
        router.post("/api/v1/alerts") { request, _ -> Response in
            try authorize(request)
            let data = try await body(request)
            let payload: AlertmanagerPayload
            do {
                payload = try JSONDecoder().decode(AlertmanagerPayload.self, from: data)
            } catch {
                // 4xx: Alertmanager does not retry a payload it cannot fix.
                throw HTTPError(.badRequest, message: "not an Alertmanager webhook payload: \(error)")
            }
            let outcomes = api.intake.receive(payload, engine: api.service.engine, now: Date()) { key, alert in
                api.service.hint(key, alert: alert)
            }
            for outcome in outcomes { api.metrics.alertReceived(outcome.rawValue) }
            api.metrics.alertsForgotten(api.intake.takeEvictions())
            var counts: [String: Int] = [:]
            for outcome in outcomes { counts[outcome.rawValue, default: 0] += 1 }
            return try Self.respond(.ok, counts)
        }
        router.get("/api/v1/status") { _, _ -> Response in
            let pass = api.service.lastPass
            let report = StatusReport(
                configuration: api.service.engine.configuration, outcome: pass?.outcome, passTime: pass?.time, passDuration: pass?.duration,
                now: Date())
            return try Self.respond(.ok, report)
        }
        router.get("/api/v1/decisions") { request, _ -> Response in
            let query = request.uri.queryParameters
            let limit = query["limit"].flatMap { Int($0) } ?? 100
            let records = api.journal.records(pool: query["pool"].map(String.init), server: query["target"].map(String.init), limit: max(0, limit))
            return try Self.respond(.ok, records)
        }
        for (path, pause) in [("/api/v1/pause", true), ("/api/v1/resume", false)] {
            router.post(RouterPath(stringLiteral: path)) { request, _ -> Response in
                try authorize(request)
                let pool = request.uri.queryParameters["pool"].map(String.init)
                if let pool, api.service.engine.configuration.pools[pool] == nil { throw HTTPError(.notFound, message: "no pool named \(pool)") }
                api.service.enqueue { _, state, now in
                    if let pool {
                        if pause { state.pause.pools.insert(pool) } else { state.pause.pools.remove(pool) }
                    } else {
                        state.pause.global = pause
                        if !pause { state.pause.pools = [] }
                    }
                    return [DecisionRecord(time: now, kind: .pool, pool: pool ?? "*", reason: "\(pause ? "paused" : "resumed") by an operator")]
                }
                return try Self.respond(.accepted, ["status": pause ? "paused" : "resumed", "scope": pool ?? "all", "effective": "next pass"])
            }
        }
        router.post("/api/v1/quarantine/:pool/:server/release") { request, context -> Response in
            try authorize(request)
            guard let pool = context.parameters.get("pool"), let server = context.parameters.get("server") else { throw HTTPError(.badRequest) }
            let quarantined =
                api.service.currentState?.incidents.values.contains {
                    $0.key.target == TargetID(pool: pool, server: server) && $0.phase == .quarantined
                } ?? false
            guard quarantined else { throw HTTPError(.notFound, message: "\(pool)/\(server) is not quarantined") }
            api.service.enqueue { engine, state, now in
                let (released, records, _) = engine.releaseQuarantine(state: state, pool: pool, server: server, now: now)
                state = released
                return records
            }
            return try Self.respond(.accepted, ["status": "releasing", "target": "\(pool)/\(server)", "effective": "next pass"])
        }
        router.post("/api/v1/reload") { request, _ -> Response in
            try authorize(request)
            if let failure = api.reload() {
                return try Self.respond(.badRequest, ["status": "failed; the previous configuration stays in force", "errors": failure])
            }
            return try Self.respond(.ok, ["status": "reloaded"])
        }
        return router
    }

    private static func respond(_ status: HTTPResponse.Status, _ value: some Encodable) throws -> Response {
        let json = HealerJSON.encoder()
        return Response(
            status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: Array(try json.encode(value)))))
    }

    /// Lets a request to a mutating endpoint through: not from a web page (a browser sends `Origin` with every
    /// cross-origin POST, so a page open in an operator's browser cannot pause a Healer on localhost; Alertmanager,
    /// curl and `healer` send none), and with the bearer token when one is configured.
    private static func authorize(_ request: Request, token: String?) throws {
        guard request.headers[.origin] == nil else {
            throw HTTPError(.forbidden, message: "requests from web pages (with an Origin header) may not change Healer")
        }
        guard let token else { return }
        let given = request.headers[.authorization] ?? ""
        // Compare every byte, whatever the first difference, so that timing tells nothing.
        let expected = Array("Bearer \(token)".utf8)
        let actual = Array(given.utf8)
        var difference = expected.count ^ actual.count
        for index in 0..<expected.count { difference |= Int(expected[index] ^ (index < actual.count ? actual[index] : 0)) }
        guard difference == 0 else { throw HTTPError(.unauthorized) }
    }

    private static func body(_ request: Request, limit: Int) async throws -> Data {
        do {
            return Data(try await request.body.collect(upTo: limit).readableBytesView)
        } catch {
            throw HTTPError(.contentTooLarge, message: "request body larger than \(limit) bytes")
        }
    }

    /// The application serving `router` on `settings.listen`, closing connections too slow for the read and
    /// write timeouts and serving at most `maxConnections` at once.
    public static func application(api: ControllerAPI, settings: Settings, logger: Logger) throws -> some ApplicationProtocol {
        guard let (host, port) = ServerSettings.split(listen: settings.listen) else {
            throw HTTPError(.internalServerError, message: "server.listen must be host:port, got \(settings.listen)")
        }
        let closed = Dictionary(
            uniqueKeysWithValues: ConnectionDeadline.Expiry.allCases.map { expiry in
                (
                    expiry,
                    api.metrics.registry.makeCounter(
                        name: "healer_http_connections_timed_out_total", labels: [("timeout", expiry.rawValue)],
                        help:
                            "Connections closed for their timeouts: idle (nothing sent since the last response), read (a request too slow to arrive whole), write (a response not taken)."
                    )
                )
            })
        let (readTimeout, writeTimeout) = (TimeAmount(settings.readTimeout), TimeAmount(settings.writeTimeout))
        let deadlines = HTTP1Channel.Configuration(
            additionalChannelHandlers: [
                ConnectionDeadlineHandler(readTimeout: readTimeout, writeTimeout: writeTimeout) { closed[$0]?.increment() }
            ])
        return Application(
            router: router(api: api, settings: settings),
            server: .http1(configuration: deadlines),
            configuration: .init(
                address: .hostname(host.isEmpty ? "127.0.0.1" : host, port: port), serverName: "healer",
                availableConnectionsDelegate: MaximumAvailableConnections(settings.maxConnections, logger: logger)),
            logger: logger)
    }
}
