import ArgumentParser

/// `healer version`: what `healer --version` prints.
struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "version",
        abstract: "Print Healer's version, the git commit it was built from and the Swift version that built it.",
        discussion:
            "The same as healer --version. The version comes from the VERSION file; the commit from HEALER_COMMIT at build time, else the checkout's HEAD (docs/deploy.md)."
    )

    func run() {
        print(BuildInfo.summary)
    }
}
