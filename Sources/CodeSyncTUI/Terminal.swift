import CNcursesw
import Foundation
import Glibc

/// Why the terminal could not be opened, with what to do about it.
public struct TerminalError: Error, CustomStringConvertible {
    public var description: String
}

/// The ncurses side: raw keys, mouse and bracketed paste in, changed cells out. The only file that
/// calls ncurses; everything it draws comes from a `ScreenGrid`.
public final class Terminal {
    private var screen: OpaquePointer?
    private var previous: ScreenGrid?
    private var pairs: [PairKey: Int16] = [:]
    private var nextPair: Int16 = 1
    /// The pair cache ran out during the last frame.
    private var pairsExhausted = false
    /// The cache was already started over for the frame now on screen (never twice in a row).
    private var pairsRestarted = false
    private var hasColour = false
    private var colourCount = 8
    private var paste: String.UnicodeScalarView?
    private var cursorShown = true
    /// Standard error as it was before the editor took the terminal (log lines would corrupt the screen).
    private var savedStderr: Int32 = -1
    /// Inside an escape sequence ncurses did not know: its bytes are dropped, not typed.
    private var unknownSequence: UInt8 = 0

    private static let pasteStart: Int32 = 0x1001
    private static let pasteEnd: Int32 = 0x1002

    private struct PairKey: Hashable {
        var fg: Int16
        var bg: Int16
    }

    public init() {}

    /// Takes over the terminal (alternate screen, raw keys, mouse, bracketed paste).
    public func start() throws {
        guard isatty(STDIN_FILENO) == 1, isatty(STDOUT_FILENO) == 1 else {
            throw TerminalError(description: "the editor needs an interactive terminal: run it in a terminal, not with input or output redirected (`codesync doctor` checks the terminal)")
        }
        setlocale(LC_ALL, "")
        if let ctype = setlocale(LC_CTYPE, nil), !String(cString: ctype).uppercased().contains("UTF") {
            // Wide characters need a UTF-8 locale; C.UTF-8 exists on every glibc system.
            setlocale(LC_CTYPE, "C.UTF-8")
        }
        guard let term = getenv("TERM"), let screen = newterm(term, codesync_stdout(), codesync_stdin()) else {
            throw TerminalError(description: "cannot open the terminal (TERM=\(getenv("TERM").map { String(cString: $0) } ?? "unset")); set TERM, e.g. TERM=xterm-256color (`codesync doctor` checks the terminal)")
        }
        self.screen = screen
        set_term(screen)
        redirectStderr()
        raw()
        noecho()
        nonl()
        keypad(codesync_stdscr(), true)
        intrflush(codesync_stdscr(), false)
        set_escdelay(25)
        mouseinterval(0)
        mousemask(codesync_button1_pressed() | codesync_button4_pressed() | codesync_button5_pressed(), nil)
        // Home and End arrive in several spellings depending on TERM and the multiplexer.
        for (sequence, key) in [("\u{1b}[1~", KEY_HOME), ("\u{1b}[7~", KEY_HOME), ("\u{1b}[H", KEY_HOME), ("\u{1b}OH", KEY_HOME),
                                ("\u{1b}[4~", KEY_END), ("\u{1b}[8~", KEY_END), ("\u{1b}[F", KEY_END), ("\u{1b}OF", KEY_END)] {
            define_key(sequence, key)
        }
        define_key("\u{1b}[200~", Self.pasteStart)
        define_key("\u{1b}[201~", Self.pasteEnd)
        if has_colors() {
            start_color()
            use_default_colors()
            hasColour = true
            colourCount = Int(codesync_colors())
        }
        nodelay(codesync_stdscr(), true)
        writeRaw("\u{1b}[?2004h")
    }

    /// Gives the terminal back as it was (main screen, cooked mode, no paste brackets).
    public func stop() {
        guard screen != nil else { return }
        writeRaw("\u{1b}[?2004l")
        endwin()
        if let screen { delscreen(screen) }
        screen = nil
        if savedStderr >= 0 {
            dup2(savedStderr, STDERR_FILENO)
            close(savedStderr)
            savedStderr = -1
        }
    }

    deinit { stop() }

    /// Sends standard error to `$XDG_STATE_HOME/codesync/editor.log` (or /dev/null) while the editor
    /// owns the screen: session and runner log lines would otherwise be drawn over it.
    private func redirectStderr() {
        guard isatty(STDERR_FILENO) == 1 else { return }
        let env = ProcessInfo.processInfo.environment
        let state = env["XDG_STATE_HOME"] ?? ((env["HOME"] ?? "/tmp") + "/.local/state")
        let folder = state + "/codesync"
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        var fd = open(folder + "/editor.log", O_WRONLY | O_CREAT | O_APPEND, 0o600)
        if fd < 0 { fd = open("/dev/null", O_WRONLY) }
        guard fd >= 0 else { return }
        savedStderr = dup(STDERR_FILENO)
        dup2(fd, STDERR_FILENO)
        close(fd)
    }

    /// The terminal's current size.
    public var size: TerminalSize {
        TerminalSize(columns: Int(codesync_cols()), rows: Int(codesync_lines()))
    }

    /// Asks the kernel for the window size and resizes ncurses' screens to it (after SIGWINCH).
    public func refreshSize() -> TerminalSize {
        var ws = winsize()
        if ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &ws) == 0, ws.ws_row > 0, ws.ws_col > 0 {
            resizeterm(Int32(ws.ws_row), Int32(ws.ws_col))
        }
        return size
    }

    /// Reads every key, paste and mouse event already waiting, without blocking.
    public func readEvents() -> [EditorEvent] {
        var events: [EditorEvent] = []
        var ch: wint_t = 0
        while true {
            let result = wget_wch(codesync_stdscr(), &ch)
            if result == ERR { break }
            if result == KEY_CODE_YES {
                let code = Int32(ch)
                if code == Self.pasteStart { paste = String.UnicodeScalarView(); continue }
                if code == Self.pasteEnd {
                    if let text = paste { events.append(.paste(String(text))) }
                    paste = nil
                    continue
                }
                if paste != nil {
                    if code == KEY_ENTER { paste?.append("\n") }
                    continue
                }
                unknownSequence = 0
                if let event = functionKey(code) { events.append(event) }
            } else if let scalar = Unicode.Scalar(UInt32(ch)) {
                if paste != nil {
                    paste?.append(scalar == "\r" ? "\n" : scalar)
                } else if skipUnknownSequence(scalar) {
                    continue
                } else if let key = Self.key(for: scalar) {
                    if key == .escape { unknownSequence = 1 }
                    events.append(.key(key))
                }
            }
        }
        // A sequence arrives in one burst; an Escape typed by hand is not followed by one.
        if unknownSequence == 1 { unknownSequence = 0 }
        return events
    }

    /// After an ESC, `[` or `O` opens a sequence that runs to its final byte (0x40-0x7E); the ESC
    /// already sent stays a plain Escape key press.
    private func skipUnknownSequence(_ scalar: Unicode.Scalar) -> Bool {
        switch unknownSequence {
        case 1:
            if scalar == "[" || scalar == "O" { unknownSequence = 2; return true }
            unknownSequence = 0
            return false
        case 2:
            if (0x40...0x7E).contains(scalar.value) { unknownSequence = 0 }
            return true
        default:
            return false
        }
    }

    private func functionKey(_ code: Int32) -> EditorEvent? {
        switch code {
        case KEY_RESIZE: return .resize(size)
        case KEY_MOUSE:
            var event = MEVENT()
            guard getmouse(&event) == OK else { return nil }
            let row = Int(event.y), column = Int(event.x)
            if event.bstate & codesync_button4_pressed() != 0 { return .mouse(.scrollUp(row: row, column: column)) }
            if codesync_button5_pressed() != 0 && event.bstate & codesync_button5_pressed() != 0 {
                return .mouse(.scrollDown(row: row, column: column))
            }
            if event.bstate & codesync_button1_pressed() != 0 { return .mouse(.press(row: row, column: column)) }
            return nil
        case KEY_UP: return .key(.up)
        case KEY_DOWN: return .key(.down)
        case KEY_LEFT: return .key(.left)
        case KEY_RIGHT: return .key(.right)
        case KEY_HOME: return .key(.home)
        case KEY_END: return .key(.end)
        case KEY_PPAGE: return .key(.pageUp)
        case KEY_NPAGE: return .key(.pageDown)
        case KEY_SR: return .key(.shiftUp)
        case KEY_SF: return .key(.shiftDown)
        case KEY_SLEFT: return .key(.shiftLeft)
        case KEY_SRIGHT: return .key(.shiftRight)
        case KEY_SHOME: return .key(.shiftHome)
        case KEY_SEND: return .key(.shiftEnd)
        case KEY_BACKSPACE: return .key(.backspace)
        case KEY_DC: return .key(.delete)
        case KEY_ENTER: return .key(.enter)
        case KEY_BTAB: return .key(.backTab)
        default:
            if code > KEY_F0 && code <= KEY_F0 + 24 { return .key(.function(Int(code - KEY_F0))) }
            return nil
        }
    }

    /// The key a plain character stands for in raw mode (control bytes are Ctrl-letters).
    static func key(for scalar: Unicode.Scalar) -> Key? {
        switch scalar.value {
        case 0x0D, 0x0A: return .enter
        case 0x09: return .tab
        case 0x7F, 0x08: return .backspace
        case 0x1B: return .escape
        case 0x01...0x1A: return .control(Character(Unicode.Scalar(scalar.value + 0x60) ?? "?"))
        case 0x00..<0x20: return nil
        default: return .character(scalar)
        }
    }

    /// Draws the cells that differ from the last frame and places the cursor.
    public func flush(_ grid: ScreenGrid) {
        if pairsExhausted {
            pairsExhausted = false
            if !pairsRestarted {
                pairs = [:]
                nextPair = 1
                pairsRestarted = true
                invalidate()
            }
        } else {
            pairsRestarted = false
        }
        if previous.map({ $0.columns != grid.columns || $0.rows != grid.rows }) ?? true { werase(codesync_stdscr()) }
        for index in grid.changedCells(since: previous) {
            let cell = grid.cells[index]
            if cell.width == 0 { continue }
            draw(cell, marks: grid.combining[index], row: index / grid.columns, column: index % grid.columns)
        }
        if let cursor = grid.cursor {
            if !cursorShown { curs_set(1); cursorShown = true }
            wmove(codesync_stdscr(), Int32(cursor.row), Int32(cursor.column))
        } else {
            if cursorShown { curs_set(0); cursorShown = false }
        }
        wnoutrefresh(codesync_stdscr())
        doupdate()
        previous = grid
    }

    /// Forgets the last frame so the next flush redraws everything (after a resize).
    public func invalidate() {
        previous = nil
        clearok(codesync_stdscr(), true)
    }

    private func draw(_ cell: Cell, marks: [Unicode.Scalar]?, row: Int, column: Int) {
        let (fg, bg, attrs) = Theme.style(for: cell.role, colours: colourCount)
        var chars: [wchar_t] = [wchar_t(bitPattern: cell.scalar.value)]
        if let marks { chars.append(contentsOf: marks.prefix(4).map { wchar_t(bitPattern: $0.value) }) }
        chars.append(0)
        var cc = cchar_t()
        setcchar(&cc, chars, attrs, pair(fg: fg, bg: bg), nil)
        mvwadd_wch(codesync_stdscr(), Int32(row), Int32(column), &cc)
    }

    private func pair(fg: Int16, bg: Int16) -> Int16 {
        guard hasColour, fg != -1 || bg != -1 else { return 0 }
        let key = PairKey(fg: fg, bg: bg)
        if let existing = pairs[key] { return existing }
        guard Int32(nextPair) < codesync_color_pairs(), nextPair < Int16.max else {
            // Full (a program's 256/24-bit colours can use many pairs): this frame falls back to the
            // default colours for new pairs; the next frame starts the cache over and redraws.
            pairsExhausted = true
            return 0
        }
        init_pair(nextPair, fg, bg)
        pairs[key] = nextPair
        nextPair += 1
        return nextPair - 1
    }

    private func writeRaw(_ text: String) {
        fputs(text, codesync_stdout())
        fflush(codesync_stdout())
    }
}

/// Colours and attributes for each role; 8-colour safe, brighter where the terminal has 16.
enum Theme {
    static let black: Int16 = 0, red: Int16 = 1, green: Int16 = 2, yellow: Int16 = 3
    static let blue: Int16 = 4, magenta: Int16 = 5, cyan: Int16 = 6, white: Int16 = 7, none: Int16 = -1

    static func peerColour(_ index: UInt8, colours: Int) -> Int16 {
        let base: [Int16] = [red, green, yellow, blue, magenta, cyan]
        let i = Int(index % 8)
        if i < base.count { return base[i] }
        return colours >= 16 ? base[i - base.count] + 8 : base[i - base.count]
    }

    /// A program's SGR style on this terminal: 256 and 24-bit colours become the nearest colour it has.
    static func programStyle(_ style: OutputStyle, colours: Int) -> (Int16, Int16, attr_t) {
        let fg = style.foreground.terminalIndex(available: colours).map { Int16($0) } ?? none
        let bg = style.background.terminalIndex(available: colours).map { Int16($0) } ?? none
        var attrs = codesync_a_normal()
        if style.attributes.contains(.bold) { attrs |= codesync_a_bold() }
        if style.attributes.contains(.dim) { attrs |= codesync_a_dim() }
        if style.attributes.contains(.underline) { attrs |= codesync_a_underline() }
        if style.attributes.contains(.reverse) { attrs |= codesync_a_reverse() }
        return (fg, bg, attrs)
    }

    static func style(for role: Role, colours: Int) -> (Int16, Int16, attr_t) {
        let bold = codesync_a_bold(), reverse = codesync_a_reverse(), dim = codesync_a_dim()
        let normal = codesync_a_normal()
        switch role {
        case .plain: return (none, none, normal)
        case .lineNumber: return (none, none, dim)
        case .currentLineNumber: return (yellow, none, bold)
        case .keyword: return (blue, none, bold)
        case .string: return (green, none, normal)
        case .comment: return (cyan, none, dim)
        case .number: return (magenta, none, normal)
        case .decorator: return (yellow, none, normal)
        case .builtin: return (cyan, none, normal)
        case .control: return (red, none, reverse)
        case .selection: return (none, none, reverse)
        case .findMatch: return (black, yellow, normal)
        case .peerCursor(let c): return (black, peerColour(c, colours: colours), normal)
        case .peerSelection(let c): return (black, peerColour(c, colours: colours), dim)
        case .peerFlag(let c): return (black, peerColour(c, colours: colours), bold)
        case .peerName(let c): return (peerColour(c, colours: colours), none, bold | reverse)
        case .border: return (none, none, dim)
        case .title: return (none, none, reverse)
        case .titleFocused: return (black, cyan, bold)
        case .complexityHeader: return (none, none, bold)
        case .complexityEntry: return (none, none, normal)
        case .complexitySelected: return (black, cyan, normal)
        case .complexityCheap: return (green, none, normal)
        case .complexityCostly: return (red, none, bold)
        case .complexityError: return (red, none, bold)
        case .stdout: return (none, none, normal)
        case .stderr: return (red, none, normal)
        case .runInfo: return (cyan, none, normal)
        case .runSuccess: return (green, none, bold)
        case .runFailure: return (red, none, bold)
        case .styled(let style): return programStyle(style, colours: colours)
        case .outputSelected: return (black, cyan, normal)
        case .status: return (none, none, reverse)
        case .statusModified: return (yellow, none, bold | reverse)
        case .statusError: return (white, red, bold)
        case .hint: return (none, none, reverse)
        case .prompt: return (black, yellow, normal)
        case .dialog: return (black, white, normal)
        case .dialogTitle: return (black, white, bold)
        case .notice: return (yellow, none, bold)
        }
    }
}

/// What `codesync doctor` needs to know about a terminal, found the way `start()` opens it.
extension Terminal {
    /// The number of colours ncurses' entry for `term` declares; nil when ncurses has no entry
    /// for it (the editor's `newterm` would then fail to start).
    public static func colours(term: String) -> Int? {
        // newterm is what the editor calls; pointed at /dev/null it draws nothing.
        guard let output = fopen("/dev/null", "w") else { return nil }
        guard let input = fopen("/dev/null", "r") else { fclose(output); return nil }
        defer { fclose(output); fclose(input) }
        guard let screen = newterm(term, output, input) else { return nil }
        defer { endwin(); delscreen(screen) }
        let count = tigetnum("colors")
        return count > 0 ? Int(count) : 0
    }

    /// The size of the controlling terminal (`/dev/tty`), or nil when there is none.
    public static func controllingTerminalSize() -> TerminalSize? {
        let fd = open("/dev/tty", O_RDONLY | O_NOCTTY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var ws = winsize()
        guard ioctl(fd, UInt(TIOCGWINSZ), &ws) == 0, ws.ws_row > 0, ws.ws_col > 0 else { return nil }
        return TerminalSize(columns: Int(ws.ws_col), rows: Int(ws.ws_row))
    }
}
