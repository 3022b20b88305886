import NIOCore
import NIOHTTPTypes

/// Closes a connection whose client is too slow to send its request or to take its response, as
/// ``ConnectionDeadline`` decides; sits after HTTP decoding, so it sees request and response parts.
final class ConnectionDeadlineHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private var state: ConnectionDeadline
    private var timer: Scheduled<Void>?
    private let expired: @Sendable (ConnectionDeadline.Expiry) -> Void

    /// A handler for one connection; `expired` hears of every connection closed for being too slow.
    init(readTimeout: TimeAmount, writeTimeout: TimeAmount, expired: @escaping @Sendable (ConnectionDeadline.Expiry) -> Void) {
        state = ConnectionDeadline(readTimeout: readTimeout, writeTimeout: writeTimeout, openedAt: .now())
        self.expired = expired
    }

    func handlerAdded(context: ChannelHandlerContext) {
        // Bytes are seen before HTTP decoding, so that an idle connection is told from a slow one.
        try? context.pipeline.syncOperations.addHandler(BytesArrivedHandler(owner: self), position: .first)
        rearm(context)
    }

    /// Bytes arrived from the client (``BytesArrivedHandler`` says so).
    fileprivate func bytesArrived() {
        state.bytesArrived()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        state = ConnectionDeadline(readTimeout: state.readTimeout, writeTimeout: state.writeTimeout, openedAt: .now())
        rearm(context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            state.requestHeadArrived()
        case .body:
            break
        case .end:
            state.requestEndArrived()
            rearm(context)
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head:
            state.responseStarted(now: .now())
            rearm(context)
            context.write(data, promise: promise)
        case .body:
            context.write(data, promise: promise)
        case .end:
            let written = promise ?? context.eventLoop.makePromise()
            written.futureResult.assumeIsolated().whenSuccess { [self] in
                state.responseFinished(now: .now())
                rearm(context)
            }
            context.write(data, promise: written)
        }
    }

    private func rearm(_ context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        guard context.channel.isActive, let deadline = state.deadline else { return }
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline.at) { [self] in
            timer = nil
            expired(state.deadline?.expiry ?? deadline.expiry)  // bytes since arming make an idle connection a slow one
            context.close(promise: nil)
        }
    }
}

/// Tells its ``ConnectionDeadlineHandler`` that the client sent bytes, from the front of the pipeline, where a
/// request's first bytes are seen before they make a head.
private final class BytesArrivedHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let owner: ConnectionDeadlineHandler

    init(owner: ConnectionDeadlineHandler) {
        self.owner = owner
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        owner.bytesArrived()
        context.fireChannelRead(data)
    }
}
