import CurlHTTP
import Foundation
import Synchronization

/// Steady HTTP load from inside a test: `concurrency` loops of `GET url`, each outcome recorded with its time.
/// Bounded: it stops by itself after `maximum`, or when ``stop()`` is called.
public final class LoadGenerator: Sendable {
    /// One request's outcome.
    public struct Outcome: Sendable {
        /// When it finished.
        public var time: ContinuousClock.Instant
        /// The status, or `nil` for a transport failure.
        public var status: Int?
        /// The body (short).
        public var body: String
        /// How long the request took.
        public var latency: Duration = .zero
    }

    private final class Recorder: Sendable {
        let outcomes = Mutex<[Outcome]>([])
    }

    private let recorder = Recorder()
    private let running = Mutex<Task<Void, Never>?>(nil)

    /// Starts the load.
    public init(url: String, concurrency: Int = 4, pause: Duration = .milliseconds(5), maximum: Duration = .seconds(120)) {
        let client = HTTPClient(configuration: HTTPClientConfiguration(connectTimeout: .seconds(1), timeout: .seconds(5)))
        let recorder = self.recorder
        let task = Task {
            let deadline = ContinuousClock.now.advanced(by: maximum)
            await withTaskGroup(of: Void.self) { group in
                for _ in 0..<concurrency {
                    group.addTask {
                        while !Task.isCancelled, ContinuousClock.now < deadline {
                            let started = ContinuousClock.now
                            let response = try? await client.get(url)
                            if Task.isCancelled { return }
                            let outcome = Outcome(
                                time: .now, status: response?.status, body: response.map { String($0.text.prefix(64)) } ?? "",
                                latency: started.duration(to: .now))
                            recorder.outcomes.withLock { $0.append(outcome) }
                            try? await Task.sleep(for: pause)
                        }
                    }
                }
            }
        }
        running.withLock { $0 = task }
    }

    /// Every outcome so far.
    public var all: [Outcome] { recorder.outcomes.withLock { $0 } }

    /// The outcomes after `start`.
    public func outcomes(since start: ContinuousClock.Instant) -> [Outcome] { all.filter { $0.time >= start } }

    /// The share of failed requests (5xx or no answer) after `start`; `nil` when there were none.
    public func errorRate(since start: ContinuousClock.Instant) -> Double? {
        let recent = outcomes(since: start)
        guard !recent.isEmpty else { return nil }
        return Double(recent.filter { ($0.status ?? 599) >= 500 }.count) / Double(recent.count)
    }

    /// Stops the load and waits for the loops to end.
    public func stop() async {
        let task = running.withLock { $0 }
        task?.cancel()
        await task?.value
    }
}
