import ArgumentParser
import HealerCLI

/// The `healer` executable: everything lives in ``HealerCLI`` so that it can be tested.
@main
struct Healer {
    static func main() async {
        await HealerCommand.main()
    }
}
