import CurlHTTP
public import Foundation
public import HealerCore

/// POSTs a JSON description of an action through our libcurl client; retries on 5xx and network errors.
public struct WebhookActuator: Sendable {
    /// The URL.
    public let url: String
    /// The client (timeout and headers from the configuration).
    private let client: HTTPClient
    /// Attempts in all, the first included.
    public let attempts: Int

    /// The JSON body.
    struct Payload: Encodable {
        var pool: String
        var server: String
        var backend: String
        var rule: String
        var action: String
        var step: Int?
        var time: Double
    }

    /// Creates the actuator.
    public init(url: String, timeout: Duration, headers: [String: String], attempts: Int = 3) {
        self.url = url
        self.client = HTTPClient(
            configuration: HTTPClientConfiguration(
                connectTimeout: min(timeout, .seconds(5)), timeout: timeout,
                headers: headers.sorted { $0.key < $1.key }.map { HTTPHeader($0.key, $0.value) }))
        self.attempts = max(1, attempts)
    }

    /// Sends the action.
    public func send(_ context: ActionContext, at time: Date) async -> ActionOutcome {
        let payload = Payload(
            pool: context.pool, server: context.server, backend: context.backend, rule: context.rule, action: context.action, step: context.step,
            time: time.timeIntervalSince1970)
        let request: HTTPRequest
        do {
            request = try .json(url: url, body: payload)
        } catch {
            return .failed(.requestFailed, detail: "cannot encode the payload: \(error)")
        }
        var last = ActionOutcome.failed(.requestFailed, detail: "")
        for attempt in 1...attempts {
            do {
                let response = try await client.execute(request)
                if response.isSuccess {
                    return ActionOutcome(.success, detail: "HTTP \(response.status) after \(attempt) attempt\(attempt == 1 ? "" : "s")")
                }
                let error = HTTPClientError.status(response.status, body: String(decoding: response.body.prefix(200), as: UTF8.self))
                last = .failed(.httpStatus, detail: error.description)
                guard error.isRetryable else { break }
            } catch let error as HTTPClientError {
                last = .failed(error.isTimedOut ? .timedOut : .requestFailed, detail: error.description)
                guard error.isRetryable else { break }
            } catch {
                return .failed(.cancelled, detail: "cancelled")
            }
            if attempt < attempts { try? await Task.sleep(for: .milliseconds(200 << (attempt - 1))) }
        }
        return last
    }
}
