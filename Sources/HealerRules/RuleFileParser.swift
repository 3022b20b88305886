import HealerCore
import Yams

/// Reads a rule file (`groups:` of recovery, weight and scale rules), reporting every problem.
struct RuleFileParser {
    let diagnostics: Diagnostics

    func parse(_ root: YAMLField) -> [RuleGroup] {
        guard let fields = root.mapping(allowed: ["groups"]) else { return [] }
        guard let groups = fields["groups"] else {
            root.error("missing \"groups\"")
            return []
        }
        return (groups.sequence() ?? []).compactMap(group)
    }

    private func group(_ field: YAMLField) -> RuleGroup? {
        guard let fields = field.mapping(allowed: ["name", "pool", "rules", "weights", "scale"]) else { return nil }
        let name = required(fields, "name", in: field)?.name()
        let pool = required(fields, "pool", in: field)?.string()
        let rules = (fields["rules"]?.sequence() ?? []).compactMap { recoveryRule($0, pool: pool ?? "") }
        let weights = (fields["weights"]?.sequence() ?? []).compactMap(weightRule)
        let scale = (fields["scale"]?.sequence() ?? []).compactMap(scaleRule)
        if fields["rules"] == nil, fields["weights"] == nil, fields["scale"] == nil {
            field.error("a group needs at least one of \"rules\", \"weights\" or \"scale\"")
        }
        guard let name, let pool else { return nil }
        return RuleGroup(name: name, pool: pool, rules: rules, weights: weights, scale: scale, source: field.location)
    }

    private func recoveryRule(_ field: YAMLField, pool: String) -> RecoveryRule? {
        let keys = [
            "name", "expr", "unhealthy", "healthy", "for", "clear_for", "no_data", "max_sample_age", "freshness", "dry_run", "ramp_step",
            "ladder", "budget",
        ]
        guard let fields = field.mapping(allowed: keys) else { return nil }
        let name = required(fields, "name", in: field)?.name()
        let expression = required(fields, "expr", in: field)?.string()
        let unhealthy = required(fields, "unhealthy", in: field)?.threshold()
        let healthy = required(fields, "healthy", in: field)?.threshold()
        if let unhealthy, let healthy, unhealthy.overlaps(healthy) {
            fields["healthy"]?.error("overlaps \"unhealthy\" (\(unhealthy)): a value cannot be both healthy and unhealthy")
        }
        var noData = NoDataPolicy.unknown
        if let field = fields["no_data"], let text = field.string() {
            if let policy = NoDataPolicy(rawValue: text) {
                noData = policy
            } else {
                field.error("expected unknown, healthy or unhealthy, got \(field.shown)")
            }
        }
        let ladder =
            fields["ladder"].map(ladder)
            ?? {
                field.error("missing \"ladder\": the remedies to apply, mildest first")
                return nil
            }()
        let budget = fields["budget"].flatMap(budget) ?? Budget()
        let freshness = fields["freshness"].flatMap(freshness) ?? .derived
        // Every field is read before deciding, so that every problem is reported.
        let pendingFor = fields["for"]?.duration()
        let clearFor = fields["clear_for"]?.duration()
        let maxSampleAge = fields["max_sample_age"]?.duration(allowZero: false, max: .seconds(86_400))
        let dryRun = fields["dry_run"]?.bool()
        let rampStep = fields["ramp_step"]?.duration(allowZero: false, max: .seconds(86_400))
        guard let name, let expression, let unhealthy, let healthy, let ladder else { return nil }
        return RecoveryRule(
            name: name, pool: pool, expression: expression, unhealthy: unhealthy, healthy: healthy, pendingFor: pendingFor ?? .zero,
            clearFor: clearFor ?? .seconds(30), noData: noData, maxSampleAge: maxSampleAge, freshness: freshness,
            dryRun: dryRun ?? false,
            rampStep: rampStep ?? .seconds(10), ladder: ladder, budget: budget, source: field.location)
    }

    /// `auto` (the default: from the expression's raw selectors), `none`, or a PromQL expression.
    private func freshness(_ field: YAMLField) -> Freshness? {
        guard let text = field.string() else { return nil }
        switch text {
        case "auto": return .derived
        case "none": return Freshness.none
        default: return .expression(text)
        }
    }

    private func ladder(_ field: YAMLField) -> [LadderStep]? {
        guard let items = field.sequence() else { return nil }
        guard !items.isEmpty else {
            field.error("an empty ladder can do nothing; list at least one step")
            return nil
        }
        var steps: [LadderStep] = []
        for (index, item) in items.enumerated() {
            guard let step = ladderStep(item) else { continue }
            if case .quarantine = step.action, index != items.count - 1 {
                item.error("quarantine must be the last step: nothing runs after it")
            }
            steps.append(step)
        }
        // Steps that could not be read are reported already; the others are still checked against the pool.
        return steps.isEmpty ? nil : steps
    }

    private func ladderStep(_ field: YAMLField) -> LadderStep? {
        let actions = ["set_weight", "drain", "restart", "quarantine"]
        guard let fields = field.mapping(allowed: actions + ["verify"]) else { return nil }
        let given = actions.filter { fields[$0] != nil }
        guard given.count == 1, let kind = given.first, let actionField = fields[kind] else {
            field.error(
                given.isEmpty
                    ? "missing the action: one of \(actions.joined(separator: ", "))" : "one action per step, got \(given.joined(separator: " and "))"
            )
            return nil
        }
        let verify = fields["verify"]?.duration(allowZero: false, max: .seconds(86_400)) ?? .seconds(30)
        let source = field.location
        switch kind {
        case "set_weight":
            return actionField.weightPercent().map { LadderStep(.setWeight(percent: $0), verify: verify, source: source) }
        case "drain":
            guard case .mapping(_) = actionField.node else {
                if actionField.scalarText?.isEmpty == true { return LadderStep(.drain(waitSessions: .seconds(30)), verify: verify, source: source) }
                actionField.error("expected a mapping such as { wait_sessions: 30s }, got \(actionField.shown)")
                return nil
            }
            let settings = actionField.mapping(allowed: ["wait_sessions"])
            return LadderStep(
                .drain(waitSessions: settings?["wait_sessions"]?.duration(max: .seconds(86_400)) ?? .seconds(30)), verify: verify, source: source)
        case "restart":
            return actionField.string().map { LadderStep(.restart(actuator: $0), verify: verify, source: source) }
        default:
            if fields["verify"] != nil { fields["verify"]?.error("quarantine has no verification window: it waits for a human") }
            if actionField.scalarText?.isEmpty == true {
                return LadderStep(.quarantine(notify: nil, releaseAfter: nil), verify: .zero, source: source)
            }
            guard let settings = actionField.mapping(allowed: ["notify", "release_after"]) else { return nil }
            return LadderStep(
                .quarantine(
                    notify: settings["notify"]?.string(),
                    releaseAfter: settings["release_after"]?.duration(allowZero: false, max: .seconds(30 * 86_400))),
                verify: .zero, source: source)
        }
    }

    private func budget(_ field: YAMLField) -> Budget? {
        guard let fields = field.mapping(allowed: ["max_attempts", "per"]) else { return nil }
        return Budget(
            maxAttempts: fields["max_attempts"]?.int(in: 1...1000) ?? 3,
            window: fields["per"]?.duration(allowZero: false, max: .seconds(30 * 86_400)) ?? .seconds(3600))
    }

    private func weightRule(_ field: YAMLField) -> WeightRule? {
        guard let fields = field.mapping(allowed: ["name", "expr", "policy", "smoothing", "max_step", "floor", "ceiling"]) else { return nil }
        let name = required(fields, "name", in: field)?.name()
        let expression = required(fields, "expr", in: field)?.string()
        var policy: WeightRule.Policy?
        if let policyField = required(fields, "policy", in: field), let text = policyField.string() {
            policy = WeightRule.Policy(rawValue: text)
            if policy == nil {
                policyField.error("expected \(WeightRule.Policy.allCases.map(\.rawValue).joined(separator: " or ")), got \(policyField.shown)")
            }
        }
        let floor = fields["floor"]?.share() ?? 0.1
        let ceiling = fields["ceiling"]?.share() ?? 1
        if floor > ceiling { fields["floor"]?.error("is above the ceiling (\(Int(ceiling * 100))%)") }
        guard let name, let expression, let policy else { return nil }
        return WeightRule(
            name: name, expression: expression, policy: policy, smoothing: fields["smoothing"]?.double(in: 0.01...1) ?? 0.3,
            maxStep: fields["max_step"]?.share() ?? 0.1, floor: floor, ceiling: ceiling, source: field.location)
    }

    private func scaleRule(_ field: YAMLField) -> ScaleRule? {
        guard let fields = field.mapping(allowed: ["name", "expr", "per_server_capacity", "out_above", "in_below", "for", "cooldown"]) else {
            return nil
        }
        let name = required(fields, "name", in: field)?.name()
        let expression = required(fields, "expr", in: field)?.string()
        let capacity = required(fields, "per_server_capacity", in: field)?.double(in: 1e-9...Double.greatestFiniteMagnitude)
        let outAbove = required(fields, "out_above", in: field)?.double(in: 0...10)
        let inBelow = required(fields, "in_below", in: field)?.double(in: 0...10)
        if let outAbove, let inBelow, inBelow >= outAbove {
            fields["in_below"]?.error("must be below out_above (\(outAbove)), or spares would flap in and out")
        }
        guard let name, let expression, let capacity, let outAbove, let inBelow else { return nil }
        return ScaleRule(
            name: name, expression: expression, perServerCapacity: capacity, outAbove: outAbove, inBelow: inBelow, source: field.location)
    }

    private func required(_ fields: [String: YAMLField], _ key: String, in parent: YAMLField) -> YAMLField? {
        guard let field = fields[key] else {
            parent.error("missing \"\(key)\"")
            return nil
        }
        return field
    }
}
