#if canImport(FoundationEssentials)
    public import FoundationEssentials
#else
    public import Foundation
#endif

/// A token bucket: `capacity` tokens, refilled at `capacity` per minute. Durable (Codable) with the engine state.
public struct TokenBucket: Sendable, Equatable, Codable {
    /// Tokens available at ``updatedAt``.
    public var tokens: Double
    /// When ``tokens`` was last brought up to date.
    public var updatedAt: Date?

    /// A full bucket.
    public init(capacity: Int) {
        tokens = Double(capacity)
    }

    /// Refills for the time since ``updatedAt``, up to `capacity`.
    public mutating func refill(capacity: Int, now: Date) {
        if let updatedAt {
            let elapsed = max(0, now.timeIntervalSince(updatedAt))
            tokens = min(Double(capacity), tokens + elapsed * Double(capacity) / 60)
        } else {
            tokens = min(tokens, Double(capacity))
        }
        updatedAt = now
    }

    /// Takes one token when there is one.
    public mutating func take() -> Bool {
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }
}
