import NIOCore

/// When a connection to Healer's HTTP server must be closed because its client is too slow, as a value.
///
/// A client gets ``readTimeout`` from the moment the connection is ready for a request (it opened, or the previous
/// response was written) until the whole request, headers and body, has arrived: a client that trickles header
/// bytes, trickles a body, or holds an idle keep-alive connection is closed when it runs out. While Healer works
/// on a request there is no deadline; once it starts writing the response the client has ``writeTimeout`` to read
/// it. An idle keep-alive connection is indistinguishable from one trickling its headers until those parse, so
/// both get the same deadline.
struct ConnectionDeadline {
    /// Why a connection was closed.
    enum Expiry: String, Sendable, CaseIterable {
        /// The request did not arrive whole in time (slow or idle client).
        case read
        /// The response was not taken in time (a client that does not read).
        case write
    }

    private enum Phase {
        case awaitingRequest(since: NIODeadline)
        case processing
        case writingResponse(since: NIODeadline)
    }

    let readTimeout: TimeAmount
    let writeTimeout: TimeAmount
    private var phase: Phase
    /// Whether the head of the request being answered was seen: parts of a request answered early (a 413 before
    /// its body arrived) do not start a new one.
    private var headSeen = false

    init(readTimeout: TimeAmount, writeTimeout: TimeAmount, openedAt now: NIODeadline) {
        self.readTimeout = readTimeout
        self.writeTimeout = writeTimeout
        phase = .awaitingRequest(since: now)
    }

    /// When the connection must be closed, and why; `nil` while Healer is working on a request.
    var deadline: (at: NIODeadline, expiry: Expiry)? {
        switch phase {
        case .awaitingRequest(let since): (since + readTimeout, .read)
        case .processing: nil
        case .writingResponse(let since): (since + writeTimeout, .write)
        }
    }

    /// A request's head arrived.
    mutating func requestHeadArrived() {
        headSeen = true
    }

    /// A request's last part arrived: Healer works on it now.
    mutating func requestEndArrived() {
        guard headSeen, case .awaitingRequest = phase else { return }
        phase = .processing
    }

    /// Healer began writing a response.
    mutating func responseStarted(now: NIODeadline) {
        phase = .writingResponse(since: now)
    }

    /// The response's last part was written: the connection waits for its next request.
    mutating func responseFinished(now: NIODeadline) {
        headSeen = false
        phase = .awaitingRequest(since: now)
    }
}
