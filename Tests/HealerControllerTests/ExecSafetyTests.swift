import Foundation
import HealerController
import HealerCore
import HealerTesting
import Testing

/// Label values come from whoever can write series into Prometheus: they must never run as code or as options.
@Suite("Exec actuator safety")
struct ExecSafetyTests {
    static func context(server: String) -> ActionContext {
        ActionContext(
            call: ActuatorCall(
                key: IncidentKey(rule: "errors", target: TargetID(pool: "web", server: server)), action: .restart(actuator: "restart-backend"),
                actuator: "restart-backend", step: 2, dryRun: false),
            configuration: .fixture())
    }

    @Test func valuesAreSubstitutedInOnePass() {
        let context = Self.context(server: "{{ .backend }}")
        #expect(context.render("restart {{ .server }} of {{.pool}}") == "restart {{ .backend }} of web")
        #expect(ExecTemplate.render("{{ .unknown }} {{ .server", values: ["server": "s1"]) == "{{ .unknown }} {{ .server")
        #expect(ExecTemplate.placeholders(in: "a {{ .server }} b {{.rule}} {{ .nope }}") == ["server", "rule"])
    }

    @Test(arguments: [
        (["/bin/sh", "-c", "restart {{ .server }}"], true), (["bash", "-ec", "x {{.server}}"], true),
        (["/bin/sh", "-c", "restart \"$1\"", "healer", "{{ .server }}"], false), (["/usr/bin/restart", "{{ .server }}"], false),
        (["/bin/sh", "/opt/restart.sh", "{{ .server }}"], false),
    ])
    func placeholdersInsideAShellScriptAreRefused(command: [String], refused: Bool) {
        #expect((ExecTemplate.problem(in: command) != nil) == refused)
    }

    @Test func aValueThatWouldReadAsAnOptionIsRefused() async {
        let echo = ExecActuator(command: ["/bin/echo", "{{ .server }}"], timeout: .seconds(5))
        let refused = await echo.run(Self.context(server: "-rf"))
        #expect(refused.result == .refused)
        #expect(refused.failure == .unsafeInput)
        #expect(refused.detail.hasPrefix("server \"-rf\""))
        let allowed = await ExecActuator(command: ["/bin/echo", "x{{ .server }}"], timeout: .seconds(5), allowLeadingDash: true)
            .run(Self.context(server: "-rf"))
        #expect(allowed == ActionOutcome(.success, detail: "exit 0: x-rf"))
    }

    @Test func aShellScriptWithAPlaceholderNeverRuns() async throws {
        try await TemporaryDirectory.with(prefix: "exec") { directory in
            let marker = directory.path + "/ran"
            let shell = ExecActuator(command: ["/bin/sh", "-c", "echo {{ .server }}"], timeout: .seconds(5))
            let outcome = await shell.run(Self.context(server: "$(touch \(marker))"))
            #expect(outcome.result == .refused)
            #expect(!FileManager.default.fileExists(atPath: marker))
            // The safe form: the value is an argument, never parsed by the shell.
            let safe = ExecActuator(command: ["/bin/sh", "-c", "echo \"$1\"", "healer", "{{ .server }}"], timeout: .seconds(5))
            let echoed = await safe.run(Self.context(server: "$(touch \(marker))"))
            #expect(echoed == ActionOutcome(.success, detail: "exit 0: $(touch \(marker))"))
            #expect(!FileManager.default.fileExists(atPath: marker))
        }
    }

    @Test func aSeriesNamingNoValidServerIsNoTarget() {
        var configuration = HealerConfiguration.fixture(servers: [], pendingFor: .zero, floor: 0)
        configuration.pools["web"]?.servers = []
        var scenario = EngineScenario(configuration)
        let outcome = scenario.pass(at: 0, ["errors": ["s1": 0.0, "$(touch /tmp/x)": 0.3, "-rf": 0.3, "ok-name_1.a:b": 0.3]])
        #expect(Set(outcome.verdicts.map(\.key.target.server)) == ["s1", "ok-name_1.a:b"])
        #expect(TargetID.isValidServerName("web-01.dc:8080"))
        #expect(!TargetID.isValidServerName("s1\n"))
        #expect(!TargetID.isValidServerName("ünïcode"))
    }
}

/// A balancer whose address cannot be used is never silently skipped: its pools are unreachable.
@Suite("Balancer set")
struct BalancerSetTests {
    @Test func anUnusableAddressMakesItsPoolsUnreachable() async {
        var configuration = HealerConfiguration.fixture()
        configuration.balancers["edge"] = .haproxy(runtimeAPI: "unix://relative/path")
        let balancers = BalancerSet(configuration: configuration, makeDriver: BalancerDrivers.standard())
        let view = await balancers.observe()
        #expect(view.unreachable["web"]?.contains("runtime_api unix://relative/path") == true)
        let outcomes = await balancers.apply([TargetID(pool: "web", server: "s1"): DesiredServerState(admin: .drain)])
        #expect(outcomes[TargetID(pool: "web", server: "s1")]?.result == .failure)
    }
}
