import CodeSyncRunner

/// What kind of text an output line holds, which decides its colour.
public enum OutputKind: Equatable, Sendable {
    case stdout, stderr, info, success, failure
}

/// One line of the output pane.
public struct OutputLine: Equatable, Sendable {
    public var text: String
    public var kind: OutputKind
}

/// The output pane's content: run output split into lines as it streams in, bounded in size.
public struct OutputLog: Equatable, Sendable {
    public private(set) var lines: [OutputLine] = []
    /// The last line is still being written (no newline yet) by this stream.
    private var openKind: OutputKind?
    /// Lines kept; older ones are dropped first.
    public var capacity: Int
    /// Lines scrolled up from the bottom; 0 follows new output.
    public var scrollBack = 0
    /// Who started the current or last run, and its language.
    public private(set) var title: String?
    public private(set) var running = false
    /// One sanitizer per stream: program output (a peer's program, in a session) may hold escape
    /// sequences, split across chunks, that would otherwise reach the reader's terminal.
    private var sanitizers: [OutputKind: TerminalSanitizer] = [:]

    public init(capacity: Int = 5_000) {
        self.capacity = capacity
    }

    /// Shown under a run the sandbox could not start (no engine, no image, bad config).
    public static let doctorHint = "run `codesync doctor` to check the Docker engine and images"

    /// Applies a run update.
    public mutating func apply(_ update: RunUpdate) {
        switch update {
        case .started(let rawBy, let rawLanguage):
            let by = TerminalSanitizer.line(rawBy), language = TerminalSanitizer.line(rawLanguage)
            sanitizers = [:]
            if !lines.isEmpty { closeLine(); append(line: OutputLine(text: "", kind: .info)) }
            title = "run by \(by) · \(language)"
            running = true
            scrollBack = 0
            append(line: OutputLine(text: "▶ \(by) started a \(language) run", kind: .info))
        case .output(let text, let isError):
            appendText(text, kind: isError ? .stderr : .stdout)
        case .finished(let summary, let success, let durationMs):
            flushSanitizers()
            closeLine()
            running = false
            append(line: OutputLine(text: "■ \(TerminalSanitizer.line(summary)) · \(Self.duration(durationMs))", kind: success ? .success : .failure))
        case .failed(let reason):
            flushSanitizers()
            closeLine()
            running = false
            append(line: OutputLine(text: "✗ \(TerminalSanitizer.line(reason))", kind: .failure))
            append(line: OutputLine(text: Self.doctorHint, kind: .info))
        }
    }

    /// Shows what the sanitizers still hold (a cut sequence or half a character) when a run ends.
    private mutating func flushSanitizers() {
        for kind in [OutputKind.stdout, .stderr] {
            guard var sanitizer = sanitizers.removeValue(forKey: kind) else { continue }
            let rest = sanitizer.finish()
            if !rest.isEmpty { appendClean(rest, kind: kind) }
        }
    }

    /// Adds streamed text; a chunk may end mid-line and the next chunk of the same stream continues it.
    /// Escape sequences and control characters are neutralised (`TerminalSanitizer`), also across chunks.
    public mutating func appendText(_ text: String, kind: OutputKind) {
        var sanitizer = sanitizers[kind] ?? TerminalSanitizer()
        let clean = sanitizer.feed(Array(text.utf8))
        sanitizers[kind] = sanitizer
        appendClean(clean, kind: kind)
    }

    private mutating func appendClean(_ text: String, kind: OutputKind) {
        var first = true
        for piece in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if !first { closeLine() }
            first = false
            if piece.isEmpty { continue }
            let clean = String(String.UnicodeScalarView(piece.unicodeScalars.filter { $0 != "\r" }))
            if openKind == kind, !lines.isEmpty {
                lines[lines.count - 1].text += clean
            } else {
                closeLine()
                append(line: OutputLine(text: clean, kind: kind))
                openKind = kind
            }
        }
        if text.hasSuffix("\n") { closeLine() }
    }

    /// Adds a finished info line (sanitised: it may quote a peer's name or an address).
    public mutating func note(_ text: String, kind: OutputKind = .info) {
        closeLine()
        append(line: OutputLine(text: TerminalSanitizer.line(text), kind: kind))
    }

    private mutating func closeLine() { openKind = nil }

    private mutating func append(line: OutputLine) {
        lines.append(line)
        if lines.count > capacity { lines.removeFirst(lines.count - capacity) }
        if scrollBack > 0 { scrollBack += 1 }
    }

    /// "850 ms" or "2.4 s".
    static func duration(_ ms: Int) -> String {
        if ms < 1000 { return "\(ms) ms" }
        let tenths = (ms + 50) / 100
        return "\(tenths / 10).\(tenths % 10) s"
    }
}
