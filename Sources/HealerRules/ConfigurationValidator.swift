import HealerCore

/// Checks that hold across files: names that refer to each other exist, rule names are unique, and every
/// remedy can be carried out by what the pool has.
struct ConfigurationValidator {
    let diagnostics: Diagnostics
    /// Rules of all kinds in all files: each is a query every pass; more is a generated file gone wrong.
    static let maxRules = 10_000

    /// - Parameter everyPatternMatched: false when a rule file pattern matched nothing (already reported).
    func validate(_ configuration: HealerConfiguration, everyPatternMatched: Bool = true) {
        if let problem = configuration.server.unprotectedEndpointsProblem {
            report(configuration.server.source, "server.listen", problem)
        }
        for pool in configuration.pools.values.sorted(by: { $0.name < $1.name }) {
            if let balancer = pool.balancer, configuration.balancers[balancer] == nil {
                report(pool.source, "pools.\(pool.name).balancer", "no balancer named \"\(balancer)\"\(known(configuration.balancers.keys))")
            }
            let kubernetes = pool.balancer.flatMap { configuration.balancers[$0] }.map { if case .kubernetes = $0 { true } else { false } }
            if pool.selector != nil, kubernetes != true {
                report(
                    pool.source, "pools.\(pool.name).balancer", "a pool of pods needs a kubernetes balancer (it drains pods by their readiness gate)")
            } else if pool.selector == nil, kubernetes == true {
                report(
                    pool.source, "pools.\(pool.name)",
                    "a kubernetes balancer serves pools of pods: give \"namespace\" and \"selector\" instead of \"backend\"")
            }
        }
        if configuration.groups.isEmpty, !configuration.ruleFiles.isEmpty, everyPatternMatched {
            report(configuration.source, "rules", "the rule files define no group")
        } else if configuration.ruleFiles.isEmpty {
            report(configuration.source, "rules", "no rule files: list them under \"rules\", e.g. [\"rules/*.yaml\"]")
        }

        let total = configuration.groups.reduce(0) { $0 + $1.rules.count + $1.weights.count + $1.scale.count }
        if total > Self.maxRules, let group = configuration.groups.last {
            report(group.source, "groups", "\(total) rules in all, more than the \(Self.maxRules) Healer runs (each is a query every pass)")
            return
        }
        var ruleNames: [String: SourceLocation] = [:]
        var groupNames: [String: SourceLocation] = [:]
        for group in configuration.groups {
            if let first = groupNames[group.name] {
                report(group.source, "groups", "group \"\(group.name)\" is already defined at \(first)")
            }
            groupNames[group.name] = groupNames[group.name] ?? group.source
            guard let pool = configuration.pools[group.pool] else {
                report(group.source, "groups.\(group.name).pool", "no pool named \"\(group.pool)\"\(known(configuration.pools.keys))")
                continue
            }
            let named =
                group.rules.map { ($0.name, $0.source) } + group.weights.map { ($0.name, $0.source) } + group.scale.map { ($0.name, $0.source) }
            for (name, source) in named {
                if let first = ruleNames[name] {
                    report(
                        source, "rules.\(name)", "rule \"\(name)\" is already defined at \(first); rule names must be unique (alerts refer to them)")
                }
                ruleNames[name] = ruleNames[name] ?? source
            }
            for rule in group.rules { validate(rule, pool: pool, configuration: configuration) }
            if pool.selector != nil {
                for rule in group.weights {
                    report(
                        rule.source, "rules.\(rule.name)", "weight rules have no meaning for pods (a pod is in service or not): pool \"\(pool.name)\""
                    )
                }
                for rule in group.scale {
                    report(rule.source, "rules.\(rule.name)", "scale rules need spares, and a pool of pods has none: pool \"\(pool.name)\"")
                }
            }
        }
    }

    private func validate(_ rule: RecoveryRule, pool: PoolSettings, configuration: HealerConfiguration) {
        for step in rule.ladder {
            let field = "rules.\(rule.name).ladder"
            let location = step.source.line > 0 ? step.source : rule.source
            switch step.action {
            case .setWeight where pool.selector != nil:
                report(
                    location, field,
                    "set_weight has no meaning for pods (a pod is in its Services' endpoints or not): use drain in pool \"\(pool.name)\"")
            case .setWeight, .drain:
                if pool.balancer == nil {
                    report(location, field, "\(step.action.name) needs a balancer, and pool \"\(pool.name)\" has none")
                }
            case .quarantine where pool.balancer == nil && !configuration.safety.dryRun && !rule.dryRun:
                report(
                    location, field,
                    "quarantine drains the server, which needs a balancer, and pool \"\(pool.name)\" has none: the step could only fail "
                        + "(give the pool a balancer, or set dry_run to record what would be done)")
            case .restart(let actuator):
                if configuration.actuators[actuator] == nil {
                    report(location, field, "no actuator named \"\(actuator)\"\(known(configuration.actuators.keys))")
                } else if case .kubernetes? = configuration.actuators[actuator], pool.selector == nil {
                    report(location, field, "actuator \"\(actuator)\" acts on pods, and pool \"\(pool.name)\" is not a pool of pods")
                }
            case .quarantine(let notify, _):
                if let notify, configuration.actuators[notify] == nil {
                    report(location, field, "quarantine notifies \"\(notify)\", but there is no such actuator\(known(configuration.actuators.keys))")
                }
            }
        }
    }

    private func report(_ location: SourceLocation, _ field: String, _ message: String) {
        diagnostics.report(location, field, message)
    }

    private func known(_ names: some Collection<String>) -> String {
        names.isEmpty ? " (none are defined)" : " (defined: \(names.sorted().joined(separator: ", ")))"
    }
}
