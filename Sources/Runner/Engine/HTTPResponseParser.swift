/// The head of an HTTP/1.1 response: status and headers (names lower-cased).
struct HTTPResponseHead: Sendable, Equatable {
    var status: Int
    var reason: String
    var headers: [String: String]
}

/// An HTTP/1.1 response parser fed with arbitrary slices of bytes (drip-feed safe, no I/O).
///
/// Bodies are framed by Content-Length, chunked transfer encoding, or the end of the connection.
/// For a hijacked connection (Docker attach) the caller stops after the head and takes
/// `remainder` as the first bytes of the raw stream.
struct HTTPResponseParser: Sendable {
    enum ParseError: Error, Equatable {
        case malformedHead(String)
        case malformedChunk
        case headTooLarge
    }

    private enum State: Sendable {
        case head
        case fixed(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkDataEnd
        case trailers
        case untilClose
        case done
    }

    private var state = State.head
    private var buffer: [UInt8] = []
    private(set) var head: HTTPResponseHead?
    private(set) var body: [UInt8] = []
    /// When true, parsing stops after the head and everything after it stays in `remainder`.
    var stopAfterHead = false
    /// Maximum size of the status line plus headers.
    static let maxHeadBytes = 64 * 1024

    /// True once the whole response has been read.
    var isComplete: Bool {
        if case .done = state { return true }
        return false
    }

    /// Bytes received after the head when `stopAfterHead` is set.
    var remainder: [UInt8] { stopAfterHead && head != nil ? buffer : [] }

    /// Feeds more bytes from the connection.
    mutating func feed(_ bytes: some Sequence<UInt8>) throws {
        buffer.append(contentsOf: bytes)
        try advance()
    }

    /// Tells the parser the connection has ended; completes a body framed by end of connection.
    mutating func finish() throws {
        switch state {
        case .untilClose:
            body.append(contentsOf: buffer)
            buffer.removeAll()
            state = .done
        case .done:
            break
        case .head where stopAfterHead && head != nil:
            break
        default:
            throw ParseError.malformedHead("connection closed before the response was complete")
        }
    }

    private mutating func advance() throws {
        while true {
            switch state {
            case .head:
                if stopAfterHead && head != nil { return }
                guard let end = find([13, 10, 13, 10]) else {
                    if buffer.count > Self.maxHeadBytes { throw ParseError.headTooLarge }
                    return
                }
                let text = String(decoding: buffer[..<end], as: UTF8.self)
                buffer.removeFirst(end + 4)
                let parsed = try Self.parseHead(text)
                // 1xx other than 101 are interim responses: skip them.
                if parsed.status >= 100 && parsed.status < 200 && parsed.status != 101 { continue }
                head = parsed
                if stopAfterHead { return }
                state = Self.bodyState(for: parsed)
            case .fixed(let remaining):
                let take = min(remaining, buffer.count)
                body.append(contentsOf: buffer[..<take])
                buffer.removeFirst(take)
                if remaining - take == 0 { state = .done } else { state = .fixed(remaining: remaining - take); return }
            case .chunkSize:
                guard let end = find([13, 10]) else { return }
                let line = String(decoding: buffer[..<end], as: UTF8.self)
                buffer.removeFirst(end + 2)
                let sizeText = line.split(separator: ";", maxSplits: 1).first.map(String.init) ?? ""
                guard let size = Int(sizeText.trimmingSpaces, radix: 16), size >= 0 else { throw ParseError.malformedChunk }
                state = size == 0 ? .trailers : .chunkData(remaining: size)
            case .chunkData(let remaining):
                let take = min(remaining, buffer.count)
                body.append(contentsOf: buffer[..<take])
                buffer.removeFirst(take)
                if remaining - take == 0 { state = .chunkDataEnd } else { state = .chunkData(remaining: remaining - take); return }
            case .chunkDataEnd:
                guard buffer.count >= 2 else { return }
                guard buffer[0] == 13, buffer[1] == 10 else { throw ParseError.malformedChunk }
                buffer.removeFirst(2)
                state = .chunkSize
            case .trailers:
                guard let end = find([13, 10]) else { return }
                buffer.removeFirst(end + 2)
                if end == 0 { state = .done }
            case .untilClose:
                body.append(contentsOf: buffer)
                buffer.removeAll()
                return
            case .done:
                return
            }
        }
    }

    private static func bodyState(for head: HTTPResponseHead) -> State {
        if head.status == 204 || head.status == 304 { return .done }
        if let encoding = head.headers["transfer-encoding"], encoding.lowercased().contains("chunked") {
            return .chunkSize
        }
        if let length = head.headers["content-length"].flatMap({ Int($0.trimmingSpaces) }) {
            return length == 0 ? .done : .fixed(remaining: length)
        }
        return .untilClose
    }

    private static func parseHead(_ text: String) throws -> HTTPResponseHead {
        var lines = text.split(separator: "\r\n", omittingEmptySubsequences: false).map(String.init)
        guard !lines.isEmpty else { throw ParseError.malformedHead("empty response") }
        let statusLine = lines.removeFirst()
        let parts = statusLine.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: true)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let status = Int(parts[1]) else {
            throw ParseError.malformedHead("bad status line: \(statusLine.prefix(80))")
        }
        var headers: [String: String] = [:]
        for line in lines where !line.isEmpty {
            guard let colon = line.firstIndex(of: ":") else {
                throw ParseError.malformedHead("bad header line: \(line.prefix(80))")
            }
            let name = line[..<colon].lowercased()
            let value = String(line[line.index(after: colon)...]).trimmingSpaces
            headers[name] = headers[name].map { "\($0), \(value)" } ?? value
        }
        return HTTPResponseHead(status: status, reason: parts.count > 2 ? String(parts[2]) : "", headers: headers)
    }

    private func find(_ needle: [UInt8]) -> Int? {
        guard buffer.count >= needle.count else { return nil }
        var index = 0
        while index + needle.count <= buffer.count {
            if buffer[index] == needle[0] && Array(buffer[index..<index + needle.count]) == needle { return index }
            index += 1
        }
        return nil
    }
}

extension String {
    var trimmingSpaces: String {
        var scalars = Substring(self)
        while let first = scalars.first, first == " " || first == "\t" { scalars.removeFirst() }
        while let last = scalars.last, last == " " || last == "\t" { scalars.removeLast() }
        return String(scalars)
    }
}
