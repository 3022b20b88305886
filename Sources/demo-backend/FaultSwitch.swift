import Foundation
import Synchronization

/// The faults a demo backend injects, switched at run time with `POST /fault`.
struct Fault: Codable, Sendable, Equatable {
    /// Share of `/` requests answered 500 (0–1), while `/health` stays 200: a gray failure.
    var errorRatio: Double = 0
    /// Added to every `/` request, in milliseconds.
    var latencyMilliseconds: Int = 0
    /// `/` never answers.
    var hang = false
    /// `/health` answers 503 too (a failure health checks do see).
    var failHealth = false
    /// Memory the process pretends to have leaked, in MiB, exported as `demo_leaked_bytes`: a slow failure
    /// that only a restart cures (a restarted process starts at 0).
    var leakMebibytes: Double = 0

    enum CodingKeys: String, CodingKey {
        case errorRatio = "error_ratio"
        case latencyMilliseconds = "latency_ms"
        case hang
        case failHealth = "fail_health"
        case leakMebibytes = "leak_mb"
    }

    init() {}

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        errorRatio = min(1, max(0, try container.decodeIfPresent(Double.self, forKey: .errorRatio) ?? 0))
        latencyMilliseconds = max(0, try container.decodeIfPresent(Int.self, forKey: .latencyMilliseconds) ?? 0)
        hang = try container.decodeIfPresent(Bool.self, forKey: .hang) ?? false
        failHealth = try container.decodeIfPresent(Bool.self, forKey: .failHealth) ?? false
        leakMebibytes = max(0, try container.decodeIfPresent(Double.self, forKey: .leakMebibytes) ?? 0)
    }
}

/// The current fault, shared by all requests.
final class FaultSwitch: Sendable {
    private let fault = Mutex(Fault())

    var current: Fault { fault.withLock { $0 } }

    func set(_ new: Fault) {
        fault.withLock { $0 = new }
    }
}
