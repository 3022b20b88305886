import CurlHTTP
import Testing

/// Credentials never reach a log line or an error message.
@Suite("URL redaction")
struct URLRedactionTests {
    @Test(arguments: [
        ("http://user:secret@prom:9090", "http://prom:9090"),
        ("https://user:p%40ss@prom.example/prefix/api/v1/query?token=abc#frag", "https://prom.example/prefix/api/v1/query"),
        ("http://prom:9090/api", "http://prom:9090/api"),
        ("http://prom:9090/a@b", "http://prom:9090/a@b"),
        ("http://user:pa?ss#w@prom:9090/x", "http://prom:9090/x"),
        ("unix:///run/haproxy.sock", "unix:///run/haproxy.sock"),
    ])
    func credentialsAndQueriesAreDropped(url: String, shown: String) {
        #expect(URLRedaction.redacted(url) == shown)
    }
}
