// The fuzzing entry point. Built by scripts/fuzz (`make fuzz`) with `-sanitize=fuzzer,address -DFUZZING`: libFuzzer's
// driver runs each input through the target named by FUZZ_TARGET. Built normally, it replays files instead:
// `FUZZ_TARGET=prometheus healer-fuzz crash-1a2b…` runs one input, as a finding is checked again.
import Foundation
import HealerFuzz

#if FUZZING
    /// libFuzzer's driver (`FuzzerInterface.h`): SwiftPM links an executable's own `main`, so libFuzzer's is not used.
    @_silgen_name("LLVMFuzzerRunDriver")
    private func runDriver(
        _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
        _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
    ) -> CInt

    nonisolated(unsafe) private var target = FuzzTarget.config

    @main
    struct Fuzz {
        static func main() {
            target = FuzzTarget.fromEnvironment
            var argc = CommandLine.argc
            var argv = CommandLine.unsafeArgv
            exit(
                runDriver(&argc, &argv) { bytes, count in
                    target.run(bytes.map { Data(bytes: $0, count: count) } ?? Data())
                    return 0
                })
        }
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
