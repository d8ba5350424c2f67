import Crypto
import Foundation

/// Proofs of a shared session secret that never put the secret itself on the wire.
///
/// Both sides derive a session key from the secret. The joiner proves the key with an
/// HMAC-SHA256 over the server's fresh nonce (and its own); the server answers with an HMAC
/// over the joiner's nonce, so a joiner also knows the server holds the secret. Comparisons
/// are constant-time (`HMAC.isValidAuthenticationCode`).
public enum Auth {
    /// Bytes of randomness in a generated secret (128 bits).
    public static let secretBytes = 16
    /// Bytes of randomness in a nonce (256 bits).
    public static let nonceBytes = 32

    /// A fresh random session secret, 32 lowercase hex characters.
    public static func generateSecret() -> String { randomHex(count: secretBytes) }

    /// A fresh random nonce as hex.
    public static func generateNonce() -> String { randomHex(count: nonceBytes) }

    /// Random bytes from the system's cryptographic generator, as hex.
    public static func randomHex(count: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return hex((0..<count).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
    }

    /// The session key derived from a secret; this, not the secret, is what a relay is given.
    public static func sessionKey(secret: String) -> SymmetricKey {
        let mac = HMAC<SHA256>.authenticationCode(
            for: Data("codesync session key v1".utf8), using: SymmetricKey(data: Data(secret.utf8)))
        return SymmetricKey(data: Data(mac))
    }

    /// The watch-only secret that goes with an edit secret: derived (so a restarted host keeps it)
    /// one way (knowing it tells nothing about the edit secret); 32 hex digits.
    public static func viewSecret(for secret: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(
            for: Data("codesync view secret v1".utf8), using: SymmetricKey(data: Data(secret.utf8)))
        return String(hex(Array(mac)).prefix(secretBytes * 2))
    }

    /// The key a host proves to a relay: derived one way from the host key HK, so a relay (or
    /// whoever binds a relay's port) that holds it cannot act as the host on the direct port, where
    /// HK itself is checked.
    public static func relayHostKey(hostKey: SymmetricKey) -> SymmetricKey {
        SymmetricKey(data: Data(HMAC<SHA256>.authenticationCode(for: Data("codesync relay host v1".utf8), using: hostKey)))
    }

    /// The key a host signs its relay registration with: an Ed25519 key whose seed is derived one
    /// way from the relay host key. A relay keeps only its public half, which opens, forges and
    /// replays nothing: it only lets the relay check that a registration comes from the host.
    public static func relaySigningKey(relayHostKey: SymmetricKey) -> Curve25519.Signing.PrivateKey {
        let seed = HMAC<SHA256>.authenticationCode(for: Data("codesync relay signing v1".utf8), using: relayHostKey)
        guard let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: Data(seed)) else {
            preconditionFailure("an HMAC-SHA256 is 32 bytes, an Ed25519 seed's size")
        }
        return key
    }

    /// The relay signing key that goes with a host secret.
    public static func relaySigningKey(hostSecret: String) -> Curve25519.Signing.PrivateKey {
        relaySigningKey(relayHostKey: relayHostKey(hostKey: sessionKey(secret: hostSecret)))
    }

    /// A session's id, which a relay routes by: the first 16 hex digits of SHA-256 of the host's
    /// relay signing public key. A relay registers a session only under this id and only with a
    /// signature by that key, so nobody without the host key can take a session's id.
    public static func sessionID(signingKey: Curve25519.Signing.PublicKey) -> String {
        String(hex(Array(SHA256.hash(data: signingKey.rawRepresentation))).prefix(16))
    }

    /// The session id that goes with a relay host key (see `sessionID(signingKey:)`).
    public static func sessionID(relayHostKey: SymmetricKey) -> String {
        sessionID(signingKey: relaySigningKey(relayHostKey: relayHostKey).publicKey)
    }

    /// The session id that goes with a host secret (see `sessionID(signingKey:)`).
    public static func sessionID(hostSecret: String) -> String {
        sessionID(relayHostKey: relayHostKey(hostKey: sessionKey(secret: hostSecret)))
    }

    /// A host's registration of `session` on a relay that challenged it with `nonce`: the hex of
    /// its relay signing public key and of its signature.
    public static func relayRegistrationProof(hostSecret: String, nonce: String, session: String) -> (key: String, signature: String) {
        let key = relaySigningKey(hostSecret: hostSecret)
        let signature = (try? key.signature(for: relayRegistration(nonce: nonce, session: session))).map { hex(Array($0)) } ?? ""
        return (hex(Array(key.publicKey.rawRepresentation)), signature)
    }

    /// What a host signs to register `session` on a relay that challenged it with `nonce`.
    public static func relayRegistration(nonce: String, session: String) -> Data {
        Data("codesync relay register v1\n\(nonce)\n\(session)".utf8)
    }

    /// The key a server derives peer tokens from: one way from the key its host proves (HK on a
    /// direct host, the relay host key on a relay), so a restarted host or relay recomputes the
    /// same tokens without storing them.
    public static func peerTokenKey(serverKey: SymmetricKey) -> SymmetricKey {
        SymmetricKey(data: Data(HMAC<SHA256>.authenticationCode(for: Data("codesync peer token key v1".utf8), using: serverKey)))
    }

    /// The token that binds `peer` in `session`: only the server (and whoever it gave it to) knows it.
    public static func peerToken(tokenKey: SymmetricKey, session: String, peer: String) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: Data("codesync peer token v1\n\(session)\n\(peer)".utf8), using: tokenKey))
    }

    /// The token as the welcome carries it: XOR a mask only holders of the proved session key can
    /// compute for these nonces, so the token never travels in clear.
    public static func maskToken(_ token: [UInt8], key: SymmetricKey, serverNonce: String, clientNonce: String, peer: String) -> String {
        let mask = Array(HMAC<SHA256>.authenticationCode(
            for: Data("codesync token mask v1\n\(serverNonce)\n\(clientNonce)\n\(peer)".utf8), using: key))
        return hex(zip(token, mask).map { $0 ^ $1 })
    }

    /// The token from a welcome's masked token; nil unless it is 32 bytes of hex.
    public static func unmaskToken(_ masked: String, key: SymmetricKey, serverNonce: String, clientNonce: String, peer: String) -> [UInt8]? {
        guard let bytes = bytes(fromHex: masked), bytes.count == SHA256.byteCount else { return nil }
        let mask = Array(HMAC<SHA256>.authenticationCode(
            for: Data("codesync token mask v1\n\(serverNonce)\n\(clientNonce)\n\(peer)".utf8), using: key))
        return zip(bytes, mask).map { $0 ^ $1 }
    }

    /// A reconnecting peer's proof that it holds its token: an HMAC over both nonces, never the token.
    public static func tokenProof(token: [UInt8], serverNonce: String, clientNonce: String, session: String, peer: String) -> String {
        hex(Array(HMAC<SHA256>.authenticationCode(
            for: Data(tokenMessage(serverNonce, clientNonce, session, peer).utf8), using: SymmetricKey(data: token))))
    }

    /// Checks a token proof in constant time.
    public static func verifyToken(_ proof: String, token: [UInt8], serverNonce: String, clientNonce: String, session: String, peer: String) -> Bool {
        verify(proof, message: tokenMessage(serverNonce, clientNonce, session, peer), key: SymmetricKey(data: token))
    }

    private static func tokenMessage(_ s: String, _ c: String, _ session: String, _ peer: String) -> String {
        "codesync peer v1\n\(s)\n\(c)\n\(session)\n\(peer)"
    }

    /// The session key as hex (relay registration).
    public static func keyHex(_ key: SymmetricKey) -> String {
        key.withUnsafeBytes { hex(Array($0)) }
    }

    /// Parses a session key sent as hex; nil unless it is 32 bytes.
    public static func key(fromHex text: String) -> SymmetricKey? {
        guard let bytes = bytes(fromHex: text), bytes.count == 32 else { return nil }
        return SymmetricKey(data: bytes)
    }

    /// The joiner's proof: HMAC over both nonces, the session and the peer id.
    public static func joinProof(key: SymmetricKey, serverNonce: String, clientNonce: String, session: String, peer: String) -> String {
        hex(Array(HMAC<SHA256>.authenticationCode(
            for: Data(joinMessage(serverNonce, clientNonce, session, peer).utf8), using: key)))
    }

    /// The server's proof, over the joiner's nonce first.
    public static func welcomeProof(key: SymmetricKey, serverNonce: String, clientNonce: String, session: String, peer: String) -> String {
        hex(Array(HMAC<SHA256>.authenticationCode(
            for: Data(welcomeMessage(serverNonce, clientNonce, session, peer).utf8), using: key)))
    }

    /// Checks a joiner's proof in constant time.
    public static func verifyJoin(_ proof: String, key: SymmetricKey, serverNonce: String, clientNonce: String, session: String, peer: String) -> Bool {
        verify(proof, message: joinMessage(serverNonce, clientNonce, session, peer), key: key)
    }

    /// Checks a server's proof in constant time.
    public static func verifyWelcome(_ proof: String, key: SymmetricKey, serverNonce: String, clientNonce: String, session: String, peer: String) -> Bool {
        verify(proof, message: welcomeMessage(serverNonce, clientNonce, session, peer), key: key)
    }

    private static func joinMessage(_ s: String, _ c: String, _ session: String, _ peer: String) -> String {
        "codesync join v1\n\(s)\n\(c)\n\(session)\n\(peer)"
    }

    private static func welcomeMessage(_ s: String, _ c: String, _ session: String, _ peer: String) -> String {
        "codesync welcome v1\n\(c)\n\(s)\n\(session)\n\(peer)"
    }

    private static func verify(_ proof: String, message: String, key: SymmetricKey) -> Bool {
        guard let code = bytes(fromHex: proof), code.count == SHA256.byteCount else { return false }
        return HMAC<SHA256>.isValidAuthenticationCode(code, authenticating: Data(message.utf8), using: key)
    }

    /// Lowercase hex of `bytes`.
    public static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Bytes of a hex string; nil when it is not hex.
    public static func bytes(fromHex text: String) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        var out = [UInt8]()
        out.reserveCapacity(utf8.count / 2)
        func value(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        var index = 0
        while index < utf8.count {
            guard let high = value(utf8[index]), let low = value(utf8[index + 1]) else { return nil }
            out.append(high << 4 | low)
            index += 2
        }
        return out
    }
}
