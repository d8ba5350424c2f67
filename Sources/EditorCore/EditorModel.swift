import CodeSyncDocument

/// The whole editor screen's state as a value. `handle(_:)` applies an event and returns the effects
/// the shell must carry out (edits for the document, save, run...). Nothing here touches a terminal.
public struct EditorModel: Sendable {
    /// The text as the editor shows it; kept identical to the document by applying every local edit
    /// here and in the document, and every remote change here.
    public private(set) var buffer: TextBuffer
    public var fileName: String
    public private(set) var cursor = TextPosition(line: 0, column: 0)
    /// The other end of the selection, when there is one.
    public private(set) var anchor: TextPosition?
    /// Display column kept across vertical moves through shorter lines.
    private var goalColumn: Int?
    /// First visible line and first visible display column of the editor pane.
    public private(set) var top = 0
    public private(set) var left = 0
    public var focus: Pane = .editor
    public private(set) var mode: EditorMode = .normal
    public private(set) var peers: [RemotePeer] = []
    /// The peer whose cursor the view tracks (follow mode).
    public private(set) var following: String?
    public private(set) var complexity = ComplexityView(note: "analyzing…")
    public private(set) var complexitySelection = 0
    public var output = OutputLog()
    public private(set) var connection: LinkStatus = .local
    /// Unsaved changes exist (only meaningful where this peer can save).
    public private(set) var modified = false
    public var canSave: Bool
    public private(set) var readOnly = false
    /// Host: what guests may do, shown on the status bar; nil outside a hosted session.
    public private(set) var guestRoles: String?
    /// Host: who waits to join (a host that admits guests itself), oldest first.
    public private(set) var waiting: [WaitingGuest] = []
    public private(set) var message: (text: String, isError: Bool)?
    public private(set) var size: TerminalSize
    public private(set) var layout: EditorLayout
    /// Counts text changes, local and remote; the shell re-analyzes when it moves.
    public private(set) var textGeneration = 0
    private var lastFind = ""
    private var lastEdit: EditKind?
    private var lastPresence: (cursor: Int, selection: Range<Int>?)?
    /// Edits since the oldest remembered run, and the text each remembered run ran, so that an
    /// error location in a run's output is found in the text as it is now.
    private var editLog = EditLog()
    private var runTexts: [RunText] = []
    /// A shared folder's files, open files and pane; nil in a single-file session or local editing.
    public private(set) var project: ProjectState?
    /// The text at this user's last Ctrl-R, used for the run it starts.
    private var pendingRunText: RunText?
    /// The text when the last run's start arrived, kept (until the next run event) in case the
    /// host's version shows the Ctrl-R copy was not what ran (a refused or superseded request).
    private var arrivalRunText: RunText?

    private enum EditKind { case typing, deleting, other }

    /// A model showing `text` named `fileName` on a terminal of `size`.
    public init(text: String, fileName: String, size: TerminalSize, canSave: Bool = true) {
        buffer = TextBuffer(text, lexer: SyntaxLexer(fileName: fileName))
        self.fileName = fileName
        self.size = size
        self.canSave = canSave
        layout = EditorLayout(size: size)
    }

    /// The selection as ordered positions, when non-empty.
    public var selection: (start: TextPosition, end: TextPosition)? {
        guard let anchor, anchor != cursor else { return nil }
        return (min(anchor, cursor), max(anchor, cursor))
    }

    /// Rows and text columns of the editor pane.
    public var editorTextWidth: Int {
        max(1, layout.editor.width - EditorLayout.gutterWidth(lineCount: buffer.lineCount))
    }

    // MARK: - Events

    /// Applies one event; returns what the shell must do.
    public mutating func handle(_ event: EditorEvent) -> [EditorEffect] {
        var effects: [EditorEffect] = []
        switch event {
        case .key(let key):
            if message?.isError == false || key != .escape { message = nil }
            handleKey(key, &effects)
        case .paste(let text):
            message = nil
            if case .find(let q) = mode {
                mode = .find(query: q + text.filter { $0 != "\n" && $0 != "\r" })
            } else if case .openFile(let q, _) = mode {
                let query = q + text.filter { $0 != "\n" && $0 != "\r" }
                updateMatches(query)
                mode = .openFile(query: query, selection: 0)
            } else if case .filePath(let renaming, let input) = mode {
                mode = .filePath(renaming: renaming, input: input + text.filter { $0 != "\n" && $0 != "\r" })
            } else if mode == .normal {
                focus = .editor
                let normalized = text.replacingLineEndings()
                effects.append(.closeUndoGroup)
                replaceSelection(with: normalized, kind: .other, &effects)
                effects.append(.closeUndoGroup)
                lastEdit = nil
            }
        case .mouse(let mouse):
            handleMouse(mouse, &effects)
        case .resize(let newSize):
            size = newSize
            layout = EditorLayout(size: newSize, filesPane: project?.showFiles == true)
            scrollToCursor()
        case .remoteChanges(let changes):
            for change in changes { applyExternal(change, moveCursor: false) }
            if canSave && !changes.isEmpty { modified = true }
            followPeer()
        case .undoChanges(let changes):
            anchor = nil
            for change in changes { applyExternal(change, moveCursor: true) }
            if !changes.isEmpty { modified = true }
            lastEdit = nil
            scrollToCursor()
        case .peers(let list):
            peers = list
            if let following, !list.contains(where: { $0.id == following }) { self.following = nil }
            followPeer()
        case .connection(let state):
            connection = state
        case .complexity(let view):
            complexity = view
            complexitySelection = min(complexitySelection, max(0, view.entries.count - 1))
        case .run(let update):
            output.apply(update)
            noteRun(update)
        case .message(let text, let isError):
            message = (text, isError)
        case .saved(let text):
            modified = false
            message = (text, false)
        case .readOnly(let flag):
            readOnly = flag
        case .guestRoles(let roles):
            guestRoles = roles
        case .lobby(let list):
            let known = Set(waiting.map(\.id))
            waiting = list
            if let newcomer = list.last(where: { !known.contains($0.id) }) {
                message = ("\(newcomer.name) (\(newcomer.from)) asks to join: Ctrl-W to admit or refuse", false)
                output.note("\(newcomer.name) asks to join from \(newcomer.from) (\(newcomer.access))")
            }
            if case .people(let selection) = mode { mode = .people(selection: min(selection, max(0, peopleCount - 1))) }
        case .notice(let text):
            message = (text, false)
            output.note(text)
        case .projectFiles(let files):
            setProjectFiles(files)
        case .fileOpened(let path, let text):
            showFile(path, text: text)
        case .fileOpenFailed(let path, let reason):
            if project?.opening == path { project?.opening = nil }
            message = ("cannot open \(path): \(reason)", true)
        case .fileMoved(let from, let to, let notice):
            fileMoved(from: from, to: to, &effects)
            message = (notice, false)
            output.note(notice)
        }
        followFileEffect(&effects)
        presenceEffect(&effects)
        return effects
    }

    private mutating func handleKey(_ key: Key, _ effects: inout [EditorEffect]) {
        switch mode {
        case .help:
            mode = .normal
            return
        case .quitConfirm:
            mode = .normal
            switch key {
            case .character("y"), .character("Y"):
                effects.append(project != nil ? .file(.saveAll) : .save)
                effects.append(.quit)
            case .character("n"), .character("N"), .control("q"):
                effects.append(.quit)
            default:
                message = ("quit cancelled", false)
            }
            return
        case .find(let query):
            handleFindKey(key, query: query, &effects)
            return
        case .goToLine(let input):
            handleGoToLineKey(key, input: input)
            return
        case .people(let selection):
            handlePeopleKey(key, selection: selection, &effects)
            return
        case .openFile(let query, let selection):
            handlePickerKey(key, query: query, selection: selection, &effects)
            return
        case .files(let selection):
            handleFilesPaneKey(key, selection: selection, &effects)
            return
        case .filePath(let renaming, let input):
            handleFilePathKey(key, renaming: renaming, input: input, &effects)
            return
        case .confirmDelete(let path):
            mode = .normal
            if key == .character("y") || key == .character("Y") {
                effects.append(.file(.delete(path)))
                message = ("deleting \(path)…", false)
            } else {
                message = ("\(path) kept", false)
            }
            return
        case .normal:
            break
        }
        if handleGlobalKey(key, &effects) { return }
        switch focus {
        case .editor: handleEditorKey(key, &effects)
        case .complexity: handleComplexityKey(key)
        case .output: handleOutputKey(key)
        }
    }

    /// Keys that work in every pane. Returns true when the key was one of them.
    private mutating func handleGlobalKey(_ key: Key, _ effects: inout [EditorEffect]) -> Bool {
        switch key {
        case .control("s"):
            if canSave { effects.append(.save) } else { message = ("only the host saves; your edits are already shared", false) }
        case .control("q"):
            if anyModified && canSave {
                mode = .quitConfirm
            } else {
                effects.append(.quit)
            }
        case .control("z"):
            if readOnly { message = ("read-only: this session lets you watch, not edit", true) } else { effects.append(.undo) }
        case .control("y"):
            if readOnly { message = ("read-only: this session lets you watch, not edit", true) } else { effects.append(.redo) }
        case .control("f"):
            mode = .find(query: lastFind)
        case .control("g"):
            mode = .goToLine(input: "")
        case .control("r"):
            effects.append(.run)
            pendingRunText = RunText(number: 0, buffer: buffer, since: editLog.end, version: "")
        case .control("k"):
            effects.append(.cancelRun)
        case .control("p"):
            followNextPeer()
        case .control("e"):
            if guestRoles != nil {
                effects.append(.cycleGuestRoles)
            } else {
                message = ("only the host of a session sets what guests may do", false)
            }
        case .control("w"):
            if guestRoles != nil {
                mode = .people(selection: 0)
            } else {
                message = ("only the host admits or removes people", false)
            }
        case .control("o"):
            openPicker()
        case .control("b"):
            toggleFilesPane()
        case .control("n"):
            nextOpenFile(&effects)
        case .function(1):
            mode = .help
        case .tab:
            let all = Pane.allCases
            focus = all[((all.firstIndex(of: focus) ?? 0) + 1) % all.count]
        case .backTab:
            let all = Pane.allCases
            focus = all[((all.firstIndex(of: focus) ?? 0) + all.count - 1) % all.count]
        case .control("c"):
            message = ("Ctrl-Q quits, F1 lists every key", false)
        default:
            return false
        }
        return true
    }

    /// Rows of the people dialog: those waiting, then the peers.
    public var peopleCount: Int { waiting.count + peers.count }

    /// The people dialog: Up/Down pick, `a` admits and `r` refuses someone waiting, `x` removes a
    /// peer; Esc (or Ctrl-W) closes it.
    private mutating func handlePeopleKey(_ key: Key, selection: Int, _ effects: inout [EditorEffect]) {
        let count = peopleCount
        switch key {
        case .escape, .control("w"), .control("q"):
            mode = .normal
        case .up:
            mode = .people(selection: max(0, selection - 1))
        case .down:
            mode = .people(selection: min(max(0, count - 1), selection + 1))
        case .character("a"), .character("r"):
            guard selection < waiting.count else {
                message = ("pick someone who is waiting (a admits, r refuses)", false)
                return
            }
            let guest = waiting[selection]
            let admit = key == .character("a")
            effects.append(.decide(guest.id, admit ? .admit : .refuse))
            message = (admit ? "admitted \(guest.name)" : "refused \(guest.name)", false)
        case .character("x"), .delete:
            let index = selection - waiting.count
            guard index >= 0, index < peers.count else {
                message = ("pick a peer to remove (x), or someone waiting to refuse (r)", false)
                return
            }
            let peer = peers[index]
            effects.append(.decide(peer.id, .remove))
            message = ("removed \(peer.name)", false)
        default:
            break
        }
    }

    private mutating func handleEditorKey(_ key: Key, _ effects: inout [EditorEffect]) {
        switch key {
        case .character(let c):
            replaceSelection(with: String(Character(c)), kind: .typing, &effects)
        case .enter:
            let line = buffer.line(cursor.line)
            var indent = Array(line.prefix { $0 == " " || $0 == "\t" }.prefix(cursor.column))
            let before = line[..<cursor.column].reversed().drop { $0 == " " || $0 == "\t" }
            if before.first == ":" { indent.append(contentsOf: Array(repeating: " ", count: EditorLayout.tabWidth)) }
            replaceSelection(with: "\n" + String(String.UnicodeScalarView(indent)), kind: .other, &effects)
        case .backspace:
            if selection != nil { deleteSelection(&effects); return }
            guard cursor != TextPosition(line: 0, column: 0) else { return }
            var start = cursor.column > 0
                ? TextPosition(line: cursor.line, column: cursor.column - 1)
                : TextPosition(line: cursor.line - 1, column: buffer.lineLength(cursor.line - 1))
            let line = buffer.line(cursor.line)
            // In leading spaces, back up to the previous indent stop.
            if cursor.column > 0 && line[..<cursor.column].allSatisfy({ $0 == " " }) {
                let stop = (cursor.column - 1) / EditorLayout.tabWidth * EditorLayout.tabWidth
                start = TextPosition(line: cursor.line, column: stop)
            }
            delete(from: start, to: cursor, &effects)
        case .delete:
            if selection != nil { deleteSelection(&effects); return }
            let end = cursor.column < buffer.lineLength(cursor.line)
                ? TextPosition(line: cursor.line, column: nextColumn(after: cursor))
                : TextPosition(line: cursor.line + 1, column: 0)
            guard end.line < buffer.lineCount else { return }
            delete(from: cursor, to: end, &effects)
        case .control("t"):
            let column = displayColumn(of: cursor)
            let spaces = EditorLayout.tabWidth - column % EditorLayout.tabWidth
            replaceSelection(with: String(repeating: " ", count: spaces), kind: .other, &effects)
        case .control("a"):
            anchor = TextPosition(line: 0, column: 0)
            moveCursor(to: TextPosition(line: buffer.lineCount - 1, column: buffer.lineLength(buffer.lineCount - 1)), extend: true, &effects)
        case .escape:
            anchor = nil
            following = nil
        case .up, .shiftUp: moveVertically(by: -1, extend: key == .shiftUp, &effects)
        case .down, .shiftDown: moveVertically(by: 1, extend: key == .shiftDown, &effects)
        case .pageUp: moveVertically(by: -max(1, layout.editor.height - 1), extend: false, &effects)
        case .pageDown: moveVertically(by: max(1, layout.editor.height - 1), extend: false, &effects)
        case .left, .shiftLeft:
            if key == .left, let sel = selection { moveCursor(to: sel.start, extend: false, &effects); return }
            let target = cursor.column > 0
                ? TextPosition(line: cursor.line, column: previousColumn(before: cursor))
                : (cursor.line > 0 ? TextPosition(line: cursor.line - 1, column: buffer.lineLength(cursor.line - 1)) : cursor)
            moveCursor(to: target, extend: key == .shiftLeft, &effects)
        case .right, .shiftRight:
            if key == .right, let sel = selection { moveCursor(to: sel.end, extend: false, &effects); return }
            let target = cursor.column < buffer.lineLength(cursor.line)
                ? TextPosition(line: cursor.line, column: nextColumn(after: cursor))
                : (cursor.line + 1 < buffer.lineCount ? TextPosition(line: cursor.line + 1, column: 0) : cursor)
            moveCursor(to: target, extend: key == .shiftRight, &effects)
        case .home, .shiftHome:
            let indent = buffer.line(cursor.line).prefix { $0 == " " || $0 == "\t" }.count
            let column = cursor.column == indent ? 0 : indent
            moveCursor(to: TextPosition(line: cursor.line, column: column), extend: key == .shiftHome, &effects)
        case .end, .shiftEnd:
            moveCursor(to: TextPosition(line: cursor.line, column: buffer.lineLength(cursor.line)), extend: key == .shiftEnd, &effects)
        default:
            break
        }
    }

    private mutating func handleComplexityKey(_ key: Key) {
        let count = complexity.entries.count
        switch key {
        case .up: complexitySelection = max(0, complexitySelection - 1)
        case .down: complexitySelection = min(max(0, count - 1), complexitySelection + 1)
        case .enter:
            jumpToComplexityEntry(complexitySelection)
        case .escape: focus = .editor
        default: break
        }
    }

    private mutating func handleOutputKey(_ key: Key) {
        let page = max(1, layout.output.height - 1)
        let maxBack = max(0, output.lines.count - layout.output.height)
        switch key {
        case .up: output.moveSelection(by: -1, height: layout.output.height)
        case .down: output.moveSelection(by: 1, height: layout.output.height)
        case .enter: jumpToOutputLocation()
        case .pageUp: output.scrollBack = min(maxBack, output.scrollBack + page)
        case .pageDown: output.scrollBack = max(0, output.scrollBack - page)
        case .home: output.scrollBack = maxBack
        case .end: output.scrollBack = 0
        case .escape: focus = .editor
        default: break
        }
    }

    private mutating func handleFindKey(_ key: Key, query: String, _ effects: inout [EditorEffect]) {
        switch key {
        case .escape, .control("f"):
            mode = .normal
        case .character(let c):
            mode = .find(query: query + String(Character(c)))
        case .backspace:
            mode = .find(query: String(query.dropLast()))
        case .enter:
            guard !query.isEmpty else { mode = .normal; return }
            lastFind = query
            find(query, &effects)
        default:
            break
        }
    }

    private mutating func handleGoToLineKey(_ key: Key, input: String) {
        switch key {
        case .escape, .control("g"):
            mode = .normal
        case .character(let c) where c.properties.numericType != nil && c.isASCII:
            if input.count < 9 { mode = .goToLine(input: input + String(Character(c))) }
        case .backspace:
            mode = .goToLine(input: String(input.dropLast()))
        case .enter:
            mode = .normal
            guard let number = Int(input), number >= 1 else {
                message = ("type a line number from 1 to \(buffer.lineCount)", true)
                return
            }
            var ignored: [EditorEffect] = []
            let line = min(number, buffer.lineCount) - 1
            moveCursor(to: TextPosition(line: line, column: 0), extend: false, &ignored)
            centre(on: line)
        default:
            break
        }
    }

    private mutating func handleMouse(_ mouse: MouseEvent, _ effects: inout [EditorEffect]) {
        guard !layout.tooSmall else { return }
        switch mouse {
        case .press(let row, let column):
            if mode == .help { mode = .normal; return }
            guard mode == .normal else { return }
            if layout.editor.contains(row: row, column: column) {
                focus = .editor
                let line = min(top + row - layout.editor.y, buffer.lineCount - 1)
                let gutter = EditorLayout.gutterWidth(lineCount: buffer.lineCount)
                let display = max(0, column - layout.editor.x - gutter) + left
                moveCursor(to: TextPosition(line: line, column: self.column(atDisplay: display, line: line)), extend: false, &effects)
            } else if layout.complexity.contains(row: row, column: column) {
                focus = .complexity
                if let index = complexityEntryIndex(atRow: row) {
                    complexitySelection = index
                    jumpToComplexityEntry(index)
                }
            } else if layout.output.contains(row: row, column: column) || row == layout.outputTitleRow {
                focus = .output
                if let index = output.index(atRow: row - layout.output.y, height: layout.output.height), row != layout.outputTitleRow {
                    // A click selects a line; a click on the selected line jumps to its location.
                    if output.selectedIndex == index { jumpToOutputLocation() } else { output.select(index: index) }
                }
            }
        case .scrollUp(let row, let column), .scrollDown(let row, let column):
            let delta = { if case .scrollUp = mouse { return -3 } else { return 3 } }()
            if layout.output.contains(row: row, column: column) {
                let maxBack = max(0, output.lines.count - layout.output.height)
                output.scrollBack = min(maxBack, max(0, output.scrollBack - delta))
            } else {
                top = min(max(0, top + delta), max(0, buffer.lineCount - 1))
            }
        }
    }

    // MARK: - Editing

    private mutating func replaceSelection(with text: String, kind: EditKind, _ effects: inout [EditorEffect]) {
        guard !readOnly else {
            message = ("read-only: this session lets you watch, not edit", true)
            return
        }
        guard !noFileOpen else {
            message = ("no file is open: Ctrl-O opens one", true)
            return
        }
        if lastEdit != kind || kind == .other || text.contains(" ") { effects.append(.closeUndoGroup) }
        if let sel = selection {
            let offset = buffer.offset(of: sel.start)
            let count = buffer.offset(of: sel.end) - offset
            effects.append(.delete(at: offset, count: count))
            cursor = buffer.replace(from: sel.start, to: sel.end, with: EmptyCollection())
            logEdit(at: offset, deleted: count, inserted: 0)
        }
        anchor = nil
        let offset = buffer.offset(of: cursor)
        shiftPeers(at: offset, deleted: 0, inserted: text.unicodeScalars.count)
        cursor = buffer.replace(from: cursor, to: cursor, with: text.unicodeScalars)
        logEdit(at: offset, deleted: 0, inserted: text.unicodeScalars.count)
        effects.append(.insert(text, at: offset))
        afterEdit(kind)
    }

    private mutating func delete(from start: TextPosition, to end: TextPosition, _ effects: inout [EditorEffect]) {
        guard !readOnly else {
            message = ("read-only: this session lets you watch, not edit", true)
            return
        }
        guard !noFileOpen else {
            message = ("no file is open: Ctrl-O opens one", true)
            return
        }
        if lastEdit != .deleting { effects.append(.closeUndoGroup) }
        let a = min(start, end), b = max(start, end)
        let offset = buffer.offset(of: a)
        let count = buffer.offset(of: b) - offset
        guard count > 0 else { return }
        shiftPeers(at: offset, deleted: count, inserted: 0)
        cursor = buffer.replace(from: a, to: b, with: EmptyCollection())
        logEdit(at: offset, deleted: count, inserted: 0)
        anchor = nil
        effects.append(.delete(at: offset, count: count))
        afterEdit(.deleting)
    }

    private mutating func deleteSelection(_ effects: inout [EditorEffect]) {
        guard let sel = selection else { return }
        effects.append(.closeUndoGroup)
        lastEdit = .deleting
        delete(from: sel.start, to: sel.end, &effects)
        lastEdit = .other
    }

    private mutating func afterEdit(_ kind: EditKind) {
        lastEdit = kind
        goalColumn = nil
        modified = true
        textGeneration += 1
        scrollToCursor()
    }

    /// Applies a change that did not come from this model's own keys, keeping the cursor on its text.
    private mutating func applyExternal(_ change: EditorChange, moveCursor: Bool) {
        let cursorOffset = buffer.offset(of: cursor)
        let anchorOffset = anchor.map { buffer.offset(of: $0) }
        let start = buffer.position(of: change.offset)
        let end = buffer.position(of: change.offset + change.deleted)
        let insertedCount = change.inserted.unicodeScalars.count
        buffer.replace(from: start, to: end, with: change.inserted.unicodeScalars)
        logEdit(at: change.offset, deleted: change.deleted, inserted: insertedCount)
        shiftPeers(at: change.offset, deleted: change.deleted, inserted: insertedCount)
        if moveCursor {
            cursor = buffer.position(of: change.offset + insertedCount)
        } else {
            cursor = buffer.position(of: Self.transform(cursorOffset, change.offset, change.deleted, insertedCount))
            anchor = anchorOffset.map { buffer.position(of: Self.transform($0, change.offset, change.deleted, insertedCount)) }
        }
        textGeneration += 1
        lastEdit = nil
    }

    /// Where an offset goes after `deleted` scalars at `at` are replaced by `inserted` scalars.
    static func transform(_ offset: Int, _ at: Int, _ deleted: Int, _ inserted: Int) -> Int {
        if offset <= at { return offset }
        if offset >= at + deleted { return offset + inserted - deleted }
        return at
    }

    private mutating func shiftPeers(at: Int, deleted: Int, inserted: Int) {
        for i in peers.indices where isHere(peers[i]) {
            peers[i].cursor = Self.transform(peers[i].cursor, at, deleted, inserted)
            if let sel = peers[i].selection {
                let lo = Self.transform(sel.lowerBound, at, deleted, inserted)
                let hi = Self.transform(sel.upperBound, at, deleted, inserted)
                peers[i].selection = lo < hi ? lo..<hi : nil
            }
        }
    }

    // MARK: - Movement

    private mutating func moveCursor(to target: TextPosition, extend: Bool, _ effects: inout [EditorEffect]) {
        if extend {
            if anchor == nil { anchor = cursor }
        } else {
            anchor = nil
        }
        cursor = buffer.clamp(target)
        if lastEdit != nil { effects.append(.closeUndoGroup) }
        lastEdit = nil
        scrollToCursor()
    }

    private mutating func moveVertically(by lines: Int, extend: Bool, _ effects: inout [EditorEffect]) {
        let goal = goalColumn ?? displayColumn(of: cursor)
        let line = min(max(0, cursor.line + lines), buffer.lineCount - 1)
        if abs(lines) > 1 { top = min(max(0, top + lines), max(0, buffer.lineCount - layout.editor.height)) }
        moveCursor(to: TextPosition(line: line, column: column(atDisplay: goal, line: line)), extend: extend, &effects)
        goalColumn = goal
    }

    /// The column after the scalar at the cursor, skipping combining marks that belong to it.
    private func nextColumn(after p: TextPosition) -> Int {
        let line = buffer.line(p.line)
        var c = p.column + 1
        while c < line.count && DisplayWidth.of(line[c]) == 0 { c += 1 }
        return c
    }

    private func previousColumn(before p: TextPosition) -> Int {
        let line = buffer.line(p.line)
        var c = p.column - 1
        while c > 0 && DisplayWidth.of(line[c]) == 0 { c -= 1 }
        return c
    }

    /// The display column (tabs expanded) of a position.
    public func displayColumn(of p: TextPosition) -> Int {
        DisplayWidth.of(buffer.line(p.line).prefix(p.column))
    }

    /// The scalar column at a display column of a line (the character covering it).
    public func column(atDisplay target: Int, line index: Int) -> Int {
        let line = buffer.line(index)
        var x = 0
        for (i, s) in line.enumerated() {
            let w = s == "\t" ? EditorLayout.tabWidth - x % EditorLayout.tabWidth : DisplayWidth.of(s)
            if w > 0 && x + w > target { return i }
            x += w
        }
        return line.count
    }

    /// Scrolls the editor so the cursor is visible.
    private mutating func scrollToCursor() {
        let rows = max(1, layout.editor.height)
        if cursor.line < top { top = cursor.line }
        if cursor.line >= top + rows { top = cursor.line - rows + 1 }
        let width = editorTextWidth
        let x = displayColumn(of: cursor)
        if x < left { left = max(0, x - width / 4) }
        if x >= left + width { left = x - width * 3 / 4 }
    }

    private mutating func centre(on line: Int) {
        top = max(0, line - layout.editor.height / 2)
    }

    // MARK: - Find, complexity, peers

    private mutating func find(_ query: String, _ effects: inout [EditorEffect]) {
        let needle = Array(query.unicodeScalars)
        let from = selection?.end ?? cursor
        // Search forward from the cursor, then wrap around to the top.
        for step in 0...buffer.lineCount {
            let lineIndex = (from.line + step) % buffer.lineCount
            let line = buffer.line(lineIndex)
            let startColumn = step == 0 ? from.column : 0
            let limit = step == buffer.lineCount ? from.column : line.count
            if let column = Self.firstIndex(of: needle, in: line, from: startColumn, limit: limit) {
                anchor = nil
                var ignored: [EditorEffect] = []
                moveCursor(to: TextPosition(line: lineIndex, column: column), extend: false, &ignored)
                moveCursor(to: TextPosition(line: lineIndex, column: column + needle.count), extend: true, &ignored)
                if step == 0 || lineIndex >= from.line { message = nil } else { message = ("search wrapped to the top", false) }
                return
            }
        }
        message = ("\"\(query)\" not found", true)
    }

    private static func firstIndex(of needle: [Unicode.Scalar], in line: [Unicode.Scalar], from: Int, limit: Int) -> Int? {
        guard !needle.isEmpty, line.count >= needle.count else { return nil }
        var i = from
        while i + needle.count <= line.count && i <= limit {
            if line[i] == needle[0] && Array(line[i..<(i + needle.count)]) == needle { return i }
            i += 1
        }
        return nil
    }

    /// The complexity entry drawn at a screen row, by the layout the renderer draws with.
    func complexityEntryIndex(atRow row: Int) -> Int? {
        ComplexityLayout.entry(atRow: row, area: layout.complexity, view: complexity, selection: complexitySelection)
    }

    private mutating func jumpToComplexityEntry(_ index: Int) {
        guard index < complexity.entries.count else { return }
        let line = min(complexity.entries[index].line, buffer.lineCount) - 1
        var ignored: [EditorEffect] = []
        moveCursor(to: TextPosition(line: max(0, line), column: 0), extend: false, &ignored)
        centre(on: max(0, line))
        focus = .editor
    }

    private mutating func followNextPeer() {
        guard !peers.isEmpty else {
            following = nil
            message = ("no other peer to follow", false)
            return
        }
        if let current = following, let i = peers.firstIndex(where: { $0.id == current }) {
            following = i + 1 < peers.count ? peers[i + 1].id : nil
        } else {
            following = peers[0].id
        }
        if let id = following, let peer = peers.first(where: { $0.id == id }) {
            message = ("following \(peer.name)" + (project != nil ? peer.file.map { " in \($0)" } ?? "" : "") + " (Esc stops)", false)
        } else {
            message = ("follow off", false)
        }
        followPeer()
    }

    /// In follow mode, keeps the followed peer's cursor on screen (in a shared folder, once its file
    /// is the one shown: `followFileEffect` asks for the file first).
    private mutating func followPeer() {
        guard let id = following, let peer = peers.first(where: { $0.id == id }), isHere(peer) else { return }
        let p = buffer.position(of: peer.cursor)
        let rows = max(1, layout.editor.height)
        if p.line < top || p.line >= top + rows { top = max(0, p.line - rows / 2) }
    }

    // MARK: - Runs and error locations

    /// Records an edit for the remembered runs' anchors (nothing to do while no run is remembered).
    private mutating func logEdit(at offset: Int, deleted: Int, inserted: Int) {
        guard !runTexts.isEmpty || pendingRunText != nil else { return }
        editLog.record(at: offset, deleted: deleted, inserted: inserted)
    }

    /// Keeps the text each run ran: this user's text at Ctrl-R for the run that follows it, else the
    /// text when the start arrived; a version from the host picks the copy that matches it.
    private mutating func noteRun(_ update: RunUpdate) {
        switch update {
        case .started:
            guard let run = output.runs.last else { return }
            let arrival = RunText(number: run.number, buffer: buffer, since: editLog.end, version: "")
            var text = pendingRunText ?? arrival
            arrivalRunText = pendingRunText == nil ? nil : arrival
            pendingRunText = nil
            text.number = run.number
            text.version = RunVersion.of(text.buffer)
            runTexts.append(text)
            // Until the host says otherwise, the run ran the text this peer has.
            output.apply(.version(text.version))
        case .version(let raw):
            guard let version = RunVersion.validated(raw), let last = runTexts.indices.last,
                  runTexts[last].version != version else { break }
            if RunVersion.of(buffer) == version {
                // The host ran exactly the text this peer has now.
                runTexts[last] = RunText(number: runTexts[last].number, buffer: buffer, since: editLog.end, version: version)
            } else if var arrival = arrivalRunText {
                // Not the Ctrl-R copy (that request was refused or superseded): the text at the start
                // is the better guess.
                arrival.version = RunVersion.of(arrival.buffer)
                runTexts[last] = arrival
            }
            arrivalRunText = nil
        default:
            arrivalRunText = nil
        }
        let kept = Set(output.runs.map(\.number))
        runTexts.removeAll { !kept.contains($0.number) }
        let oldest = (runTexts.map(\.since) + [pendingRunText?.since ?? editLog.end]).min() ?? editLog.end
        editLog.forget(before: oldest)
    }

    /// Moves the cursor to the error location on the output pane's selected line, carried through
    /// the edits made since the run that printed it.
    private mutating func jumpToOutputLocation() {
        guard let index = output.selectedIndex else {
            message = ("select an output line with Up/Down or a click, then Enter", false)
            return
        }
        let run = output.run(ofLine: index)
        let names = ErrorLocations.fileNames(bufferName: fileName, sandboxName: run?.sandboxFileName)
        guard let location = ErrorLocations.find(in: output.lines[index].scalars, fileNames: names) else {
            message = ("no location in \(fileName) on this line", false)
            return
        }
        let resolved: ResolvedLocation
        if let run, let text = runTexts.first(where: { $0.number == run.number }) {
            resolved = text.resolve(line: location.line, column: location.column, log: editLog, in: buffer)
        } else {
            resolved = .inCurrentText(line: location.line, column: location.column, in: buffer)
        }
        var ignored: [EditorEffect] = []
        moveCursor(to: resolved.position, extend: false, &ignored)
        centre(on: resolved.position.line)
        focus = .editor
        let now = resolved.position.line + 1
        let who = run.map { " of \($0.by)'s run" } ?? ""
        if resolved.pastEnd {
            message = ("line \(location.line)\(who) is past the end of the text; went to line \(now)", true)
        } else if resolved.lineDeleted {
            message = ("line \(location.line)\(who) was deleted since; went to the nearest line, \(now)", true)
        } else if resolved.unanchored {
            message = ("line \(location.line) (this run's text is no longer known; read in the current text)", false)
        } else if now != location.line {
            message = ("line \(location.line)\(who) is line \(now) now", false)
        } else {
            message = ("line \(location.line)\(who)", false)
        }
    }

    private mutating func presenceEffect(_ effects: inout [EditorEffect]) {
        let c = buffer.offset(of: cursor)
        let sel = selection.map { buffer.offset(of: $0.start)..<buffer.offset(of: $0.end) }
        if lastPresence?.cursor != c || lastPresence?.selection != sel {
            lastPresence = (c, sel)
            effects.append(.presence(cursor: c, selection: sel))
        }
    }
}

/// A shared folder as the editor holds it: the index, the open files and where each was left.
public struct ProjectState: Equatable, Sendable {
    /// Every file of the folder, in path order (the shell keeps it current).
    public internal(set) var files: [ProjectFile] = []
    /// The files opened here, in the order they were first opened.
    public internal(set) var open: [String] = []
    /// The file shown; nil before the first open (or after it was deleted).
    public internal(set) var current: String?
    /// The files pane is shown (Ctrl-B).
    public internal(set) var showFiles = false
    /// A file asked for and not shown yet (the picker, Ctrl-N, follow mode).
    public internal(set) var opening: String?
    /// The picker's matches for its query: indices into `files`, best first.
    public internal(set) var matches: [Int] = []
    /// The files pane's rows: open files first (in the order opened), then every other file in path order.
    public internal(set) var rows: [String] = []
    /// Where each open file other than the shown one was left.
    var views: [String: FileView] = [:]
}

/// Where the user left an open file: restored when it is shown again.
struct FileView: Equatable, Sendable {
    var cursor: TextPosition
    var anchor: TextPosition?
    var top: Int
    var left: Int
    var modified: Bool
}

extension EditorModel {
    /// True in a shared folder with no file open: there is nothing to edit.
    var noFileOpen: Bool { project != nil && project?.current == nil }

    /// Unsaved changes in the file shown or (in a shared folder) in another open file.
    public var anyModified: Bool { modified || (project?.views.values.contains { $0.modified } ?? false) }

    /// The files with unsaved changes, the shown one first.
    public var modifiedFiles: [String] {
        (modified ? [fileName] : []) + (project?.views.filter { $0.value.modified }.map(\.key).sorted() ?? [])
    }

    /// Whether `peer`'s cursor is in the file shown (always, outside a shared folder).
    func isHere(_ peer: RemotePeer) -> Bool { project == nil || (peer.file != nil && peer.file == project?.current) }

    /// The peers whose cursors are in the file shown: only these are drawn in the text.
    public var peersHere: [RemotePeer] { peers.filter { isHere($0) } }

    /// The peers in `path` (a shared folder's files pane shows them beside the file).
    public func peers(inFile path: String) -> [RemotePeer] { peers.filter { $0.file == path } }

    mutating func setProjectFiles(_ files: [ProjectFile]) {
        if project == nil { project = ProjectState() }
        project?.files = files
        refreshProjectRows()
        if case .openFile(let query, let selection) = mode {
            updateMatches(query)
            mode = .openFile(query: query, selection: min(selection, max(0, (project?.matches.count ?? 0) - 1)))
        }
        if case .files(let selection) = mode { mode = .files(selection: min(selection, max(0, (project?.rows.count ?? 0) - 1))) }
    }

    /// Shows `path` with `text`: the file shown so far keeps its cursor and scroll for when it comes back.
    mutating func showFile(_ path: String, text: String) {
        if project == nil { project = ProjectState() }
        let here = FileView(cursor: cursor, anchor: anchor, top: top, left: left, modified: modified)
        var view: FileView?
        if let current = project?.current, current != path {
            project?.views[current] = here
            view = project?.views.removeValue(forKey: path)
        } else if project?.current == path {
            view = here
        }
        buffer = TextBuffer(text, lexer: SyntaxLexer(fileName: path))
        fileName = path
        cursor = buffer.clamp(view?.cursor ?? TextPosition(line: 0, column: 0))
        anchor = view?.anchor.map { buffer.clamp($0) }
        top = min(view?.top ?? 0, max(0, buffer.lineCount - 1))
        left = view?.left ?? 0
        modified = view?.modified ?? false
        goalColumn = nil
        lastEdit = nil
        // A run's error locations belong to the text it ran: another file's lines are not this one's.
        pendingRunText = nil
        arrivalRunText = nil
        runTexts = []
        editLog = EditLog()
        project?.current = path
        if project?.open.contains(path) == false { project?.open.append(path) }
        if project?.opening == path { project?.opening = nil }
        textGeneration += 1
        // The new file's cursor is shared even when its offset equals the old file's.
        lastPresence = nil
        if case .openFile = mode { mode = .normal }
        refreshProjectRows()
        scrollToCursor()
        followPeer()
    }

    /// A file was renamed or deleted by anyone: the open list, the file shown and follow mode keep up.
    mutating func fileMoved(from: String, to: String?, _ effects: inout [EditorEffect]) {
        guard project != nil else { return }
        if let to {
            let open = project?.open.map { $0 == from ? to : $0 } ?? []
            project?.open = open
            if let view = project?.views.removeValue(forKey: from) { project?.views[to] = view }
            if project?.opening == from { project?.opening = to }
            if project?.current == from {
                project?.current = to
                fileName = to
                lastPresence = nil
            }
        } else {
            project?.open.removeAll { $0 == from }
            project?.views[from] = nil
            if project?.opening == from { project?.opening = nil }
            if project?.current == from {
                project?.current = nil
                buffer = TextBuffer("", lexer: SyntaxLexer(fileName: ""))
                fileName = ""
                cursor = TextPosition(line: 0, column: 0)
                anchor = nil
                top = 0
                left = 0
                modified = false
                textGeneration += 1
                if let next = project?.open.last {
                    project?.opening = next
                    effects.append(.file(.open(next)))
                }
            }
        }
        refreshProjectRows()
    }

    mutating func refreshProjectRows() {
        guard let project else { return }
        let open = Set(project.open)
        self.project?.rows = project.open + project.files.map(\.path).filter { !open.contains($0) }
    }

    mutating func updateMatches(_ query: String) {
        guard let files = project?.files else { return }
        project?.matches = FuzzyMatch.rank(query, files.map(\.path))
    }

    mutating func openPicker() {
        guard project != nil else {
            message = ("Ctrl-O opens a file of a shared folder (codesync host DIR)", false)
            return
        }
        updateMatches("")
        mode = .openFile(query: "", selection: 0)
    }

    /// Asks the shell for `path`, unless it is shown already or cannot be opened (binary, too large).
    mutating func requestFile(_ path: String, _ effects: inout [EditorEffect]) {
        guard project != nil else { return }
        if let file = project?.files.first(where: { $0.path == path }), let refusal = file.refusal {
            message = ("\(path): \(refusal): listed but not opened", true)
            return
        }
        guard path != project?.current else { return }
        project?.opening = path
        effects.append(.file(.open(path)))
        message = ("opening \(path)…", false)
    }

    mutating func handlePickerKey(_ key: Key, query: String, selection: Int, _ effects: inout [EditorEffect]) {
        let count = project?.matches.count ?? 0
        switch key {
        case .escape, .control("o"), .control("q"):
            mode = .normal
        case .character(let c):
            updateMatches(query + String(Character(c)))
            mode = .openFile(query: query + String(Character(c)), selection: 0)
        case .backspace:
            updateMatches(String(query.dropLast()))
            mode = .openFile(query: String(query.dropLast()), selection: 0)
        case .up: mode = .openFile(query: query, selection: max(0, selection - 1))
        case .down: mode = .openFile(query: query, selection: min(max(0, count - 1), selection + 1))
        case .pageUp: mode = .openFile(query: query, selection: max(0, selection - 10))
        case .pageDown: mode = .openFile(query: query, selection: min(max(0, count - 1), selection + 10))
        case .enter:
            guard let project, selection < project.matches.count else {
                message = ("no file matches \"\(query)\"", true)
                return
            }
            mode = .normal
            requestFile(project.files[project.matches[selection]].path, &effects)
        default:
            break
        }
    }

    mutating func toggleFilesPane() {
        guard let project else {
            message = ("Ctrl-B shows a shared folder's files (codesync host DIR)", false)
            return
        }
        if project.showFiles, case .files = mode {
            self.project?.showFiles = false
            mode = .normal
        } else {
            self.project?.showFiles = true
            let index = project.current.flatMap { project.rows.firstIndex(of: $0) } ?? 0
            mode = .files(selection: index)
        }
        layout = EditorLayout(size: size, filesPane: self.project?.showFiles == true)
        scrollToCursor()
    }

    /// The files pane: Up/Down pick, Enter opens, n new file, r rename, d delete, Esc back to the text.
    mutating func handleFilesPaneKey(_ key: Key, selection: Int, _ effects: inout [EditorEffect]) {
        let rows = project?.rows ?? []
        let picked = selection < rows.count ? rows[selection] : nil
        let page = max(1, layout.files.height - 2)
        switch key {
        case .escape: mode = .normal
        case .control("b"): toggleFilesPane()
        case .up: mode = .files(selection: max(0, selection - 1))
        case .down: mode = .files(selection: min(max(0, rows.count - 1), selection + 1))
        case .pageUp: mode = .files(selection: max(0, selection - page))
        case .pageDown: mode = .files(selection: min(max(0, rows.count - 1), selection + page))
        case .home: mode = .files(selection: 0)
        case .end: mode = .files(selection: max(0, rows.count - 1))
        case .enter:
            guard let picked else { return }
            mode = .normal
            requestFile(picked, &effects)
        case .character("n"), .character("r"), .character("d"):
            guard !readOnly else {
                message = ("read-only: this session lets you watch, not change files", true)
                return
            }
            if key == .character("n") {
                // A new file starts in the picked file's folder.
                let folder = picked.map { path in path.contains("/") ? String(path[...path.lastIndex(of: "/")!]) : "" } ?? ""
                mode = .filePath(renaming: nil, input: folder)
            } else if let picked {
                mode = key == .character("r") ? .filePath(renaming: picked, input: picked) : .confirmDelete(picked)
            }
        default:
            _ = handleGlobalKey(key, &effects)
        }
    }

    mutating func handleFilePathKey(_ key: Key, renaming: String?, input: String, _ effects: inout [EditorEffect]) {
        switch key {
        case .escape, .control("q"):
            mode = .normal
        case .character(let c):
            if input.unicodeScalars.count < 4096 { mode = .filePath(renaming: renaming, input: input + String(Character(c))) }
        case .backspace:
            mode = .filePath(renaming: renaming, input: String(input.dropLast()))
        case .enter:
            mode = .normal
            let path = input
            guard !path.isEmpty, !path.hasSuffix("/") else {
                message = ("type a file's path in the shared folder, e.g. src/new.py", true)
                return
            }
            if let from = renaming {
                guard path != from else { return }
                effects.append(.file(.rename(from, to: path)))
                message = ("renaming \(from) to \(path)…", false)
            } else {
                effects.append(.file(.create(path)))
                message = ("creating \(path)…", false)
            }
        default:
            break
        }
    }

    /// Ctrl-N: the next open file, in the order they were opened.
    mutating func nextOpenFile(_ effects: inout [EditorEffect]) {
        guard let project, project.open.count > 1 || (project.current == nil && !project.open.isEmpty) else {
            message = (project == nil ? "Ctrl-N switches between a shared folder's open files" : "one file open: Ctrl-O opens another", false)
            return
        }
        let index = project.current.flatMap { project.open.firstIndex(of: $0) } ?? -1
        requestFile(project.open[(index + 1) % project.open.count], &effects)
    }

    /// In follow mode, a followed peer in another file takes this editor there (asked once per file).
    mutating func followFileEffect(_ effects: inout [EditorEffect]) {
        guard let project, let id = following, let peer = peers.first(where: { $0.id == id }),
              let file = peer.file, file != project.current, file != project.opening,
              project.files.contains(where: { $0.path == file && $0.refusal == nil }) else { return }
        self.project?.opening = file
        effects.append(.file(.open(file)))
    }
}

extension String {
    /// CRLF and lone CR become LF, as pasted text from other systems may carry them.
    func replacingLineEndings() -> String {
        var out = String.UnicodeScalarView()
        var previousCR = false
        for s in unicodeScalars {
            if s == "\r" {
                out.append("\n")
                previousCR = true
                continue
            }
            if s == "\n" && previousCR { previousCR = false; continue }
            previousCR = false
            out.append(s)
        }
        return String(out)
    }
}
