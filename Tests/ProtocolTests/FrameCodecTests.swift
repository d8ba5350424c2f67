import CodeSyncProtocol
import CodeSyncTestSupport
import NIOCore
import NIOEmbedded
import Testing

@Suite(.ownThreads) struct FrameCodecTests {
    private let payloads: [[UInt8]] = [
        Array(#"{"type":"ping","id":1}"#.utf8),
        Array(#"{"type":"bye"}"#.utf8),
        Array("{\"type\":\"run.output\",\"run\":\"r\",\"stream\":\"stdout\",\"text\":\"héllo 🌍 漢字\"}".utf8),
        [UInt8](repeating: UInt8(ascii: "x"), count: 3000),
    ]

    private func stream() -> [UInt8] {
        payloads.flatMap { FrameEncoder.frame($0).readableBytesView }
    }

    /// Feeds `bytes` in chunks of `chunk` through a real pipeline decoder; returns the frames out.
    private func decode(_ bytes: [UInt8], chunk: Int, maxPayload: Int = FrameLimits.defaultMaxPayload) throws -> [[UInt8]] {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(FrameDecoder(maxPayload: maxPayload)))
        var out: [[UInt8]] = []
        var index = 0
        while index < bytes.count {
            let end = min(bytes.count, index + chunk)
            try channel.writeInbound(ByteBuffer(bytes: bytes[index..<end]))
            while let frame = try channel.readInbound(as: ByteBuffer.self) { out.append(Array(frame.readableBytesView)) }
            index = end
        }
        _ = try channel.finish()
        return out
    }

    @Test(arguments: [1, 2, 3, 5, 7, 64, 1 << 20])
    func sameFramesWhateverTheChunking(chunk: Int) throws {
        #expect(try decode(stream(), chunk: chunk) == payloads)
    }

    @Test func partialFrameIsNeverConsumed() throws {
        let decoder = FrameDecoder()
        let bytes = stream()
        let firstLength = payloads[0].count + 4
        for cut in 0..<firstLength {
            var buffer = ByteBuffer(bytes: bytes[0..<cut])
            #expect(try decoder.nextFrame(&buffer) == nil)
            #expect(buffer.readerIndex == 0)
        }
        var buffer = ByteBuffer(bytes: bytes[0..<firstLength])
        #expect(try decoder.nextFrame(&buffer).map { Array($0.readableBytesView) } == payloads[0])
        #expect(buffer.readableBytes == 0)
    }

    @Test func oversizedIsRejectedFromThePrefixAlone() throws {
        var buffer = ByteBuffer(bytes: [0x00, 0x00, 0x10, 0x01])  // 4097 bytes announced, none sent
        #expect(throws: FrameError.oversized(length: 4097, limit: 4096)) {
            try FrameDecoder(maxPayload: 4096).nextFrame(&buffer)
        }
        var huge = ByteBuffer(bytes: [0xff, 0xff, 0xff, 0xff])
        #expect(throws: FrameError.oversized(length: Int(UInt32.max), limit: FrameLimits.defaultMaxPayload)) {
            try FrameDecoder().nextFrame(&huge)
        }
    }

    @Test func exactlyTheLimitIsAccepted() throws {
        let payload = [UInt8](repeating: 0x20, count: 4096)
        #expect(try decode(Array(FrameEncoder.frame(payload).readableBytesView), chunk: 1000, maxPayload: 4096) == [payload])
    }

    @Test func emptyFrameIsAnError() throws {
        var buffer = ByteBuffer(bytes: [0, 0, 0, 0])
        #expect(throws: FrameError.empty) { try FrameDecoder().nextFrame(&buffer) }
    }

    @Test func streamEndingMidFrameIsTruncated() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(FrameDecoder()))
        let frame = Array(FrameEncoder.frame(payloads[2]).readableBytesView)
        try channel.writeInbound(ByteBuffer(bytes: frame[0..<(frame.count / 2)]))
        #expect(try channel.readInbound(as: ByteBuffer.self) == nil)
        #expect(throws: FrameError.truncated(have: frame.count / 2, need: frame.count)) {
            _ = try channel.finish()
        }
    }

    @Test func randomBytesGiveFramesOrATypedErrorNeverACrash() throws {
        var generator = SeededGenerator(seed: 42)
        for _ in 0..<500 {
            let count = Int.random(in: 1...64, using: &generator)
            let bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
            var buffer = ByteBuffer(bytes: bytes)
            do {
                while let frame = try FrameDecoder(maxPayload: 1 << 16).nextFrame(&buffer) {
                    do {
                        _ = try MessageCodec.decode(frame)
                    } catch is MessageError {
                        // expected for garbage
                    }
                }
            } catch is FrameError {
                // expected for garbage
            }
        }
    }
}
