import CodeSyncProtocol
import CodeSyncTestSupport
import Foundation
import Testing

/// What an attacker on the path (a relay, a proxy) can do to the secure channel, and the
/// typed, readable refusal each one gets.
@Suite(.ownThreads) struct SecureChannelAttackTests {
    let secret = "0123456789abcdef0123456789abcdef"
    let session = SecureTestSupport.session
    var psk: [UInt8] { SecureChannel.psk(secret: secret) }

    func flippingEachBit(of message: [UInt8], _ body: ([UInt8]) -> Void) {
        for bit in 0..<message.count * 8 {
            var damaged = message
            damaged[bit / 8] ^= UInt8(1) << UInt8(bit % 8)
            body(damaged)
        }
    }

    @Test func keysOfTheWrongSizeAreRefusedNotACrash() {
        #expect(throws: SecureChannelError.badKeyLength(what: "PSK", length: 31)) {
            _ = try SecureInitiator(psk: Array(repeating: 1, count: 31), session: session)
        }
        #expect(throws: SecureChannelError.badKeyLength(what: "fixed ephemeral key", length: 0)) {
            _ = try SecureInitiator(psk: psk, session: session, fixedEphemeral: [])
        }
    }

    @Test func everyFlippedBitInEitherHandshakeMessageFailsTheHandshake() throws {
        var initiator = try SecureInitiator(psk: psk, session: session)
        let message1 = try initiator.start()
        flippingEachBit(of: message1) { damaged in
            #expect(throws: SecureChannelError.handshakeFailed) {
                _ = try SecureResponder.respond(to: damaged, psks: [psk], session: session)
            }
        }
        let reply = try SecureResponder.respond(to: message1, psks: [psk], session: session).reply
        flippingEachBit(of: reply) { damaged in
            var fresh = initiator
            #expect(throws: SecureChannelError.handshakeFailed) { _ = try fresh.finish(reply: damaged) }
        }
        // The untouched reply still completes: the refusals above were the damage, not the setup.
        _ = try initiator.finish(reply: reply)
    }

    @Test func everyFlippedBitInARecordFailsAuthenticationAndTheChannelStaysFailed() throws {
        var (joiner, host) = try SecureTestSupport.pair()
        let record = try joiner.seal(SecureTestSupport.frame(#"{"id":1,"type":"ping"}"#))[0]
        flippingEachBit(of: record) { damaged in
            var receiver = host
            #expect(throws: SecureChannelError.authenticationFailed) { _ = try receiver.open(damaged) }
        }
        #expect(throws: SecureChannelError.authenticationFailed) { _ = try host.open(Array(record.reversed())) }
        // After a failure even the genuine record is refused: the connection has to go.
        #expect(throws: SecureChannelError.authenticationFailed) { _ = try host.open(record) }
        #expect(throws: SecureChannelError.authenticationFailed) { try host.checkEnd() }
        #expect(SecureChannelError.authenticationFailed.description
            == "the connection was tampered with or is out of order: message failed authentication")
    }

    @Test func replayedReorderedAndDroppedRecordsFail() throws {
        let (joiner, host) = try SecureTestSupport.pair()
        var sender = joiner
        let records = try (1...3).map { try sender.seal(SecureTestSupport.frame(#"{"id":\#($0),"type":"ping"}"#))[0] }

        var replay = host
        _ = try replay.open(records[0])
        #expect(throws: SecureChannelError.authenticationFailed) { _ = try replay.open(records[0]) }

        var reorder = host
        #expect(throws: SecureChannelError.authenticationFailed) { _ = try reorder.open(records[1]) }

        var drop = host
        _ = try drop.open(records[0])
        #expect(throws: SecureChannelError.authenticationFailed) { _ = try drop.open(records[2]) }

        var inOrder = host
        for record in records { guard case .data = try inOrder.open(record) else { Issue.record("not data"); return } }
    }

    @Test func reflectedMessagesFail() throws {
        var initiator = try SecureInitiator(psk: psk, session: session)
        let message1 = try initiator.start()
        var reflected = initiator
        #expect(throws: SecureChannelError.handshakeFailed) { _ = try reflected.finish(reply: message1) }

        var (joiner, host) = try SecureTestSupport.pair()
        let fromJoiner = try joiner.seal([1, 2, 3])[0]
        #expect(throws: SecureChannelError.authenticationFailed) { _ = try joiner.open(fromJoiner) }
        let fromHost = try host.seal([4, 5, 6])[0]
        #expect(throws: SecureChannelError.authenticationFailed) { _ = try host.open(fromHost) }
    }

    @Test func wrongSecretSessionOrVersionFailsTheHandshake() throws {
        var initiator = try SecureInitiator(psk: psk, session: session)
        let message1 = try initiator.start()
        let otherPSK = SecureChannel.psk(secret: "fedcba9876543210fedcba9876543210")
        #expect(throws: SecureChannelError.handshakeFailed) {
            _ = try SecureResponder.respond(to: message1, psks: [otherPSK], session: session)
        }
        #expect(throws: SecureChannelError.handshakeFailed) {
            _ = try SecureResponder.respond(to: message1, psks: [psk], session: "0000000000000000")
        }
        #expect(throws: SecureChannelError.handshakeFailed) {
            _ = try SecureResponder.respond(to: message1, psks: [psk], session: "")
        }
        // A joiner speaking another version: same secret and session, other prologue.
        var otherVersion = try NoiseHandshakeState(pattern: .nnPSK0, initiator: true,
                                               prologue: Array("codesync/3 session=\(session)".utf8), psk: psk)
        let versionMessage = try otherVersion.writeMessage()
        #expect(throws: SecureChannelError.handshakeFailed) {
            _ = try SecureResponder.respond(to: versionMessage, psks: [psk], session: session)
        }
        #expect(throws: SecureChannelError.handshakeFailed) {
            _ = try SecureResponder.respond(to: message1, psks: [], session: session)
        }
    }

    @Test func emptyShortAndOversizedMessagesAreRefusedBeforeDecrypting() throws {
        var (joiner, host) = try SecureTestSupport.pair()
        #expect(throws: SecureChannelError.handshakeLength(length: 0, expected: 48)) {
            _ = try SecureResponder.respond(to: [], psks: [psk], session: session)
        }
        var initiator = try SecureInitiator(psk: psk, session: session)
        let message1 = try initiator.start()
        #expect(throws: SecureChannelError.handshakeLength(length: 49, expected: 48)) {
            _ = try SecureResponder.respond(to: message1 + [0], psks: [psk], session: session)
        }
        #expect(throws: SecureChannelError.handshakeLength(length: 47, expected: 48)) {
            _ = try initiator.finish(reply: Array(message1.dropLast()))
        }

        var receiver = host
        #expect(throws: SecureChannelError.emptyRecord) { _ = try receiver.open([]) }
        receiver = host
        #expect(throws: SecureChannelError.recordTooShort(length: 15)) { _ = try receiver.open([UInt8](repeating: 0, count: 15)) }
        receiver = host
        #expect(throws: SecureChannelError.recordTooLarge(length: 65_536, limit: 65_535)) {
            _ = try receiver.open([UInt8](repeating: 0, count: 65_536))
        }

        // On the stream the length is refused as soon as its 4 bytes arrive, before the record.
        let prefixes: [([UInt8], SecureChannelError)] = [
            ([0, 0, 0, 0], .emptyRecord),
            ([0, 0, 0, 15], .recordTooShort(length: 15)),
            ([0, 1, 0, 0], .recordTooLarge(length: 65_536, limit: 65_535)),
            ([255, 255, 255, 255], .recordTooLarge(length: 4_294_967_295, limit: 65_535)),
        ]
        for (prefix, error) in prefixes {
            var reader = SecureRecordReader()
            reader.append(prefix)
            #expect(throws: error) { _ = try reader.next() }
        }
        // The largest plaintext makes a record of exactly the limit, which opens.
        let largest = try joiner.seal([UInt8](repeating: 7, count: SecureChannel.maxPlaintextPerRecord))
        #expect(largest.map(\.count) == [65_535])
        #expect(try host.open(largest[0]) == .data([UInt8](repeating: 7, count: SecureChannel.maxPlaintextPerRecord)))
    }

    @Test func aCutStreamIsToldApartFromAClosedOne() throws {
        var (joiner, host) = try SecureTestSupport.pair()
        let wire = SecureRecordReader.wire(try joiner.seal(SecureTestSupport.frame(#"{"id":1,"type":"ping"}"#)))

        // Cut inside a record: the reader says so.
        var midRecord = SecureRecordReader()
        midRecord.append(Array(wire.dropLast(5)))
        #expect(try midRecord.next() == nil)
        #expect(throws: SecureChannelError.truncated(have: wire.count - 5, need: wire.count)) { try midRecord.finish() }
        var midPrefix = SecureRecordReader()
        midPrefix.append([0, 0])
        #expect(throws: SecureChannelError.truncated(have: 2, need: 4)) { try midPrefix.finish() }

        // Cut on a record boundary: only the missing close tells, and it does.
        var reader = SecureRecordReader()
        reader.append(wire)
        _ = try host.open(try #require(try reader.next()))
        try reader.finish()
        #expect(throws: SecureChannelError.endedWithoutClose) { try host.checkEnd() }

        // A record cut short but re-framed with a consistent length fails its tag.
        let record = try joiner.seal([1, 2, 3, 4, 5])[0]
        var receiver = host
        #expect(throws: SecureChannelError.authenticationFailed) { _ = try receiver.open(Array(record.dropLast())) }

        // Nothing may follow a close, not even a genuine record.
        let close = try joiner.sealClose()
        #expect(try host.open(record) == .data([1, 2, 3, 4, 5]))
        #expect(try host.open(close) == .close)
        #expect(throws: SecureChannelError.dataAfterClose) { _ = try host.open(record) }
        #expect(throws: SecureChannelError.closedForSending) { _ = try joiner.sealClose() }
    }

    @Test func handshakeStepsOutOfTurnAreRefused() throws {
        var initiator = try SecureInitiator(psk: psk, session: session)
        let message1 = try initiator.start()
        var again = initiator
        #expect(throws: SecureChannelError.handshakeOutOfTurn) { _ = try again.start() }
        let reply = try SecureResponder.respond(to: message1, psks: [psk], session: session).reply
        _ = try initiator.finish(reply: reply)
        #expect(throws: SecureChannelError.handshakeOutOfTurn) { _ = try initiator.finish(reply: reply) }
        var responder = try NoiseHandshakeState(pattern: .nnPSK0, initiator: false, prologue: [], psk: psk)
        #expect(throws: SecureChannelError.handshakeOutOfTurn) { _ = try responder.writeMessage() }
    }

    /// Random and mutated bytes into every receiving path: each is refused with a
    /// `SecureChannelError`, nothing is accepted, nothing crashes. CODESYNC_FUZZ_LONG=1 runs longer;
    /// CODESYNC_FUZZ_SEED replays a run.
    @Test func fuzzedHandshakesAndRecordsAreRefused() throws {
        let long = TestEnvironment.value("CODESYNC_FUZZ_LONG") == "1"
        let seed = TestEnvironment.value("CODESYNC_FUZZ_SEED").flatMap(UInt64.init) ?? 0x5EC0_DE13
        let rounds = long ? 100_000 : 1_500
        print("secure channel fuzz: seed \(seed), \(rounds) rounds\(long ? " (long)" : "")")
        var generator = SeededGenerator(seed: seed)
        let candidates = [psk, SecureChannel.psk(secret: Auth.viewSecret(for: secret))]
        var initiator = try SecureInitiator(psk: psk, session: session)
        let message1 = try initiator.start()
        let reply = try SecureResponder.respond(to: message1, psks: candidates, session: session).reply
        let (joiner, host) = try SecureTestSupport.pair()
        var sender = joiner
        let record = try sender.seal(SecureTestSupport.frame(#"{"id":1,"type":"ping"}"#))[0]

        func input(from valid: [UInt8]) -> [UInt8] {
            if Bool.random(using: &generator) {
                let count = [0, 15, 16, 47, 48, 49, 64, Int.random(in: 0...300, using: &generator)]
                    .randomElement(using: &generator)!
                return (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
            }
            var bytes = valid
            for _ in 0..<Int.random(in: 1...3, using: &generator) {
                switch Int.random(in: 0..<3, using: &generator) {
                case 0: bytes[Int.random(in: 0..<bytes.count, using: &generator)] ^= UInt8.random(in: 1...255, using: &generator)
                case 1: bytes.remove(at: Int.random(in: 0..<bytes.count, using: &generator))
                default: bytes.insert(UInt8.random(in: 0...255, using: &generator), at: Int.random(in: 0...bytes.count, using: &generator))
                }
                if bytes.isEmpty { bytes = [0] }
            }
            // Mutations can cancel out; an unchanged message is a genuine one (and message 1 may
            // be replayed by design), so make sure it differs.
            if bytes == valid { bytes[0] ^= 0x80 }
            return bytes
        }

        var refused = 0
        for round in 0..<rounds {
            let kind = round % 4
            do {
                switch kind {
                case 0: _ = try SecureResponder.respond(to: input(from: message1), psks: candidates, session: session)
                case 1:
                    var fresh = initiator
                    _ = try fresh.finish(reply: input(from: reply))
                case 2:
                    var receiver = host
                    _ = try receiver.open(input(from: record))
                default:
                    var reader = SecureRecordReader()
                    var receiver = host
                    reader.append(input(from: SecureRecordReader.wire([record])))
                    while let next = try reader.next() { _ = try receiver.open(next) }
                    try reader.finish()
                    try receiver.checkEnd()
                }
                Issue.record("round \(round) (kind \(kind), seed \(seed)) was accepted")
            } catch is SecureChannelError {
                refused += 1
            }
        }
        #expect(refused == rounds)
    }
}
