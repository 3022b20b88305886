public import HealerCore

/// What a configuration that loads may still get wrong, found without asking Prometheus: said by `healer check` and
/// logged by `healer run` at start, never refused (the analysis cannot see every expression's labels).
public enum ConfigurationWarnings {
    /// The warnings, each at its rule's file and line.
    public static func of(_ configuration: HealerConfiguration) -> [ConfigurationError] {
        var warnings: [ConfigurationError] = []
        for group in configuration.groups {
            guard let pool = configuration.pools[group.pool] else { continue }
            let rules = group.rules.map { ($0.name, $0.expression, $0.source) } + group.weights.map { ($0.name, $0.expression, $0.source) }
            for (name, expression, source) in rules {
                guard let kept = PromQLResultLabels.labels(of: expression) else { continue }
                let missing = pool.labelsRead.subtracting(kept).sorted()
                guard !missing.isEmpty else { continue }
                warnings.append(
                    ConfigurationError(
                        location: source, field: "rules.\(name).expr",
                        message: "pool \(pool.name)'s target templates read \(missing.map { "$labels.\($0)" }.joined(separator: ", ")), which "
                            + "this expression's result cannot have (it keeps only \(kept.isEmpty ? "no label" : kept.sorted().joined(separator: ", "))): "
                            + "no series will name a server; add \(missing.joined(separator: ", ")) to its by (…)"))
            }
        }
        return warnings
    }
}
