import ArgumentParser
import Foundation
import HealerPrometheus

/// `healer query`: runs one instant query and prints the result.
struct QueryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "query",
        abstract: "Run a PromQL instant query and print the result as a table.",
        discussion: """
            Prints one row per series: its labels, its value, and its AGE, which is how old the scraped sample was when the expression was evaluated. AGE is known for plain selectors such as 'up' or 'x{job="a"}' and shown as '-' otherwise. A stale AGE is the first thing to check before trusting a health signal.

            Examples:
              healer query up
              healer query 'rate(haproxy_server_http_responses_total[1m])' --json
              healer query up --prometheus http://mimir:8080 --path-prefix /prometheus
            """
    )

    @Argument(help: ArgumentHelp("The PromQL expression.", valueName: "expr"))
    var expression: String

    @Option(help: ArgumentHelp("Evaluation time: RFC 3339 or Unix seconds (default: now).", valueName: "time"))
    var time: TimeArgument?

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    @OptionGroup(title: "Prometheus")
    var prometheus: PrometheusOptions

    func run() async throws {
        let client = PrometheusClient(configuration: prometheus.configuration)
        let clock = ContinuousClock()
        let started = clock.now
        do {
            let response = try await client.query(expression, at: time?.date)
            var sampleTimes: QueryResponse?
            if case .vector(let samples) = response.result, let evaluatedAt = samples.first?.timestamp {
                // Best effort: timestamp() fails for some expressions, and the table then shows no age.
                sampleTimes = try? await client.query("timestamp(\(expression))", at: evaluatedAt)
            }
            let report = QueryReport(response: response, sampleTimes: sampleTimes)
            for warning in report.warnings { Output.error("warning: \(warning)") }
            if json {
                print(try report.renderJSON())
            } else {
                print(report.renderTable())
                let elapsed = started.duration(to: clock.now)
                Output.error(
                    "\(report.rows.count) \(report.resultType == "vector" ? "series" : report.resultType) in \(Output.milliseconds(elapsed))")
            }
        } catch let error as PrometheusError {
            Output.error("healer: \(error)")
            throw ExitCode.failure
        }
    }
}

/// An evaluation time given on the command line: RFC 3339 or Unix seconds.
struct TimeArgument: ExpressibleByArgument {
    var date: Date

    init?(argument: String) {
        if let seconds = Double(argument), seconds.isFinite {
            date = Date(timeIntervalSince1970: seconds)
        } else if let parsed = RFC3339.parse(argument) {
            date = parsed
        } else {
            return nil
        }
    }
}

/// Writing to the terminal.
enum Output {
    /// Writes `line` to standard error.
    static func error(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// `12 ms` or `1.5 s`.
    static func milliseconds(_ duration: Duration) -> String {
        let milliseconds = Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
        return milliseconds < 1000 ? "\(Int(milliseconds.rounded())) ms" : "\((milliseconds / 100).rounded() / 10) s"
    }
}
