/// The rules themselves: one that cannot be evaluated, or whose data is stale, is said once, and again when
/// that changes.
extension Pass {
    /// Records each change of a rule's condition (failing, and why; stale data for some servers; fine again).
    mutating func noteRuleConditions() {
        for group in engine.configuration.groups {
            let recovery = group.rules.map { ($0.name, observations.rules[$0.name] ?? .failed(.noAnswer, "no answer this pass")) }
            let others = (group.weights.map(\.name) + group.scale.map(\.name)).compactMap { name in observations.rules[name].map { (name, $0) } }
            for (name, observation) in recovery + others {
                let failure = observation.failure
                let stale = staleServers[name] ?? []
                let condition = RuleCondition(failure: failure?.reason, stale: !stale.isEmpty)
                let previous = state.rules[name] ?? RuleCondition()
                state.rules[name] = condition.isHealthy ? nil : condition
                if condition.failure != previous.failure {
                    records.append(failureRecord(rule: name, pool: group.pool, failure: failure))
                }
                if condition.stale != previous.stale, condition.failure == nil {
                    records.append(stalenessRecord(rule: name, pool: group.pool, servers: stale))
                }
            }
        }
    }

    private func failureRecord(rule: String, pool: String, failure: RuleFailure?) -> DecisionRecord {
        guard let failure else {
            return DecisionRecord(time: now, kind: .rule, pool: pool, rule: rule, reason: "rule \(rule) answers again")
        }
        let consequence =
            failure.isRuleFault
            ? "the rule itself is wrong: its verdicts are unknown, and it is left out of the storm and capacity counts that guard the pool's other rules"
            : "its verdicts are unknown and count as missing data: Healer may be partly blind"
        return DecisionRecord(
            time: now, kind: .rule, pool: pool, rule: rule, verdict: .unknown, unknownReason: failure.isRuleFault ? .ruleError : .prometheusError,
            failure: failure.reason, reason: "rule \(rule) cannot be evaluated (\(failure)); \(consequence)")
    }

    private func stalenessRecord(rule: String, pool: String, servers: [String]) -> DecisionRecord {
        guard !servers.isEmpty else {
            return DecisionRecord(time: now, kind: .rule, pool: pool, rule: rule, reason: "the data behind rule \(rule) is fresh again")
        }
        let age = engine.rules[rule].map { PrometheusDuration.format(maxSampleAge(of: $0)) } ?? "?"
        let shown = servers.prefix(5).joined(separator: ", ") + (servers.count > 5 ? ", …" : "")
        let only = servers.count == 1 ? servers.first : nil
        return DecisionRecord(
            time: now, kind: .rule, pool: pool, rule: rule, server: only, verdict: .unknown, unknownReason: .stale,
            reason:
                "the data behind rule \(rule) is older than max_sample_age \(age) for \(servers.count) server\(servers.count == 1 ? "" : "s") (\(shown)): their verdicts are unknown, nothing is done on them"
        )
    }
}
