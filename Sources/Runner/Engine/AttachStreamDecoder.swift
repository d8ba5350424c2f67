/// Splits Docker's multiplexed attach stream (no TTY) into frames, fed with arbitrary slices.
///
/// Each frame is an 8-byte header — stream id (0 stdin, 1 stdout, 2 stderr), three zero bytes,
/// a big-endian UInt32 payload length — followed by the payload. Partial frames stay buffered.
struct AttachStreamDecoder: Sendable {
    /// One decoded frame.
    struct Frame: Sendable, Equatable {
        var stream: OutputStreamKind
        var payload: [UInt8]
    }

    enum DecodeError: Error, Equatable {
        case badStreamID(UInt8)
    }

    private var buffer: [UInt8] = []
    private var start = 0

    /// Bytes held for a frame that is not complete yet.
    var bufferedCount: Int { buffer.count - start }

    /// Feeds bytes and returns every frame completed by them, in order.
    mutating func feed(_ bytes: some Collection<UInt8>) throws -> [Frame] {
        buffer.append(contentsOf: bytes)
        var frames: [Frame] = []
        while buffer.count - start >= 8 {
            let id = buffer[start]
            let length = Int(buffer[start + 4]) << 24 | Int(buffer[start + 5]) << 16
                | Int(buffer[start + 6]) << 8 | Int(buffer[start + 7])
            guard buffer.count - start >= 8 + length else { break }
            let stream: OutputStreamKind
            switch id {
            case 0, 1: stream = .stdout  // stdin frames do not occur for readers; treat as stdout
            case 2: stream = .stderr
            default: throw DecodeError.badStreamID(id)
            }
            if length > 0 {
                frames.append(Frame(stream: stream, payload: Array(buffer[(start + 8)..<(start + 8 + length)])))
            }
            start += 8 + length
        }
        // Compact occasionally so the buffer does not grow without bound.
        if start > 0 && (start == buffer.count || start > 64 * 1024) {
            buffer.removeFirst(start)
            start = 0
        }
        return frames
    }
}
