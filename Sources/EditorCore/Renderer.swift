/// Draws an `EditorModel` into a `ScreenGrid`. Pure: the same model always gives the same grid, and
/// only the visible lines of the document are read.
public enum Renderer {
    /// A new grid of the model's size showing the model.
    public static func render(_ model: EditorModel) -> ScreenGrid {
        var grid = ScreenGrid(columns: model.size.columns, rows: model.size.rows)
        render(model, into: &grid)
        return grid
    }

    /// Draws the model into `grid`, reusing its storage.
    public static func render(_ model: EditorModel, into grid: inout ScreenGrid) {
        grid.reset(columns: model.size.columns, rows: model.size.rows)
        let layout = model.layout
        if layout.tooSmall {
            drawTooSmall(model.size, &grid)
            return
        }
        EditorPane.draw(model, &grid)
        for row in 0..<layout.editor.height {
            grid.put("│", width: 1, role: .border, row: row, column: layout.separatorColumn)
        }
        if layout.files.width > 0 {
            FilesPane.draw(model, &grid)
            for row in 0..<layout.files.height {
                grid.put("│", width: 1, role: .border, row: row, column: layout.files.x + layout.files.width)
            }
        }
        ComplexityPane.draw(model, &grid)
        OutputPane.draw(model, &grid)
        StatusBar.draw(model, &grid)
        if model.mode == .help { HelpOverlay.draw(&grid) }
        if case .people(let selection) = model.mode { PeopleOverlay.draw(model, selection: selection, &grid) }
        if case .openFile(let query, let selection) = model.mode { PickerOverlay.draw(model, query: query, selection: selection, &grid) }
    }

    private static func drawTooSmall(_ size: TerminalSize, _ grid: inout ScreenGrid) {
        let lines = [
            "Terminal too small",
            "\(size.columns)x\(size.rows), need \(TerminalSize.minimum.columns)x\(TerminalSize.minimum.rows)",
            "Ctrl-Q quits",
        ]
        let firstRow = max(0, (size.rows - lines.count) / 2)
        for (i, line) in lines.enumerated() {
            let x = max(0, (size.columns - DisplayWidth.of(line)) / 2)
            grid.write(line, row: firstRow + i, column: x, role: .notice)
        }
    }
}

/// The text pane: gutter, highlighted lines, selections, remote cursors and their name flags.
enum EditorPane {
    static func draw(_ model: EditorModel, _ grid: inout ScreenGrid) {
        let area = model.layout.editor
        let buffer = model.buffer
        let gutter = EditorLayout.gutterWidth(lineCount: buffer.lineCount)
        let textX = area.x + gutter
        let width = max(0, area.width - gutter)
        let selection = model.selection
        let peerSelections: [(start: TextPosition, end: TextPosition, colour: UInt8)] = model.peersHere.compactMap { peer in
            guard let sel = peer.selection, !sel.isEmpty else { return nil }
            return (buffer.position(of: sel.lowerBound), buffer.position(of: sel.upperBound), peer.colour)
        }
        for row in 0..<area.height {
            let index = model.top + row
            guard index < buffer.lineCount else { break }
            let y = area.y + row
            let number = String(index + 1)
            let numberRole: Role = index == model.cursor.line ? .currentLineNumber : .lineNumber
            grid.write(number, row: y, column: area.x + gutter - 1 - number.count, role: numberRole)
            drawLine(index, model: model, row: y, x: textX, width: width, selection: selection, peerSelections: peerSelections, &grid)
        }
        drawPeers(model, textX: textX, width: width, &grid)
        if model.project != nil, model.project?.current == nil {
            let lines = model.project?.opening.map { ["opening \($0)…"] }
                ?? ["No file open.", "Ctrl-O: open a file by name", "Ctrl-B: the files pane"]
            for (i, line) in lines.enumerated() {
                grid.write(line, row: area.y + 1 + i, column: area.x + 2, role: .notice, limit: area.x + area.width)
            }
        }
        if model.focus == .editor, model.mode == .normal {
            let row = model.cursor.line - model.top
            let column = model.displayColumn(of: model.cursor) - model.left
            if row >= 0, row < area.height, column >= 0, column < width {
                grid.cursor = (area.y + row, textX + column)
            }
        }
    }

    private static func drawLine(
        _ index: Int, model: EditorModel, row: Int, x textX: Int, width: Int,
        selection: (start: TextPosition, end: TextPosition)?,
        peerSelections: [(start: TextPosition, end: TextPosition, colour: UInt8)], _ grid: inout ScreenGrid
    ) {
        let line = model.buffer.line(index)
        let spans = model.buffer.lexer.spans(of: line, start: model.buffer.lexState(atStartOf: index))
        let localRange = columns(of: selection, onLine: index, length: line.count)
        let peerRanges = peerSelections.compactMap { sel -> (Range<Int>, UInt8)? in
            columns(of: (sel.start, sel.end), onLine: index, length: line.count).map { ($0, sel.colour) }
        }
        let limit = textX + width
        var spanIndex = 0
        var x = 0
        let left = model.left
        for (i, scalar) in line.enumerated() {
            while spanIndex < spans.count && spans[spanIndex].end <= i { spanIndex += 1 }
            var role: Role = spanIndex < spans.count && spans[spanIndex].start <= i ? spans[spanIndex].role : .plain
            if let r = localRange, r.contains(i) {
                role = .selection
            } else if let peer = peerRanges.first(where: { $0.0.contains(i) }) {
                role = .peerSelection(peer.1)
            }
            let w: Int
            if scalar == "\t" {
                w = EditorLayout.tabWidth - x % EditorLayout.tabWidth
                for cell in x..<(x + w) where cell >= left && cell - left < width {
                    grid.put(" ", width: 1, role: role, row: row, column: textX + cell - left, limit: limit)
                }
            } else {
                w = DisplayWidth.of(scalar)
                if w == 0 {
                    if x > left { grid.addMark(scalar, row: row, column: textX + x - left - 1) }
                    continue
                }
                let screen = x - left
                if screen >= width { break }
                if screen >= 0 {
                    let visible = ScreenGrid.visible(scalar)
                    grid.put(visible, width: w, role: visible == scalar ? role : .control, row: row, column: textX + screen, limit: limit)
                } else if screen + w > 0 {
                    grid.put(" ", width: 1, role: role, row: row, column: textX, limit: limit)
                }
            }
            x += w
            if x - left >= width { break }
        }
        // A selection that runs past the line end shows the line break as one cell.
        if let r = localRange, r.upperBound > line.count, x - left >= 0, x - left < width {
            grid.put(" ", width: 1, role: .selection, row: row, column: textX + x - left, limit: limit)
        }
    }

    /// Scalar columns of `selection` on line `index`; past `length` means the line break is included.
    private static func columns(of selection: (start: TextPosition, end: TextPosition)?, onLine index: Int, length: Int) -> Range<Int>? {
        guard let (a, b) = selection, a.line <= index, b.line >= index else { return nil }
        let lower = a.line == index ? a.column : 0
        let upper = b.line == index ? b.column : length + 1
        return lower < upper ? lower..<upper : nil
    }

    private static func drawPeers(_ model: EditorModel, textX: Int, width: Int, _ grid: inout ScreenGrid) {
        let area = model.layout.editor
        var nextFlagColumn: [Int: Int] = [:]
        for peer in model.peersHere {
            let p = model.buffer.position(of: peer.cursor)
            let row = p.line - model.top
            guard row >= 0, row < area.height else { continue }
            let y = area.y + row
            let column = model.displayColumn(of: p) - model.left
            if column >= 0, column < width {
                grid.setRole(.peerCursor(peer.colour), row: y, column: textX + column)
            }
            // The name flag sits after the line's text so it never hides code, at the pane's edge if needed.
            let lineEnd = DisplayWidth.of(model.buffer.line(p.line)) - model.left
            let flag = " " + String(peer.name.prefix(10)) + " "
            let flagWidth = DisplayWidth.of(flag)
            var start = max(nextFlagColumn[y] ?? 0, max(lineEnd, column) + 2)
            if start + flagWidth > width { start = max(0, width - flagWidth) }
            grid.write(flag, row: y, column: textX + start, role: .peerFlag(peer.colour), limit: textX + width)
            nextFlagColumn[y] = start + flagWidth
        }
    }
}

/// The right pane: overall class, syntax errors, then one two-row entry per function, worst first.
/// Rows are placed by `ComplexityLayout`, which the model's hit-testing uses too.
enum ComplexityPane {
    static func draw(_ model: EditorModel, _ grid: inout ScreenGrid) {
        let area = model.layout.complexity
        guard area.width > 0, area.height > 0 else { return }
        let limit = area.x + area.width
        let view = model.complexity
        let titleRole: Role = model.focus == .complexity ? .titleFocused : .title
        grid.fill(row: area.y, from: area.x, to: limit, role: titleRole)
        grid.write(" Complexity", row: area.y, column: area.x, role: titleRole, limit: limit)
        var row = area.y + 1
        if let overall = view.overall {
            let x = grid.write(" overall ", row: row, column: area.x, role: .complexityHeader, limit: limit)
            grid.write(overall, row: row, column: x, role: .complexityHeader, limit: limit)
        } else if let note = view.note {
            grid.write(" " + note, row: row, column: area.x, role: .complexityHeader, limit: limit)
        } else if view.entries.isEmpty && view.errors.isEmpty {
            grid.write(" no functions", row: row, column: area.x, role: .complexityHeader, limit: limit)
        }
        row += 1
        for error in view.errors.prefix(ComplexityLayout.maxErrors) {
            grid.write(" ✗ " + error, row: row, column: area.x, role: .complexityError, limit: limit)
            row += 1
        }
        let end = area.y + area.height
        let first = ComplexityLayout.firstVisible(selection: model.complexitySelection, view: view, height: area.height)
        for (index, entry) in view.entries.enumerated().dropFirst(first) {
            guard row + 1 < end || (row < end) else { break }
            let selected = model.focus == .complexity && index == model.complexitySelection
            if selected {
                grid.fill(row: row, from: area.x, to: limit, role: .complexitySelected)
                if row + 1 < end { grid.fill(row: row + 1, from: area.x, to: limit, role: .complexitySelected) }
            }
            let classRole: Role = selected ? .complexitySelected : (entry.costly ? .complexityCostly : .complexityCheap)
            let nameRole: Role = selected ? .complexitySelected : .complexityEntry
            var x = grid.write(" " + entry.complexity, row: row, column: area.x, role: classRole, limit: limit)
            x = grid.write(" " + entry.name, row: row, column: x, role: nameRole, limit: limit)
            if row + 1 < end {
                var detail = "   line \(entry.dominatingLine ?? entry.line)"
                if entry.loopDepth > 0 { detail += ", depth \(entry.loopDepth)" }
                grid.write(detail, row: row + 1, column: area.x, role: nameRole, limit: limit)
            }
            row += ComplexityLayout.rowsPerEntry
            if row >= end { break }
        }
    }
}

/// The bottom pane: a title row, then the run's lines, newest at the bottom unless scrolled back.
enum OutputPane {
    static func draw(_ model: EditorModel, _ grid: inout ScreenGrid) {
        let layout = model.layout
        let area = layout.output
        let titleRole: Role = model.focus == .output ? .titleFocused : .title
        let log = model.output
        grid.fill(row: layout.outputTitleRow, from: 0, to: area.width, with: "─", role: titleRole)
        var title = "─ Output"
        if let t = log.title { title += " · " + t }
        if log.running { title += " · running (Ctrl-K cancels)" } else if log.lines.isEmpty { title += " · Ctrl-R runs the buffer" }
        if log.scrollBack > 0 { title += " · ↓ \(log.scrollBack) newer" }
        grid.write(title + " ", row: layout.outputTitleRow, column: 0, role: titleRole, limit: area.width)
        let visibleEnd = max(0, log.lines.count - log.scrollBack)
        let visibleStart = max(0, visibleEnd - area.height)
        let selected = model.focus == .output ? log.selectedIndex : nil
        for index in visibleStart..<visibleEnd {
            let line = log.lines[index]
            let row = area.y + index - visibleStart
            if index == selected {
                grid.fill(row: row, from: area.x, to: area.x + area.width, role: .outputSelected)
                grid.write(" " + line.text, row: row, column: area.x, role: .outputSelected, limit: area.x + area.width)
                continue
            }
            let names = ErrorLocations.fileNames(bufferName: model.fileName, sandboxName: log.run(ofLine: index)?.sandboxFileName)
            let link = ErrorLocations.find(in: line.scalars, fileNames: names)?.range
            drawLine(line, link: link, row: row, area: area, &grid)
        }
    }

    /// The role a line's kind gives its text.
    static func role(of kind: OutputKind) -> Role {
        switch kind {
        case .stdout: return .stdout
        case .stderr: return .stderr
        case .info: return .runInfo
        case .success: return .runSuccess
        case .failure: return .runFailure
        }
    }

    /// One line: plain text in its kind's colour, styled text in its own; an error location is
    /// underlined (it is a jump: select the line, press Enter).
    private static func drawLine(_ line: OutputLine, link: Range<Int>?, row: Int, area: Rect, _ grid: inout ScreenGrid) {
        let kindRole = role(of: line.kind)
        let limit = area.x + area.width
        grid.put(" ", width: 1, role: kindRole, row: row, column: area.x, limit: limit)
        var x = area.x + 1
        for (i, scalar) in line.scalars.enumerated() {
            let w = DisplayWidth.of(scalar)
            if w == 0 {
                if x > area.x + 1 { grid.addMark(scalar, row: row, column: x - 1) }
                continue
            }
            if x + w > limit { break }
            var style = line.style(at: i)
            if link?.contains(i) == true { style.attributes.insert(.underline) }
            let role: Role
            if style.isPlain {
                role = kindRole
            } else {
                // A program's colours replace the stream's; what it leaves at the default keeps it.
                if style.foreground.isDefault, line.kind == .stderr { style.foreground = .palette(1) }
                role = .styled(style)
            }
            grid.put(ScreenGrid.visible(scalar), width: w, role: role, row: row, column: x, limit: limit)
            x += w
        }
    }
}

/// The last row: file, peers, connection and hints; or the prompt of the current mode.
enum StatusBar {
    static func draw(_ model: EditorModel, _ grid: inout ScreenGrid) {
        let row = model.layout.statusRow
        let width = model.size.columns
        grid.fill(row: row, from: 0, to: width, role: .status)
        switch model.mode {
        case .find(let query):
            let x = grid.write(" Find: ", row: row, column: 0, role: .prompt)
            let end = grid.write(query, row: row, column: x, role: .prompt)
            grid.cursor = (row, min(end, width - 1))
            writeRight("Enter next · Esc close ", row: row, from: end + 2, &grid)
            return
        case .goToLine(let input):
            let x = grid.write(" Go to line: ", row: row, column: 0, role: .prompt)
            let end = grid.write(input, row: row, column: x, role: .prompt)
            grid.cursor = (row, min(end, width - 1))
            writeRight("1-\(model.buffer.lineCount) · Enter jump · Esc cancel ", row: row, from: end + 2, &grid)
            return
        case .quitConfirm:
            let files = model.modifiedFiles
            let what = model.project != nil ? (files.count == 1 ? files[0] : "\(files.count) files") : model.fileName
            // A shared folder keeps an unsaved file's journal (ProjectHost.close): the next host of the
            // folder writes those edits into the file, so "without saving" would not be true.
            let no = model.project != nil ? "n: quit, edits kept in the journal" : "n: quit without saving"
            grid.write(" Save changes to \(what)? y: save and quit · \(no) · other key: stay",
                       row: row, column: 0, role: .prompt)
            return
        case .filePath(let renaming, let input):
            let x = grid.write(renaming.map { " Rename \($0) to: " } ?? " New file: ", row: row, column: 0, role: .prompt)
            let end = grid.write(input, row: row, column: x, role: .prompt)
            grid.cursor = (row, min(end, width - 1))
            writeRight("Enter \(renaming == nil ? "create" : "rename") · Esc cancel ", row: row, from: end + 2, &grid)
            return
        case .confirmDelete(let path):
            grid.write(" Delete \(path) for everyone? y: delete · other key: keep", row: row, column: 0, role: .prompt)
            return
        case .normal, .help, .people, .openFile, .files:
            break
        }
        let shownName = model.project != nil && model.project?.current == nil ? "no file open" : model.fileName
        var x = grid.write(" " + shownName, row: row, column: 0, role: .status)
        if model.modified && model.canSave { x = grid.write(" [+]", row: row, column: x, role: .statusModified) }
        if model.readOnly { x = grid.write(" [read-only]", row: row, column: x, role: .statusModified) }
        if let roles = model.guestRoles { x = grid.write(" [guests: \(roles)]", row: row, column: x, role: .status) }
        if !model.waiting.isEmpty { x = grid.write(" [\(model.waiting.count) waiting: ^W]", row: row, column: x, role: .statusModified) }
        for peer in model.peers {
            x = grid.write(" ●", row: row, column: x, role: .peerName(peer.colour))
            x = grid.write(" " + peer.name, row: row, column: x, role: .status)
            // A shared folder: who is in which file (the name only when it is another file than this one).
            if model.project != nil, let file = peer.file, file != model.project?.current {
                x = grid.write(" (" + Self.baseName(file) + ")", row: row, column: x, role: .status)
            }
        }
        x = grid.write(" · " + model.connection.label, row: row, column: x, role: .status)
        if let message = model.message {
            writeRight(message.text + " ", row: row, from: x + 2, role: message.isError ? .statusError : .status, &grid)
        } else {
            let hints = model.project != nil ? "F1 help  ^O open  ^B files  ^S save  ^Q quit " : "F1 help  ^S save  ^Q quit  ^R run "
            writeRight(hints, row: row, from: x + 2, role: .hint, &grid)
        }
    }

    /// The last component of a path.
    static func baseName(_ path: String) -> String {
        path.split(separator: "/").last.map(String.init) ?? path
    }

    /// Writes `text` right-aligned, starting no further left than `from` (clipped at the right).
    private static func writeRight(_ text: String, row: Int, from: Int, role: Role = .hint, _ grid: inout ScreenGrid) {
        let width = grid.columns
        let x = max(from, width - DisplayWidth.of(text))
        if x < width { grid.write(text, row: row, column: x, role: role) }
    }
}

/// The host's people dialog (Ctrl-W): who waits to join, then who is in; the picked row is marked.
enum PeopleOverlay {
    static func draw(_ model: EditorModel, selection: Int, _ grid: inout ScreenGrid) {
        var rows: [String] = model.waiting.map { guest in
            "waiting  \(guest.name) · \(guest.from) · \(guest.access)" + (guest.removedBefore ? " · removed before" : "")
        }
        rows += model.peers.map { "joined   \($0.name)" + ($0.file.map { " · in \($0)" } ?? "") }
        if rows.isEmpty { rows = ["nobody is waiting or joined"] }
        let footer = "a admit · r refuse · x remove · Esc close"
        let width = min(grid.columns - 2, max(DisplayWidth.of(footer), rows.map { DisplayWidth.of($0) }.max() ?? 0) + 6)
        let visible = max(1, min(rows.count, grid.rows - 5))
        let height = visible + 3
        let x0 = max(0, (grid.columns - width) / 2), y0 = max(0, (grid.rows - height) / 2)
        for row in y0..<(y0 + height) { grid.fill(row: row, from: x0, to: x0 + width, role: .dialog) }
        grid.fill(row: y0, from: x0, to: x0 + width, role: .dialogTitle)
        grid.write(" People", row: y0, column: x0, role: .dialogTitle, limit: x0 + width)
        // Keep the picked row in view when there are more rows than fit.
        let first = max(0, min(selection - visible + 1, rows.count - visible))
        for (i, text) in rows[first..<(first + visible)].enumerated() {
            let picked = first + i == selection && model.peopleCount > 0
            grid.write((picked ? " › " : "   ") + text, row: y0 + 1 + i, column: x0, role: picked ? .dialogTitle : .dialog, limit: x0 + width)
        }
        grid.write(" " + footer, row: y0 + height - 1, column: x0, role: .dialogTitle, limit: x0 + width)
    }
}

/// The F1 overlay listing every key.
enum HelpOverlay {
    static let entries: [(String, String)] = [
        ("Arrows Home End", "move (Home: indent, then column 1)"),
        ("PgUp PgDn", "move a page"),
        ("Shift+arrows/Home/End", "select"),
        ("Ctrl-A", "select all"),
        ("Ctrl-S", "save"),
        ("Ctrl-Q", "quit (asks when unsaved)"),
        ("Ctrl-Z  Ctrl-Y", "undo / redo your own edits"),
        ("Ctrl-F", "find; Enter finds the next"),
        ("Ctrl-G", "go to line"),
        ("Ctrl-R", "run the buffer"),
        ("Ctrl-K", "cancel the run"),
        ("Ctrl-T", "indent to the next tab stop"),
        ("Ctrl-P", "follow the next peer; Esc stops"),
        ("Ctrl-E", "host: what guests may do (edit+run, edit, view)"),
        ("Ctrl-W", "host: people: admit (a) or refuse (r) who waits, remove (x) a peer"),
        ("Ctrl-O Ctrl-B Ctrl-N", "shared folder: open by name / files pane (n r d) / next open file"),
        ("Tab  Shift-Tab", "next / previous pane"),
        ("Up Down Enter", "complexity / output pane: pick, jump (to its file:line)"),
        ("PgUp PgDn", "output pane: scroll back through runs"),
        ("Mouse", "click places the cursor; wheel scrolls"),
        ("F1", "this help; any key closes it"),
    ]

    static func draw(_ grid: inout ScreenGrid) {
        let keyWidth = entries.map { DisplayWidth.of($0.0) }.max() ?? 0
        let textWidth = entries.map { DisplayWidth.of($0.1) }.max() ?? 0
        let width = min(grid.columns - 2, keyWidth + textWidth + 5)
        let height = min(grid.rows - 2, entries.count + 2)
        let x0 = max(0, (grid.columns - width) / 2), y0 = max(0, (grid.rows - height) / 2)
        for row in y0..<(y0 + height) { grid.fill(row: row, from: x0, to: x0 + width, role: .dialog) }
        grid.fill(row: y0, from: x0, to: x0 + width, role: .dialogTitle)
        grid.write(" Keys (any key closes)", row: y0, column: x0, role: .dialogTitle, limit: x0 + width)
        for (i, entry) in entries.prefix(max(0, height - 2)).enumerated() {
            let row = y0 + 1 + i
            grid.write(" " + entry.0, row: row, column: x0, role: .dialogTitle, limit: x0 + width)
            grid.write(entry.1, row: row, column: x0 + keyWidth + 3, role: .dialog, limit: x0 + width)
        }
    }
}

/// A shared folder's files pane (Ctrl-B): open files first, then the rest in path order; each with
/// the peers in it. The picked row is marked while the pane has the keyboard.
enum FilesPane {
    static func draw(_ model: EditorModel, _ grid: inout ScreenGrid) {
        let area = model.layout.files
        guard let project = model.project, area.width > 0, area.height > 1 else { return }
        let focused: Int? = { if case .files(let selection) = model.mode { return selection } else { return nil } }()
        grid.write(" Files (\(project.files.count))", row: area.y, column: area.x, role: focused != nil ? .titleFocused : .title, limit: area.x + area.width)
        let visible = area.height - 1
        let selection = focused ?? project.current.flatMap { project.rows.firstIndex(of: $0) } ?? 0
        let first = max(0, min(selection - visible + 1, project.rows.count - visible))
        let open = Set(project.open)
        for (i, path) in project.rows.dropFirst(first).prefix(visible).enumerated() {
            let row = area.y + 1 + i
            let index = first + i
            let marker = path == project.current ? "›" : open.contains(path) ? "•" : " "
            let refused = project.files.first(where: { $0.path == path })?.refusal
            let role: Role = focused == index ? .dialogTitle : refused != nil ? .lineNumber : .plain
            if focused == index { grid.fill(row: row, from: area.x, to: area.x + area.width, role: .dialogTitle) }
            var x = grid.write(marker + path, row: row, column: area.x, role: role, limit: area.x + area.width)
            for peer in model.peers(inFile: path) {
                x = grid.write(" ●", row: row, column: x, role: .peerName(peer.colour), limit: area.x + area.width)
                x = grid.write(peer.name, row: row, column: x, role: role, limit: area.x + area.width)
            }
        }
    }
}

/// The open-file picker (Ctrl-O): the query, then the matching files best first, the picked one marked.
enum PickerOverlay {
    static func draw(_ model: EditorModel, query: String, selection: Int, _ grid: inout ScreenGrid) {
        guard let project = model.project else { return }
        let width = min(grid.columns - 2, 72)
        let visible = max(1, min(12, grid.rows - 6))
        let height = visible + 3
        let x0 = max(0, (grid.columns - width) / 2), y0 = max(0, (grid.rows - height) / 3)
        for row in y0..<(y0 + height) { grid.fill(row: row, from: x0, to: x0 + width, role: .dialog) }
        grid.fill(row: y0, from: x0, to: x0 + width, role: .dialogTitle)
        let end = grid.write(" Open file: " + query, row: y0, column: x0, role: .dialogTitle, limit: x0 + width)
        grid.cursor = (y0, min(end, x0 + width - 1))
        let matches = project.matches
        if matches.isEmpty {
            grid.write("   no file matches", row: y0 + 1, column: x0, role: .dialog, limit: x0 + width)
        }
        let first = max(0, min(selection - visible + 1, matches.count - visible))
        for (i, index) in matches.dropFirst(first).prefix(visible).enumerated() {
            let file = project.files[index]
            let picked = first + i == selection
            let text = (picked ? " › " : "   ") + file.path + (file.refusal.map { "  (\($0))" } ?? "")
            grid.write(text, row: y0 + 1 + i, column: x0, role: picked ? .dialogTitle : .dialog, limit: x0 + width)
        }
        let footer = " \(matches.count) of \(project.files.count) · Enter open · ↑↓ pick · Esc cancel"
        grid.write(footer, row: y0 + height - 1, column: x0, role: .dialogTitle, limit: x0 + width)
    }
}
