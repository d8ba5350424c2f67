/// Makes program output safe to draw inside the editor's screen.
///
/// Program output is untrusted (in a session, a peer wrote the program): escape sequences could move
/// the cursor, recolour or clear the editor, set the window title, or write the clipboard (OSC 52).
/// Complete escape sequences (CSI, OSC, DCS/SOS/PM/APC strings, two-byte ESC sequences) are removed;
/// other control characters become visible Control Pictures (BEL → ␇, a stray ESC → ␛); CR LF becomes
/// LF; C1 controls and bidi overrides become U+FFFD; invalid UTF-8 becomes U+FFFD. Newlines and tabs
/// stay. Feed chunks as they come: partial UTF-8 and partial sequences are carried to the next chunk.
public struct TerminalSanitizer: Sendable, Equatable {
    private enum Mode: Sendable {
        case text
        case carriageReturn
        case escape
        case escapeIntermediate
        case csi
        case string
        case stringEscape
    }

    private var mode = Mode.text
    private var heldBytes: [UInt8] = []
    private var sequenceLength = 0
    /// Longest escape sequence swallowed before giving up on it (keeps a stray ESC from eating output).
    static let maxSequence = 4096

    public init() {}

    /// Sanitises a whole text at once (pure).
    public static func sanitize(_ text: String) -> String {
        var sanitizer = TerminalSanitizer()
        return sanitizer.feed(Array(text.utf8)) + sanitizer.finish()
    }

    /// Sanitises text that must stay on one line (a peer's name, a file name, a reason in a log
    /// line): like `sanitize`, and a newline or tab becomes visible too, so nobody forges a line.
    public static func line(_ text: String) -> String {
        sanitize(text).replacingOccurrences(of: "\n", with: "\u{240A}").replacingOccurrences(of: "\t", with: " ")
    }

    /// Sanitises a whole byte buffer at once (pure); invalid UTF-8 becomes U+FFFD.
    public static func sanitize(bytes: [UInt8]) -> String {
        var sanitizer = TerminalSanitizer()
        return sanitizer.feed(bytes) + sanitizer.finish()
    }

    /// Feeds the next chunk of output; returns the displayable text it completes.
    public mutating func feed(_ bytes: [UInt8]) -> String {
        let data = heldBytes + bytes
        let tail = Self.incompleteTail(data)
        heldBytes = Array(data.suffix(tail))
        let text = String(decoding: data.prefix(data.count - tail), as: UTF8.self)
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars { step(scalar, into: &out) }
        return String(out)
    }

    /// Ends the stream: whatever is held becomes visible or is dropped.
    public mutating func finish() -> String {
        var out = String.UnicodeScalarView()
        if !heldBytes.isEmpty {
            out.append("\u{FFFD}")
            heldBytes = []
        }
        switch mode {
        case .carriageReturn: out.append("\u{240D}")
        case .escape: out.append("\u{241B}")
        default: break
        }
        mode = .text
        return String(out)
    }

    private mutating func step(_ scalar: Unicode.Scalar, into out: inout String.UnicodeScalarView) {
        let value = scalar.value
        switch mode {
        case .text:
            text(scalar, into: &out)
        case .carriageReturn:
            mode = .text
            if value == 0x0A {
                out.append("\n")
            } else {
                out.append("\u{240D}")
                text(scalar, into: &out)
            }
        case .escape:
            sequenceLength = 0
            switch value {
            case 0x5B: mode = .csi                                   // ESC [
            case 0x5D, 0x50, 0x58, 0x5E, 0x5F: mode = .string          // ESC ] P X ^ _
            case 0x20...0x2F: mode = .escapeIntermediate
            case 0x30...0x7E: mode = .text                           // two-byte sequence: drop
            default:
                // Not a sequence: show the ESC, then treat this scalar normally.
                out.append("\u{241B}")
                mode = .text
                text(scalar, into: &out)
            }
        case .escapeIntermediate:
            sequenceLength += 1
            switch value {
            case 0x20...0x2F where sequenceLength < 16: break
            case 0x30...0x7E: mode = .text
            default:
                mode = .text
                text(scalar, into: &out)
            }
        case .csi:
            sequenceLength += 1
            switch value {
            case 0x20...0x3F where sequenceLength < 256: break      // parameters and intermediates
            case 0x40...0x7E: mode = .text                           // final byte: sequence done
            default:
                mode = .text
                text(scalar, into: &out)
            }
        case .string:
            sequenceLength += 1
            if value == 0x07 || value == 0x9C {
                mode = .text
            } else if value == 0x1B {
                mode = .stringEscape
            } else if value == 0x0A || sequenceLength > Self.maxSequence {
                // Unterminated: stop swallowing at a line end so output cannot vanish wholesale.
                mode = .text
                if value == 0x0A { out.append("\n") }
            }
        case .stringEscape:
            if value == 0x5C {
                mode = .text                                          // ESC \ (string terminator)
            } else {
                mode = .escape
                step(scalar, into: &out)
            }
        }
    }

    private mutating func text(_ scalar: Unicode.Scalar, into out: inout String.UnicodeScalarView) {
        let value = scalar.value
        switch value {
        case 0x0A, 0x09:
            out.append(scalar)
        case 0x0D:
            mode = .carriageReturn
        case 0x1B:
            mode = .escape
        case 0x00...0x1F:
            out.append(Unicode.Scalar(0x2400 + value) ?? "\u{FFFD}")
        case 0x7F:
            out.append("\u{2421}")
        case 0x80...0x9F, 0x202A...0x202E, 0x2066...0x2069:
            out.append("\u{FFFD}")
        default:
            out.append(scalar)
        }
    }

    /// How many trailing bytes start a UTF-8 sequence that the next chunk may complete.
    static func incompleteTail(_ bytes: [UInt8]) -> Int {
        let count = bytes.count
        var back = 1
        while back <= min(3, count) {
            let byte = bytes[count - back]
            if byte & 0xC0 == 0x80 {
                back += 1
                continue
            }
            let needed = byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : byte >= 0xC0 ? 2 : 1
            return needed > back ? back : 0
        }
        return 0
    }
}
