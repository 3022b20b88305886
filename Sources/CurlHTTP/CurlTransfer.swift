import CCurl
import Foundation

/// What the transfer thread needs to run one request: the request, the client's settings and its token source.
struct PreparedRequest: Sendable {
    var request: HTTPRequest
    var configuration: HTTPClientConfiguration
    var tokenFile: TokenFile?
}

/// One transfer, owned by the transfer thread from creation to cleanup: the easy handle, its header list,
/// its error buffer and the response as it arrives.
///
/// Not `Sendable` on purpose: it never leaves ``CurlTransferLoop``'s thread. libcurl's callbacks find it
/// through an unretained `Unmanaged` pointer; the loop keeps it alive while the handle is in the multi handle.
final class CurlTransfer {
    let id: UInt64
    let handle: UnsafeMutableRawPointer
    let continuation: CheckedContinuation<HTTPResponse, any Error>
    let url: String
    private let maxResponseBytes: Int
    private var headerList: UnsafeMutablePointer<curl_slist>?
    private let errorBuffer: UnsafeMutablePointer<CChar>
    private var body = Data()
    private var headers: [HTTPHeader] = []
    private var exceededLimit = false

    /// Creates the easy handle and sets every option; throws when an option is refused or credentials fail.
    init(id: UInt64, prepared: PreparedRequest, continuation: CheckedContinuation<HTTPResponse, any Error>) throws(HTTPClientError) {
        guard let handle = curl_easy_init() else {
            throw .transport(CurlFailure(code: Int(CURLE_FAILED_INIT.rawValue), message: "curl_easy_init failed", url: ""))
        }
        self.id = id
        self.handle = handle
        self.continuation = continuation
        self.url = URLRedaction.redacted(prepared.request.url)
        self.maxResponseBytes = prepared.configuration.maxResponseBytes
        self.errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE))
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
        try configure(prepared)
    }

    deinit {
        curl_easy_cleanup(handle)
        curl_slist_free_all(headerList)
        errorBuffer.deallocate()
    }

    /// The response, or the error, once libcurl reports the transfer done with `code`.
    func outcome(code: CURLcode) -> Result<HTTPResponse, HTTPClientError> {
        if exceededLimit { return .failure(.responseTooLarge(limit: maxResponseBytes)) }
        guard code == CURLE_OK else { return .failure(.transport(failure(code))) }
        var status = 0
        var connects = 0
        var micros: curl_off_t = 0
        _ = ccurl_easy_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        _ = ccurl_easy_getinfo_long(handle, CURLINFO_NUM_CONNECTS, &connects)
        _ = ccurl_easy_getinfo_off_t(handle, CURLINFO_TOTAL_TIME_T, &micros)
        return .success(
            HTTPResponse(status: status, headers: headers, body: body, newConnections: connects, totalTime: .microseconds(micros)))
    }

    // MARK: - Options

    private func configure(_ prepared: PreparedRequest) throws(HTTPClientError) {
        let request = prepared.request
        let configuration = prepared.configuration
        guard !request.url.isEmpty else { throw .invalidRequest("empty URL") }

        try set(CURLOPT_ERRORBUFFER, pointer: UnsafeMutableRawPointer(errorBuffer))
        try set(CURLOPT_URL, request.url)
        try set(CURLOPT_PROTOCOLS_STR, "http,https")
        try set(CURLOPT_NOSIGNAL, 1)
        try set(CURLOPT_TCP_KEEPALIVE, 1)
        try set(CURLOPT_CONNECTTIMEOUT_MS, Self.milliseconds(configuration.connectTimeout))
        try set(CURLOPT_TIMEOUT_MS, Self.milliseconds(request.timeout ?? configuration.timeout))
        try set(CURLOPT_USERAGENT, configuration.userAgent)
        if configuration.acceptCompressed { try set(CURLOPT_ACCEPT_ENCODING, "") }

        switch request.method {
        case .get: break
        case .head: try set(CURLOPT_NOBODY, 1)
        case .post: try set(CURLOPT_POST, 1)
        case .put, .patch, .delete: try set(CURLOPT_CUSTOMREQUEST, request.method.rawValue)
        }
        if let body = request.body {
            try set(CURLOPT_POSTFIELDSIZE_LARGE, offset: curl_off_t(body.count))
            let code = body.withUnsafeBytes { bytes in
                // COPYPOSTFIELDS copies the bytes, so the buffer need not outlive this call.
                ccurl_easy_setopt_pointer(
                    handle, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: bytes.baseAddress ?? UnsafeRawPointer(errorBuffer)))
            }
            try check(code)
        } else if request.method == .post {
            try set(CURLOPT_POSTFIELDSIZE_LARGE, offset: 0)
        }

        try configureTLS(configuration.tls)
        try configureHeaders(request: request, configuration: configuration, tokenFile: prepared.tokenFile)

        let userdata = Unmanaged.passUnretained(self).toOpaque()
        try set(CURLOPT_WRITEDATA, pointer: userdata)
        try set(CURLOPT_HEADERDATA, pointer: userdata)
        try check(
            ccurl_easy_setopt_write_function(handle, CURLOPT_WRITEFUNCTION) { data, size, count, userdata in
                guard let data, let userdata else { return 0 }
                let transfer = Unmanaged<CurlTransfer>.fromOpaque(userdata).takeUnretainedValue()
                return transfer.receiveBody(UnsafeRawBufferPointer(start: data, count: size * count))
            })
        try check(
            ccurl_easy_setopt_write_function(handle, CURLOPT_HEADERFUNCTION) { data, size, count, userdata in
                guard let data, let userdata else { return 0 }
                let transfer = Unmanaged<CurlTransfer>.fromOpaque(userdata).takeUnretainedValue()
                transfer.receiveHeaderLine(UnsafeRawBufferPointer(start: data, count: size * count))
                return size * count
            })
    }

    private func configureTLS(_ tls: TLSConfiguration) throws(HTTPClientError) {
        if let caFile = tls.caFile { try set(CURLOPT_CAINFO, caFile) }
        if let certificateFile = tls.certificateFile { try set(CURLOPT_SSLCERT, certificateFile) }
        if let keyFile = tls.keyFile { try set(CURLOPT_SSLKEY, keyFile) }
        if tls.insecureSkipVerify {
            try set(CURLOPT_SSL_VERIFYPEER, 0)
            try set(CURLOPT_SSL_VERIFYHOST, 0)
        }
    }

    private func configureHeaders(
        request: HTTPRequest, configuration: HTTPClientConfiguration, tokenFile: TokenFile?
    ) throws(HTTPClientError) {
        var fields = configuration.headers + request.headers
        // An empty `Expect:` stops libcurl from waiting for `100 Continue` before larger POST bodies.
        fields.append(HTTPHeader("Expect", ""))
        switch configuration.authorization {
        case .bearer(let token): fields.append(HTTPHeader("Authorization", "Bearer \(token)"))
        case .bearerTokenFile: if let tokenFile { fields.append(HTTPHeader("Authorization", "Bearer \(try tokenFile.token())")) }
        case .basic(let username, let password):
            fields.append(HTTPHeader("Authorization", "Basic \(Data("\(username):\(password)".utf8).base64EncodedString())"))
        case nil: break
        }
        for field in fields {
            guard !field.name.isEmpty, !(field.name + field.value).contains(where: \.isNewline) else {
                throw .invalidRequest("header \(field.name.debugDescription) has an empty name or a line break")
            }
            // "Name;" sends a header with an empty value; "Name:" removes one of libcurl's own.
            let line = field.value.isEmpty ? (field.name == "Expect" ? "Expect:" : "\(field.name);") : "\(field.name): \(field.value)"
            guard let appended = curl_slist_append(headerList, line) else {
                throw .invalidRequest("cannot allocate the header list")
            }
            headerList = appended
        }
        try check(ccurl_easy_setopt_slist(handle, CURLOPT_HTTPHEADER, headerList))
    }

    // MARK: - Callbacks

    private func receiveBody(_ bytes: UnsafeRawBufferPointer) -> Int {
        guard body.count + bytes.count <= maxResponseBytes else {
            exceededLimit = true
            return 0  // makes libcurl abort with CURLE_WRITE_ERROR
        }
        body.append(contentsOf: bytes)
        return bytes.count
    }

    private func receiveHeaderLine(_ bytes: UnsafeRawBufferPointer) {
        let line = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        if line.hasPrefix("HTTP/") {
            headers.removeAll()  // a new response begins (after 100 Continue or a redirect)
        } else if let colon = line.firstIndex(of: ":") {
            let name = String(line[..<colon])
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            headers.append(HTTPHeader(name, value))
            // Room for the whole body up front: a 20 MB answer would otherwise be copied as it grows. (For a
            // compressed answer this is the compressed size: still a lower bound.)
            if name.lowercased() == "content-length", let length = Int(value), length > body.count {
                body.reserveCapacity(min(length, maxResponseBytes))
            }
        }
    }

    // MARK: - Helpers

    private func set(_ option: CURLoption, _ value: Int) throws(HTTPClientError) {
        try check(ccurl_easy_setopt_long(handle, option, value))
    }

    private func set(_ option: CURLoption, offset value: curl_off_t) throws(HTTPClientError) {
        try check(ccurl_easy_setopt_off_t(handle, option, value))
    }

    private func set(_ option: CURLoption, _ value: String) throws(HTTPClientError) {
        try check(ccurl_easy_setopt_string(handle, option, value))
    }

    private func set(_ option: CURLoption, pointer value: UnsafeMutableRawPointer) throws(HTTPClientError) {
        try check(ccurl_easy_setopt_pointer(handle, option, value))
    }

    private func check(_ code: CURLcode) throws(HTTPClientError) {
        guard code == CURLE_OK else { throw .transport(failure(code)) }
    }

    private func failure(_ code: CURLcode) -> CurlFailure {
        let detail = String(cString: errorBuffer)
        let message = detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
        return CurlFailure(code: Int(code.rawValue), message: message, url: url)
    }

    private static func milliseconds(_ duration: Duration) -> Int {
        let (seconds, attoseconds) = duration.components
        return max(1, Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000))
    }
}
