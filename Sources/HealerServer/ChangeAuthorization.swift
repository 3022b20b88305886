import Hummingbird

/// Lets a request that changes Healer (an alert delivery, an operator's command) through: not from a web page (a
/// browser sends `Origin` with every cross-origin POST, so a page open in an operator's browser cannot pause a
/// Healer on localhost; Alertmanager, curl and `healer` send none), and with the bearer token when one is
/// configured. A wrong or missing token gets 401 without detail.
struct ChangeAuthorization<Context: RequestContext>: RouterMiddleware {
    /// The token the `Authorization: Bearer` header must carry; `nil` requires none.
    let token: String?

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.headers[.origin] == nil else {
            throw HTTPError(.forbidden, message: "requests from web pages (with an Origin header) may not change Healer")
        }
        if let token {
            // Compare every byte, whatever the first difference, so that timing tells nothing.
            let expected = Array("Bearer \(token)".utf8)
            let actual = Array((request.headers[.authorization] ?? "").utf8)
            var difference = expected.count ^ actual.count
            for index in 0..<expected.count { difference |= Int(expected[index] ^ (index < actual.count ? actual[index] : 0)) }
            guard difference == 0 else { throw HTTPError(.unauthorized) }
        }
        return try await next(request, context)
    }
}
