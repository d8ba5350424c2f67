@testable import CodeSyncRunner
import Testing
import CodeSyncTestSupport

@Suite(.ownThreads) struct HTTPResponseParserTests {
    /// Feeds `text` in slices of `size` bytes and returns the parser.
    func parse(_ text: String, slice size: Int, stopAfterHead: Bool = false) throws -> HTTPResponseParser {
        var parser = HTTPResponseParser()
        parser.stopAfterHead = stopAfterHead
        let bytes = Array(text.utf8)
        var index = 0
        while index < bytes.count {
            try parser.feed(bytes[index..<min(bytes.count, index + size)])
            index += size
        }
        return parser
    }

    @Test(arguments: [1, 2, 7, 1000])
    func contentLengthBodyInAnySlices(size: Int) throws {
        let parser = try parse("HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: 13\r\n\r\n{\"Id\":\"abc\"}\n", slice: size)
        #expect(parser.isComplete)
        #expect(parser.head?.status == 201)
        #expect(parser.head?.headers["content-type"] == "application/json")
        #expect(String(decoding: parser.body, as: UTF8.self) == "{\"Id\":\"abc\"}\n")
    }

    @Test(arguments: [1, 3, 1000])
    func chunkedBodyIsReassembled(size: Int) throws {
        let text = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\n\r\n"
        let parser = try parse(text, slice: size)
        #expect(parser.isComplete)
        #expect(String(decoding: parser.body, as: UTF8.self) == "hello, world")
    }

    @Test func bodyUntilCloseCompletesOnFinish() throws {
        var parser = try parse("HTTP/1.1 200 OK\r\n\r\nsome bytes", slice: 4)
        #expect(!parser.isComplete)
        try parser.finish()
        #expect(parser.isComplete)
        #expect(String(decoding: parser.body, as: UTF8.self) == "some bytes")
    }

    @Test func truncatedResponseIsAnError() throws {
        var parser = try parse("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", slice: 100)
        #expect(throws: HTTPResponseParser.ParseError.self) { try parser.finish() }
    }

    @Test func noContentHasNoBody() throws {
        let parser = try parse("HTTP/1.1 204 No Content\r\nApi-Version: 1.41\r\n\r\n", slice: 5)
        #expect(parser.isComplete)
        #expect(parser.body.isEmpty)
    }

    @Test func upgradeKeepsTheRawStreamAsRemainder() throws {
        let text = "HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n\u{1}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{2}hi"
        let parser = try parse(text, slice: 1, stopAfterHead: true)
        #expect(parser.head?.status == 101)
        #expect(parser.remainder == [1, 0, 0, 0, 0, 0, 0, 2, 104, 105])
    }

    @Test func garbageIsATypedError() {
        #expect(throws: HTTPResponseParser.ParseError.self) {
            _ = try parse("SSH-2.0-OpenSSH\r\n\r\n", slice: 3)
        }
        #expect(throws: HTTPResponseParser.ParseError.self) {
            _ = try parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", slice: 3)
        }
    }
}

@Suite(.ownThreads) struct AttachStreamDecoderTests {
    func frame(_ id: UInt8, _ text: String) -> [UInt8] {
        let payload = Array(text.utf8)
        let n = UInt32(payload.count)
        return [id, 0, 0, 0, UInt8(n >> 24), UInt8(n >> 16 & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n & 0xFF)] + payload
    }

    @Test(arguments: [1, 5, 9, 4096])
    func framesSurviveAnySlicing(size: Int) throws {
        let bytes = frame(1, "out one\n") + frame(2, "err\n") + frame(1, "") + frame(1, String(repeating: "x", count: 70_000))
        var decoder = AttachStreamDecoder()
        var frames: [AttachStreamDecoder.Frame] = []
        var index = 0
        while index < bytes.count {
            frames += try decoder.feed(bytes[index..<min(bytes.count, index + size)])
            index += size
        }
        #expect(frames.map(\.stream) == [.stdout, .stderr, .stdout])
        #expect(frames.map(\.payload.count) == [8, 4, 70_000])
        #expect(decoder.bufferedCount == 0)
    }

    @Test func partialFrameWaits() throws {
        var decoder = AttachStreamDecoder()
        let bytes = frame(2, "abc")
        #expect(try decoder.feed(bytes.prefix(10)).isEmpty)
        #expect(try decoder.feed(bytes.dropFirst(10)) == [.init(stream: .stderr, payload: Array("abc".utf8))])
    }

    @Test func unknownStreamIdIsAnError() {
        var decoder = AttachStreamDecoder()
        #expect(throws: AttachStreamDecoder.DecodeError.badStreamID(7)) { _ = try decoder.feed([7, 0, 0, 0, 0, 0, 0, 0]) }
    }
}

@Suite(.ownThreads) struct MarkerSplitterTests {
    @Test(arguments: [1, 2, 5, 100])
    func markerIsFoundAcrossChunks(size: Int) {
        let marker = Loader.buildMarker
        let stream = Array("warning: x\n".utf8) + marker + Array("program err\n".utf8)
        var splitter = MarkerSplitter(marker: marker)
        var before: [UInt8] = [], after: [UInt8] = []
        var index = 0
        while index < stream.count {
            let (b, a) = splitter.feed(Array(stream[index..<min(stream.count, index + size)]))
            before += b
            if let a { after += a }
            index += size
        }
        #expect(splitter.found)
        #expect(String(decoding: before, as: UTF8.self) == "warning: x\n")
        #expect(String(decoding: after, as: UTF8.self) == "program err\n")
    }

    @Test func withoutMarkerEverythingComesOut() {
        var splitter = MarkerSplitter(marker: Loader.buildMarker)
        let partial = Array(Loader.buildMarker.prefix(3))
        let (before, after) = splitter.feed(Array("error: x\n".utf8) + partial)
        #expect(after == nil)
        #expect(before + splitter.flush() == Array("error: x\n".utf8) + partial)
    }
}
