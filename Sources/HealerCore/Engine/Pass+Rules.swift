/// The rules themselves: one that cannot be evaluated, or whose data is stale, is said once, and again when
/// that changes.
extension Pass {
    /// Records each change of a rule's condition: failing (and why), servers whose data turned stale, fine again.
    mutating func noteRuleConditions() {
        var names: Set<String> = []
        for group in engine.configuration.groups {
            let recovery = group.rules.map { ($0.name, observations.rules[$0.name] ?? .failed(.noAnswer, "no answer this pass")) }
            let others = (group.weights.map(\.name) + group.scale.map(\.name)).compactMap { name in observations.rules[name].map { (name, $0) } }
            for (name, observation) in recovery + others {
                names.insert(name)
                let failure = observation.failure
                let stale = (staleServers[name] ?? []).sorted()
                let condition = RuleCondition(failure: failure?.reason.rawValue, staleServers: stale)
                let previous = state.rules[name] ?? RuleCondition()
                state.rules[name] = condition.isHealthy ? nil : condition
                if condition.failure != previous.failure {
                    records.append(failureRecord(rule: name, pool: group.pool, failure: failure))
                }
                // Said when servers turn stale (not for each one that turns fresh), and when none is left.
                let newlyStale = Set(stale).subtracting(previous.staleServers)
                if failure == nil, !newlyStale.isEmpty || (stale.isEmpty && !previous.staleServers.isEmpty) {
                    records.append(stalenessRecord(rule: name, pool: group.pool, servers: stale, newly: newlyStale))
                }
            }
        }
        for name in state.rules.keys where !names.contains(name) { state.rules[name] = nil }  // rules removed by a reload
    }

    private func failureRecord(rule: String, pool: String, failure: RuleFailure?) -> DecisionRecord {
        guard let failure else {
            return DecisionRecord(time: now, kind: .rule, pool: pool, rule: rule, because: .ruleAnswers(rule: rule))
        }
        return DecisionRecord(
            time: now, kind: .rule, pool: pool, rule: rule, verdict: .unknown, unknownReason: failure.isRuleFault ? .ruleError : .prometheusError,
            failure: failure.reason, because: .ruleFailed(rule: rule, failure: failure))
    }

    private func stalenessRecord(rule: String, pool: String, servers: [String], newly: Set<String>) -> DecisionRecord {
        guard !servers.isEmpty else {
            return DecisionRecord(time: now, kind: .rule, pool: pool, rule: rule, because: .ruleFresh(rule: rule))
        }
        let age = engine.rules[rule].map { maxSampleAge(of: $0) }
        let only = newly.count == 1 ? newly.first : nil
        return DecisionRecord(
            time: now, kind: .rule, pool: pool, rule: rule, server: only, verdict: .unknown, unknownReason: .stale,
            because: .ruleStale(rule: rule, maxSampleAge: age, newly: newly.sorted(), total: servers.count)
        )
    }
}
