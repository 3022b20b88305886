import NIOCore

/// When a connection to Healer's HTTP server must be closed because its client is too slow, as a value.
///
/// A client gets ``readTimeout`` from the moment the connection is ready for a request (it opened, or every
/// request so far has been answered) until the whole next request, headers and body, has arrived: a client that
/// trickles header bytes, trickles a body, or holds an idle keep-alive connection is closed when it runs out.
/// While Healer works on a request there is no deadline; once it starts writing a response the client has
/// ``writeTimeout`` to take it. Pipelined requests that arrive while an earlier one is answered are Healer's to
/// work on, not the client's to hurry.
struct ConnectionDeadline {
    /// Why a connection was closed.
    enum Expiry: String, Sendable, CaseIterable {
        /// Nothing arrived after the connection was ready for a request: an idle keep-alive connection, closed as
        /// a matter of course.
        case idle
        /// A request started but did not arrive whole in time: a slow or malicious client.
        case read
        /// A response was not taken in time: a client that does not read.
        case write
    }

    private enum Phase {
        case awaitingRequest(since: NIODeadline, bytesSeen: Bool)
        case processing
        case writingResponse(since: NIODeadline)
    }

    let readTimeout: TimeAmount
    let writeTimeout: TimeAmount
    private var phase: Phase
    /// Requests whose head arrived, requests whose end arrived, and responses finished: a request not answered yet
    /// is Healer's to work on once whole, whatever order its parts and the responses come in (a 413 goes out before
    /// the body it refuses; a pipelined request arrives while the one before it is answered).
    private var requestsStarted = 0
    private var requestsCompleted = 0
    private var responsesFinished = 0

    init(readTimeout: TimeAmount, writeTimeout: TimeAmount, openedAt now: NIODeadline) {
        self.readTimeout = readTimeout
        self.writeTimeout = writeTimeout
        phase = .awaitingRequest(since: now, bytesSeen: false)
    }

    /// When the connection must be closed, and why; `nil` while Healer is working on a request.
    var deadline: (at: NIODeadline, expiry: Expiry)? {
        switch phase {
        case .awaitingRequest(let since, let bytesSeen): (since + readTimeout, bytesSeen ? .read : .idle)
        case .processing: nil
        case .writingResponse(let since): (since + writeTimeout, .write)
        }
    }

    /// Bytes arrived from the client.
    mutating func bytesArrived() {
        if case .awaitingRequest(let since, false) = phase { phase = .awaitingRequest(since: since, bytesSeen: true) }
    }

    /// A request's head arrived.
    mutating func requestHeadArrived() {
        requestsStarted += 1
    }

    /// A request's last part arrived: Healer works on it now, unless it was answered already.
    mutating func requestEndArrived() {
        requestsCompleted += 1
        guard case .awaitingRequest = phase, requestsCompleted > responsesFinished else { return }
        phase = .processing
    }

    /// Healer began writing a response.
    mutating func responseStarted(now: NIODeadline) {
        phase = .writingResponse(since: now)
    }

    /// A response's last part was written: the connection waits for its next request, or Healer works on one
    /// that arrived meanwhile.
    mutating func responseFinished(now: NIODeadline) {
        responsesFinished += 1
        if requestsCompleted > responsesFinished {
            phase = .processing
        } else {
            phase = .awaitingRequest(since: now, bytesSeen: requestsStarted > responsesFinished)
        }
    }
}
