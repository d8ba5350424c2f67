import Crypto
import Foundation

/// Why a secure channel refused a message; every case means "drop this connection".
public enum SecureChannelError: Error, Equatable, CustomStringConvertible, Sendable {
    /// A transport record did not decrypt: altered, replayed, reordered, reflected or after a drop.
    case authenticationFailed
    /// A handshake message did not check out: wrong secret, other session or version, or damage.
    case handshakeFailed
    /// A handshake message had the wrong size for CodeSync's handshake.
    case handshakeLength(length: Int, expected: Int)
    /// A handshake step was taken out of order (a local misuse, or a message when none is due).
    case handshakeOutOfTurn
    /// A record announced length 0.
    case emptyRecord
    /// A record shorter than an authentication tag.
    case recordTooShort(length: Int)
    /// A record over the largest Noise message.
    case recordTooLarge(length: Int, limit: Int)
    /// The byte stream ended in the middle of a record.
    case truncated(have: Int, need: Int)
    /// The stream ended without the other side's authenticated close: it may have been cut.
    case endedWithoutClose
    /// A record arrived after the other side's close.
    case dataAfterClose
    /// This side already closed the channel and cannot send any more.
    case closedForSending
    /// 2^64-1 messages were sent or received on one key.
    case nonceExhausted
    /// A key given to the handshake has the wrong size (a PSK or a fixed test-vector key: 32 bytes).
    case badKeyLength(what: String, length: Int)

    public var description: String {
        switch self {
        case .authenticationFailed:
            "the connection was tampered with or is out of order: message failed authentication"
        case .handshakeFailed:
            "secure handshake failed: the other side does not know this session's secret, is for another session or protocol version, or the message was altered"
        case .handshakeLength(let length, let expected):
            "secure handshake message of \(length) bytes, expected \(expected): not a CodeSync protocol \(SecureChannel.protocolVersion) handshake"
        case .handshakeOutOfTurn: "secure handshake message out of turn"
        case .emptyRecord: "encrypted record with length 0"
        case .recordTooShort(let length):
            "encrypted record of \(length) bytes is shorter than its \(Noise.tagLength)-byte authentication tag"
        case .recordTooLarge(let length, let limit):
            "encrypted record of \(length) bytes is over the limit of \(limit) bytes"
        case .truncated(let have, let need):
            "connection ended mid-record (\(have) of \(need) bytes): it was cut"
        case .endedWithoutClose:
            "the connection ended without the other side closing it: it may have been cut"
        case .dataAfterClose: "data arrived after the other side closed the secure channel"
        case .closedForSending: "the secure channel is closed; nothing more can be sent"
        case .nonceExhausted: "the secure channel used up its message counter; reconnect"
        case .badKeyLength(let what, let length): "the \(what) has \(length) bytes; a secure-channel key has 32"
        }
    }
}

/// CodeSync's secure channel (protocol version 3, docs/PROTOCOL.md "Secure channel"):
/// `Noise_NNpsk0_25519_ChaChaPoly_SHA256` keyed by a PSK derived from the session secret, with
/// the protocol version and session id as prologue, then length-prefixed sealed records.
public enum SecureChannel {
    /// The protocol version whose connections are encrypted.
    public static let protocolVersion = 4
    /// The Noise pattern; see docs/DECISIONS.md for why NNpsk0.
    public static let pattern = NoisePattern.nnPSK0
    /// The full Noise protocol name.
    public static let protocolName = NoiseHandshakeState.protocolName(pattern)
    /// Both handshake messages: an ephemeral key and the tag of an empty payload.
    public static let handshakeMessageLength = Noise.dhLength + Noise.tagLength
    /// Largest record (one Noise message).
    public static let maxRecord = Noise.maxMessageLength
    /// Smallest record: a tag alone (the authenticated close).
    public static let minRecord = Noise.tagLength
    /// Largest plaintext one record carries; longer data spans several records.
    public static let maxPlaintextPerRecord = maxRecord - Noise.tagLength

    /// The PSK for a secret (edit or watch-only): one way, and separate from the version-2
    /// session key a relay may have been given, so that key opens nothing here.
    public static func psk(secret: String) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(
            for: Data("codesync noise psk v1".utf8), using: SymmetricKey(data: Data(secret.utf8))))
    }

    /// The prologue: both sides must agree on the protocol version and the session id, so a
    /// relay cannot splice a handshake into another session or downgrade the version.
    public static func prologue(session: String) -> [UInt8] {
        Array("codesync/\(protocolVersion) session=\(session)".utf8)
    }

    static func checkHandshakeLength(_ message: [UInt8]) throws {
        guard message.count == handshakeMessageLength else {
            throw SecureChannelError.handshakeLength(length: message.count, expected: handshakeMessageLength)
        }
    }
}

/// The joiner's side of the handshake: writes message 1, reads message 2.
public struct SecureInitiator: Sendable {
    private var state: NoiseHandshakeState

    /// `fixedEphemeral` only for test vectors; a fresh key otherwise.
    public init(psk: [UInt8], session: String, fixedEphemeral: [UInt8]? = nil) throws {
        state = try NoiseHandshakeState(pattern: SecureChannel.pattern, initiator: true,
                                    prologue: SecureChannel.prologue(session: session), psk: psk,
                                    fixedEphemeral: fixedEphemeral)
    }

    /// Message 1 (`psk, e` and an empty payload).
    public mutating func start() throws -> [UInt8] { try state.writeMessage() }

    /// Reads message 2 and returns the transport. The responder is authenticated here: only a
    /// holder of the PSK who also saw this side's fresh ephemeral key can write message 2.
    public mutating func finish(reply: [UInt8]) throws -> SecureTransport {
        try SecureChannel.checkHandshakeLength(reply)
        _ = try state.readMessage(reply)
        guard let result = state.result else { throw SecureChannelError.handshakeOutOfTurn }
        return SecureTransport(result)
    }
}

/// The host's side of the handshake.
public enum SecureResponder {
    /// What answering message 1 gives: the reply to send, the transport, and which PSK matched.
    public struct Outcome: Sendable {
        public var reply: [UInt8]
        public var transport: SecureTransport
        /// Index in the candidate PSKs (e.g. 0 edit secret, 1 watch-only secret).
        public var matched: Int
    }

    /// Reads message 1 trying every candidate PSK (all of them, so the time taken does not tell
    /// which matched) and writes message 2.
    ///
    /// Message 1 can be replayed by anyone who saw it, so the joiner is authenticated only by
    /// its first transport record opening; admit it on that record, not here.
    public static func respond(to message: [UInt8], psks: [[UInt8]], session: String,
                               fixedEphemeral: [UInt8]? = nil) throws -> Outcome {
        try SecureChannel.checkHandshakeLength(message)
        let prologue = SecureChannel.prologue(session: session)
        var accepted: (state: NoiseHandshakeState, index: Int)?
        for (index, psk) in psks.enumerated() {
            var state = try NoiseHandshakeState(pattern: SecureChannel.pattern, initiator: false,
                                            prologue: prologue, psk: psk, fixedEphemeral: fixedEphemeral)
            if (try? state.readMessage(message)) != nil, accepted == nil { accepted = (state, index) }
        }
        guard let accepted else { throw SecureChannelError.handshakeFailed }
        var state = accepted.state
        let reply = try state.writeMessage()
        guard let result = state.result else { throw SecureChannelError.handshakeOutOfTurn }
        return Outcome(reply: reply, transport: SecureTransport(result), matched: accepted.index)
    }
}

/// The transport after the handshake: each record is one sealed Noise message with the implicit
/// nonce counter, so a record that is altered, replayed, reordered, reflected or follows a
/// dropped one fails to open. An empty record plaintext is the authenticated close, so a cut
/// stream is told apart from a finished one.
public struct SecureTransport: Sendable {
    /// One opened record.
    public enum Record: Equatable, Sendable {
        case data([UInt8])
        /// The other side closed the channel; nothing may follow.
        case close
    }

    private var sender: NoiseCipherState
    private var receiver: NoiseCipherState
    /// The handshake hash, equal on both sides (a channel binding).
    public let handshakeHash: [UInt8]
    /// Whether this side sent its close.
    public private(set) var sentClose = false
    /// Whether the other side's close arrived.
    public private(set) var receivedClose = false
    /// Whether a record opened yet: for a responder, the proof that the joiner holds the PSK.
    public private(set) var peerConfirmed = false
    private var failure: SecureChannelError?

    init(_ result: NoiseHandshakeState.Result) {
        sender = result.send
        receiver = result.receive
        handshakeHash = result.handshakeHash
    }

    /// Records carrying `plaintext`, in order (several when it is longer than one record holds;
    /// none when it is empty).
    public mutating func seal(_ plaintext: [UInt8]) throws -> [[UInt8]] {
        guard !sentClose else { throw SecureChannelError.closedForSending }
        var records: [[UInt8]] = []
        var start = 0
        while start < plaintext.count {
            let end = min(start + SecureChannel.maxPlaintextPerRecord, plaintext.count)
            records.append(try sender.encrypt(ad: [], plaintext: Array(plaintext[start..<end])))
            start = end
        }
        return records
    }

    /// The close record; after it nothing more can be sealed.
    public mutating func sealClose() throws -> [UInt8] {
        guard !sentClose else { throw SecureChannelError.closedForSending }
        let record = try sender.encrypt(ad: [], plaintext: [])
        sentClose = true
        return record
    }

    /// Opens the next record. After any failure the channel stays failed: the connection must go.
    public mutating func open(_ record: [UInt8]) throws -> Record {
        if let failure { throw failure }
        do {
            guard !receivedClose else { throw SecureChannelError.dataAfterClose }
            try SecureRecordReader.checkLength(record.count)
            let plaintext = try receiver.decrypt(ad: [], ciphertext: record)
            peerConfirmed = true
            if plaintext.isEmpty {
                receivedClose = true
                return .close
            }
            return .data(plaintext)
        } catch let error as SecureChannelError {
            failure = error
            throw error
        }
    }

    /// Call when the byte stream ends: fine after the other side's close, an error otherwise.
    public func checkEnd() throws {
        if let failure { throw failure }
        guard receivedClose else { throw SecureChannelError.endedWithoutClose }
    }
}

/// Cuts a byte stream into records: a 4-byte big-endian length (as every CodeSync frame), then
/// that many bytes. Lengths are checked as soon as the prefix arrives, so a peer cannot make
/// the reader buffer more than one record.
public struct SecureRecordReader: Sendable {
    private var buffer: [UInt8] = []
    private var start = 0

    public init() {}

    /// Prefixes each record with its length, ready to write.
    public static func wire(_ records: [[UInt8]]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(records.reduce(0) { $0 + $1.count + 4 })
        for record in records {
            withUnsafeBytes(of: UInt32(record.count).bigEndian) { out += $0 }
            out += record
        }
        return out
    }

    static func checkLength(_ length: Int) throws {
        if length == 0 { throw SecureChannelError.emptyRecord }
        if length < SecureChannel.minRecord { throw SecureChannelError.recordTooShort(length: length) }
        if length > SecureChannel.maxRecord {
            throw SecureChannelError.recordTooLarge(length: length, limit: SecureChannel.maxRecord)
        }
    }

    /// Adds bytes that arrived.
    public mutating func append(_ bytes: [UInt8]) {
        if start > 0, start >= buffer.count / 2 {
            buffer.removeFirst(start)
            start = 0
        }
        buffer += bytes
    }

    /// The next whole record, nil when more bytes are needed.
    public mutating func next() throws -> [UInt8]? {
        guard buffer.count - start >= 4 else { return nil }
        let length = buffer[start..<start + 4].reduce(0) { $0 << 8 | Int($1) }
        try Self.checkLength(length)
        guard buffer.count - start >= 4 + length else { return nil }
        let record = Array(buffer[start + 4..<start + 4 + length])
        start += 4 + length
        return record
    }

    /// Call when the stream ends: an error if it ended inside a record.
    public func finish() throws {
        let have = buffer.count - start
        guard have > 0 else { return }
        let need = have >= 4 ? 4 + buffer[start..<start + 4].reduce(0) { $0 << 8 | Int($1) } : 4
        throw SecureChannelError.truncated(have: have, need: need)
    }
}
