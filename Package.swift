// swift-tools-version:6.2
import Foundation
import PackageDescription

/// The checkout this manifest is in.
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()

/// `VERSION`, the one place the release version is written.
let buildVersion = String(
    ((try? String(contentsOf: root.appendingPathComponent("VERSION"), encoding: .utf8)) ?? "0.0.0")
        .trimmingCharacters(in: .whitespacesAndNewlines)
        .filter { $0.isLetter || $0.isNumber || ".+-".contains($0) })

/// The commit being built: `HEALER_COMMIT` (release builds and the Dockerfile pass it), else the checkout's HEAD.
let buildCommit: String = {
    func read(_ url: URL) -> String? {
        (try? String(contentsOf: url, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
    }
    var commit = ProcessInfo.processInfo.environment["HEALER_COMMIT"] ?? ""
    if commit.isEmpty {
        var git = root.appendingPathComponent(".git")
        if let file = read(git), file.hasPrefix("gitdir: ") {  // a worktree
            git = URL(fileURLWithPath: String(file.dropFirst(8)), relativeTo: root)
        }
        commit = read(git.appendingPathComponent("HEAD")) ?? ""
        if commit.hasPrefix("ref: ") {
            let ref = String(commit.dropFirst(5))
            let common = read(git.appendingPathComponent("commondir")).map { URL(fileURLWithPath: $0, relativeTo: git) } ?? git
            commit =
                read(git.appendingPathComponent(ref)) ?? read(common.appendingPathComponent(ref))
                ?? (read(common.appendingPathComponent("packed-refs")) ?? "").split(separator: "\n")
                .first { $0.hasSuffix(" " + ref) }.map { String($0.prefix(40)) } ?? ""
        }
    }
    let hex = commit.lowercased().filter { "0123456789abcdef".contains($0) }
    return hex.count >= 7 ? hex : "unknown"
}()

let package = Package(
    name: "healer",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "healer", targets: ["healer"]),
        .executable(name: "demo-backend", targets: ["demo-backend"]),
        .library(name: "CurlHTTP", targets: ["CurlHTTP"]),
        .library(name: "HealerPrometheus", targets: ["HealerPrometheus"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.1"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/ordo-one/malloc-interposer.git", from: "1.6.1"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
    ],
    targets: [
        // C boundary: libcurl through a module map and a few static inline shims for its variadic calls.
        .systemLibrary(
            name: "CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"]), .brew(["curl"])]
        ),
        // What the binary is: version, commit, read by the manifest above.
        .target(
            name: "CBuildInfo",
            cSettings: [.define("HEALER_VERSION", to: "\"\(buildVersion)\""), .define("HEALER_COMMIT", to: "\"\(buildCommit)\"")]),
        // The pure domain: no I/O, no curl, no NIO, no YAML.
        .target(name: "HealerCore", dependencies: ["SeriesLabels"]),
        // A series' label set, shared by the core and the Prometheus client.
        .target(name: "SeriesLabels"),
        // Configuration and rule files (YAML), every error with file, line and field.
        .target(name: "HealerRules", dependencies: ["HealerCore", .product(name: "Yams", package: "Yams")]),
        // Child processes in a process group of their own (the exec actuator and the test harness).
        .target(name: "ProcessGroups", dependencies: ["CSpawn"]),
        // glibc's posix_spawn extensions that Swift's Glibc module does not show.
        .target(name: "CSpawn"),
        // glibc's mallopt, which Swift's Glibc module does not show either.
        .target(name: "CAllocator"),
        // Durable state: the engine's state in SQLite (GRDB).
        .target(name: "HealerStore", dependencies: ["HealerCore", "HealerKubernetes", .product(name: "GRDB", package: "GRDB.swift")]),
        // HAProxy's runtime API and the balancer driver.
        .target(name: "HealerHAProxy", dependencies: ["HealerCore"]),
        // Outbound HTTP over libcurl: one multi handle on a dedicated thread.
        .target(name: "CurlHTTP", dependencies: ["CCurl"]),
        // Prometheus HTTP API client.
        .target(name: "HealerPrometheus", dependencies: ["CurlHTTP", "SeriesLabels"]),
        // The imperative shell: the reconcile loop and the adapters it drives.
        .target(
            name: "HealerController",
            dependencies: [
                "HealerCore", "HealerPrometheus", "HealerHAProxy", "HealerKubernetes", "CurlHTTP", "SeriesLabels", "ProcessGroups", "CAllocator",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "DequeModule", package: "swift-collections"),
            ]
        ),
        // The controller's HTTP surface (Hummingbird).
        .target(
            name: "HealerServer",
            dependencies: [
                "HealerController", "HealerCore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The `healer` command line (library, so that it can be tested).
        .target(
            name: "HealerCLI",
            dependencies: [
                "CBuildInfo",
                "CurlHTTP",
                "HealerCore",
                "HealerPrometheus",
                "HealerRules",
                "HealerKubernetes",
                "HealerController",
                "HealerStore",
                "SeriesLabels",
                "HealerServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "healer",
            dependencies: ["HealerCLI", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        // A backend with a fault switch, for demos, tests and benchmarks.
        .executableTarget(
            name: "demo-backend",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Test support: launchers for real services, scripted loopback servers, polling.
        .target(name: "HealerTesting", dependencies: ["CurlHTTP", "HealerCore", "SeriesLabels", "ProcessGroups"]),
        // A Kubernetes API server for tests, kept honest by real kubectl (Tests/FakeKubernetesTests).
        .target(name: "FakeKubernetes", dependencies: ["CurlHTTP", "HealerTesting"]),
        // The fuzz targets (scripts/fuzz, `make fuzz`) and their entry point; built normally, it replays inputs.
        .target(
            name: "HealerFuzz", dependencies: ["HealerRules", "HealerPrometheus", "HealerController", "HealerHAProxy", "HealerCore", "HealerTesting"]),
        .executableTarget(name: "healer-fuzz", dependencies: ["HealerFuzz"]),
        // Two `healer run` replicas against the fake API server: for the failover tests and bench/failover.sh.
        .target(name: "ReplicaHarness", dependencies: ["FakeKubernetes", "HealerTesting", "HealerCore", "CurlHTTP"]),
        .target(name: "HealerKubernetes", dependencies: ["CurlHTTP", .product(name: "Yams", package: "Yams")]),
        // Benchmarks live outside Tests/ and are never run by `swift test`.
        .executableTarget(
            name: "bench-prometheus-client",
            dependencies: ["HealerPrometheus", "CurlHTTP"],
            path: "bench/PrometheusClient"
        ),
        .executableTarget(
            name: "bench-scale",
            dependencies: [
                .product(name: "MallocInterposerSwift", package: "malloc-interposer"), "HealerController", "HealerCore", "HealerPrometheus",
                "HealerTesting", "CurlHTTP", "SeriesLabels",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "bench/Scale"
        ),
        .executableTarget(
            name: "bench-failover",
            dependencies: ["ReplicaHarness", "FakeKubernetes", "HealerTesting", "HealerCore"],
            path: "bench/Failover"
        ),
        .executableTarget(
            name: "bench-faults",
            dependencies: [
                "HealerController", "HealerCore", "HealerHAProxy", "HealerPrometheus", "HealerTesting", "CurlHTTP",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "bench/Faults"
        ),

        .testTarget(
            name: "HealerCoreTests",
            dependencies: ["SeriesLabels", "HealerCore", "HealerTesting", .product(name: "PropertyBased", package: "swift-property-based")],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(name: "HealerRulesTests", dependencies: ["SeriesLabels", "HealerRules", "HealerTesting"], resources: [.copy("Fixtures")]),
        .testTarget(name: "HealerHAProxyTests", dependencies: ["HealerHAProxy", "HealerTesting"], resources: [.copy("Fixtures")]),
        .testTarget(
            name: "HealerSystemTests",
            dependencies: [
                "HealerController", "HealerHAProxy", "HealerPrometheus", "HealerTesting", "FakeKubernetes", "HealerKubernetes", "ReplicaHarness",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "HealerServerTests",
            dependencies: [
                "HealerServer", "HealerController", "HealerRules", "HealerTesting", .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"), .product(name: "Yams", package: "Yams"),
            ]
        ),
        .testTarget(
            name: "HealerStoreTests",
            dependencies: ["HealerStore", "HealerCore", "HealerTesting", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        .testTarget(name: "CurlHTTPTests", dependencies: ["CurlHTTP", "HealerTesting"]),
        .testTarget(name: "HealerFuzzTests", dependencies: ["HealerFuzz", "HealerTesting"]),
        .testTarget(name: "FakeKubernetesTests", dependencies: ["FakeKubernetes", "HealerTesting"]),
        .testTarget(name: "HealerKubernetesTests", dependencies: ["HealerKubernetes", "FakeKubernetes", "HealerTesting", "CurlHTTP"]),
        .testTarget(
            name: "HealerPrometheusTests",
            dependencies: ["SeriesLabels", "HealerPrometheus", "HealerTesting", .product(name: "PropertyBased", package: "swift-property-based")],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "HealerCLITests",
            dependencies: ["HealerCLI", "HealerTesting", "SeriesLabels", "HealerStore", "HealerCore", "FakeKubernetes", "HealerKubernetes"]
        ),
        .testTarget(
            name: "HealerControllerTests",
            dependencies: [
                "HealerStore",
                "HealerController", "HealerTesting", "HealerRules", "SeriesLabels", "ProcessGroups", "FakeKubernetes", "HealerKubernetes",
                .product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
    ]
)

for target in package.targets where target.type != .system {
    target.swiftSettings =
        (target.swiftSettings ?? []) + [
            .enableUpcomingFeature("ExistentialAny"),
            .enableUpcomingFeature("MemberImportVisibility"),
            .enableUpcomingFeature("InternalImportsByDefault"),
        ]
}
