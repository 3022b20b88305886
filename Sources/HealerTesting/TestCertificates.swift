import Foundation

/// A throw-away certificate authority with a server certificate for 127.0.0.1 and a client certificate,
/// made with the `openssl` command line.
public struct TestCertificates: Sendable {
    /// The CA certificate (PEM).
    public let caFile: String
    /// The server certificate (PEM), valid for `IP:127.0.0.1` and `DNS:localhost`.
    public let serverCertificateFile: String
    /// The server's private key (PEM).
    public let serverKeyFile: String
    /// A client certificate signed by the same CA (PEM).
    public let clientCertificateFile: String
    /// The client's private key (PEM).
    public let clientKeyFile: String

    /// Generates everything in `directory` (ECDSA P-256 keys, valid for one day).
    public static func generate(in directory: String) async throws -> TestCertificates {
        let ecKey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        // openssl runs in the test's working directory: every path handed to it is absolute.
        func file(_ name: String) -> String { directory + "/" + name }
        func run(_ arguments: [String]) async throws {
            try await Command.run(["openssl"] + arguments, package: "openssl", in: directory)
        }
        try await run(["req", "-x509"] + ecKey + ["-keyout", file("ca.key"), "-out", file("ca.crt"), "-days", "1", "-subj", "/CN=healer test CA"])
        try "subjectAltName=IP:127.0.0.1,DNS:localhost\n".write(toFile: file("server.ext"), atomically: true, encoding: .utf8)
        try "extendedKeyUsage=clientAuth\n".write(toFile: file("client.ext"), atomically: true, encoding: .utf8)
        for (name, subject) in [("server", "/CN=127.0.0.1"), ("client", "/CN=healer")] {
            try await run(["req"] + ecKey + ["-keyout", file("\(name).key"), "-out", file("\(name).csr"), "-subj", subject])
            try await run([
                "x509", "-req", "-in", file("\(name).csr"), "-CA", file("ca.crt"), "-CAkey", file("ca.key"),
                "-CAcreateserial", "-CAserial", file("ca.srl"), "-out", file("\(name).crt"), "-days", "1", "-extfile", file("\(name).ext"),
            ])
        }
        return TestCertificates(
            caFile: directory + "/ca.crt", serverCertificateFile: directory + "/server.crt", serverKeyFile: directory + "/server.key",
            clientCertificateFile: directory + "/client.crt", clientKeyFile: directory + "/client.key")
    }
}
