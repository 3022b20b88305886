import HealerCore
import Testing

@Suite struct PrometheusDurationTests {
    @Test(arguments: [
        ("0", Duration.zero), ("500ms", .milliseconds(500)), ("30s", .seconds(30)), ("5m", .seconds(300)),
        ("1h30m", .seconds(5400)), ("2d", .seconds(172_800)), ("1w", .seconds(604_800)), ("1y", .seconds(31_536_000)),
        ("1m30s500ms", .milliseconds(90_500)), ("90s", .seconds(90)),
    ])
    func parses(text: String, expected: Duration) {
        #expect(PrometheusDuration.parse(text) == expected)
    }

    @Test(arguments: ["", "5", "1.5s", "s", "10 s", "30s1m", "1m1m", "-5s", "5sec", "1ns", "99999999999999999999y"])
    func rejects(text: String) {
        #expect(PrometheusDuration.parse(text) == nil)
    }

    @Test(arguments: [
        (Duration.seconds(90), "1m30s"), (.milliseconds(1500), "1s500ms"), (.zero, "0s"), (.seconds(86_400), "1d"),
    ])
    func formats(duration: Duration, expected: String) {
        #expect(PrometheusDuration.format(duration) == expected)
        #expect(PrometheusDuration.parse(expected) == duration)
    }
}
