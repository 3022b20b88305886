import HealerPrometheus
import Testing

@Suite struct ErrorClassificationTests {
    @Test(arguments: [
        ("bad_data", 400, PrometheusError.Kind.badData, false),
        ("execution", 422, .execution, false),
        ("timeout", 503, .timeout, true),
        ("canceled", 499, .canceled, true),
        ("internal", 500, .internal, true),
        ("not_found", 404, .notFound, false),
        ("unavailable", 500, .unavailable, true),
        ("499", 499, .canceled, true),
        ("503", 503, .unavailable, true),
        ("whatever", 418, .other, false),
        ("whatever", 507, .other, true),
    ])
    func envelopeErrorsByTypeAndStatus(errorType: String, status: Int, kind: PrometheusError.Kind, retryable: Bool) {
        let error = PrometheusError(
            kind: PrometheusError.kind(errorType: errorType, status: status), status: status, errorType: errorType, message: "m",
            endpoint: "/api/v1/query")
        #expect(error.kind == kind)
        #expect(error.isRetryable == retryable)
    }

    @Test(arguments: [
        (503, PrometheusError.Kind.unavailable), (502, .unavailable), (429, .unavailable), (401, .unauthorized), (403, .unauthorized),
        (404, .notFound), (400, .badData),
    ])
    func nonJSONAnswersByStatus(status: Int, kind: PrometheusError.Kind) {
        #expect(PrometheusError.kind(errorType: nil, status: status) == kind)
    }
}
