import CurlHTTP
public import Foundation

/// Hands a change that reached a follower (`ha:`) to the leader: an Alertmanager delivery, an operator's pause, resume
/// or quarantine release. The Service in front of the replicas sends each request to any of them, and only the
/// leader's passes act on hints and commands (a follower's pass never saves the state, so a command queued there would
/// be lost).
///
/// The leader's address is the one its term wrote into the shared state. A request the leader cannot be reached for
/// is answered 503, so that Alertmanager (or the operator) sends it again; it is never dropped with a 2xx. A forwarded
/// request carries ``header``: a replica that receives one while not leading answers 503 instead of forwarding it
/// again, so a stale address cannot make a loop.
public struct LeaderForwarder: Sendable {
    /// Marks a forwarded request; its value is the identity of the replica that forwarded it.
    public static let header = "X-Healer-Forwarded-By"

    /// What came of a forward.
    public enum Result: Sendable, Equatable {
        /// The leader answered: its status and body, for the sender.
        case answered(status: Int, body: Data)
        /// No leader could be reached, with why.
        case failed(String)
    }

    private let identity: String
    private let leaderURL: @Sendable () async -> String?
    private let client: HTTPClient

    /// A forwarder for replica `identity`, asking `leaderURL` where the leader is.
    public init(identity: String, timeout: Duration = .seconds(5), leaderURL: @escaping @Sendable () async -> String?) {
        self.identity = identity
        self.leaderURL = leaderURL
        self.client = HTTPClient(configuration: HTTPClientConfiguration(connectTimeout: .seconds(2), timeout: timeout))
    }

    /// Sends `body` to the leader's `target` (path and query, as received) with the sender's `authorization` (replicas
    /// share the token).
    public func forward(_ target: String, body: Data, authorization: String?) async -> Result {
        guard let base = await leaderURL() else { return .failed("the leader's address is not known yet") }
        var headers = [HTTPHeader("Content-Type", "application/json"), HTTPHeader(Self.header, identity)]
        if let authorization { headers.append(HTTPHeader("Authorization", authorization)) }
        do {
            let response = try await client.execute(HTTPRequest(method: .post, url: base + target, headers: headers, body: body))
            guard response.status < 500 else { return .failed("the leader at \(base) answered \(response.status)") }
            return .answered(status: response.status, body: response.body)
        } catch {
            return .failed("the leader at \(base) cannot be reached: \(error)")
        }
    }
}
