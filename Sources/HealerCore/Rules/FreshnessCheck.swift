public import SeriesLabels

/// The freshness queries of one pool's recovery rules asked as one: each rule's clause carries the rule's place in
/// ``rules`` in the label ``ruleLabel``, so one answer — empty while every server's data is fresh — serves them all.
///
/// One query per pool instead of one per rule keeps the cost of knowing the data's age to one request per pass,
/// whatever the number of rules. When the combined query fails because one rule's clause is wrong (`bad_data`), the
/// shell asks each rule's own query (``queries``) instead, so that one rule's problem stays that rule's.
public struct FreshnessCheck: Sendable, Equatable {
    /// The label naming, in the combined answer, the index of the rule a series is about.
    public static let ruleLabel = "healer_freshness_rule"

    /// The pool.
    public let pool: String
    /// The rules checked, in label order.
    public let rules: [String]
    /// Each rule's own freshness query.
    public let queries: [String: String]
    /// The combined query.
    public let query: String
    /// The labels the answers must keep: the pool's target labels and ``ruleLabel``.
    public let labels: Set<String>

    /// The check of `queries` (rule name → its freshness query) of a pool whose templates read `targetLabels`;
    /// `nil` when no rule is checked.
    public init?(pool: String, queries: [String: String], targetLabels: Set<String>) {
        guard !queries.isEmpty else { return nil }
        self.pool = pool
        rules = queries.keys.sorted()
        self.queries = queries
        query = rules.enumerated().map { index, rule in
            #"label_replace(\#(queries[rule]!), "\#(Self.ruleLabel)", "\#(index)", "", "")"#
        }.joined(separator: " or ")
        labels = targetLabels.union([Self.ruleLabel])
    }

    /// The combined answer split per rule: every checked rule gets its series (none when its data is fresh), without
    /// the rule label. Series naming no rule of the check are ignored.
    public func split(_ samples: [SeriesSample]) -> [String: [SeriesSample]] {
        var byRule = Dictionary(uniqueKeysWithValues: rules.map { ($0, [SeriesSample]()) })
        for sample in samples {
            guard let text = sample.labels[Self.ruleLabel], let index = Int(text), rules.indices.contains(index) else { continue }
            let labels = Labels(sample.labels.filter { $0.name != Self.ruleLabel }.map { ($0.name, $0.value) })
            byRule[rules[index], default: []].append(SeriesSample(labels: labels, value: sample.value, sampledAt: sample.sampledAt))
        }
        return byRule
    }
}
