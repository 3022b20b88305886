import Foundation
import HealerFuzz
import Testing

/// Every seed of the fuzzing corpus and every input a fuzzing run found (kept in fuzz/regressions once fixed) goes
/// through its target: a finding that comes back stops this test process, as it stopped the fuzzer.
@Suite("Fuzzing corpus and regressions")
struct CorpusReplayTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("fuzz")

    static func inputs(_ target: FuzzTarget) -> [URL] {
        ["corpus", "regressions"].flatMap { folder in
            let directory = root.appendingPathComponent(folder).appendingPathComponent(target.rawValue)
            return ((try? FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)) ?? [])
                .filter { !$0.lastPathComponent.hasPrefix(".") }
        }
    }

    @Test(arguments: FuzzTarget.allCases)
    func everyKeptInputRunsClean(target: FuzzTarget) throws {
        let inputs = Self.inputs(target)
        #expect(!inputs.isEmpty, "no seeds for \(target.rawValue)")
        for input in inputs { target.run(try Data(contentsOf: input)) }
    }
}
