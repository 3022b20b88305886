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

    /// A setting the server cannot start with: a configuration error, named by its field.
    public struct InvalidSettings: Error, CustomStringConvertible {
        /// The configuration field, e.g. `server.listen`.
        public var field: String
        /// What is wrong with it.
        public var message: String

        public var description: String { "\(field): \(message)" }
    }

    /// The router with every route: probes and metrics, the read-only API, and the changes (the Alertmanager
    /// receiver and the operators' commands), which pass ``ChangeAuthorization`` first.
    public static func router(api: ControllerAPI, settings: Settings) -> Router<BasicRequestContext> {
        let router = Router()
        let reads = router.group("/api/v1")
        let changes = router.group("/api/v1").add(middleware: ChangeAuthorization(token: settings.token))
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
        changes.post("alerts") { request, _ -> Response in
            let data = try await body(request)
            let payload: AlertmanagerPayload
            do {
                payload = try JSONDecoder().decode(AlertmanagerPayload.self, from: data)
            } catch {
                // 4xx: Alertmanager does not retry a payload it cannot fix.
                throw HTTPError(.badRequest, message: "not an Alertmanager webhook payload: \(error)")
            }
            if let problem = payload.problem { throw HTTPError(.badRequest, message: "not taken: \(problem)") }
            // A follower acts on nothing: the delivery goes to the leader, or back to Alertmanager to be sent again.
            if let forwarded = try await Self.toLeader(request, body: data, api: api) {
                if forwarded.status.code / 100 == 2 { api.metrics.alertsForwarded(payload.alerts.count) }
                return forwarded
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
        reads.get("status") { _, _ -> Response in
            let pass = api.service.lastPass
            let report = StatusReport(
                configuration: api.service.engine.configuration, outcome: pass?.outcome, passTime: pass?.time, passDuration: pass?.duration,
                now: Date(), leadership: api.service.leadership)
            return try Self.respond(.ok, report)
        }
        reads.get("decisions") { request, _ -> Response in
            let query = request.uri.queryParameters
            let limit = query["limit"].flatMap { Int($0) } ?? 100
            let records = api.journal.records(pool: query["pool"].map(String.init), server: query["target"].map(String.init), limit: max(0, limit))
            return try Self.respond(.ok, records)
        }
        for (path, pause) in [("pause", true), ("resume", false)] {
            changes.post(RouterPath(stringLiteral: path)) { request, _ -> Response in
                let pool = request.uri.queryParameters["pool"].map(String.init)
                if let pool, api.service.engine.configuration.pools[pool] == nil { throw HTTPError(.notFound, message: "no pool named \(pool)") }
                if let forwarded = try await Self.toLeader(request, body: Data(), api: api) { return forwarded }
                api.service.enqueue(pause ? .pause(pool: pool) : .resume(pool: pool))
                return try Self.respond(.accepted, ["status": pause ? "paused" : "resumed", "scope": pool ?? "all", "effective": "next pass"])
            }
        }
        changes.post("quarantine/:pool/:server/release") { request, context -> Response in
            guard let pool = context.parameters.get("pool"), let server = context.parameters.get("server") else { throw HTTPError(.badRequest) }
            let quarantined =
                api.service.currentState?.incidents.values.contains {
                    $0.key.target == TargetID(pool: pool, server: server) && $0.phase == .quarantined
                } ?? false
            guard quarantined else { throw HTTPError(.notFound, message: "\(pool)/\(server) is not quarantined") }
            if let forwarded = try await Self.toLeader(request, body: Data(), api: api) { return forwarded }
            api.service.enqueue(.releaseQuarantine(TargetID(pool: pool, server: server)))
            return try Self.respond(.accepted, ["status": "releasing", "target": "\(pool)/\(server)", "effective": "next pass"])
        }
        changes.post("reload") { request, _ -> Response in
            if let failure = api.reload() {
                return try Self.respond(.badRequest, ["status": "failed; the previous configuration stays in force", "errors": failure])
            }
            return try Self.respond(.ok, ["status": "reloaded"])
        }
        return router
    }

    /// With `ha:`, a change that reached a replica that does not lead now: the leader's answer to it, or a 503 (sent
    /// again, it may reach the leader); `nil` when this replica leads (or runs alone) and handles it itself. Asked per
    /// request, not from the last pass: a replica that has just lost the Lease must not accept what its next pass,
    /// a follower's, would drop.
    private static func toLeader(_ request: Request, body: Data, api: ControllerAPI) async throws -> Response? {
        guard let forwarder = api.leaderForwarder, await !api.service.leadsNow() else { return nil }
        guard !request.headers.contains(where: { $0.name.canonicalName == LeaderForwarder.header.lowercased() }) else {
            throw HTTPError(.serviceUnavailable, message: "forwarded to a replica that does not lead: send it again")
        }
        switch await forwarder.forward("\(request.uri)", body: body, authorization: request.headers[.authorization]) {
        case .answered(let status, let answer):
            return Response(
                status: HTTPResponse.Status(code: status), headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(bytes: Array(answer))))
        case .failed(let why):
            throw HTTPError(.serviceUnavailable, message: "this replica does not lead and \(why): send it again")
        }
    }

    private static func respond(_ status: HTTPResponse.Status, _ value: some Encodable) throws -> Response {
        let json = HealerJSON.encoder()
        return Response(
            status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: Array(try json.encode(value)))))
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
            throw InvalidSettings(field: "server.listen", message: "expected host:port, got \(settings.listen)")
        }
        api.metrics.prepareConnectionTimeouts(ConnectionDeadline.Expiry.allCases.map(\.rawValue))
        let (readTimeout, writeTimeout) = (TimeAmount(settings.readTimeout), TimeAmount(settings.writeTimeout))
        let deadlines = HTTP1Channel.Configuration(
            additionalChannelHandlers: [
                ConnectionDeadlineHandler(readTimeout: readTimeout, writeTimeout: writeTimeout) { api.metrics.connectionTimedOut($0.rawValue) }
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
