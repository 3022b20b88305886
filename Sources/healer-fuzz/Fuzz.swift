// The fuzzing entry point. Built by scripts/fuzz (`make fuzz`) with `-sanitize=fuzzer,address -DFUZZING`: libFuzzer
// calls LLVMFuzzerTestOneInput with each input for the target named by FUZZ_TARGET. Built normally, it replays
// files instead: `FUZZ_TARGET=prometheus healer-fuzz crash-1a2b…` runs one input, as a finding is checked again.
import Foundation
import HealerFuzz

#if FUZZING
    nonisolated(unsafe) private let target = FuzzTarget.fromEnvironment

    @_cdecl("LLVMFuzzerTestOneInput")
    public func fuzzOne(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> CInt {
        target.run(Data(bytes: bytes, count: count))
        return 0
    }
#else
    @main
    struct Replay {
        static func main() throws {
            let target = FuzzTarget.fromEnvironment
            for path in CommandLine.arguments.dropFirst() {
                target.run(try Data(contentsOf: URL(fileURLWithPath: path)))
                print("\(target.rawValue): \(path): ok")
            }
        }
    }
#endif
