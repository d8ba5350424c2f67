/// What a peer that joins during a run is sent before the live stream: the run's start and the
/// last `limit` bytes of its output (older output is dropped, so a chatty run costs bounded memory).
struct RunReplay {
    /// The most output text kept, in UTF-8 bytes.
    static let limit = 256 * 1024

    let started: RunStartedMessage
    private var chunks: [RunOutputMessage] = []
    private var head = 0
    private(set) var bytes = 0

    init(started: RunStartedMessage) { self.started = started }

    /// Keeps `output`, dropping the oldest text beyond the limit.
    mutating func append(_ output: RunOutputMessage) {
        chunks.append(output)
        bytes += output.text.utf8.count
        while bytes > Self.limit, head < chunks.count {
            let first = chunks[head]
            let size = first.text.utf8.count
            let excess = bytes - Self.limit
            if size <= excess {
                head += 1
                bytes -= size
            } else {
                // Cut inside the chunk, at a character boundary (never half a UTF-8 sequence).
                let utf8 = Array(first.text.utf8)
                var cut = excess
                while cut < utf8.count && utf8[cut] & 0xC0 == 0x80 { cut += 1 }
                chunks[head].text = String(decoding: utf8[cut...], as: UTF8.self)
                bytes -= cut
            }
        }
        if head > 64 && head * 2 > chunks.count {
            chunks.removeFirst(head)
            head = 0
        }
    }

    /// The messages to send, in order.
    var messages: [WireMessage] { [.runStarted(started)] + chunks[head...].map { .runOutput($0) } }
}
