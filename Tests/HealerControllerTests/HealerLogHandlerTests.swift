import Foundation
import HealerController
import Logging
import Synchronization
import Testing

@Suite struct HealerLogHandlerTests {
    final class Lines: Sendable {
        let lines = Mutex<[String]>([])
        func append(_ line: String) { lines.withLock { $0.append(line) } }
        var all: [String] { lines.withLock { $0 } }
    }

    @Test func textLinesCarryMetadataSortedAndQuoted() {
        let lines = Lines()
        let logger = Logger(label: "t") { _ in HealerLogHandler(format: .text, write: lines.append) }
        logger.info("step 1: set_weight 25%", metadata: ["server": "s1", "reason": "two words", "pool": "web"])
        let line = lines.all.first ?? ""
        #expect(line.hasSuffix(#" info step 1: set_weight 25% pool=web reason="two words" server=s1"# + "\n"))
        #expect(line.range(of: #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z "#, options: .regularExpression) != nil)
    }

    @Test func jsonLinesAreOneObjectEach() throws {
        let lines = Lines()
        let logger = Logger(label: "t") { _ in HealerLogHandler(format: .json, write: lines.append) }
        logger.warning("rule query failed", metadata: ["rule": "Errors", "error": "say \"no\""])
        let line = try #require(lines.all.first)
        #expect(line.hasSuffix("\n"))
        let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String]
        #expect(object?["level"] == "warning")
        #expect(object?["msg"] == "rule query failed")
        #expect(object?["rule"] == "Errors")
        #expect(object?["error"] == "say \"no\"")
        #expect(object?["time"]?.hasSuffix("Z") == true)
    }

    /// A label value is whatever was written into Prometheus: it must not start a forged line, nor hide text.
    @Test(arguments: [HealerLogHandler.Format.text, .json])
    func aValueCannotForgeALine(format: HealerLogHandler.Format) throws {
        let lines = Lines()
        let logger = Logger(label: "t") { _ in HealerLogHandler(format: format, write: lines.append) }
        let hostile = "s1\n2026-11-30T00:00:00.000Z error forged=1\r\u{202E}evil\u{0}"
        logger.info("recovered \(hostile)", metadata: ["server": .string(hostile)])
        let line = try #require(lines.all.first)
        #expect(lines.all.count == 1)
        #expect(line.filter { $0 == "\n" || $0 == "\r" }.count == 1 && line.hasSuffix("\n"), "\(line)")
        #expect(!line.unicodeScalars.contains { $0 == "\u{0}" })
        if format == .text {
            #expect(!line.unicodeScalars.contains { $0 == "\u{202E}" })
            #expect(line.contains(#"server="s1\n2026-11-30T00:00:00.000Z error forged=1\r\u{202e}evil\u{0}""#), "\(line)")
        } else {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String]
            #expect(object?["server"] == hostile)
        }
    }
}
