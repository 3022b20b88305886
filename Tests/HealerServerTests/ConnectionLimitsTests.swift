import CurlHTTP
import Foundation
import HealerCore
import HealerTesting
import NIOCore
import Testing

@testable import HealerServer

@Suite("Slow clients and the connection limit")
struct ConnectionLimitsTests {
    private let opened = NIODeadline.uptimeNanoseconds(1_000_000_000)

    private func deadline() -> ConnectionDeadline {
        ConnectionDeadline(readTimeout: .seconds(10), writeTimeout: .seconds(30), openedAt: opened)
    }

    /// A request must arrive whole within the read timeout of the connection opening: a client sending its
    /// head and then trickling the body does not earn more time.
    @Test func theWholeRequestMustArriveInTime() {
        var state = deadline()
        #expect(state.deadline?.at == opened + .seconds(10))
        #expect(state.deadline?.expiry == .idle)
        state.bytesArrived()
        #expect(state.deadline?.at == opened + .seconds(10))  // bytes earn no time
        #expect(state.deadline?.expiry == .read)
        state.requestHeadArrived()
        #expect(state.deadline?.at == opened + .seconds(10))  // nor does a head: the body must follow in time
        state.requestEndArrived()
        #expect(state.deadline == nil)  // Healer is working on it
    }

    @Test func aResponseMustBeTakenInTimeAndThenTheNextRequestGetsAFreshDeadline() {
        var state = deadline()
        state.bytesArrived()
        state.requestHeadArrived()
        state.requestEndArrived()
        let started = opened + .seconds(3)
        state.responseStarted(now: started)
        #expect(state.deadline?.at == started + .seconds(30))
        #expect(state.deadline?.expiry == .write)
        let finished = started + .seconds(1)
        state.responseFinished(now: finished)
        #expect(state.deadline?.at == finished + .seconds(10))
        #expect(state.deadline?.expiry == .idle)
    }

    /// A request answered before its body arrived (a 413 or a 401) does not start a new, deadline-free
    /// request when the rest of its body trickles in.
    @Test func theTailOfARequestAnsweredEarlyIsNotANewRequest() {
        var state = deadline()
        state.requestHeadArrived()
        state.responseStarted(now: opened + .seconds(1))
        let finished = opened + .seconds(2)
        state.responseFinished(now: finished)
        state.requestEndArrived()
        #expect(state.deadline?.at == finished + .seconds(10))
        state.requestHeadArrived()  // the next request is worked on once whole
        state.requestEndArrived()
        #expect(state.deadline == nil)
    }

    /// A request that arrived whole while the one before it was answered is Healer's to work on: no deadline;
    /// one whose body is still coming is the client's to finish, in time.
    @Test func pipelinedRequestsAreWorkedOnOrAwaitedAsTheyStand() {
        var whole = deadline()
        whole.requestHeadArrived()
        whole.requestEndArrived()
        whole.responseStarted(now: opened + .seconds(1))
        whole.requestHeadArrived()
        whole.requestEndArrived()
        whole.responseFinished(now: opened + .seconds(2))
        #expect(whole.deadline == nil)
        whole.responseStarted(now: opened + .seconds(3))
        whole.responseFinished(now: opened + .seconds(4))
        #expect(whole.deadline?.at == opened + .seconds(14))

        var partial = deadline()
        partial.requestHeadArrived()
        partial.requestEndArrived()
        partial.responseStarted(now: opened + .seconds(1))
        partial.requestHeadArrived()  // its body trickles
        partial.responseFinished(now: opened + .seconds(2))
        #expect(partial.deadline?.at == opened + .seconds(12))
        #expect(partial.deadline?.expiry == .read)
    }

    /// A client that sends its headers a byte at a time (slowloris) is closed although it never goes idle,
    /// counted, and the server keeps answering others.
    @Test func aClientTricklingHeaderBytesIsClosed() async throws {
        try await ServerHarness.run(readTimeout: .milliseconds(500)) { harness in
            let slow = try RawConnection(port: harness.port)
            let header = Array("GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Padding: " + String(repeating: "a", count: 400))
            var sent = 0
            try await waitUntil("the server to close the trickling connection") {
                if sent < header.count, slow.send(String(header[sent])) { sent += 1 }
                return slow.isClosedByPeer
            }
            #expect(sent < header.count)  // closed while it was still sending, not after it finished
            try await waitUntil("the timeout to be counted") {
                try await timedOut(harness, "read") == 1  // the harness's own kept-alive connection is idle, not slow
            }
        }
    }

    @Test func anIdleConnectionIsClosedAndAPromptOneIsServed() async throws {
        try await ServerHarness.run(readTimeout: .milliseconds(300)) { harness in
            let idle = try RawConnection(port: harness.port)
            let prompt = try RawConnection(port: harness.port)
            prompt.send("GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
            let answer = try await eventually("the prompt request's answer") { () -> String? in
                let text = prompt.received()
                return text.isEmpty ? nil : text
            }
            #expect(answer.hasPrefix("HTTP/1.1 200"))
            try await waitUntil("the idle connection to be closed") { idle.isClosedByPeer }
            try await waitUntil("the kept-alive connection to be closed once idle") { prompt.isClosedByPeer }
            #expect(try await timedOut(harness, "idle") >= 2)
            #expect(try await timedOut(harness, "read") == 0)
        }
    }

    /// Beyond `maxConnections`, connections wait in the accept queue instead of taking descriptors; they are
    /// served as soon as a slot frees.
    @Test func connectionsBeyondTheLimitWaitForASlot() async throws {
        try await ServerHarness.run(readTimeout: .seconds(60), maxConnections: 2) { harness in
            // Open connections until one is not served: the harness's own client may hold a slot already.
            var served: [RawConnection] = []
            var waiting: RawConnection?
            while waiting == nil, served.count <= 2 {
                let connection = try RawConnection(port: harness.port)
                connection.send("GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
                // The short wait bounds a negative: time enough for Healer to answer a connection it accepted.
                let answered = try? await eventually("an answer", timeout: .milliseconds(500)) {
                    connection.received().hasPrefix("HTTP/1.1 200") ? true : nil
                }
                if answered == nil { waiting = connection } else { served.append(connection) }
            }
            #expect(served.count <= 2)
            let queued = try #require(waiting)
            served.removeAll()
            try await waitUntil("the waiting connection to be served") { queued.received().hasPrefix("HTTP/1.1 200") }
        }
    }

    /// `healer_http_connections_timed_out_total{timeout="…"}`.
    private func timedOut(_ harness: ServerHarness, _ timeout: String) async throws -> Double {
        let prefix = "healer_http_connections_timed_out_total{timeout=\"\(timeout)\"} "
        let line = try await harness.get("/metrics").text.split(separator: "\n").first { $0.hasPrefix(prefix) }
        return line.flatMap { Double($0.dropFirst(prefix.count)) } ?? 0
    }

    @Test func theConnectionLimitLeavesDescriptorsForOutboundWork() {
        #expect(FileDescriptorBudget.problem(maxConnections: 256, queryConcurrency: 4, limit: 1024) == nil)
        #expect(FileDescriptorBudget.problem(maxConnections: 924, queryConcurrency: 4, limit: 1024) == nil)
        #expect(FileDescriptorBudget.problem(maxConnections: 925, queryConcurrency: 4, limit: 1024) != nil)
        #expect(FileDescriptorBudget.problem(maxConnections: 900, queryConcurrency: 64, limit: 1024) != nil)
        #expect(FileDescriptorBudget.problem(maxConnections: 1, queryConcurrency: 4, limit: 100) != nil)
    }

    @Test func listenAddressesSplitIntoHostAndPort() {
        #expect(ServerSettings.split(listen: "127.0.0.1:9102").map { "\($0.host) \($0.port)" } == "127.0.0.1 9102")
        #expect(ServerSettings.split(listen: "[::1]:9102").map { "\($0.host) \($0.port)" } == "::1 9102")
        #expect(ServerSettings.split(listen: ":9102").map { "\($0.host) \($0.port)" } == " 9102")
        #expect(ServerSettings.split(listen: "9102") == nil)
        #expect(ServerSettings.split(listen: "host:70000") == nil)
        #expect(ServerSettings.split(listen: "[::1:9102") == nil)
        #expect(ServerSettings.split(listen: "[]:9102") == nil)
    }
}
