import Foundation

/// The time formats of the API: `metav1.Time` (RFC 3339, whole seconds) and `MicroTime` (six fractional digits).
enum Timestamps {
    static func seconds(_ date: Date) -> String {
        date.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: false).timeZone(separator: .omitted))
    }

    static func parse(_ text: String) -> Date? {
        (try? Date(text, strategy: .iso8601)) ?? (try? Date(text, strategy: .iso8601.year().month().day().time(includingFractionalSeconds: true)))
    }

    /// kubectl's short ages: `42s`, `5m`, `3h`, `2d`.
    static func age(since date: Date?, now: Date = Date()) -> String {
        guard let date else { return "<unknown>" }
        let seconds = max(0, Int(now.timeIntervalSince(date)))
        if seconds < 120 { return "\(seconds)s" }
        if seconds < 3600 * 3 { return "\(seconds / 60)m" }
        if seconds < 86400 * 2 { return "\(seconds / 3600)h" }
        return "\(seconds / 86400)d"
    }
}
