public import HealerCore

/// One server row of `show servers state`.
public struct ServerRuntimeState: Sendable, Equatable {
    /// The backend.
    public var backend: String
    /// The server.
    public var server: String
    /// `srv_op_state`: 0 stopped, 1 starting, 2 running, 3 stopping.
    public var operationalState: Int
    /// `srv_admin_state` bit mask (0x01 forced maint … 0x08 forced drain …).
    public var adminFlags: Int
    /// `srv_uweight`: the weight `set weight` changes.
    public var userWeight: Int
    /// `srv_iweight`: the configured weight.
    public var initialWeight: Int

    /// The admin state the flags amount to (any maintenance flag wins over drain).
    ///
    /// 0x04 (CMAINT, "disabled" in the configuration) stays set after `set server … state ready` although the
    /// server is back in rotation (seen on 2.6.12), so it does not count on its own.
    public var adminState: AdminState {
        if adminFlags & (0x01 | 0x02 | 0x20 | 0x40) != 0 { return .maint }
        if adminFlags & (0x08 | 0x10) != 0 { return .drain }
        return .ready
    }

    /// Whether health checks (or their absence) say it runs.
    public var isRunning: Bool { operationalState == 2 }
}

/// Parsers for runtime API answers, by column name so that version differences do not matter.
public enum RuntimeParsers {
    /// Parses `show servers state` (format version 1).
    public static func serversState(_ text: String) throws(HAProxyError) -> [ServerRuntimeState] {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: true)
        guard let version = lines.first, version.trimmingWhitespace() == "1" else {
            throw .unexpectedResponse(
                command: "show servers state", detail: "expected format version 1, got \(lines.first.map(String.init) ?? "nothing")")
        }
        guard lines.count >= 2, lines[1].hasPrefix("# ") else {
            throw .unexpectedResponse(command: "show servers state", detail: "missing the '# be_id be_name ...' header")
        }
        let header = lines[1].dropFirst(2).split(separator: " ").map(String.init)
        let index = Dictionary(header.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        let required = ["be_name", "srv_name", "srv_op_state", "srv_admin_state", "srv_uweight", "srv_iweight"]
        guard required.allSatisfy({ index[$0] != nil }) else {
            throw .unexpectedResponse(command: "show servers state", detail: "header lacks one of \(required.joined(separator: ", "))")
        }
        return try lines.dropFirst(2).map { line throws(HAProxyError) in
            let fields = line.split(separator: " ").map(String.init)
            func field(_ name: String) -> String { index[name].flatMap { $0 < fields.count ? fields[$0] : nil } ?? "" }
            func number(_ name: String) throws(HAProxyError) -> Int {
                guard let value = Int(field(name)) else {
                    throw .unexpectedResponse(command: "show servers state", detail: "\(name) is not a number in: \(line)")
                }
                return value
            }
            return ServerRuntimeState(
                backend: field("be_name"), server: field("srv_name"), operationalState: try number("srv_op_state"),
                adminFlags: try number("srv_admin_state"), userWeight: try number("srv_uweight"), initialWeight: try number("srv_iweight"))
        }
    }

    /// Parses `show stat` CSV into one dictionary per row, keyed by the header's column names.
    public static func stat(_ text: String) throws(HAProxyError) -> [[String: String]] {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: true)
        guard let first = lines.first, first.hasPrefix("# ") else {
            throw .unexpectedResponse(command: "show stat", detail: "missing the '# pxname,svname,...' header")
        }
        let header = csvFields(first.dropFirst(2))
        return lines.dropFirst().map { line in
            let values = csvFields(line)
            var row: [String: String] = [:]
            for (index, name) in header.enumerated() where !name.isEmpty && index < values.count { row[name] = values[index] }
            return row
        }
    }

    /// Parses `show info` (`Name: value` lines).
    public static func info(_ text: String) -> [String: String] {
        var info: [String: String] = [:]
        for line in text.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            info[String(line[..<colon])] = line[line.index(after: colon)...].trimmingWhitespace()
        }
        return info
    }

    /// Splits one CSV line; quoted values may hold commas and doubled quotes.
    static func csvFields(_ line: Substring) -> [String] {
        var fields: [String] = []
        var current = ""
        var quoted = false
        var iterator = line.makeIterator()
        while let character = iterator.next() {
            switch character {
            case "\"" where quoted:
                quoted = false
            case "\"" where current.isEmpty:
                quoted = true
            case "," where !quoted:
                fields.append(current)
                current = ""
            default:
                current.append(character)
            }
        }
        fields.append(current)
        return fields
    }
}
