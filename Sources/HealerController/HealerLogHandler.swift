public import Foundation
public import Logging

/// Writes log lines to standard output as text (`2026-11-26T21:00:00.123Z info message key=value`) or as
/// JSON lines (`{"time":...,"level":...,"msg":...,...metadata}`).
///
/// Logged values come from whoever can write series into Prometheus (server names, label values): in text, every
/// control character — a newline above all, which would start a forged line — and every invisible formatting
/// character is written as an escape (`\n`, `\u{202e}`), so one event is always one line that says what it holds.
public struct HealerLogHandler: LogHandler {
    /// The output format.
    public enum Format: String, Sendable, CaseIterable {
        /// For people.
        case text
        /// One JSON object per line, for log pipelines.
        case json
    }

    /// The format.
    public let format: Format
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let write: @Sendable (String) -> Void

    /// Creates a handler writing whole lines through `write` (standard output by default).
    public init(format: Format, write: @escaping @Sendable (String) -> Void = { line in FileHandle.standardOutput.write(Data(line.utf8)) }) {
        self.format = format
        self.write = write
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields = metadata
        if let provided = metadataProvider?.get() { fields.merge(provided) { $1 } }
        if let extra = event.metadata { fields.merge(extra) { $1 } }
        let time = Self.timestamp(Date())
        switch format {
        case .text:
            let pairs = fields.sorted { $0.key < $1.key }.map { "\(Self.escaped($0.key))=\(Self.quoted("\($0.value)"))" }
            write(([time, event.level.rawValue, Self.escaped("\(event.message)")] + pairs).joined(separator: " ") + "\n")
        case .json:
            var object: [String: String] = ["time": time, "level": event.level.rawValue, "msg": "\(event.message)"]
            for (key, value) in fields { object[key] = "\(value)" }
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
            write(String(decoding: data, as: UTF8.self) + "\n")
        }
    }

    /// `value` as a field's value: as it is when it is a plain word, else quoted, with `\`, `"` and control
    /// characters escaped.
    private static func quoted(_ value: String) -> String {
        let plain = !value.isEmpty && !value.unicodeScalars.contains { $0 == " " || $0 == "\"" || $0 == "=" || $0 == "\\" || isHidden($0) }
        guard !plain else { return value }
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            default: out += escaped(scalar)
            }
        }
        return out + "\""
    }

    /// `text` with control and invisible formatting characters escaped.
    private static func escaped(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: isHidden) else { return text }
        return text.unicodeScalars.map(escaped).joined()
    }

    private static func escaped(_ scalar: Unicode.Scalar) -> String {
        switch scalar {
        case "\n": "\\n"
        case "\r": "\\r"
        case "\t": "\\t"
        case _ where isHidden(scalar): "\\u{\(String(scalar.value, radix: 16))}"
        default: String(scalar)
        }
    }

    /// Control characters, line and paragraph separators, and formatting characters (bidirectional overrides among
    /// them): what could break a line or make it read differently from what it holds.
    private static func isHidden(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .control, .lineSeparator, .paragraphSeparator, .format: true
        default: false
        }
    }

    private static func timestamp(_ date: Date) -> String {
        var seconds = Int(date.timeIntervalSince1970)
        let millis = Int((date.timeIntervalSince1970 - Double(seconds)) * 1000)
        let days = seconds / 86_400
        seconds %= 86_400
        // Civil date from days since the epoch (Howard Hinnant's algorithm).
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        func pad(_ value: Int, _ width: Int = 2) -> String { String(repeating: "0", count: max(0, width - String(value).count)) + String(value) }
        return "\(year)-\(pad(month))-\(pad(day))T\(pad(seconds / 3600)):\(pad(seconds / 60 % 60)):\(pad(seconds % 60)).\(pad(millis, 3))Z"
    }
}
