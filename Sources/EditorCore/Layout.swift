/// A rectangle of cells.
public struct Rect: Equatable, Sendable {
    public var x: Int
    public var y: Int
    public var width: Int
    public var height: Int

    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x
        self.y = y
        self.width = max(0, width)
        self.height = max(0, height)
    }

    /// True when a cell lies inside.
    public func contains(row: Int, column: Int) -> Bool {
        row >= y && row < y + height && column >= x && column < x + width
    }
}

/// Where each pane goes for a terminal size: editor left, complexity right, output below, status last.
public struct EditorLayout: Equatable, Sendable {
    /// Tab stops every four columns, the Python convention.
    public static let tabWidth = 4

    public var size: TerminalSize
    /// Below 40x12 nothing but a notice is drawn.
    public var tooSmall: Bool
    public var editor: Rect
    /// A shared folder's files pane, left of the editor (zero width when hidden).
    public var files: Rect
    public var separatorColumn: Int
    public var complexity: Rect
    /// The output pane's title row.
    public var outputTitleRow: Int
    public var output: Rect
    public var statusRow: Int

    public init(size: TerminalSize, filesPane: Bool = false) {
        self.size = size
        tooSmall = size.columns < TerminalSize.minimum.columns || size.rows < TerminalSize.minimum.rows
        let outputTotal = max(3, (size.rows - 1) / 4)
        let editorRows = max(0, size.rows - 1 - outputTotal)
        let complexityWidth = min(36, max(14, size.columns * 3 / 10))
        // The files pane takes a quarter of the width (at most 32 columns) and its own border column.
        let filesWidth = filesPane ? min(32, max(12, size.columns / 4)) : 0
        let filesTotal = filesPane ? filesWidth + 1 : 0
        files = Rect(x: 0, y: 0, width: filesWidth, height: editorRows)
        let editorWidth = max(0, size.columns - complexityWidth - 1 - filesTotal)
        editor = Rect(x: filesTotal, y: 0, width: editorWidth, height: editorRows)
        separatorColumn = filesTotal + editorWidth
        complexity = Rect(x: filesTotal + editorWidth + 1, y: 0, width: complexityWidth, height: editorRows)
        outputTitleRow = editorRows
        output = Rect(x: 0, y: editorRows + 1, width: size.columns, height: outputTotal - 1)
        statusRow = size.rows - 1
    }

    /// Width of the line-number gutter (digits plus one space) for a document of `lineCount` lines.
    public static func gutterWidth(lineCount: Int) -> Int {
        var digits = 1, n = max(1, lineCount)
        while n >= 10 { n /= 10; digits += 1 }
        return max(3, digits) + 1
    }
}

/// Where the complexity pane's rows go: its title and summary, up to `maxErrors` syntax errors, then
/// `rowsPerEntry` rows per function, scrolled so the selected entry shows. The renderer draws by it
/// and the model hit-tests clicks by it, so the two cannot disagree.
enum ComplexityLayout {
    static let rowsPerEntry = 2
    static let maxErrors = 3

    /// Rows above the first entry: the title, the summary line and the errors shown.
    static func headerRows(_ view: ComplexityView) -> Int { 2 + min(maxErrors, view.errors.count) }

    /// The first entry drawn when `selection` is selected in a pane of `height` rows.
    static func firstVisible(selection: Int, view: ComplexityView, height: Int) -> Int {
        let perPage = max(1, (height - headerRows(view)) / rowsPerEntry)
        return max(0, selection - perPage + 1)
    }

    /// The entry drawn at screen `row` of a pane occupying `area`, if any.
    static func entry(atRow row: Int, area: Rect, view: ComplexityView, selection: Int) -> Int? {
        let first = area.y + headerRows(view)
        guard row >= first, row < area.y + area.height else { return nil }
        let index = firstVisible(selection: selection, view: view, height: area.height) + (row - first) / rowsPerEntry
        return index < view.entries.count ? index : nil
    }
}
