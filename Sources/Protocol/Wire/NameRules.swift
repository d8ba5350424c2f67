/// What peer ids and display names may be: both reach every member of a session (in presence
/// messages, status bars and terminals), so both are short and printable.
public enum NameRules {
    /// Longest display name, in UTF-8 bytes (not characters: one character may hold any number of
    /// combining marks).
    public static let maxNameBytes = 64
    /// Longest peer id, in bytes.
    public static let maxPeerIDBytes = 64

    /// Why `name` is not an acceptable display name, nil when it is: 1-64 bytes of UTF-8 without
    /// control characters, line or paragraph separators, or bidirectional overrides.
    public static func nameProblem(_ name: String) -> String? {
        let bytes = name.utf8.count
        guard bytes > 0 else { return "the name is empty" }
        guard bytes <= maxNameBytes else { return "the name is \(bytes) bytes long; at most \(maxNameBytes) bytes of UTF-8 are allowed" }
        guard name.unicodeScalars.allSatisfy(isPrintable) else {
            return "the name holds a control or formatting character; only printable text is allowed"
        }
        return nil
    }

    /// Why `id` is not an acceptable peer id, nil when it is: 1-64 bytes of ASCII letters, digits, `-`, `_`, `.`.
    public static func peerIDProblem(_ id: String) -> String? {
        let bytes = id.utf8
        guard !bytes.isEmpty, bytes.count <= maxPeerIDBytes else {
            return "a peer id must be 1 to \(maxPeerIDBytes) bytes; this one is \(bytes.count)"
        }
        guard bytes.allSatisfy(isPeerIDByte) else {
            return "a peer id may hold only ASCII letters, digits, '-', '_' and '.'"
        }
        return nil
    }

    /// `name` made acceptable for display: non-printable scalars dropped, cut to 64 bytes at a scalar boundary.
    public static func displayable(_ name: String) -> String {
        guard nameProblem(name) != nil else { return name }
        var out = String.UnicodeScalarView()
        var bytes = 0
        for scalar in name.unicodeScalars where isPrintable(scalar) {
            let size = String(scalar).utf8.count
            if bytes + size > maxNameBytes { break }
            bytes += size
            out.append(scalar)
        }
        return out.isEmpty ? "?" : String(out)
    }

    private static func isPeerIDByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."):
            true
        default:
            false
        }
    }

    /// Not a control character (C0, DEL, C1), line/paragraph separator or bidirectional control.
    /// Zero-width joiners stay allowed: emoji sequences need them.
    private static func isPrintable(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00..<0x20, 0x7F..<0xA0: false
        case 0x2028, 0x2029: false
        case 0x061C, 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069: false
        default: true
        }
    }
}
