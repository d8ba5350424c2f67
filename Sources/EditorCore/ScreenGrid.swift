/// What a cell means; the terminal backend's theme maps each role to colours, and tests read roles as letters.
public enum Role: Hashable, Sendable {
    case plain
    case lineNumber, currentLineNumber
    case keyword, string, comment, number, decorator, builtin
    case control
    case selection, findMatch
    case peerCursor(UInt8), peerSelection(UInt8), peerFlag(UInt8), peerName(UInt8)
    case border, title, titleFocused
    case complexityHeader, complexityEntry, complexitySelected, complexityCheap, complexityCostly, complexityError
    case stdout, stderr, runInfo, runSuccess, runFailure
    /// Program output in the colours and attributes it asked for (SGR).
    case styled(OutputStyle)
    /// The output pane's selected line.
    case outputSelected
    case status, statusModified, statusError, hint
    case prompt, dialog, dialogTitle, notice

    /// One letter per role for style grids in tests (peer roles use their colour digit).
    public var code: Character {
        switch self {
        case .plain: return " "
        case .lineNumber: return "L"
        case .currentLineNumber: return "N"
        case .keyword: return "k"
        case .string: return "s"
        case .comment: return "c"
        case .number: return "n"
        case .decorator: return "d"
        case .builtin: return "b"
        case .control: return "^"
        case .selection: return "v"
        case .findMatch: return "f"
        case .peerCursor(let c), .peerSelection(let c), .peerFlag(let c), .peerName(let c):
            return Character(String(c % 10))
        case .border: return "|"
        case .title: return "t"
        case .titleFocused: return "T"
        case .complexityHeader: return "H"
        case .complexityEntry: return "e"
        case .complexitySelected: return "E"
        case .complexityCheap: return "g"
        case .complexityCostly: return "r"
        case .complexityError: return "x"
        case .stdout: return "o"
        case .stderr: return "!"
        case .runInfo: return "i"
        case .runSuccess: return "+"
        case .runFailure: return "-"
        case .styled: return "a"
        case .outputSelected: return "O"
        case .status: return "S"
        case .statusModified: return "M"
        case .statusError: return "X"
        case .hint: return "h"
        case .prompt: return "p"
        case .dialog: return "D"
        case .dialogTitle: return "W"
        case .notice: return "*"
        }
    }
}

/// One terminal cell: a scalar and its role. A wide character fills its first cell; the cell after it
/// has `width == 0` and is skipped when drawing.
public struct Cell: Equatable, Sendable {
    public var scalar: Unicode.Scalar
    public var role: Role
    public var width: UInt8

    public init(_ scalar: Unicode.Scalar = " ", role: Role = .plain, width: UInt8 = 1) {
        self.scalar = scalar
        self.role = role
        self.width = width
    }

    /// A blank cell.
    public static let blank = Cell()
}

/// A rectangle of cells the renderer draws into; the backend flushes it, tests read it as text.
public struct ScreenGrid: Equatable, Sendable {
    public private(set) var columns: Int
    public private(set) var rows: Int
    public private(set) var cells: [Cell]
    /// Combining marks drawn on top of a cell's scalar, keyed by cell index (rare, so kept aside).
    public private(set) var combining: [Int: [Unicode.Scalar]] = [:]
    /// Where the terminal's own cursor goes, if it is shown.
    public var cursor: (row: Int, column: Int)?

    public init(columns: Int, rows: Int) {
        self.columns = max(0, columns)
        self.rows = max(0, rows)
        cells = Array(repeating: .blank, count: self.columns * self.rows)
    }

    public static func == (a: ScreenGrid, b: ScreenGrid) -> Bool {
        a.columns == b.columns && a.rows == b.rows && a.cells == b.cells && a.combining == b.combining
            && a.cursor?.row == b.cursor?.row && a.cursor?.column == b.cursor?.column
    }

    /// Clears every cell to blank and resizes when needed, keeping the storage.
    public mutating func reset(columns: Int, rows: Int) {
        if columns != self.columns || rows != self.rows {
            self = ScreenGrid(columns: columns, rows: rows)
        } else {
            for i in cells.indices { cells[i] = .blank }
            if !combining.isEmpty { combining = [:] }
            cursor = nil
        }
    }

    /// The cell at a position (blank outside the grid).
    public subscript(row: Int, column: Int) -> Cell {
        guard row >= 0, row < rows, column >= 0, column < columns else { return .blank }
        return cells[row * columns + column]
    }

    /// Combining marks on a cell, if any.
    public func marks(row: Int, column: Int) -> [Unicode.Scalar]? {
        combining[row * columns + column]
    }

    /// Sets one cell's role without changing its character (used for cursors and selections).
    public mutating func setRole(_ role: Role, row: Int, column: Int) {
        guard row >= 0, row < rows, column >= 0, column < columns else { return }
        cells[row * columns + column].role = role
    }

    /// Puts one scalar of `width` cells at a position, clipped at `limit` (exclusive column).
    /// A wide scalar that would straddle the limit is drawn as a blank instead.
    @inline(__always)
    public mutating func put(_ scalar: Unicode.Scalar, width: Int, role: Role, row: Int, column: Int, limit: Int? = nil) {
        let end = min(limit ?? columns, columns)
        guard row >= 0, row < rows, column >= 0, column < end else { return }
        let index = row * columns + column
        clearWide(at: index, column: column)
        if width == 2 {
            if column + 1 >= end {
                cells[index] = Cell(" ", role: role)
                return
            }
            clearWide(at: index + 1, column: column + 1)
            cells[index] = Cell(scalar, role: role, width: 2)
            cells[index + 1] = Cell(" ", role: role, width: 0)
        } else {
            cells[index] = Cell(scalar, role: role)
        }
        if !combining.isEmpty { combining[index] = nil }
    }

    /// Adds a combining mark to the cell at a position.
    public mutating func addMark(_ mark: Unicode.Scalar, row: Int, column: Int) {
        guard row >= 0, row < rows, column >= 0, column < columns else { return }
        combining[row * columns + column, default: []].append(mark)
    }

    /// Overwriting half of a wide character leaves the other half blank so no stray half is drawn.
    @inline(__always)
    private mutating func clearWide(at index: Int, column: Int) {
        let cell = cells[index]
        if cell.width == 2, column + 1 < columns {
            cells[index + 1] = Cell(" ", role: cells[index + 1].role)
        } else if cell.width == 0, column > 0 {
            cells[index - 1] = Cell(" ", role: cells[index - 1].role)
        }
    }

    /// Writes `text` from a column, clipped at `limit`; returns the column after the last cell written.
    @discardableResult
    public mutating func write(_ text: String, row: Int, column: Int, role: Role, limit: Int? = nil) -> Int {
        var x = column
        let end = min(limit ?? columns, columns)
        for scalar in text.unicodeScalars {
            let w = DisplayWidth.of(scalar)
            if w == 0 {
                if x > column { addMark(scalar, row: row, column: x - 1) }
                continue
            }
            if x + w > end { break }
            put(Self.visible(scalar), width: w, role: role, row: row, column: x, limit: end)
            x += w
        }
        return x
    }

    /// Fills a run of cells on a row with a scalar and role.
    public mutating func fill(row: Int, from: Int, to: Int, with scalar: Unicode.Scalar = " ", role: Role) {
        guard row >= 0, row < rows else { return }
        var x = max(0, from)
        while x < min(to, columns) {
            put(scalar, width: 1, role: role, row: row, column: x)
            x += 1
        }
    }

    /// Control characters are shown as a placeholder so they never move the terminal's cursor.
    @inline(__always)
    static func visible(_ scalar: Unicode.Scalar) -> Unicode.Scalar {
        let v = scalar.value
        if v < 0x20 || (v >= 0x7F && v < 0xA0) { return "\u{FFFD}" }
        return scalar
    }

    /// Indices of the cells that differ from `previous` (all of them when the size changed or there is none).
    public func changedCells(since previous: ScreenGrid?) -> [Int] {
        guard let previous, previous.columns == columns, previous.rows == rows else { return Array(cells.indices) }
        var changed: [Int] = []
        for i in cells.indices where cells[i] != previous.cells[i] { changed.append(i) }
        if !combining.isEmpty || !previous.combining.isEmpty {
            for i in Set(combining.keys).union(previous.combining.keys) where combining[i] != previous.combining[i] && cells[i] == previous.cells[i] {
                changed.append(i)
            }
        }
        return changed
    }

    /// The rows as text (wide characters once, combining marks attached), trailing spaces kept.
    public var lines: [String] {
        (0..<rows).map { line(at: $0) }
    }

    /// One row as text.
    public func line(at row: Int) -> String {
        var text = String.UnicodeScalarView()
        for column in 0..<columns {
            let cell = self[row, column]
            if cell.width == 0 { continue }
            text.append(cell.scalar)
            if let marks = marks(row: row, column: column) { text.append(contentsOf: marks) }
        }
        return String(text)
    }

    /// The rows as text with trailing spaces removed (for literal comparisons in tests).
    public var trimmedLines: [String] {
        lines.map { line in
            var l = Substring(line)
            while l.last == " " { l.removeLast() }
            return String(l)
        }
    }

    /// One letter per cell naming its role (see `Role.code`), for style checks.
    public var roleLines: [String] {
        (0..<rows).map { row in
            String((0..<columns).map { self[row, $0].role.code })
        }
    }
}
