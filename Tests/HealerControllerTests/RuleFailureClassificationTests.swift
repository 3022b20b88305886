import Foundation
import HealerController
import HealerCore
import HealerPrometheus
import HealerTesting
import Testing

/// How a failed rule query is classified, from what a server really sends: only Prometheus' own `bad_data`
/// envelope makes a failure the rule's fault.
@Suite("Rule failure classification")
struct RuleFailureClassificationTests {
    static let badData =
        #"{"status":"error","errorType":"bad_data","error":"invalid parameter \"query\": 1:5: parse error: unclosed left parenthesis"}"#
    static let execution = #"{"status":"error","errorType":"execution","error":"query processing would load too many samples into memory"}"#
    static let matrix = #"{"status":"success","data":{"resultType":"matrix","result":[]}}"#

    @Test(arguments: [
        (400, badData, RuleFailure.Reason.badData, true),
        (422, execution, .execution, false),
        (400, "<html><body>400 Bad Request</body></html>", .invalidResponse, false),
        (503, "Service Unavailable", .unavailable, false),
        (200, matrix, .wrongResultType, true),
    ])
    func aFailureIsTheRulesOnlyWhenPrometheusSaysTheExpressionIsWrong(status: Int, body: String, reason: RuleFailure.Reason, ruleFault: Bool)
        async throws
    {
        let server = try ScriptedHTTPServer { _ in
            body.hasPrefix("{") ? .json(body, status: status) : .text(body, status: status)
        }
        defer { server.stop() }
        let source = PrometheusMetricsSource(client: PrometheusClient(configuration: PrometheusConfiguration(url: server.url)))
        let failure = try #require(await source.observe("up", at: Date()).failure)
        #expect(failure.reason == reason)
        #expect(failure.isRuleFault == ruleFault)
    }
}
