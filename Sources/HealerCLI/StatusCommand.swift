import ArgumentParser
import CurlHTTP
import Foundation
import HealerCore
import HealerPrometheus
import HealerServer

/// `healer status`: pools, servers, verdicts and incidents of a running controller.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show a running controller's pools, servers, verdicts, weights and incidents.")

    @OptionGroup var api: APIOptions

    func run() async throws {
        let body = try await api.get("/api/v1/status")
        if api.json {
            print(String(decoding: body, as: UTF8.self))
            return
        }
        let decoder = HealerJSON.decoder()
        let report = try decoder.decode(StatusReport.self, from: body)
        var flags: [String] = []
        if report.dryRun { flags.append("dry run") }
        if report.paused { flags.append("PAUSED") }
        let age = report.lastPass.map { "last pass \(Int(Date().timeIntervalSince($0)))s ago" } ?? "no pass yet"
        print("healer at \(URLRedaction.redacted(api.url)): \(age)" + (flags.isEmpty ? "" : " (\(flags.joined(separator: ", ")))"))
        if let leadership = report.leadership {
            print(
                leadership.leading
                    ? "leader: this replica (\(leadership.holder ?? "?"))"
                    : "follower: \(leadership.holder.map { "\($0) leads" } ?? "nobody leads now"); this replica acts on nothing")
        }
        for pool in report.pools {
            var state: [String] = []
            if let capacity = pool.healthyCapacity {
                state.append("healthy capacity \(Int((capacity * 100).rounded()))% (floor \(Int((pool.minHealthyCapacity * 100).rounded()))%)")
            }
            if pool.paused { state.append("PAUSED") }
            if pool.storm { state.append("STORM: remedies frozen") }
            print("\npool \(pool.name) (backend \(pool.backend)): \(state.joined(separator: ", "))")
            let rules = Set(pool.servers.flatMap(\.verdicts.keys)).sorted()
            let rows = pool.servers.map { server in
                [server.server, server.weightPercent.map { "\($0)%" } ?? "-", server.admin ?? "-"]
                    + rules.map { rule in
                        let verdict = server.verdicts[rule]?.rawValue ?? "-"
                        let value = server.values[rule].map { " " + PrometheusValue.format($0) } ?? ""
                        let phase = server.incidents[rule].map { " [\($0)]" } ?? ""
                        return verdict + value + phase
                    }
            }
            print(TextTable(header: ["SERVER", "WEIGHT", "STATE"] + rules.map { $0.uppercased() }, rows: rows, rightAligned: [1]).render())
        }
        if !report.incidents.isEmpty {
            print("\nincidents:")
            let rows = report.incidents.map { incident in
                [
                    "\(incident.pool)/\(incident.server)", incident.rule, incident.phase, incident.step.map(String.init) ?? "-",
                    "\(Int(Date().timeIntervalSince(incident.firedAt ?? incident.openedAt)))s",
                ]
            }
            print(TextTable(header: ["TARGET", "RULE", "PHASE", "STEP", "AGE"], rows: rows, rightAligned: [3, 4]).render())
        }
    }
}

/// `healer decisions`: the decision records of a running controller.
struct DecisionsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decisions", abstract: "Show a running controller's recent decisions: transitions, actions and suppressions, with why.")

    @OptionGroup var api: APIOptions

    @Option(help: "Only this pool.")
    var pool: String?

    @Option(help: "Only this server.")
    var target: String?

    @Option(help: "At most this many, newest last.")
    var limit = 50

    func run() async throws {
        var query = ["limit=\(limit)"]
        if let pool { query.append("pool=\(FormEncoding.percentEncode(pool))") }
        if let target { query.append("target=\(FormEncoding.percentEncode(target))") }
        let body = try await api.get("/api/v1/decisions?" + query.joined(separator: "&"))
        if api.json {
            print(String(decoding: body, as: UTF8.self))
            return
        }
        let decoder = HealerJSON.decoder()
        let records = try decoder.decode([DecisionRecord].self, from: body)
        let formatter = ISO8601DateFormatter()
        let rows = records.map { record in
            [
                formatter.string(from: record.time), record.kind.rawValue, [record.pool, record.server].compactMap { $0 }.joined(separator: "/"),
                record.rule ?? "-", record.suppressedBy.map { "held: \($0.rawValue)" } ?? (record.action ?? "-"),
                record.reason + (record.dryRun ? " (dry run)" : ""),
            ]
        }
        print(TextTable(header: ["TIME", "KIND", "TARGET", "RULE", "ACTION", "WHY"], rows: rows).render())
    }
}
