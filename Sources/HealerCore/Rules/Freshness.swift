/// How Healer learns how old the data behind a recovery rule is.
///
/// Prometheus stamps every sample of an instant query's answer with the evaluation time, and keeps answering
/// with a series' last value for its lookback window (5 minutes by default) after the series stopped being
/// scraped or, for an exporter that publishes explicit timestamps, after those stopped advancing. The answer's
/// own time therefore says nothing about the data's age. `timestamp()` does, but only applied to a raw selector
/// (for any other expression it too returns the evaluation time), so the age has to be asked for on purpose.
public enum Freshness: Sendable, Equatable {
    /// From the raw selectors the expression reads: for each, the newest sample per server
    /// (`max by (<target labels>) (timestamp(<selector>))`). A rule whose selectors cannot be found (see
    /// ``PromQLSelectors``), or that reads none, is not checked.
    case derived
    /// From this expression: one series per server (matched by the pool's target templates), valued at the time of
    /// the newest sample behind the rule, in Unix seconds — e.g. `timestamp(backend_error_ratio)`.
    case expression(String)
    /// Not checked: only the answer's own age counts.
    case none
}

extension RecoveryRule {
    /// The query that names the servers whose data is older than `maxAge`, valued at their newest sample's time,
    /// or `nil` when the rule's freshness is not checked. Without `maxAge`, every server the check can see is
    /// named (`healer check` uses it to tell how many servers the check covers).
    ///
    /// The age test is part of the query (`… < time() - maxAge`), so an answer about a fresh fleet is empty and
    /// costs next to nothing to read, however large the fleet. `labels` are the labels the pool's target
    /// templates read; derived queries group by them.
    public func freshnessQuery(keeping labels: Set<String>, maxAge: Duration?) -> String? {
        let test = maxAge.map { " < time() - \(Self.seconds($0))" } ?? ""
        switch freshness {
        case .none:
            return nil
        case .expression(let expression):
            // On lines of its own, so that a trailing `# comment` in it cannot swallow the age test.
            return "(\n\(expression)\n)" + test
        case .derived:
            guard let selectors = freshnessSelectors, !selectors.isEmpty, !labels.isEmpty else { return nil }
            let grouping = labels.sorted().joined(separator: ", ")
            return selectors.map { "(max by (\(grouping)) (timestamp(\($0)))\(test))" }.joined(separator: " or ")
        }
    }

    /// The raw selectors a derived freshness check reads; `nil` when the expression cannot be read with confidence.
    public var freshnessSelectors: [String]? { PromQLSelectors.selectors(in: expression) }

    /// `90`, `2.5`: seconds as PromQL reads them.
    private static func seconds(_ duration: Duration) -> String {
        let (whole, atto) = duration.components
        guard atto != 0 else { return "\(whole)" }
        return "\(Double(whole) + Double(atto) / 1e18)"
    }
}
