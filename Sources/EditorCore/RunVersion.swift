/// Names a version of the text by its content: a 64-bit FNV-1a hash of its Unicode scalars, as 16
/// hex digits. The same text gives the same version on every peer, so "who ran which version"
/// means the same everywhere, and a peer can tell whether its own copy of a run's text is exact.
public enum RunVersion {
    /// The version of `text`.
    public static func of(_ text: String) -> String {
        var hash = Hasher64()
        for scalar in text.unicodeScalars { hash.add(scalar.value) }
        return hash.hex
    }

    /// The version of a buffer's text (lines joined by line breaks), without building the string.
    public static func of(_ buffer: TextBuffer) -> String {
        var hash = Hasher64()
        for index in 0..<buffer.lineCount {
            if index > 0 { hash.add(0x0A) }
            for scalar in buffer.line(index) { hash.add(scalar.value) }
        }
        return hash.hex
    }

    /// A version as a peer sent it, when it is one (exactly 16 lower-case hex digits); else nil.
    public static func validated(_ raw: String) -> String? {
        let scalars = raw.unicodeScalars
        guard scalars.count == 16, scalars.allSatisfy({ ("0"..."9").contains($0) || ("a"..."f").contains($0) }) else { return nil }
        return raw
    }

    /// The first 8 digits, for display.
    public static func short(_ version: String) -> String { String(version.prefix(8)) }

    private struct Hasher64 {
        var value: UInt64 = 0xcbf2_9ce4_8422_2325
        mutating func add(_ scalar: UInt32) {
            var v = scalar
            for _ in 0..<4 {
                value ^= UInt64(v & 0xFF)
                value = value &* 0x100_0000_01b3
                v >>= 8
            }
        }
        var hex: String {
            let digits = String(value, radix: 16)
            return String(repeating: "0", count: 16 - digits.count) + digits
        }
    }
}
