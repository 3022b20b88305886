import Foundation
import HealerController
import HealerCore
import HealerTesting
import Synchronization
import Testing

@Suite("Exec and webhook actuators")
struct ActuatorTests {
    let configuration = HealerConfiguration.fixture()
    var restart: ActuatorCall {
        ActuatorCall(
            key: IncidentKey(rule: "errors", target: TargetID(pool: "web", server: "s2")), action: .restart(actuator: "restart-backend"),
            actuator: "restart-backend", step: 2, dryRun: false)
    }

    @Test func execTemplatesArgvWithoutAShell() async throws {
        let context = ActionContext(call: restart, configuration: configuration)
        let exec = ExecActuator(
            command: ["/bin/echo", "restart {{ .server }} in {{.backend}} for {{ .rule }}", "$HOME;", "{{ .pool }}"], timeout: .seconds(5))
        let outcome = await exec.run(context)
        #expect(outcome == ActionOutcome(.success, detail: "exit 0: restart s2 in be_app for errors $HOME; web"))
    }

    @Test func execReportsTheExitCodeAndTheEndOfTheOutput() async throws {
        let context = ActionContext(call: restart, configuration: configuration)
        let failing = ExecActuator(command: ["/bin/sh", "-c", "echo oops >&2; exit 3"], timeout: .seconds(5))
        #expect(await failing.run(context) == .failed(.exitStatus, detail: "exit 3: oops"))
        let chatty = ExecActuator(command: ["/bin/sh", "-c", "yes x | head -c 100000; echo END"], timeout: .seconds(5))
        let outcome = await chatty.run(context)
        #expect(outcome.result == .success)
        #expect(outcome.detail.count <= 4096 + 10)
        #expect(outcome.detail.hasSuffix("x\nEND"))
    }

    @Test func execKillsTheWholeProcessGroupOnTimeout() async throws {
        try await TemporaryDirectory.with(prefix: "exec") { directory in
            let marker = directory.path + "/child-survived"
            let context = ActionContext(call: restart, configuration: configuration)
            let stuck = ExecActuator(command: ["/bin/sh", "-c", "(sleep 3; touch \(marker)) & sleep 30"], timeout: .milliseconds(200))
            let outcome = await stuck.run(context)
            #expect(outcome.result == .failure)
            #expect(outcome.failure == .timedOut)
            // The grandchild was in the same process group: it must not outlive the timeout.
            // "[s]leep" matches the shell running `sleep 3` but not this pgrep's own command line.
            let pids = try await Command.run(["sh", "-c", "pgrep -f '[s]leep 3; touch \(marker)' || true"], package: "procps", in: directory.path)
            #expect(pids.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty)
        }
    }

    @Test func execOfAMissingProgramFails() async {
        let outcome = await ExecActuator(command: ["/nonexistent/restart"], timeout: .seconds(1)).run(
            ActionContext(call: restart, configuration: configuration))
        #expect(outcome.result == .failure)
        #expect(outcome.failure == .cannotStart)
        #expect(outcome.detail.contains("/nonexistent/restart"))
    }

    @Test func webhookPostsJSONWithHeadersAndRetriesOn5xx() async throws {
        let calls = Mutex(0)
        try await ScriptedHTTPServer.with({ _ in
            let call = calls.withLock { value in
                value += 1
                return value
            }
            return call < 3 ? .text("busy", status: 503) : .text("ok")
        }) { server in
            let webhook = WebhookActuator(url: server.url + "/hook", timeout: .seconds(2), headers: ["Authorization": "Bearer t"])
            let outcome = await webhook.send(
                ActionContext(call: restart, configuration: configuration), at: Date(timeIntervalSince1970: 1_800_000_000))
            #expect(outcome == ActionOutcome(.success, detail: "HTTP 200 after 3 attempts"))
            let request = try #require(server.requests.last)
            #expect(request.method == "POST")
            #expect(request.header("Authorization") == "Bearer t")
            let body = try JSONSerialization.jsonObject(with: request.body) as? [String: Any]
            #expect(body?["server"] as? String == "s2")
            #expect(body?["backend"] as? String == "be_app")
            #expect(body?["action"] as? String == "restart")
            #expect(body?["step"] as? Int == 3)
            #expect(body?["time"] as? Double == 1_800_000_000)
        }
    }

    @Test func webhookDoesNotRetryAClientError() async throws {
        try await ScriptedHTTPServer.with({ _ in .text("nope", status: 400) }) { server in
            let outcome = await WebhookActuator(url: server.url, timeout: .seconds(2), headers: [:]).send(
                ActionContext(call: restart, configuration: configuration), at: Date())
            #expect(outcome == .failed(.httpStatus, detail: "HTTP 400: nope"))
            #expect(server.requests.count == 1)
        }
    }

    @Test func theRouterSendsEachActionToItsActuator() async throws {
        try await ScriptedHTTPServer.with({ _ in .text("ok") }) { server in
            var configuration = HealerConfiguration.fixture()
            configuration.actuators["oncall"] = .webhook(url: server.url, timeout: .seconds(2), headers: [:])
            configuration.actuators["restart-backend"] = .exec(command: ["/bin/echo", "{{ .server }}"], timeout: .seconds(2))
            let router = ActuatorRouter(configuration: configuration)
            #expect(await router.execute(restart) == ActionOutcome(.success, detail: "exit 0: s2"))
            var notify = restart
            notify.action = .quarantine(notify: "oncall")
            notify.actuator = "oncall"
            #expect(await router.execute(notify).result == .success)
            #expect(server.requests.count == 1)
            notify.actuator = "nobody"
            #expect(await router.execute(notify) == .failed(.noActuator, detail: "no actuator named nobody"))
        }
    }
}
