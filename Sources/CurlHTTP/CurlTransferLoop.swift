import CCurl
import Foundation
import Synchronization

/// The one thread that runs every libcurl transfer of the process, through a single multi handle.
///
/// Why a dedicated thread and a multi handle: `curl_easy_perform` blocks, and blocking calls must never run
/// on Swift's cooperative pool. One thread multiplexing all transfers keeps any number of concurrent requests
/// off that pool, and the multi handle's connection cache reuses kept-alive connections across requests.
///
/// Requests arrive through a mutex-protected inbox and an `eventfd` that wakes `curl_multi_poll`. Each
/// request moves through ``Entry`` states so that a Task cancellation arriving at any moment (before the
/// request is handed over, while it waits, while it runs) resumes its continuation exactly once.
final class CurlTransferLoop: Sendable {
    /// The process-wide loop, started on first use.
    static let shared = CurlTransferLoop()

    private enum Entry: Sendable {
        case registered
        case cancelled
        case submitted(PreparedRequest, CheckedContinuation<HTTPResponse, any Error>)
        case running
    }

    private struct Inbox: Sendable {
        var nextID: UInt64 = 1
        var entries: [UInt64: Entry] = [:]
        var starts: [UInt64] = []
        var cancels: [UInt64] = []
    }

    private struct Work {
        var starts: [(UInt64, PreparedRequest, CheckedContinuation<HTTPResponse, any Error>)] = []
        var cancels: [UInt64] = []
    }

    private let inbox = Mutex(Inbox())
    /// The read and write ends of a pipe whose readability wakes `curl_multi_poll`.
    private let wakeReader: Int32
    private let wakeWriter: Int32

    private init() {
        let code = curl_global_init(Int(CURL_GLOBAL_ALL))
        precondition(code == CURLE_OK, "curl_global_init failed with code \(code.rawValue)")
        var ends: [Int32] = [-1, -1]
        precondition(pipe(&ends) == 0, "pipe failed: \(String(cString: strerror(errno)))")
        for end in ends {
            _ = fcntl(end, F_SETFL, fcntl(end, F_GETFL) | O_NONBLOCK)
            _ = fcntl(end, F_SETFD, FD_CLOEXEC)
        }
        (wakeReader, wakeWriter) = (ends[0], ends[1])
        let thread = Thread { [self] in self.run() }
        thread.name = "healer-curl"
        thread.start()
    }

    /// Reserves an identifier for a request about to be submitted, so that a cancellation can find it.
    func register() -> UInt64 {
        inbox.withLock { inbox in
            let id = inbox.nextID
            inbox.nextID += 1
            inbox.entries[id] = .registered
            return id
        }
    }

    /// Hands a request to the transfer thread; `continuation` is resumed exactly once.
    func submit(_ id: UInt64, _ request: PreparedRequest, _ continuation: CheckedContinuation<HTTPResponse, any Error>) {
        let accepted = inbox.withLock { inbox -> Bool in
            guard case .registered = inbox.entries[id] else {
                inbox.entries[id] = nil  // cancelled before it was submitted
                return false
            }
            inbox.entries[id] = .submitted(request, continuation)
            inbox.starts.append(id)
            return true
        }
        if accepted { wake() } else { continuation.resume(throwing: CancellationError()) }
    }

    /// Cancels request `id` wherever it is; a finished request is left alone.
    func cancel(_ id: UInt64) {
        let waiting = inbox.withLock { inbox -> CheckedContinuation<HTTPResponse, any Error>? in
            switch inbox.entries[id] {
            case .registered:
                inbox.entries[id] = .cancelled
            case .submitted(_, let continuation):
                inbox.entries[id] = nil
                return continuation
            case .running:
                inbox.cancels.append(id)
            case .cancelled, nil:
                break
            }
            return nil
        }
        if let waiting {
            waiting.resume(throwing: CancellationError())
        } else {
            wake()
        }
    }

    private func wake() {
        var byte: UInt8 = 1
        _ = write(wakeWriter, &byte, 1)  // a full pipe already means "wake up"
    }

    private func takeWork() -> Work {
        inbox.withLock { inbox in
            var work = Work()
            for id in inbox.starts {
                if case .submitted(let request, let continuation) = inbox.entries[id] {
                    inbox.entries[id] = .running
                    work.starts.append((id, request, continuation))
                }
            }
            work.cancels = inbox.cancels
            inbox.starts.removeAll(keepingCapacity: true)
            inbox.cancels.removeAll(keepingCapacity: true)
            return work
        }
    }

    private func forget(_ id: UInt64) {
        inbox.withLock { _ = $0.entries.removeValue(forKey: id) }
    }

    // MARK: - The transfer thread

    private func run() {
        guard let multi = curl_multi_init() else { fatalError("curl_multi_init failed") }
        // Keep enough idle connections for a busy controller; libcurl's default shrinks with the handle count.
        _ = ccurl_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, 256)
        var transfers: [UnsafeMutableRawPointer: CurlTransfer] = [:]
        var handlesByID: [UInt64: UnsafeMutableRawPointer] = [:]

        func finish(_ transfer: CurlTransfer, with result: Result<HTTPResponse, any Error>) {
            curl_multi_remove_handle(multi, transfer.handle)
            transfers[transfer.handle] = nil
            handlesByID[transfer.id] = nil
            forget(transfer.id)
            transfer.continuation.resume(with: result)
        }

        while true {
            let work = takeWork()
            for (id, request, continuation) in work.starts {
                do {
                    let transfer = try CurlTransfer(id: id, prepared: request, continuation: continuation)
                    let added = curl_multi_add_handle(multi, transfer.handle)
                    guard added == CURLM_OK else {
                        // Out of memory or descriptors: the request fails now instead of waiting forever.
                        forget(id)
                        let message = String(cString: curl_multi_strerror(added))
                        continuation.resume(
                            throwing: HTTPClientError.transport(
                                CurlFailure(code: Int(CURLE_FAILED_INIT.rawValue), message: message, url: transfer.url)))
                        continue
                    }
                    transfers[transfer.handle] = transfer
                    handlesByID[id] = transfer.handle
                } catch {
                    forget(id)
                    continuation.resume(throwing: error)
                }
            }
            for id in work.cancels {
                if let handle = handlesByID[id], let transfer = transfers[handle] {
                    // A connection with half a response on it must never serve another request: say so
                    // explicitly, whatever state the transfer was in when it was removed.
                    _ = ccurl_easy_setopt_long(handle, CURLOPT_FORBID_REUSE, 1)
                    finish(transfer, with: .failure(CancellationError()))
                }
            }

            var running: Int32 = 0
            curl_multi_perform(multi, &running)
            var queued: Int32 = 0
            while let message = curl_multi_info_read(multi, &queued) {
                guard message.pointee.msg == CURLMSG_DONE, let handle = message.pointee.easy_handle,
                    let transfer = transfers[handle]
                else { continue }
                finish(transfer, with: transfer.outcome(code: ccurl_msg_result(message)).mapError { $0 })
            }

            var wakeup = curl_waitfd(fd: wakeReader, events: Int16(CURL_WAIT_POLLIN), revents: 0)
            curl_multi_poll(multi, &wakeup, 1, 1000, nil)
            if wakeup.revents != 0 {
                var drain = [UInt8](repeating: 0, count: 256)
                while read(wakeReader, &drain, drain.count) > 0 {}
            }
        }
    }
}
