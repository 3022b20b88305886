public import Foundation

/// The API's two time formats, in UTC: `metav1.Time` (RFC 3339, whole seconds: a condition's
/// `lastTransitionTime`) and `MicroTime` (always six fractional digits: an Event's `eventTime`, a Lease's times).
public enum KubernetesTime {
    /// `2026-11-26T20:25:31Z`
    public static func seconds(_ date: Date) -> String {
        date.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: false).timeZone(separator: .omitted))
    }

    /// Reads either format (and RFC 3339 with any fraction) in UTC; `nil` when `text` is neither.
    public static func parse(_ text: String) -> Date? {
        var whole = text
        var fraction = 0.0
        if let dot = text.firstIndex(of: "."), text.hasSuffix("Z") {
            guard let value = Double("0" + text[dot..<text.index(before: text.endIndex)]) else { return nil }
            fraction = value
            whole = String(text[..<dot]) + "Z"
        }
        guard let date = try? Date(whole, strategy: .iso8601) else { return nil }
        return date.addingTimeInterval(fraction)
    }

    /// `2026-11-26T20:25:31.942000Z`
    public static func micro(_ date: Date) -> String {
        let whole = floor(date.timeIntervalSince1970)
        let micros = Int(((date.timeIntervalSince1970 - whole) * 1_000_000).rounded(.down))
        return String(seconds(Date(timeIntervalSince1970: whole)).dropLast()) + "." + String(format: "%06d", micros) + "Z"
    }
}
