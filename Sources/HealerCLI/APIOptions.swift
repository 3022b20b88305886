import ArgumentParser
import CurlHTTP
import Foundation

/// How the CLI reaches a running controller's API.
struct APIOptions: ParsableArguments {
    @Option(name: .customLong("server"), help: ArgumentHelp("The controller's API (env HEALER_SERVER).", valueName: "url"))
    var url: String = Environment.value("HEALER_SERVER") ?? "http://127.0.0.1:9102"

    @Option(help: ArgumentHelp("Send 'Authorization: Bearer' with the token in this file.", valueName: "file"))
    var tokenFile: String?

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    /// GETs `path` and returns the body, or prints one clear line and exits 1.
    func get(_ path: String) async throws -> Data {
        let client = HTTPClient(
            configuration: HTTPClientConfiguration(
                connectTimeout: .seconds(3), timeout: .seconds(10), authorization: tokenFile.map { .bearerTokenFile(path: $0) }))
        do {
            let response = try await client.get(url + path)
            guard response.isSuccess else {
                Output.error("healer: \(URLRedaction.redacted(url))\(path): HTTP \(response.status): \(response.text.prefix(200))")
                throw ExitCode.failure
            }
            return response.body
        } catch let error as HTTPClientError {
            Output.error("healer: cannot reach the controller at \(URLRedaction.redacted(url)): \(error)")
            throw ExitCode.failure
        }
    }
}
