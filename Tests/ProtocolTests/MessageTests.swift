import CodeSyncProtocol
import CodeSyncTestSupport
import Foundation
import Testing

@Suite(.ownThreads) struct MessageTests {
    /// Fenced blocks of docs/PROTOCOL.md whose info string is `tag`.
    static func goldenBlocks(_ tag: String) throws -> [String] {
        let url = TestEnvironment.packageRoot().appendingPathComponent("docs/PROTOCOL.md")
        let text = try String(contentsOf: url, encoding: .utf8)
        var blocks: [String] = []
        var current: [String]?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if current == nil, line == "```\(tag)" {
                current = []
            } else if current != nil, line == "```" {
                blocks.append(current!.joined(separator: "\n"))
                current = nil
            } else if current != nil {
                current!.append(String(line))
            }
        }
        return blocks
    }

    @Test func goldenMessagesInTheSpecRoundTripByteForByte() throws {
        let blocks = try Self.goldenBlocks("json golden")
        #expect(blocks.count >= 12)
        var types = Set<String>()
        for block in blocks {
            let message = try MessageCodec.decode(Array(block.utf8))
            if case .unknown = message { Issue.record("golden block decodes as unknown: \(block)") }
            types.insert(message.type)
            #expect(String(decoding: try MessageCodec.encode(message), as: UTF8.self) == block)
        }
        for type in ["challenge", "ack", "presence", "left", "ping", "pong", "error", "bye",
                     "run.request", "run.cancel", "run.started", "run.output", "run.exited", "run.config",
                     "lobby.wait", "lobby", "lobby.admit", "lobby.refuse", "peer.remove",
                     "files.list", "files", "file.open", "file.create", "file.rename", "file.delete", "file.changed"] {
            #expect(types.contains(type), "no golden frame for \(type)")
        }
    }

    @Test func goldenWholeFrameInTheSpec() throws {
        let blocks = try Self.goldenBlocks("hex golden")
        #expect(blocks.count == 1)
        let frame = try MessageCodec.frame(.ping(Ping(id: 1)))
        let hex = frame.readableBytesView.map { String(format: "%02x", $0) }.joined(separator: " ")
        #expect(blocks.first == hex)
    }

    @Test func documentExamplesInTheSpecDecode() throws {
        let blocks = try Self.goldenBlocks("json example")
        #expect(blocks.count == 5)
        var types: [String] = []
        for block in blocks {
            let message = try MessageCodec.decode(Array(block.utf8))
            types.append(message.type)
            #expect(try MessageCodec.decode(MessageCodec.encode(message)) == message)
        }
        #expect(types == ["hello", "welcome", "ops", "file.state", "doc.ops"])
    }

    @Test func unknownTypesDecodeAsUnknown() throws {
        for block in try Self.goldenBlocks("json unknown") {
            guard case .unknown(let type) = try MessageCodec.decode(Array(block.utf8)) else {
                Issue.record("expected unknown: \(block)")
                continue
            }
            #expect(!type.isEmpty)
        }
    }

    @Test(arguments: [
        "not json", "[1,2]", "{}", #"{"type":7}"#, #"{"type":"ack"}"#, #"{"type":"ack","seq":"one"}"#, "{\"type\":\"ping\",",
    ])
    func malformedPayloadsAreTypedErrors(payload: String) {
        #expect(throws: MessageError.self) { try MessageCodec.decode(Array(payload.utf8)) }
    }

    @Test func documentMessagesRoundTrip() throws {
        let alice = Replica(agent: "alice-1")
        let update = alice.insert("héllo 🌍", at: 0)
        let anchor = alice.anchor(at: 2, bias: .left)
        let messages: [WireMessage] = [
            .hello(Hello(version: 1, session: "ab12", peer: "alice-1", name: "Alice", role: .guest, nonce: "00ff",
                         proof: "aa", known: alice.version, key: nil)),
            .welcome(Welcome(version: 1, session: "ab12", peer: "bob-2", colour: 3, proof: "bb",
                             peers: [PresenceInfo(peer: "alice-1", name: "Alice", colour: 1, cursor: anchor, mark: nil)],
                             update: update, known: alice.version)),
            .ops(Ops(peer: "alice-1", seq: 7, update: update, sentAt: 1_700_000_000_000.5)),
            .presence(PresenceInfo(peer: "alice-1", name: "Alice", colour: 1, cursor: anchor, mark: anchor)),
        ]
        for message in messages {
            #expect(try MessageCodec.decode(MessageCodec.encode(message)) == message)
        }
    }

    @Test func oversizedMessageIsRefusedBeforeSending() {
        let big = WireMessage.runOutput(RunOutputMessage(run: "r", stream: .stdout, text: String(repeating: "x", count: 5000)))
        #expect(throws: FrameError.self) { try MessageCodec.frame(big, maxPayload: 4096) }
    }
}

@Suite(.ownThreads) struct AuthTests {
    @Test func secretsAreFreshAndAtLeast128Bits() {
        let secrets = (0..<50).map { _ in Auth.generateSecret() }
        #expect(Set(secrets).count == secrets.count)
        #expect(secrets.allSatisfy { $0.count == 32 && Auth.bytes(fromHex: $0)?.count == 16 })
    }

    @Test func proofsVerifyOnlyWithTheSameSecretNonceAndPeer() {
        let key = Auth.sessionKey(secret: "right")
        let proof = Auth.joinProof(key: key, serverNonce: "s", clientNonce: "c", session: "", peer: "p")
        #expect(Auth.verifyJoin(proof, key: key, serverNonce: "s", clientNonce: "c", session: "", peer: "p"))
        #expect(!Auth.verifyJoin(proof, key: Auth.sessionKey(secret: "wrong"), serverNonce: "s", clientNonce: "c", session: "", peer: "p"))
        #expect(!Auth.verifyJoin(proof, key: key, serverNonce: "s2", clientNonce: "c", session: "", peer: "p"))
        #expect(!Auth.verifyJoin(proof, key: key, serverNonce: "s", clientNonce: "c", session: "", peer: "q"))
        #expect(!Auth.verifyJoin("zz", key: key, serverNonce: "s", clientNonce: "c", session: "", peer: "p"))
        // A joiner's proof cannot be reflected back as the host's.
        #expect(!Auth.verifyWelcome(proof, key: key, serverNonce: "s", clientNonce: "c", session: "", peer: "p"))
    }

    @Test func theSecretNeverAppearsInTheHandshake() throws {
        let secret = Auth.generateSecret()
        let key = Auth.sessionKey(secret: secret)
        let hello = WireMessage.hello(Hello(
            version: 1, session: "s1", peer: "p", name: "n", role: .host, nonce: "c",
            proof: Auth.joinProof(key: key, serverNonce: "s", clientNonce: "c", session: "s1", peer: "p"),
            known: Replica(agent: "p").version, key: Auth.keyHex(key)))
        let json = String(decoding: try MessageCodec.encode(hello), as: UTF8.self)
        #expect(!json.contains(secret))
    }

    @Test(arguments: ["127.0.0.1:7878", "codesync://127.0.0.1:7878", "localhost:1/abc-123", "[::1]:9000/x"])
    func addressesParse(text: String) throws {
        let address = try SessionAddress(parsing: text)
        #expect(address.port > 0)
        #expect(try SessionAddress(parsing: address.description) == address)
    }

    @Test(arguments: ["", "host", "host:", "host:0", "host:99999", ":80", "host:80/bad session"])
    func badAddressesAreRejected(text: String) {
        #expect(throws: SessionError.self) { try SessionAddress(parsing: text) }
    }
}
