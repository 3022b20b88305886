import Foundation
import HealerCore
import HealerPrometheus
import SeriesLabels

/// What `healer query` shows: one row per series with its labels, value and sample age. Pure: built from the
/// responses, rendered to text or JSON.
struct QueryReport: Equatable {
    /// One result row.
    struct Row: Equatable {
        var labels: Labels
        var value: Double
        /// When Prometheus evaluated the expression.
        var evaluatedAt: Date
        /// When the underlying sample was scraped, when known (only for plain selectors).
        var sampledAt: Date?
        /// The text of a string result.
        var text: String?

        /// How old the sample was at evaluation time; `nil` when not known.
        var age: Duration? {
            sampledAt.map { sampledAt in .milliseconds(Int64((evaluatedAt.timeIntervalSince(sampledAt) * 1000).rounded())) }
        }

        static func == (lhs: Row, rhs: Row) -> Bool {
            lhs.labels == rhs.labels && lhs.evaluatedAt == rhs.evaluatedAt && lhs.sampledAt == rhs.sampledAt && lhs.text == rhs.text
                && (lhs.value == rhs.value || (lhs.value.isNaN && rhs.value.isNaN))
        }
    }

    var resultType: String
    var rows: [Row]
    var warnings: [String]

    /// Builds the report from a query's response and, for vectors, the response of `timestamp(<expr>)` at the
    /// same evaluation time, which gives each series' scrape time.
    init(response: QueryResponse, sampleTimes: QueryResponse? = nil) {
        resultType = response.result.resultType
        warnings = response.warnings
        switch response.result {
        case .vector(let samples):
            var scraped: [Labels: Date] = [:]
            if case .vector(let times)? = sampleTimes?.result {
                // timestamp() of anything but a plain selector is the evaluation time itself: not a sample time.
                for time in times where time.value != time.timestamp.timeIntervalSince1970 {
                    scraped[time.labels] = Date(timeIntervalSince1970: time.value)
                }
            }
            rows = samples.map { sample in
                var key = sample.labels
                key["__name__"] = nil  // timestamp() drops the metric name
                return Row(labels: sample.labels, value: sample.value, evaluatedAt: sample.timestamp, sampledAt: scraped[key])
            }
            .sorted { Self.sortKey($0.labels) < Self.sortKey($1.labels) }
        case .matrix(let series):
            rows = series.flatMap { series in
                series.points.map { Row(labels: series.labels, value: $0.value, evaluatedAt: $0.timestamp) }
            }
        case .scalar(let point):
            rows = [Row(labels: [:], value: point.value, evaluatedAt: point.timestamp)]
        case .string(let text, let time):
            rows = [Row(labels: [:], value: .nan, evaluatedAt: time, text: text)]
        }
    }

    /// The rows as an aligned table: one column per label name (`__name__` first), then VALUE and AGE.
    func renderTable() -> String {
        let names = Set(rows.flatMap(\.labels.names)).sorted { ($0 == "__name__" ? "" : $0) < ($1 == "__name__" ? "" : $1) }
        let showAge = resultType == "vector"
        var header = names.map { $0 == "__name__" ? "NAME" : $0.uppercased() } + ["VALUE"]
        if showAge { header.append("AGE") }
        let table = TextTable(
            header: header,
            rows: rows.map { row in
                var cells = names.map { row.labels[$0] ?? "" } + [row.text ?? PrometheusValue.format(row.value)]
                if showAge { cells.append(row.age.map(Self.formatAge) ?? "-") }
                return cells
            },
            rightAligned: Set(names.count..<header.count))
        return table.render()
    }

    /// The rows as JSON: values as strings (JSON has no NaN or Inf), times as Unix seconds.
    func renderJSON() throws -> String {
        struct JSONRow: Encodable {
            var labels: [String: String]
            var value: String
            var timestamp: Double
            var sample_timestamp: Double?
            var age_seconds: Double?
        }
        struct JSONReport: Encodable {
            var resultType: String
            var result: [JSONRow]
            var warnings: [String]
        }
        let report = JSONReport(
            resultType: resultType,
            result: rows.map { row in
                JSONRow(
                    labels: row.labels.dictionary, value: row.text ?? PrometheusValue.format(row.value),
                    timestamp: row.evaluatedAt.timeIntervalSince1970,
                    sample_timestamp: row.sampledAt?.timeIntervalSince1970,
                    age_seconds: row.age.map { Double($0.components.seconds) + Double($0.components.attoseconds) / 1e18 })
            },
            warnings: warnings)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(report), as: UTF8.self)
    }

    /// `0.4s`, `12s`, `3m10s`: tenths below 10 s, whole units above.
    static func formatAge(_ age: Duration) -> String {
        let milliseconds = age.components.seconds * 1000 + age.components.attoseconds / 1_000_000_000_000_000
        if milliseconds < 10_000 {
            let tenths = (milliseconds + 50) / 100
            return "\(tenths / 10).\(tenths % 10)s"
        }
        return PrometheusDuration.format(.seconds(milliseconds / 1000))
    }

    private static func sortKey(_ labels: Labels) -> String {
        labels.map { "\($0.name)=\($0.value)" }.joined(separator: "\u{1}")
    }
}
