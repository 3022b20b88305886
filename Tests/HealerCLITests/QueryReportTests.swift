import Foundation
import HealerPrometheus
import SeriesLabels
import Testing

@testable import HealerCLI

@Suite("healer query output")
struct QueryReportTests {
    let evaluated = Date(timeIntervalSince1970: 1_000)

    func sample(_ labels: Labels, _ value: Double, at time: Date? = nil) -> Sample {
        Sample(labels: labels, point: Point(timestamp: time ?? evaluated, value: value))
    }

    @Test func vectorTableHasALabelColumnEachAndAges() {
        let response = QueryResponse(
            result: .vector([
                sample(["__name__": "up", "job": "node", "instance": "b:9100"], 0),
                sample(["__name__": "up", "job": "node", "instance": "a:9100"], 1),
            ]))
        let times = QueryResponse(
            result: .vector([
                sample(["job": "node", "instance": "a:9100"], 999.6),
                sample(["job": "node", "instance": "b:9100"], 925),
            ]))
        let table = QueryReport(response: response, sampleTimes: times).renderTable()
        #expect(
            table == """
                NAME  INSTANCE  JOB   VALUE    AGE
                up    a:9100    node      1   0.4s
                up    b:9100    node      0  1m15s
                """)
    }

    @Test func ageIsUnknownWhenTimestampIsTheEvaluationTime() {
        let response = QueryResponse(result: .vector([sample(["server": "s1"], 0.25)]))
        let times = QueryResponse(result: .vector([sample(["server": "s1"], 1_000)]))
        let report = QueryReport(response: response, sampleTimes: times)
        #expect(report.rows.first?.age == nil)
        #expect(report.renderTable() == "SERVER  VALUE  AGE\ns1       0.25    -")
    }

    @Test func scalarsStringsAndSpecialValues() {
        #expect(QueryReport(response: QueryResponse(result: .scalar(Point(timestamp: evaluated, value: .infinity)))).renderTable() == "VALUE\n +Inf")
        #expect(QueryReport(response: QueryResponse(result: .string("hi", at: evaluated))).renderTable() == "VALUE\n   hi")
        let nan = QueryReport(response: QueryResponse(result: .vector([sample([:], .nan)])))
        #expect(nan.renderTable() == "VALUE  AGE\n  NaN    -")
        #expect(QueryReport(response: QueryResponse(result: .vector([]))).renderTable() == "VALUE  AGE")
    }

    @Test func jsonKeepsSpecialValuesAsStrings() throws {
        let response = QueryResponse(result: .vector([sample(["a": "b"], -.infinity)]), warnings: ["partial"])
        let json = try QueryReport(response: response).renderJSON()
        let decoded = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
        #expect(decoded?["resultType"] as? String == "vector")
        #expect(decoded?["warnings"] as? [String] == ["partial"])
        let row = (decoded?["result"] as? [[String: Any]])?.first
        #expect(row?["value"] as? String == "-Inf")
        #expect(row?["labels"] as? [String: String] == ["a": "b"])
        #expect(row?["timestamp"] as? Double == 1_000)
    }

    @Test(arguments: [(Duration.milliseconds(400), "0.4s"), (.milliseconds(9_949), "9.9s"), (.seconds(75), "1m15s"), (.zero, "0.0s")])
    func ageFormat(age: Duration, expected: String) {
        #expect(QueryReport.formatAge(age) == expected)
    }
}
