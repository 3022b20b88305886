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
}
