/// Makes program output safe to draw inside the editor's screen.
///
/// Program output is untrusted (in a session, a peer wrote the program): escape sequences could move
/// the cursor, recolour or clear the editor, set the window title, or write the clipboard (OSC 52).
/// Complete escape sequences (CSI, OSC, DCS/SOS/PM/APC strings, two-byte ESC sequences) are removed;
/// other control characters become visible Control Pictures (BEL → ␇, a stray ESC → ␛); CR LF becomes
/// LF; C1 controls and bidi overrides become U+FFFD; invalid UTF-8 becomes U+FFFD. Newlines and tabs
/// stay. Feed chunks as they come: partial UTF-8 and partial sequences are carried to the next chunk.
///
/// A sanitizer made with `keepingStyles: true` (the output pane's) also reports, through
/// `feed(_:into:)`, the few controls a reader may act on inside its own model of a line: colours
/// and attributes (SGR), a lone carriage return and erase-in-line. Everything else is neutralised
/// exactly as above; nothing is ever passed through as bytes.
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
    /// Report SGR, lone CR and erase-in-line as `TerminalControl`s instead of dropping/showing them.
    private let keepsStyles: Bool
    /// The current CSI's parameter bytes (only when keeping styles; bounded by the CSI length cap).
    private var csiParameters: [UInt8] = []
    /// The current CSI has only digits, ';' and ':' so far (no private marker, no intermediate).
    private var csiPlain = true
    /// Longest escape sequence swallowed before giving up on it (keeps a stray ESC from eating output).
    static let maxSequence = 4096

    public init() { keepsStyles = false }

    /// A sanitizer that reports colours, attributes, lone CRs and erase-in-line to its sink.
    public init(keepingStyles: Bool) { keepsStyles = keepingStyles }

    /// Sanitises a whole text at once (pure).
    public static func sanitize(_ text: String) -> String {
        var sanitizer = TerminalSanitizer()
        return sanitizer.feed(Array(text.utf8)) + sanitizer.finish()
    }

    /// Sanitises text that must stay on one line (a peer's name, a file name, a reason in a log
    /// line): like `sanitize`, and a newline or tab becomes visible too, so nobody forges a line.
    public static func line(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        for scalar in sanitize(text).unicodeScalars {
            switch scalar {
            case "\n": out.append("\u{240A}")
            case "\t": out.append(" ")
            default: out.append(scalar)
            }
        }
        return String(out)
    }

    /// Sanitises a whole byte buffer at once (pure); invalid UTF-8 becomes U+FFFD.
    public static func sanitize(bytes: [UInt8]) -> String {
        var sanitizer = TerminalSanitizer()
        return sanitizer.feed(bytes) + sanitizer.finish()
    }

    /// Feeds the next chunk of output; returns the displayable text it completes.
    public mutating func feed(_ bytes: [UInt8]) -> String {
        var out = PlainSink()
        feed(bytes, into: &out)
        return String(out.scalars)
    }

    /// Feeds the next chunk, handing the displayable scalars and (when keeping styles) the controls
    /// to `sink` in order.
    public mutating func feed<Sink: TerminalSink>(_ bytes: [UInt8], into out: inout Sink) {
        let data = heldBytes + bytes
        let tail = Self.incompleteTail(data)
        heldBytes = Array(data.suffix(tail))
        let text = String(decoding: data.prefix(data.count - tail), as: UTF8.self)
        for scalar in text.unicodeScalars { step(scalar, into: &out) }
    }

    /// Ends the stream: whatever is held becomes visible or is dropped.
    public mutating func finish() -> String {
        var out = PlainSink()
        finish(into: &out)
        return String(out.scalars)
    }

    /// Ends the stream into `sink`: whatever is held becomes visible or is dropped.
    public mutating func finish<Sink: TerminalSink>(into out: inout Sink) {
        if !heldBytes.isEmpty {
            out.text("\u{FFFD}")
            heldBytes = []
        }
        switch mode {
        case .carriageReturn: if keepsStyles { out.control(.carriageReturn) } else { out.text("\u{240D}") }
        case .escape: out.text("\u{241B}")
        default: break
        }
        mode = .text
    }

    private mutating func step<Sink: TerminalSink>(_ scalar: Unicode.Scalar, into out: inout Sink) {
        let value = scalar.value
        switch mode {
        case .text:
            text(scalar, into: &out)
        case .carriageReturn:
            mode = .text
            if value == 0x0A {
                out.text("\n")
            } else {
                if keepsStyles { out.control(.carriageReturn) } else { out.text("\u{240D}") }
                text(scalar, into: &out)
            }
        case .escape:
            sequenceLength = 0
            switch value {
            case 0x5B:                                               // ESC [
                mode = .csi
                csiPlain = true
                csiParameters.removeAll(keepingCapacity: true)
            case 0x5D, 0x50, 0x58, 0x5E, 0x5F: mode = .string          // ESC ] P X ^ _
            case 0x20...0x2F: mode = .escapeIntermediate
            case 0x30...0x7E: mode = .text                           // two-byte sequence: drop
            default:
                // Not a sequence: show the ESC, then treat this scalar normally.
                out.text("\u{241B}")
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
            case 0x20...0x3F where sequenceLength < 256:            // parameters and intermediates
                if keepsStyles {
                    if (0x30...0x3B).contains(value) { csiParameters.append(UInt8(value)) } else { csiPlain = false }
                }
            case 0x40...0x7E:                                        // final byte: sequence done
                mode = .text
                if keepsStyles && csiPlain { reportCSI(final: value, into: &out) }
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
                if value == 0x0A { out.text("\n") }
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

    /// A finished plain CSI: SGR (`m`) and erase-in-line (`K`) go to the sink; the rest is dropped.
    private func reportCSI<Sink: TerminalSink>(final: UInt32, into out: inout Sink) {
        switch final {
        case 0x6D:
            out.control(.graphicRendition(csiParameters))
        case 0x4B:
            // Only ESC[K, ESC[0K, ESC[1K, ESC[2K; anything else is not erase-in-line.
            switch csiParameters {
            case [], [0x30]: out.control(.eraseLine(.toEnd))
            case [0x31]: out.control(.eraseLine(.toStart))
            case [0x32]: out.control(.eraseLine(.whole))
            default: break
            }
        default:
            break
        }
    }

    private mutating func text<Sink: TerminalSink>(_ scalar: Unicode.Scalar, into out: inout Sink) {
        let value = scalar.value
        switch value {
        case 0x0A, 0x09:
            out.text(scalar)
        case 0x0D:
            mode = .carriageReturn
        case 0x1B:
            mode = .escape
        case 0x00...0x1F:
            out.text(Unicode.Scalar(0x2400 + value) ?? "\u{FFFD}")
        case 0x7F:
            out.text("\u{2421}")
        case 0x80...0x9F, 0x202A...0x202E, 0x2066...0x2069:
            out.text("\u{FFFD}")
        default:
            out.text(scalar)
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

/// A control a styled sanitizer reports instead of dropping it; the reader applies it to its own
/// model of the line (it never reaches a terminal as bytes).
public enum TerminalControl: Equatable, Sendable {
    /// Select Graphic Rendition: the parameter bytes between `ESC[` and `m` (only digits, `;` and
    /// `:`, at most the CSI length cap); empty means reset.
    case graphicRendition([UInt8])
    /// A carriage return not followed by a line feed: the line is written again from its start.
    case carriageReturn
    /// Erase in line (`ESC[K`, `ESC[1K`, `ESC[2K`).
    case eraseLine(EraseExtent)

    /// Which part of the line `eraseLine` clears, relative to the write position.
    public enum EraseExtent: Equatable, Sendable { case toEnd, toStart, whole }
}

/// Receives what a sanitizer lets through: displayable scalars and, for a styled sanitizer, controls.
public protocol TerminalSink {
    mutating func text(_ scalar: Unicode.Scalar)
    mutating func control(_ control: TerminalControl)
}

/// Collects the text; controls are not reported to a plain sanitizer, so none arrive here.
private struct PlainSink: TerminalSink {
    var scalars = String.UnicodeScalarView()
    mutating func text(_ scalar: Unicode.Scalar) { scalars.append(scalar) }
    mutating func control(_ control: TerminalControl) {}
}
