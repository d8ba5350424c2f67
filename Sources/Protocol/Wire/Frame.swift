import NIOCore

/// Frame limits shared by every connection.
public enum FrameLimits {
    /// Default largest payload accepted or sent: 16 MiB.
    public static let defaultMaxPayload = 16 * 1024 * 1024
    /// Largest payload a server reads before a hello is accepted: an unauthenticated client may
    /// not make it buffer or parse more. Every honest hello fits (joiners trim `known` to fit).
    public static let helloMaxPayload = 8 * 1024
    /// Bytes of the big-endian length prefix.
    public static let prefixLength = 4
}

/// A framing fault: the byte stream cannot be cut into frames any more.
public enum FrameError: Error, Equatable, CustomStringConvertible, Sendable {
    /// A frame announced a zero-length payload.
    case empty
    /// A frame announced more bytes than the limit allows.
    case oversized(length: Int, limit: Int)
    /// The stream ended in the middle of a frame.
    case truncated(have: Int, need: Int)

    public var description: String {
        switch self {
        case .empty: "frame with an empty payload (length 0)"
        case .oversized(let length, let limit): "frame of \(length) bytes is over the limit of \(limit) bytes"
        case .truncated(let have, let need): "connection ended mid-frame (\(have) of \(need) bytes)"
        }
    }
}

/// The largest payload a `FrameDecoder` accepts now; its connection raises it once the peer is
/// authenticated. Confined to the channel's event loop, like the decoder and the handler sharing it.
public final class FrameSizeLimit: @unchecked Sendable {
    /// Largest accepted payload in bytes.
    public var maxPayload: Int
    /// Creates a limit of `maxPayload` bytes.
    public init(maxPayload: Int) { self.maxPayload = maxPayload }
}

/// Cuts a byte stream into frame payloads: a UInt32 big-endian length, then that many bytes.
///
/// Never consumes a partial frame: the reader index moves only once a whole frame is buffered.
/// Oversized and empty frames are rejected as soon as their length prefix is seen, so a
/// peer cannot make us buffer more than the limit.
public struct FrameDecoder: ByteToMessageDecoder {
    public typealias InboundOut = ByteBuffer

    /// The limit, shared with the connection that may change it (by state: small before the hello).
    public let limit: FrameSizeLimit

    /// Largest accepted payload in bytes, now.
    public var maxPayload: Int { limit.maxPayload }

    /// Creates a decoder that accepts payloads of 1...`maxPayload` bytes.
    public init(maxPayload: Int = FrameLimits.defaultMaxPayload) {
        self.limit = FrameSizeLimit(maxPayload: maxPayload)
    }

    /// Creates a decoder whose limit `limit`'s owner may change between frames.
    public init(limit: FrameSizeLimit) {
        self.limit = limit
    }

    /// Returns the next whole payload from `buffer`, nil when more bytes are needed.
    public func nextFrame(_ buffer: inout ByteBuffer) throws -> ByteBuffer? {
        guard let length = buffer.getInteger(at: buffer.readerIndex, endianness: .big, as: UInt32.self) else {
            return nil
        }
        let payloadLength = Int(length)
        if payloadLength == 0 { throw FrameError.empty }
        if payloadLength > maxPayload { throw FrameError.oversized(length: payloadLength, limit: maxPayload) }
        guard buffer.readableBytes >= FrameLimits.prefixLength + payloadLength else { return nil }
        buffer.moveReaderIndex(forwardBy: FrameLimits.prefixLength)
        return buffer.readSlice(length: payloadLength)
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let frame = try nextFrame(&buffer) else { return .needMoreData }
        context.fireChannelRead(Self.wrapInboundOut(frame))
        return .continue
    }

    public mutating func decodeLast(
        context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool
    ) throws -> DecodingState {
        while let frame = try nextFrame(&buffer) {
            context.fireChannelRead(Self.wrapInboundOut(frame))
        }
        if buffer.readableBytes > 0 {
            let need: Int
            if let length = buffer.getInteger(at: buffer.readerIndex, endianness: .big, as: UInt32.self) {
                need = FrameLimits.prefixLength + Int(length)
            } else {
                need = FrameLimits.prefixLength
            }
            let have = buffer.readableBytes
            buffer.moveReaderIndex(to: buffer.writerIndex)
            throw FrameError.truncated(have: have, need: need)
        }
        return .needMoreData
    }
}

/// Builds frames: the length prefix followed by the payload.
public enum FrameEncoder {
    /// Returns `payload` framed, ready to write to a socket.
    public static func frame(_ payload: some Collection<UInt8>, allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: FrameLimits.prefixLength + payload.count)
        buffer.writeInteger(UInt32(payload.count), endianness: .big)
        buffer.writeBytes(payload)
        return buffer
    }
}
