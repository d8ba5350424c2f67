import CodeSyncProtocol
import CodeSyncTestSupport
import Foundation
import Testing

/// Helpers shared by the secure-channel suites.
enum SecureTestSupport {
    static let session = "3f2a1c9b8d7e6f50"

    /// The `noise vector` block of docs/PROTOCOL.md as ordered `name = value` pairs.
    static func vectorLines() throws -> [(name: String, value: String)] {
        let blocks = try MessageTests.goldenBlocks("noise vector")
        try #require(blocks.count == 1, "docs/PROTOCOL.md needs exactly one `noise vector` block")
        return try blocks[0].split(separator: "\n").map { line in
            let parts = line.split(separator: " = ", maxSplits: 1, omittingEmptySubsequences: false)
            try #require(parts.count == 2, "vector line without ` = `: \(line)")
            return (String(parts[0]), String(parts[1]))
        }
    }

    static func bytes(_ hex: String) throws -> [UInt8] {
        try #require(Auth.bytes(fromHex: hex), "not hex: \(hex)")
    }

    /// A finished handshake between a joiner and a host sharing `secret`.
    static func pair(secret: String = "0123456789abcdef0123456789abcdef") throws -> (joiner: SecureTransport, host: SecureTransport) {
        let psk = SecureChannel.psk(secret: secret)
        var initiator = try SecureInitiator(psk: psk, session: session)
        let outcome = try SecureResponder.respond(to: try initiator.start(), psks: [psk], session: session)
        return (try initiator.finish(reply: outcome.reply), outcome.transport)
    }

    /// A version-2 frame: the plaintext the secure channel carries.
    static func frame(_ json: String) -> [UInt8] {
        let body = Array(json.utf8)
        return withUnsafeBytes(of: UInt32(body.count).bigEndian) { Array($0) } + body
    }
}

@Suite(.ownThreads) struct SecureChannelTests {
    @Test func specVectorIsReproducedByteForByte() throws {
        let lines = try SecureTestSupport.vectorLines()
        let v = Dictionary(lines.map { ($0.name, $0.value) }, uniquingKeysWith: { first, _ in first })
        #expect(v.count == lines.count, "duplicate names in the vector")
        let secret = try #require(v["secret"]), session = try #require(v["session"])
        let psk = SecureChannel.psk(secret: secret)
        #expect(Auth.hex(psk) == v["psk"])
        #expect(Auth.hex(SecureChannel.prologue(session: session)) == v["prologue"])

        var initiator = try SecureInitiator(
            psk: psk, session: session, fixedEphemeral: try SecureTestSupport.bytes(try #require(v["initiator ephemeral private"])))
        let message1 = try initiator.start()
        #expect(Auth.hex(message1) == v["message 1"])
        let outcome = try SecureResponder.respond(
            to: message1, psks: [psk], session: session,
            fixedEphemeral: try SecureTestSupport.bytes(try #require(v["responder ephemeral private"])))
        #expect(Auth.hex(outcome.reply) == v["message 2"])
        var joiner = try initiator.finish(reply: outcome.reply)
        var host = outcome.transport
        #expect(Auth.hex(joiner.handshakeHash) == v["handshake hash"])
        #expect(joiner.handshakeHash == host.handshakeHash)

        var checked = 0
        for number in 1... {
            if let close = v["record \(number) initiator close"] {
                #expect(Auth.hex(try joiner.sealClose()) == close)
                #expect(try host.open(try SecureTestSupport.bytes(close)) == .close)
                checked += 1
                break
            }
            guard let sender = ["initiator", "responder"].first(where: { v["record \(number) \($0)"] != nil }) else { break }
            let plaintext = try SecureTestSupport.bytes(try #require(v["record \(number) \(sender) plaintext"]))
            let expected = try #require(v["record \(number) \(sender)"])
            if sender == "initiator" {
                #expect(try joiner.seal(plaintext).map(Auth.hex) == [expected])
                #expect(try host.open(try SecureTestSupport.bytes(expected)) == .data(plaintext))
            } else {
                #expect(try host.seal(plaintext).map(Auth.hex) == [expected])
                #expect(try joiner.open(try SecureTestSupport.bytes(expected)) == .data(plaintext))
            }
            checked += 1
        }
        #expect(checked == 4, "the vector has three data records and a close")
        try host.checkEnd()
    }

    @Test func framesOfAnySizeCrossInOrderAndTheCloseEndsCleanly() throws {
        var (joiner, host) = try SecureTestSupport.pair()
        var generator = SeededGenerator(seed: 13)
        var reader = SecureRecordReader()
        var sent: [UInt8] = [], received: [UInt8] = []
        for size in [1, 22, 65_518, 65_519, 65_520, 200_000, 3] {
            let plaintext = (0..<size).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let records = try joiner.seal(plaintext)
            #expect(records.count == (size + SecureChannel.maxPlaintextPerRecord - 1) / SecureChannel.maxPlaintextPerRecord)
            #expect(records.allSatisfy { $0.count <= SecureChannel.maxRecord })
            sent += plaintext
            // Deliver the wire bytes in awkward pieces, as TCP may.
            let wire = SecureRecordReader.wire(records)
            var offset = 0
            while offset < wire.count {
                let piece = min(Int.random(in: 1...70_000, using: &generator), wire.count - offset)
                reader.append(Array(wire[offset..<offset + piece]))
                offset += piece
                while let record = try reader.next() {
                    guard case .data(let bytes) = try host.open(record) else { Issue.record("unexpected close"); return }
                    received += bytes
                }
            }
        }
        #expect(received == sent)
        #expect(try joiner.seal([]).isEmpty)
        reader.append(SecureRecordReader.wire([try joiner.sealClose()]))
        #expect(try host.open(try #require(try reader.next())) == .close)
        try reader.finish()
        try host.checkEnd()
        #expect(throws: SecureChannelError.closedForSending) { try joiner.seal([1]) }
    }

    @Test func hostTellsTheEditSecretFromTheWatchOnlySecret() throws {
        let edit = "0123456789abcdef0123456789abcdef"
        let candidates = [SecureChannel.psk(secret: edit), SecureChannel.psk(secret: Auth.viewSecret(for: edit))]
        for (index, secret) in [edit, Auth.viewSecret(for: edit)].enumerated() {
            var initiator = try SecureInitiator(psk: SecureChannel.psk(secret: secret), session: SecureTestSupport.session)
            let outcome = try SecureResponder.respond(to: try initiator.start(), psks: candidates, session: SecureTestSupport.session)
            #expect(outcome.matched == index)
            var joiner = try initiator.finish(reply: outcome.reply)
            var host = outcome.transport
            #expect(!host.peerConfirmed, "message 1 alone can be a replay")
            let hello = SecureTestSupport.frame(#"{"type":"hello"}"#)
            #expect(try host.open(try joiner.seal(hello)[0]) == .data(hello))
            #expect(host.peerConfirmed)
        }
    }

    /// Not a benchmark (debug build, shared machine): the order of magnitude for the lead.
    @Test func costOrderOfMagnitude() throws {
        let clock = ContinuousClock()
        let handshakes = 200
        let handshakeTime = try clock.measure {
            for _ in 0..<handshakes { _ = try SecureTestSupport.pair() }
        }
        var (joiner, host) = try SecureTestSupport.pair()
        let frame = SecureTestSupport.frame(#"{"peer":"alice-3f2a1c","seq":12,"type":"ops","update":{"ops":[[1,2,"x"]]}}"#)
        let frames = 20_000
        var opened = 0
        let frameTime = try clock.measure {
            for _ in 0..<frames {
                for record in try joiner.seal(frame) where try host.open(record) == .data(frame) { opened += 1 }
            }
        }
        let big = [UInt8](repeating: 0x61, count: SecureChannel.maxPlaintextPerRecord)
        let bigRecords = 500
        var bigOpened = 0
        let bigTime = try clock.measure {
            for _ in 0..<bigRecords {
                for record in try host.seal(big) where try joiner.open(record) == .data(big) { bigOpened += 1 }
            }
        }
        #expect(opened == frames && bigOpened == bigRecords)
        func micros(_ duration: Duration, _ count: Int) -> String {
            let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
            return String(format: "%.1f µs", seconds * 1e6 / Double(count))
        }
        print("secure channel cost (this build, not a benchmark): handshake \(micros(handshakeTime, handshakes)) "
            + "(both sides); seal+open of a \(frame.count)-byte frame \(micros(frameTime, frames)); "
            + "seal+open of a full \(SecureChannel.maxRecord)-byte record \(micros(bigTime, bigRecords))")
    }
}
