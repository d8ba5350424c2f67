import Crypto
import Foundation

/// The Noise Protocol Framework (noiseprotocol.org, revision 34) with X25519, ChaCha20-Poly1305
/// and SHA-256, all from swift-crypto. Only the tokens CodeSync's pattern uses are implemented
/// (`e`, `ee`, `psk`); see `SecureChannel` for how CodeSync uses it.
public enum Noise {
    /// DHLEN: bytes of an X25519 public key.
    public static let dhLength = 32
    /// HASHLEN: bytes of a SHA-256 digest.
    public static let hashLength = 32
    /// Bytes of a ChaCha20-Poly1305 authentication tag.
    public static let tagLength = 16
    /// Largest Noise message (spec §3); larger plaintexts must be split by the application.
    public static let maxMessageLength = 65535

    /// HKDF as the spec defines it (§4.3): RFC 5869 with the chaining key as salt and no info,
    /// cut into `outputs` blocks of HASHLEN bytes.
    static func hkdf(chainingKey: [UInt8], inputKeyMaterial: [UInt8], outputs: Int) -> [[UInt8]] {
        let derived = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: inputKeyMaterial), salt: chainingKey, info: [UInt8](),
            outputByteCount: hashLength * outputs)
        let bytes = derived.withUnsafeBytes { Array($0) }
        return (0..<outputs).map { Array(bytes[$0 * hashLength..<($0 + 1) * hashLength]) }
    }

    static func hash(_ data: [UInt8]) -> [UInt8] { Array(SHA256.hash(data: data)) }
}

/// A handshake pattern: the tokens of each message, initiator first (spec §7).
public struct NoisePattern: Sendable {
    /// The tokens this implementation knows.
    public enum Token: Sendable { case e, ee, psk }

    /// The pattern's name with its modifiers, as in the protocol name (`NNpsk0`).
    public let name: String
    /// Tokens per message; even indices are the initiator's messages.
    public let messages: [[Token]]

    /// Whether a `psk` modifier is present (then `e` also calls MixKey, spec §9.2).
    var usesPSK: Bool { messages.contains { $0.contains(.psk) } }

    /// `NNpsk0`: `-> psk, e` / `<- e, ee` (spec §9.4).
    public static let nnPSK0 = NoisePattern(name: "NNpsk0", messages: [[.psk, .e], [.e, .ee]])
}

/// CipherState (spec §5.1): a key and a nonce counter; each message uses the next nonce, so a
/// replayed, reordered or dropped message fails authentication.
///
/// `@unchecked`: swift-crypto's keys are immutable values but not marked `Sendable`.
public struct NoiseCipherState: @unchecked Sendable {
    private var key: SymmetricKey?
    /// The nonce of the next message.
    public private(set) var nonce: UInt64 = 0

    init(key: [UInt8]?) {
        self.key = key.map { SymmetricKey(data: $0) }
    }

    /// HasKey().
    public var hasKey: Bool { key != nil }

    /// The 96-bit ChaCha20-Poly1305 nonce: 32 zero bits, then the counter little-endian (§12.3).
    private func chachaNonce() throws -> ChaChaPoly.Nonce {
        // 2^64-1 is reserved (§5.1); a connection never gets near it, but never wrap either.
        guard nonce < UInt64.max else { throw SecureChannelError.nonceExhausted }
        var bytes = [UInt8](repeating: 0, count: 12)
        withUnsafeBytes(of: nonce.littleEndian) { bytes.replaceSubrange(4..<12, with: $0) }
        return try ChaChaPoly.Nonce(data: bytes)
    }

    /// EncryptWithAd(ad, plaintext): ciphertext and tag; the plaintext itself without a key.
    public mutating func encrypt(ad: [UInt8], plaintext: [UInt8]) throws -> [UInt8] {
        guard let key else { return plaintext }
        let box = try ChaChaPoly.seal(plaintext, using: key, nonce: chachaNonce(), authenticating: ad)
        nonce += 1
        return Array(box.ciphertext) + Array(box.tag)
    }

    /// DecryptWithAd(ad, ciphertext); on an authentication failure the nonce stays (§5.1) and
    /// `authenticationFailed` is thrown.
    public mutating func decrypt(ad: [UInt8], ciphertext: [UInt8]) throws -> [UInt8] {
        guard let key else { return ciphertext }
        guard ciphertext.count >= Noise.tagLength else {
            throw SecureChannelError.recordTooShort(length: ciphertext.count)
        }
        let split = ciphertext.count - Noise.tagLength
        let plaintext: Data
        do {
            let box = try ChaChaPoly.SealedBox(
                nonce: chachaNonce(), ciphertext: ciphertext[..<split], tag: ciphertext[split...])
            plaintext = try ChaChaPoly.open(box, using: key, authenticating: ad)
        } catch let error as SecureChannelError {
            throw error
        } catch {
            throw SecureChannelError.authenticationFailed
        }
        nonce += 1
        return Array(plaintext)
    }
}

/// SymmetricState (spec §5.2): the chaining key, the handshake hash and the handshake cipher.
struct NoiseSymmetricState: Sendable {
    private(set) var cipher = NoiseCipherState(key: nil)
    private(set) var chainingKey: [UInt8]
    private(set) var handshakeHash: [UInt8]

    /// InitializeSymmetric(protocol_name).
    init(protocolName: String) {
        let name = Array(protocolName.utf8)
        handshakeHash = name.count <= Noise.hashLength
            ? name + [UInt8](repeating: 0, count: Noise.hashLength - name.count)
            : Noise.hash(name)
        chainingKey = handshakeHash
    }

    mutating func mixKey(_ inputKeyMaterial: [UInt8]) {
        let out = Noise.hkdf(chainingKey: chainingKey, inputKeyMaterial: inputKeyMaterial, outputs: 2)
        chainingKey = out[0]
        cipher = NoiseCipherState(key: out[1])
    }

    mutating func mixHash(_ data: [UInt8]) {
        handshakeHash = Noise.hash(handshakeHash + data)
    }

    mutating func mixKeyAndHash(_ inputKeyMaterial: [UInt8]) {
        let out = Noise.hkdf(chainingKey: chainingKey, inputKeyMaterial: inputKeyMaterial, outputs: 3)
        chainingKey = out[0]
        mixHash(out[1])
        cipher = NoiseCipherState(key: out[2])
    }

    mutating func encryptAndHash(_ plaintext: [UInt8]) throws -> [UInt8] {
        let ciphertext = try cipher.encrypt(ad: handshakeHash, plaintext: plaintext)
        mixHash(ciphertext)
        return ciphertext
    }

    mutating func decryptAndHash(_ ciphertext: [UInt8]) throws -> [UInt8] {
        let plaintext = try cipher.decrypt(ad: handshakeHash, ciphertext: ciphertext)
        mixHash(ciphertext)
        return plaintext
    }

    /// Split(): the initiator's sending cipher first, then the responder's.
    func split() -> (NoiseCipherState, NoiseCipherState) {
        let out = Noise.hkdf(chainingKey: chainingKey, inputKeyMaterial: [], outputs: 2)
        return (NoiseCipherState(key: out[0]), NoiseCipherState(key: out[1]))
    }
}

/// HandshakeState (spec §5.3) for a pattern of `e`, `ee` and `psk` tokens without pre-messages.
///
/// Any failure leaves the state unusable (`failed`): a handshake is never resumed after a bad
/// message, so a half-processed message cannot leave it in between. `@unchecked`: as
/// `NoiseCipherState`.
public struct NoiseHandshakeState: @unchecked Sendable {
    /// The two transport ciphers after the last handshake message, and the handshake hash.
    public struct Result: Sendable {
        public var send: NoiseCipherState
        public var receive: NoiseCipherState
        /// The final handshake hash `h`: the same on both sides, unique to this handshake.
        public var handshakeHash: [UInt8]
    }

    public let pattern: NoisePattern
    public let isInitiator: Bool
    private var symmetric: NoiseSymmetricState
    private var psk: [UInt8]
    private var ephemeral: Curve25519.KeyAgreement.PrivateKey?
    private var remoteEphemeral: Curve25519.KeyAgreement.PublicKey?
    private var nextMessage = 0
    private var failed = false
    /// Set once the last message was written or read.
    public private(set) var result: Result?

    /// The protocol name (spec §8): `Noise_NNpsk0_25519_ChaChaPoly_SHA256`.
    public static func protocolName(_ pattern: NoisePattern) -> String {
        "Noise_\(pattern.name)_25519_ChaChaPoly_SHA256"
    }

    /// Initialize(); `fixedEphemeral` (a 32-byte private key) is for test vectors only: a fresh
    /// random key is made otherwise, and reusing one would destroy forward secrecy.
    public init(pattern: NoisePattern, initiator: Bool, prologue: [UInt8], psk: [UInt8],
                fixedEphemeral: [UInt8]? = nil) throws {
        guard psk.count == 32 || !pattern.usesPSK else { throw SecureChannelError.badKeyLength(what: "PSK", length: psk.count) }
        if let fixedEphemeral, fixedEphemeral.count != 32 {
            throw SecureChannelError.badKeyLength(what: "fixed ephemeral key", length: fixedEphemeral.count)
        }
        self.pattern = pattern
        isInitiator = initiator
        self.psk = psk
        // 32 bytes always make an X25519 key (the scalar is clamped), so this cannot throw now.
        ephemeral = try fixedEphemeral.map { try Curve25519.KeyAgreement.PrivateKey(rawRepresentation: $0) }
        symmetric = NoiseSymmetricState(protocolName: Self.protocolName(pattern))
        symmetric.mixHash(prologue)
    }

    /// Whether it is this side's turn to write.
    public var isMyTurn: Bool { result == nil && (nextMessage % 2 == 0) == isInitiator }

    private mutating func begin(writing: Bool) throws -> [NoisePattern.Token] {
        guard !failed else { throw SecureChannelError.handshakeFailed }
        guard result == nil, isMyTurn == writing else { throw SecureChannelError.handshakeOutOfTurn }
        defer { nextMessage += 1 }
        return pattern.messages[nextMessage]
    }

    private mutating func finishIfLast() {
        guard nextMessage == pattern.messages.count else { return }
        let (first, second) = symmetric.split()
        result = Result(send: isInitiator ? first : second, receive: isInitiator ? second : first,
                        handshakeHash: symmetric.handshakeHash)
        // Keys the transport does not need are dropped as soon as possible (§5.3).
        ephemeral = nil
        remoteEphemeral = nil
        psk = []
    }

    private mutating func dh() throws {
        guard let ephemeral, let remoteEphemeral else { throw SecureChannelError.handshakeFailed }
        // swift-crypto refuses a low-order point (an all-zero shared secret), as the spec allows.
        let shared = try ephemeral.sharedSecretFromKeyAgreement(with: remoteEphemeral)
        symmetric.mixKey(shared.withUnsafeBytes { Array($0) })
    }

    /// WriteMessage(payload): the next handshake message.
    public mutating func writeMessage(payload: [UInt8] = []) throws -> [UInt8] {
        let tokens = try begin(writing: true)
        do {
            var message: [UInt8] = []
            for token in tokens {
                switch token {
                case .e:
                    let key = ephemeral ?? Curve25519.KeyAgreement.PrivateKey()
                    ephemeral = key
                    let publicKey = Array(key.publicKey.rawRepresentation)
                    message += publicKey
                    symmetric.mixHash(publicKey)
                    if pattern.usesPSK { symmetric.mixKey(publicKey) }
                case .ee: try dh()
                case .psk: symmetric.mixKeyAndHash(psk)
                }
            }
            message += try symmetric.encryptAndHash(payload)
            finishIfLast()
            return message
        } catch {
            failed = true
            throw error
        }
    }

    /// ReadMessage(message): the payload of the other side's next handshake message. Any fault
    /// (short message, bad key, failed tag) is `handshakeFailed`.
    public mutating func readMessage(_ message: [UInt8]) throws -> [UInt8] {
        let tokens = try begin(writing: false)
        do {
            var rest = message[...]
            for token in tokens {
                switch token {
                case .e:
                    guard rest.count >= Noise.dhLength else { throw SecureChannelError.handshakeFailed }
                    let publicKey = Array(rest.prefix(Noise.dhLength))
                    rest = rest.dropFirst(Noise.dhLength)
                    remoteEphemeral = try Curve25519.KeyAgreement.PublicKey(rawRepresentation: publicKey)
                    symmetric.mixHash(publicKey)
                    if pattern.usesPSK { symmetric.mixKey(publicKey) }
                case .ee: try dh()
                case .psk: symmetric.mixKeyAndHash(psk)
                }
            }
            let payload = try symmetric.decryptAndHash(Array(rest))
            finishIfLast()
            return payload
        } catch {
            failed = true
            throw SecureChannelError.handshakeFailed
        }
    }
}
