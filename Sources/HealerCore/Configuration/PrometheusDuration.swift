/// Durations written the Prometheus way: `500ms`, `30s`, `5m`, `1h30m`, `2d`, `1w`, `1y`, or `0`.
///
/// The grammar is `[0-9]+(ms|s|m|h|d|w|y)`, repeated from the largest unit to the smallest, each unit at
/// most once. A day is 24 h, a week 7 d, a year 365 d, as in Prometheus.
public enum PrometheusDuration {
    private static let units: [(suffix: String, milliseconds: Int64)] = [
        ("y", 365 * 86_400_000), ("w", 7 * 86_400_000), ("d", 86_400_000), ("h", 3_600_000),
        ("m", 60_000), ("s", 1000), ("ms", 1),
    ]

    /// Parses `text`; `nil` when it does not follow the grammar.
    public static func parse(_ text: String) -> Duration? {
        if text == "0" { return .zero }
        var rest = Substring(text)
        var total: Int64 = 0
        var nextUnit = 0
        guard !rest.isEmpty else { return nil }
        while !rest.isEmpty {
            let digits = rest.prefix { $0.isASCII && $0.isNumber }
            guard !digits.isEmpty, let number = Int64(digits) else { return nil }
            rest = rest.dropFirst(digits.count)
            let letters = rest.prefix { $0.isASCII && $0.isLetter }
            guard let index = units.firstIndex(where: { $0.suffix == letters }), index >= nextUnit else { return nil }
            rest = rest.dropFirst(letters.count)
            let (product, overflow) = number.multipliedReportingOverflow(by: units[index].milliseconds)
            guard !overflow, total <= Int64.max - product else { return nil }
            total += product
            nextUnit = index + 1
        }
        return .milliseconds(total)
    }

    /// Formats `duration` in the same grammar, largest units first (`90s` → `1m30s`); sub-millisecond parts are dropped.
    public static func format(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        var remaining = seconds * 1000 + attoseconds / 1_000_000_000_000_000
        guard remaining > 0 else { return "0s" }
        var text = ""
        for unit in units where remaining >= unit.milliseconds {
            text += "\(remaining / unit.milliseconds)\(unit.suffix)"
            remaining %= unit.milliseconds
        }
        return text
    }
}
