
/// What kind of text an output line holds, which decides its colour.
public enum OutputKind: Equatable, Sendable {
    case stdout, stderr, info, success, failure
}

/// One line of the output pane: scalars (tabs already expanded, nothing that moves a terminal's
/// cursor) with the style a program gave each of them.
public struct OutputLine: Equatable, Sendable {
    public private(set) var scalars: [Unicode.Scalar]
    /// One style per scalar, or empty when every scalar is plain (most lines).
    public private(set) var styles: [OutputStyle]
    public var kind: OutputKind
    /// The run this line belongs to (`OutputRun.number`); nil before the first run.
    public var run: Int?

    public init(text: String, kind: OutputKind, run: Int? = nil) {
        scalars = Array(text.unicodeScalars)
        styles = []
        self.kind = kind
        self.run = run
    }

    /// The line's text.
    public var text: String { String(String.UnicodeScalarView(scalars)) }

    /// The style of scalar `index`.
    public func style(at index: Int) -> OutputStyle { index < styles.count ? styles[index] : .plain }

    /// Writes `scalar` at `column` (overwriting, or appending at the end).
    mutating func put(_ scalar: Unicode.Scalar, style: OutputStyle, at column: Int) {
        // `styles` is empty or as long as `scalars`.
        if !style.isPlain && styles.count < scalars.count { styles += repeatElement(.plain, count: scalars.count - styles.count) }
        let styled = !styles.isEmpty || !style.isPlain
        if column < scalars.count {
            scalars[column] = scalar
            if styled { styles[column] = style }
        } else {
            scalars.append(scalar)
            if styled { styles.append(style) }
        }
    }

    /// Erase in line at write position `column`.
    mutating func erase(_ extent: TerminalControl.EraseExtent, column: Int) {
        switch extent {
        case .toEnd:
            if column < scalars.count {
                scalars.removeSubrange(column...)
                if !styles.isEmpty { styles.removeSubrange(column...) }
            }
        case .toStart, .whole:
            let end = extent == .whole ? scalars.count : min(scalars.count, column + 1)
            for i in 0..<end {
                scalars[i] = " "
                if !styles.isEmpty { styles[i] = .plain }
            }
            if extent == .whole && column < scalars.count {
                scalars.removeSubrange(column...)
                if !styles.isEmpty { styles.removeSubrange(column...) }
            }
        }
    }
}

/// One run the log remembers: who ran it, in which language, and which version of the text.
public struct OutputRun: Equatable, Sendable {
    /// Counts runs in this log from 1.
    public var number: Int
    public var by: String
    public var language: String
    /// A short content hash of the text that ran, when known (`RunVersion`).
    public var version: String?
    /// The name the sandbox gives the source file in this language (`main.py`), if it is a known one.
    public var sandboxFileName: String?

    /// The file the sandbox runs for each built-in language (`python` → `main.py`), so a traceback
    /// naming it jumps into the buffer. The runner's `Language.builtIn` is the source of this data;
    /// the core keeps its own copy rather than import the runner, and AppTests checks they agree.
    public static let sandboxFileNames = ["python": "main.py", "node": "main.js", "go": "main.go", "c": "main.c", "cpp": "main.cpp"]

    /// `sandboxFileNames[language]`; nil for a language the core does not know (a configured one).
    public static func sandboxFileName(language: String) -> String? { sandboxFileNames[language] }
}

/// The output pane's content: run output split into lines as it streams in, bounded in size, with
/// the last few runs kept for scrolling back and a selected line for jumping to error locations.
public struct OutputLog: Equatable, Sendable {
    public private(set) var lines: [OutputLine] = []
    /// The last line is still being written (no newline yet) by this stream.
    private var openKind: OutputKind?
    /// Write position in the open line, in scalars and in display cells (a CR sets both to 0).
    private var column = 0
    private var displayColumn = 0
    /// Lines kept; older ones are dropped first.
    public var capacity: Int
    /// Runs kept; lines of older runs are dropped when a new run starts.
    public var maxRuns = 8
    /// Lines scrolled up from the bottom; 0 follows new output.
    public var scrollBack = 0
    /// Who started the current or last run, and its language.
    public private(set) var title: String?
    public private(set) var running = false
    /// The runs whose lines are still in the log, oldest first.
    public private(set) var runs: [OutputRun] = []
    /// Lines dropped from the top so far, so that a line keeps its number (`lineNumber`) while older
    /// ones go.
    public private(set) var droppedLines = 0
    /// The selected line's number (see `lineNumber`), if any.
    public private(set) var selectedLine: Int?
    /// One sanitizer per stream: program output (a peer's program, in a session) may hold escape
    /// sequences, split across chunks, that would otherwise reach the reader's terminal.
    private var sanitizers: [OutputKind: TerminalSanitizer] = [:]
    /// Colours and attributes each stream has set with SGR.
    private var styles: [OutputKind: OutputStyle] = [:]

    public init(capacity: Int = 5_000) {
        self.capacity = max(1, capacity)
    }

    /// Shown under a run the sandbox could not start (no engine, no image, bad config).
    public static let doctorHint = "run `codesync doctor` to check the Docker engine and images"
    /// Longest line kept; a longer one continues on the next line (so no line costs more than this).
    public static let maxLineLength = 4096
    /// Tab stops in program output, as terminals set them.
    public static let tabWidth = 8

    /// Applies a run update.
    public mutating func apply(_ update: RunUpdate) {
        switch update {
        case .started(let rawBy, let rawLanguage):
            let by = TerminalSanitizer.line(rawBy), language = TerminalSanitizer.line(rawLanguage)
            sanitizers = [:]
            styles = [:]
            if !lines.isEmpty { closeLine(); append(line: OutputLine(text: "", kind: .info, run: runs.last?.number)) }
            title = "run by \(by) · \(language)"
            running = true
            scrollBack = 0
            let number = (runs.last?.number ?? 0) + 1
            let sandboxName = OutputRun.sandboxFileName(language: rawLanguage)
            runs.append(OutputRun(number: number, by: by, language: language, version: nil, sandboxFileName: sandboxName))
            dropOldRuns()
            append(line: OutputLine(text: "▶ \(by) started a \(language) run", kind: .info, run: number))
        case .version(let raw):
            guard let version = RunVersion.validated(raw), !runs.isEmpty else { return }
            runs[runs.count - 1].version = version
            // The started line says which version ran, as soon as it is known.
            if let index = lines.lastIndex(where: { $0.run == runs[runs.count - 1].number && $0.text.hasPrefix("▶ ") }) {
                let run = runs[runs.count - 1]
                lines[index] = OutputLine(text: "▶ \(run.by) started a \(run.language) run · version \(RunVersion.short(version))", kind: .info, run: run.number)
            }
        case .output(let text, let isError):
            appendText(text, kind: isError ? .stderr : .stdout)
        case .finished(let summary, let success, let durationMs):
            flushSanitizers()
            closeLine()
            running = false
            append(line: OutputLine(text: "■ \(TerminalSanitizer.line(summary)) · \(Self.duration(durationMs))", kind: success ? .success : .failure, run: runs.last?.number))
        case .failed(let reason):
            flushSanitizers()
            closeLine()
            running = false
            append(line: OutputLine(text: "✗ \(TerminalSanitizer.line(reason))", kind: .failure, run: runs.last?.number))
            append(line: OutputLine(text: Self.doctorHint, kind: .info, run: runs.last?.number))
        }
    }

    /// Shows what the sanitizers still hold (a cut sequence or half a character) when a run ends.
    private mutating func flushSanitizers() {
        for kind in [OutputKind.stdout, .stderr] {
            guard var sanitizer = sanitizers.removeValue(forKey: kind) else { continue }
            withWriter(kind) { sanitizer.finish(into: &$0) }
        }
    }

    /// Adds streamed text; a chunk may end mid-line and the next chunk of the same stream continues it.
    /// Colours and attributes (SGR) are kept as styles, a lone CR rewrites the line from its start,
    /// tabs are expanded; every other escape sequence and control character is neutralised
    /// (`TerminalSanitizer`), also across chunks.
    public mutating func appendText(_ text: String, kind: OutputKind) {
        var sanitizer = sanitizers.removeValue(forKey: kind) ?? TerminalSanitizer(keepingStyles: true)
        withWriter(kind) { sanitizer.feed(Array(text.utf8), into: &$0) }
        sanitizers[kind] = sanitizer
    }

    /// Runs `body` with a sink that writes into this log for stream `kind`.
    private mutating func withWriter(_ kind: OutputKind, _ body: (inout Writer) -> Void) {
        var writer = Writer(log: self, kind: kind)
        // Drop this copy's references so that the writer's edits do not copy the lines.
        self = OutputLog(capacity: capacity)
        body(&writer)
        self = writer.log
    }

    /// Receives the sanitizer's scalars and controls for one stream.
    private struct Writer: TerminalSink {
        var log: OutputLog
        let kind: OutputKind

        mutating func text(_ scalar: Unicode.Scalar) { log.put(scalar, kind: kind) }

        mutating func control(_ control: TerminalControl) {
            switch control {
            case .graphicRendition(let parameters):
                log.styles[kind, default: .plain].apply(sgr: parameters)
            case .carriageReturn:
                if log.openKind == kind { log.column = 0; log.displayColumn = 0 }
            case .eraseLine(let extent):
                if log.openKind == kind, !log.lines.isEmpty {
                    log.lines[log.lines.count - 1].erase(extent, column: log.column)
                }
            }
        }
    }

    /// Writes one sanitised scalar of stream `kind` at the write position.
    private mutating func put(_ scalar: Unicode.Scalar, kind: OutputKind) {
        if scalar == "\n" {
            if openKind != kind { openLine(kind) }
            closeLine()
            return
        }
        if openKind != kind { openLine(kind) }
        let style = styles[kind] ?? .plain
        if scalar == "\t" {
            let spaces = Self.tabWidth - displayColumn % Self.tabWidth
            for _ in 0..<spaces { putCell(" ", width: 1, style: style, kind: kind) }
            return
        }
        putCell(scalar, width: DisplayWidth.of(scalar), style: style, kind: kind)
    }

    private mutating func putCell(_ scalar: Unicode.Scalar, width: Int, style: OutputStyle, kind: OutputKind) {
        if column >= Self.maxLineLength {
            // Too long: continue on a new line rather than grow without bound.
            closeLine()
            openLine(kind)
        }
        lines[lines.count - 1].put(scalar, style: style, at: column)
        column += 1
        displayColumn += width
    }

    private mutating func openLine(_ kind: OutputKind) {
        closeLine()
        append(line: OutputLine(text: "", kind: kind, run: runs.last?.number))
        openKind = kind
    }

    /// Adds a finished info line (sanitised: it may quote a peer's name or an address).
    public mutating func note(_ text: String, kind: OutputKind = .info) {
        closeLine()
        append(line: OutputLine(text: TerminalSanitizer.line(text), kind: kind, run: runs.last?.number))
    }

    private mutating func closeLine() {
        openKind = nil
        column = 0
        displayColumn = 0
    }

    private mutating func append(line: OutputLine) {
        lines.append(line)
        if lines.count > capacity { dropFirst(lines.count - capacity) }
        if scrollBack > 0 { scrollBack += 1 }
    }

    /// Forgets the lines of runs beyond the last `maxRuns`.
    private mutating func dropOldRuns() {
        guard runs.count > maxRuns else { return }
        runs.removeFirst(runs.count - maxRuns)
        let keep = runs[0].number
        let count = lines.prefix { ($0.run ?? 0) < keep }.count
        dropFirst(count)
    }

    private mutating func dropFirst(_ count: Int) {
        guard count > 0 else { return }
        lines.removeFirst(count)
        droppedLines += count
        if let selected = selectedLine, selected < droppedLines { selectedLine = nil }
        scrollBack = min(scrollBack, max(0, lines.count - 1))
    }

    // MARK: - Selection

    /// The number of the line at `index` of `lines` (stays the same while older lines are dropped).
    public func lineNumber(at index: Int) -> Int { droppedLines + index }

    /// The index in `lines` of the selected line, if it is still kept.
    public var selectedIndex: Int? {
        guard let selected = selectedLine, selected >= droppedLines, selected - droppedLines < lines.count else { return nil }
        return selected - droppedLines
    }

    /// Selects the line at `index` of `lines` (nil: none).
    public mutating func select(index: Int?) {
        guard let index, !lines.isEmpty else { selectedLine = nil; return }
        selectedLine = lineNumber(at: min(max(0, index), lines.count - 1))
    }

    /// Moves the selection by `delta` lines (from the newest line when none is selected) and
    /// scrolls so that it is visible in a pane of `height` rows.
    public mutating func moveSelection(by delta: Int, height: Int) {
        guard !lines.isEmpty else { return }
        let visibleEnd = max(0, lines.count - scrollBack)
        let start = selectedIndex ?? (delta < 0 ? visibleEnd : max(0, visibleEnd - max(1, height)) - 1)
        let index = min(max(0, start + delta), lines.count - 1)
        select(index: index)
        reveal(index: index, height: height)
    }

    /// Scrolls so that line `index` is visible in a pane of `height` rows.
    public mutating func reveal(index: Int, height: Int) {
        let rows = max(1, height)
        let visibleEnd = lines.count - scrollBack
        if index >= visibleEnd { scrollBack = lines.count - index - 1 }
        if index < visibleEnd - rows { scrollBack = lines.count - index - rows }
        scrollBack = min(max(0, scrollBack), max(0, lines.count - rows))
    }

    /// The index in `lines` of the line drawn on row `row` of a pane of `height` rows, as the renderer
    /// lays them out.
    public func index(atRow row: Int, height: Int) -> Int? {
        let visibleEnd = max(0, lines.count - scrollBack)
        let visibleStart = max(0, visibleEnd - height)
        let index = visibleStart + row
        return row >= 0 && index < visibleEnd ? index : nil
    }

    /// The run line `index` belongs to, while it is remembered.
    public func run(ofLine index: Int) -> OutputRun? {
        guard index >= 0, index < lines.count, let number = lines[index].run else { return nil }
        return runs.first { $0.number == number }
    }

    /// "850 ms" or "2.4 s".
    static func duration(_ ms: Int) -> String {
        if ms < 1000 { return "\(ms) ms" }
        let tenths = (ms + 50) / 100
        return "\(tenths / 10).\(tenths % 10) s"
    }
}
