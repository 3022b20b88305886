import CBuildInfo

/// What this binary is: its version (the `VERSION` file), the git commit it was built from (`HEALER_COMMIT` at
/// build time, else the checkout's `HEAD`) and the Swift compiler that built it. The same three are in the
/// `--version` output, the start-up log line and the image's labels.
public enum BuildInfo {
    /// The release version, from the `VERSION` file at the top of the repository.
    public static let version = String(cString: healer_build_version())
    /// The full git commit, or `unknown` when built outside a checkout without `HEALER_COMMIT`.
    public static let commit = String(cString: healer_build_commit())
    /// The Swift compiler version that built this binary.
    public static let swiftVersion: String = {
        #if compiler(>=6.5)
            "6.5 or later"
        #elseif compiler(>=6.4)
            "6.4"
        #elseif compiler(>=6.3.2)
            "6.3.2"
        #elseif compiler(>=6.3.1)
            "6.3.1"
        #elseif compiler(>=6.3)
            "6.3"
        #elseif compiler(>=6.2)
            "6.2"
        #else
            "before 6.2"
        #endif
    }()

    /// `healer 0.1.0 (commit 1a2b3c4…, Swift 6.3.1)`.
    public static var summary: String {
        "healer \(version) (commit \(commit), Swift \(swiftVersion))"
    }
}
