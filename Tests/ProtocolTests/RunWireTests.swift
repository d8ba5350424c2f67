import CodeSyncProtocol
import Foundation
import Testing
import CodeSyncTestSupport

/// `run.output`'s stream and `run.exited`'s outcome are enums in code and the same JSON on the wire;
/// a name this build does not know is malformed input, refused with a message that says what is wrong.
@Suite(.ownThreads) struct RunWireTests {
    @Test func everyStreamAndEndingIsTheDocumentedName() throws {
        #expect(RunStream.allCases.map(\.rawValue) == ["stdout", "stderr"])
        #expect(RunEnding.allCases.map(\.rawValue) == ["exited", "timedOut", "outOfMemory", "killed", "outputLimit",
                                                      "cancelled", "buildFailed", "buildTimedOut", "failed"])
        for stream in RunStream.allCases {
            let message = WireMessage.runOutput(RunOutputMessage(run: "r1", stream: stream, text: "x"))
            let json = String(decoding: try MessageCodec.encode(message), as: UTF8.self)
            #expect(json == "{\"run\":\"r1\",\"stream\":\"\(stream.rawValue)\",\"text\":\"x\",\"type\":\"run.output\"}")
            #expect(try MessageCodec.decode(Array(json.utf8)) == message)
        }
        for ending in RunEnding.allCases {
            let message = WireMessage.runExited(RunExitedMessage(run: "r1", outcome: ending, code: nil, durationMs: 3))
            let json = String(decoding: try MessageCodec.encode(message), as: UTF8.self)
            #expect(json == "{\"durationMs\":3,\"outcome\":\"\(ending.rawValue)\",\"run\":\"r1\",\"type\":\"run.exited\"}")
            #expect(try MessageCodec.decode(Array(json.utf8)) == message)
        }
    }

    @Test(arguments: ["STDOUT", "stdin", "", "stderr ", "\u{1B}[2J"])
    func anUnknownStreamIsRefused(_ name: String) throws {
        let json = try JSONSerialization.data(withJSONObject: ["type": "run.output", "run": "r1", "stream": name, "text": "x"] as [String: Any])
        let error = try #require(throws: MessageError.self) { try MessageCodec.decode(Array(json)) }
        #expect(error.code == .json)
        #expect(error.description.contains("unknown run stream"), "\(error)")
        #expect(error.description.contains("expected stdout or stderr"), "\(error)")
    }

    @Test(arguments: ["Exited", "crashed", "", "failed\u{0}"])
    func anUnknownOutcomeIsRefused(_ name: String) throws {
        let json = try JSONSerialization.data(withJSONObject: ["type": "run.exited", "run": "r1", "outcome": name, "durationMs": 1] as [String: Any])
        let error = try #require(throws: MessageError.self) { try MessageCodec.decode(Array(json)) }
        #expect(error.code == .json)
        #expect(error.description.contains("unknown run outcome"), "\(error)")
        #expect(error.description.contains("buildTimedOut"), "\(error)")
    }

    @Test func aHugeUnknownNameIsNotEchoedWhole() throws {
        let name = String(repeating: "x", count: 10_000)
        let json = try JSONSerialization.data(withJSONObject: ["type": "run.output", "run": "r1", "stream": name, "text": "x"] as [String: Any])
        let error = try #require(throws: MessageError.self) { try MessageCodec.decode(Array(json)) }
        #expect(error.description.count < 200, "\(error.description.count) characters")
    }

    @Test func aStreamOfTheWrongTypeIsRefused() throws {
        let json = Array(#"{"run":"r1","stream":1,"text":"x","type":"run.output"}"#.utf8)
        #expect(throws: MessageError.self) { try MessageCodec.decode(json) }
    }
}

/// On a live server: a peer's run message with a stream or outcome this build does not know gets
/// a `json` error naming it, and the session's honest peers edit on.
@Suite(.ownThreads, .serialized, .timeLimit(.minutes(5))) struct RunWireSessionTests {
    @Test func aRunMessageWithAnUnknownNameIsRefusedWhileEditsGoOn() async throws {
        let session = try await HostileWireTests.Session.start()
        let frames = [
            (#"{"run":"r1","stream":"stdin","text":"x","type":"run.output"}"#, "unknown run stream 'stdin'"),
            (#"{"durationMs":1,"outcome":"crashed","run":"r1","type":"run.exited"}"#, "unknown run outcome 'crashed'"),
        ]
        for (index, (json, words)) in frames.enumerated() {
            let raw = try RawClient(port: session.server.port)
            #expect(try await raw.authenticate(peer: "raw-\(index)") != nil)
            raw.write(raw.frame(Array(json.utf8)))
            let error = await raw.readError()
            #expect(error?.code == .json, "\(String(describing: error))")
            #expect(error?.message.contains(words) == true, "\(String(describing: error))")
        }
        await session.expectUndisturbedAndStop()
    }
}
