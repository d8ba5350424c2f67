/// A pane that can have the keyboard focus; Tab moves through them in this order.
public enum Pane: CaseIterable, Sendable {
    case editor, complexity, output
}

/// What the keyboard currently drives.
public enum EditorMode: Equatable, Sendable {
    case normal
    case find(query: String)
    case goToLine(input: String)
    case quitConfirm
    case help
    /// Host: the people dialog (Ctrl-W): those waiting to join, then the peers; `selection` indexes
    /// that list.
    case people(selection: Int)
    /// A shared folder: the open-file picker (Ctrl-O); `selection` indexes the files matching `query`.
    case openFile(query: String, selection: Int)
    /// A shared folder: the files pane has the keyboard; `selection` indexes `EditorModel.filesPaneRows`.
    case files(selection: Int)
    /// A shared folder: typing a path for a new file, or the new path of `renaming`.
    case filePath(renaming: String?, input: String)
    /// A shared folder: asks whether to delete this file (y deletes).
    case confirmDelete(String)
}

/// A file of a shared folder as the editor lists it.
public struct ProjectFile: Equatable, Sendable {
    /// The path relative to the shared folder (sanitized by the shell: the host chose it).
    public var path: String
    /// Why it cannot be opened ("binary", "too large"), nil when it can.
    public var refusal: String?

    public init(path: String, refusal: String? = nil) {
        self.path = path
        self.refusal = refusal
    }
}

/// What the shell must do with a shared folder's files for the model.
public enum FileCommand: Equatable, Sendable {
    /// Open `path` (the shell answers `.fileOpened` or `.fileOpenFailed`).
    case open(String)
    case create(String)
    case rename(String, to: String)
    case delete(String)
    /// Host: save every edited file (quitting with "save").
    case saveAll
}

/// Someone waiting to join a session whose host admits guests itself, as the host's editor shows it.
public struct WaitingGuest: Equatable, Sendable {
    public var id: String
    /// Sanitized by the shell (peers choose names).
    public var name: String
    /// How it came: an address, `ADDR via relay`, `ssh (local socket)`.
    public var from: String
    /// What it gets when admitted ("edit+run", "edit", "view").
    public var access: String
    /// The host removed this id earlier in the session.
    public var removedBefore: Bool

    public init(id: String, name: String, from: String, access: String, removedBefore: Bool = false) {
        self.id = id
        self.name = name
        self.from = from
        self.access = access
        self.removedBefore = removedBefore
    }
}

/// The host's decision about one person in the people dialog.
public enum PeopleDecision: Equatable, Sendable {
    case admit, refuse, remove
}

/// A key, already decoded from the terminal's bytes.
public enum Key: Equatable, Sendable {
    case character(Unicode.Scalar)
    case enter, backspace, delete, tab, backTab, escape
    case up, down, left, right, home, end, pageUp, pageDown
    case shiftUp, shiftDown, shiftLeft, shiftRight, shiftHome, shiftEnd
    /// Ctrl plus a letter, lower-case (`.control("s")` is Ctrl-S).
    case control(Character)
    case function(Int)
}

/// A mouse action at a screen cell.
public enum MouseEvent: Equatable, Sendable {
    case press(row: Int, column: Int)
    case scrollUp(row: Int, column: Int)
    case scrollDown(row: Int, column: Int)
}

/// Another peer in the session, with offsets already resolved against the local text.
public struct RemotePeer: Equatable, Sendable {
    public var id: String
    public var name: String
    /// Colour index 0-7.
    public var colour: UInt8
    public var cursor: Int
    public var selection: Range<Int>?
    /// A shared folder: the file the peer is in (its cursor is an offset in that file); nil when it
    /// has said none (a single-file session, or a peer with no file open).
    public var file: String?

    public init(id: String, name: String, colour: UInt8, cursor: Int, selection: Range<Int>? = nil, file: String? = nil) {
        self.id = id
        self.name = name
        self.colour = colour % 8
        self.cursor = cursor
        self.selection = selection
        self.file = file
    }
}

/// The link to the session, as the status bar shows it (the app derives it from the peer's
/// `ConnectionState` and its role; the editor knows no session types).
public enum LinkStatus: Equatable, Sendable {
    /// Editing a local file, no session.
    case local
    case hosting(peers: Int)
    case connecting(String)
    case connected(latencyMs: Int?)
    case reconnecting(String)
    case disconnected(String)

    /// The words shown in the status bar.
    public var label: String {
        switch self {
        case .local: return "local"
        case .hosting(let n): return n == 0 ? "hosting" : "hosting · \(n) joined"
        case .connecting(let to): return "connecting to \(to)"
        case .connected(let ms): return ms.map { "connected · \($0) ms" } ?? "connected"
        case .reconnecting(let why): return "reconnecting (\(why))"
        case .disconnected(let why): return "disconnected: \(why)"
        }
    }
}

/// One function's line in the complexity pane.
public struct ComplexityEntry: Equatable, Sendable {
    public var name: String
    /// The class as text, e.g. "O(n^2)".
    public var complexity: String
    /// Position in the cost order (higher is worse), used to sort worst first.
    public var rank: Int
    /// 1-based line of the definition.
    public var line: Int
    /// 1-based line that dominates the cost, if known.
    public var dominatingLine: Int?
    public var loopDepth: Int
    /// Quadratic or worse: drawn in the warning colour.
    public var costly: Bool

    public init(name: String, complexity: String, rank: Int, line: Int, dominatingLine: Int?, loopDepth: Int, costly: Bool) {
        self.name = name
        self.complexity = complexity
        self.rank = rank
        self.line = line
        self.dominatingLine = dominatingLine
        self.loopDepth = loopDepth
        self.costly = costly
    }
}

/// What the complexity pane shows.
public struct ComplexityView: Equatable, Sendable {
    public var overall: String?
    public var entries: [ComplexityEntry]
    /// Syntax errors as "line N: message"; shown instead of an empty pane.
    public var errors: [String]
    /// A note such as "analyzing…" or "unsupported language".
    public var note: String?

    public init(overall: String? = nil, entries: [ComplexityEntry] = [], errors: [String] = [], note: String? = nil) {
        self.overall = overall
        self.entries = entries.sorted { $0.rank != $1.rank ? $0.rank > $1.rank : $0.line < $1.line }
        self.errors = errors
        self.note = note
    }
}

/// Progress of a run, as the output pane receives it.
public enum RunUpdate: Equatable, Sendable {
    case started(by: String, language: String)
    case output(String, isError: Bool)
    /// The run ended: a plain summary ("exit 0", "timed out after 10 s"), success, and duration.
    case finished(summary: String, success: Bool, durationMs: Int)
    /// The run could not start (no engine, image missing): the one-line reason.
    case failed(String)
    /// The run that just started ran this version of the text (`RunVersion`, a content hash; from
    /// the host in a session). Peers that do not send it leave the version to the editor's own hash.
    case version(String)
}

/// Something that happens to the editor.
public enum EditorEvent: Equatable, Sendable {
    case key(Key)
    /// A bracketed paste: inserted as one edit.
    case paste(String)
    case mouse(MouseEvent)
    case resize(TerminalSize)
    /// Changes made by other peers (each relative to the text after the previous one).
    case remoteChanges([EditorChange])
    /// Changes made by the local user's undo or redo.
    case undoChanges([EditorChange])
    case peers([RemotePeer])
    case connection(LinkStatus)
    case complexity(ComplexityView)
    case run(RunUpdate)
    /// A status-bar message; errors stay until the next key.
    case message(String, isError: Bool)
    /// The document was written to disk.
    case saved(String)
    /// The document became read-only (view-only guest) or writable again.
    case readOnly(Bool)
    /// Host: what guests may do now ("edit+run", "edit", "view"), for the status bar.
    case guestRoles(String)
    /// Host: who waits to join now, oldest first.
    case lobby([WaitingGuest])
    /// Something everyone should see once (who joined or left): the status line and the output pane.
    case notice(String)
    /// A shared folder: its files, in path order (the model becomes a folder editor on the first).
    case projectFiles([ProjectFile])
    /// A shared folder: `path` is open with `text`; the editor now shows it.
    case fileOpened(path: String, text: String)
    /// A shared folder: opening `path` failed, for `reason`.
    case fileOpenFailed(path: String, reason: String)
    /// A shared folder: a file was renamed (`to`) or deleted (`to` nil) by anyone; `notice` says by whom.
    case fileMoved(from: String, to: String?, notice: String)
}

/// Something the shell must do for the model: edits go to the document, the rest to the session,
/// the disk or the runner.
public enum EditorEffect: Equatable, Sendable {
    case insert(String, at: Int)
    case delete(at: Int, count: Int)
    case closeUndoGroup
    case undo, redo
    case save, quit, run, cancelRun
    /// Host: give guests the next role (edit+run → edit → view → edit+run).
    case cycleGuestRoles
    /// Host: admit or refuse a waiting guest, or remove a peer (by peer id).
    case decide(String, PeopleDecision)
    /// The local cursor (and selection) moved, as scalar offsets.
    case presence(cursor: Int, selection: Range<Int>?)
    /// A shared folder: open, create, rename or delete a file.
    case file(FileCommand)
}
