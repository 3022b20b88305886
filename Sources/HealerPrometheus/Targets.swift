public import Foundation

/// The answer of `/api/v1/targets`.
public struct TargetsResponse: Sendable, Decodable {
    /// Targets being scraped.
    public var activeTargets: [ActiveTarget]
    /// Targets that relabelling dropped.
    public var droppedTargets: [DroppedTarget]

    private enum CodingKeys: String, CodingKey { case activeTargets, droppedTargets }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        activeTargets = try container.decodeIfPresent([ActiveTarget].self, forKey: .activeTargets) ?? []
        droppedTargets = try container.decodeIfPresent([DroppedTarget].self, forKey: .droppedTargets) ?? []
    }
}

/// Which targets `/api/v1/targets` lists.
public enum TargetState: String, Sendable {
    /// Only active targets.
    case active
    /// Only dropped targets.
    case dropped
    /// Both.
    case any
}

/// A scrape target's health.
public enum TargetHealth: String, Sendable, Decodable {
    /// The last scrape succeeded.
    case up
    /// The last scrape failed; see ``ActiveTarget/lastError``.
    case down
    /// Not scraped yet.
    case unknown
}

/// A target Prometheus scrapes.
public struct ActiveTarget: Sendable, Decodable {
    /// Labels before relabelling.
    public var discoveredLabels: [String: String]
    /// Labels after relabelling (those on its series).
    public var labels: [String: String]
    /// The scrape pool (job).
    public var scrapePool: String
    /// The URL scraped.
    public var scrapeUrl: String
    /// The last scrape's error, empty when it succeeded.
    public var lastError: String
    /// The last scrape's time as sent (RFC 3339 with nanoseconds; year 1 when never scraped).
    public var lastScrape: String
    /// The last scrape's duration in seconds.
    public var lastScrapeDuration: Double
    /// Its health.
    public var health: TargetHealth

    /// ``lastScrape`` as a date; `nil` when never scraped or unparsable.
    public var lastScrapeDate: Date? {
        RFC3339.parse(lastScrape).flatMap { $0.timeIntervalSince1970 > 0 ? $0 : nil }
    }
}

/// A target that relabelling dropped.
public struct DroppedTarget: Sendable, Decodable {
    /// Its labels before relabelling.
    public var discoveredLabels: [String: String]
}

/// RFC 3339 timestamps as Go writes them (`2026-11-26T20:25:43.693579758Z`, `...+01:00`), with up to
/// nanosecond fractions, which Foundation's ISO 8601 parser does not take.
public enum RFC3339 {
    /// Parses `text`; `nil` when it is not RFC 3339.
    public static func parse(_ text: String) -> Date? {
        let bytes = Array(text.utf8)
        func number(_ range: Range<Int>) -> Int? {
            guard range.upperBound <= bytes.count else { return nil }
            var value = 0
            for byte in bytes[range] {
                guard (48...57).contains(byte) else { return nil }
                value = value * 10 + Int(byte - 48)
            }
            return value
        }
        guard bytes.count >= 20, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
            bytes[10] == UInt8(ascii: "T") || bytes[10] == UInt8(ascii: "t"), bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":"),
            let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
            let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19),
            (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        var index = 19
        var fraction = 0.0
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            var scale = 0.1
            let start = index
            while index < bytes.count, (48...57).contains(bytes[index]) {
                fraction += Double(bytes[index] - 48) * scale
                scale /= 10
                index += 1
            }
            guard index > start else { return nil }
        }
        guard index < bytes.count else { return nil }
        var offset = 0
        switch bytes[index] {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            guard index + 1 == bytes.count else { return nil }
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            guard index + 6 == bytes.count, bytes[index + 3] == UInt8(ascii: ":"),
                let hours = number(index + 1..<index + 3), let minutes = number(index + 4..<index + 6)
            else { return nil }
            offset = (hours * 3600 + minutes * 60) * (bytes[index] == UInt8(ascii: "-") ? -1 : 1)
        default:
            return nil
        }
        let days = daysFromCivil(year: year, month: month, day: day)
        let seconds = Double(days * 86_400 + hour * 3600 + minute * 60 + second - offset) + fraction
        return Date(timeIntervalSince1970: seconds)
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    private static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
