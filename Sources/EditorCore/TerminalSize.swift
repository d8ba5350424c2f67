/// A terminal size in character cells.
public struct TerminalSize: Equatable, Sendable {
    public var columns: Int
    public var rows: Int

    /// The smallest size the editor draws its panes in; below it a notice is shown instead.
    public static let minimum = TerminalSize(columns: 40, rows: 12)

    public init(columns: Int, rows: Int) {
        self.columns = columns
        self.rows = rows
    }
}
