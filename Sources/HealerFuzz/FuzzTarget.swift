public import Foundation
import HealerController
import HealerCore
import HealerHAProxy
import HealerPrometheus
import HealerRules
import HealerTesting

/// One parser fuzzed with libFuzzer (`make fuzz`, docs/fuzzing.md). ``run(_:)`` feeds it one input and stops the
/// process (a finding) when it crashes, or when it accepts what it should not: the Prometheus answer reader must
/// agree with `JSONDecoder` on every answer it reads.
public enum FuzzTarget: String, CaseIterable, Sendable {
    /// `healer.yaml`, from its bytes.
    case config
    /// A rule file, from its bytes.
    case rules
    /// A Prometheus `/api/v1/query` answer: the fast reader against `JSONDecoder`.
    case prometheus
    /// An Alertmanager webhook payload, through the receiver's checks and the intake.
    case alertmanager
    /// HAProxy runtime API answers: `show servers state`, `show stat`, `show info`.
    case haproxy

    /// The target named by `FUZZ_TARGET`.
    public static var fromEnvironment: FuzzTarget {
        guard let name = ProcessInfo.processInfo.environment["FUZZ_TARGET"], let target = FuzzTarget(rawValue: name) else {
            fatalError("set FUZZ_TARGET to one of: \(allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return target
    }

    /// Feeds `data` to the target.
    public func run(_ data: Data) {
        switch self {
        case .config: _ = try? ConfigurationLoader.load(data: data, file: "healer.yaml", directory: "/nonexistent-healer-fuzz")
        case .rules: _ = ConfigurationLoader.ruleGroups(data: data, file: "rules.yaml")
        case .prometheus: Self.compareReaders(data)
        case .alertmanager: Self.receive(data)
        case .haproxy:
            let text = String(decoding: data, as: UTF8.self)
            _ = try? RuntimeParsers.serversState(text)
            _ = try? RuntimeParsers.stat(text)
            _ = RuntimeParsers.info(text)
        }
    }

    /// Every answer the fast reader reads, `JSONDecoder` reads the same (it is the reference the reader stands in for).
    private static func compareReaders(_ data: Data) {
        for keeping in [nil, Set(["server"])] as [Set<String>?] {
            guard let fast = QueryResponseReader.read(data, keeping: keeping) else { continue }
            guard var reference = try? PrometheusClient.decodeWithJSONDecoder(data) else {
                preconditionFailure("the fast reader read an answer JSONDecoder refuses: \(String(decoding: data.prefix(200), as: UTF8.self))")
            }
            if let keeping { reference.result = reference.result.keepingLabels(keeping) }
            precondition(
                fast.result == reference.result && fast.warnings == reference.warnings && fast.infos == reference.infos,
                "the fast reader and JSONDecoder disagree: \(fast.result) against \(reference.result)")
        }
    }

    private static let engine = Engine(configuration: alertConfiguration)

    /// One pool of three servers and a rule named `errors`, for alerts to match.
    private static var alertConfiguration: HealerConfiguration {
        .fixture(ladder: [LadderStep(.quarantine(notify: nil, releaseAfter: nil))], dryRun: true)
    }

    private static func receive(_ data: Data) {
        guard let payload = try? JSONDecoder().decode(AlertmanagerPayload.self, from: data), payload.problem == nil else { return }
        let intake = AlertIntake(memory: .seconds(60), capacity: 16)
        let outcomes = intake.receive(payload, engine: engine, now: Date(timeIntervalSince1970: 1_800_000_000)) { key, _ in
            precondition(engine.configuration.pools[key.target.pool]?.servers.contains(key.target.server) == true, "hinted an unknown server")
        }
        precondition(outcomes.count == payload.alerts.count, "an outcome per alert")
    }
}
