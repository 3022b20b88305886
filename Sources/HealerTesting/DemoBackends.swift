import CurlHTTP
import Foundation

/// Instances of this package's `demo-backend`, each on a free loopback port, for one test.
public struct DemoBackends: Sendable {
    /// One running backend.
    public struct Instance: Sendable {
        /// Its name (`s1`…).
        public let name: String
        /// Its port.
        public let port: Int
        /// Its process.
        public let process: ManagedProcess

        /// `http://127.0.0.1:<port>`.
        public var url: String { "http://127.0.0.1:\(port)" }

        /// Sets its fault, e.g. `["error_ratio": 0.3]`.
        public func setFault(_ fault: [String: Double]) async throws {
            var request = try HTTPRequest.json(url: url + "/fault", body: fault)
            request.timeout = .seconds(5)
            try await HTTPClient().execute(request).requireSuccess()
        }

        /// Clears its fault.
        public func clearFault() async throws {
            try await HTTPClient().execute(HTTPRequest(method: .delete, url: url + "/fault")).requireSuccess()
        }
    }

    /// The backends, in the order of the names given.
    public let instances: [Instance]

    /// The backend named `name`.
    public subscript(name: String) -> Instance { instances.first { $0.name == name }! }

    /// Starts one `demo-backend` per name, waits until each answers `/health`, runs `body`, and stops them all.
    @discardableResult
    public static func withRunning<R: Sendable>(names: [String], _ body: (DemoBackends) async throws -> R) async throws -> R {
        let executable = try BuiltProduct.path("demo-backend")
        return try await TemporaryDirectory.with(prefix: "demo") { directory in
            var started: [Instance] = []
            do {
                for name in names {
                    let port = try FreePort.next()
                    let specification = ManagedProcess.Specification(
                        name: "demo-\(name)", executable: executable, arguments: ["--port", "\(port)", "--name", name], directory: directory.path,
                        readiness: .http(url: "http://127.0.0.1:\(port)/health"))
                    let process = try ManagedProcess.start(specification)
                    started.append(Instance(name: name, port: port, process: process))
                    try await process.waitUntilReady()
                }
                let result = try await body(DemoBackends(instances: started))
                for instance in started { await instance.process.stop() }
                return result
            } catch {
                for instance in started { await instance.process.stop() }
                throw error
            }
        }
    }
}
