/// Display width of Unicode scalars in terminal cells, from a table generated from one Unicode
/// version (`UnicodeWidthTable`, scripts/generate-width-table), so a screen is drawn the same on
/// every machine whatever its locale or C library.
public enum DisplayWidth {
    /// The Unicode version the widths come from.
    public static var unicodeVersion: String { UnicodeWidthTable.unicodeVersion }

    /// Cells taken by `scalar`: 0 for combining marks and format characters (ZWJ, variation
    /// selectors), 2 for East Asian wide and fullwidth characters (CJK, emoji presentation), 1 otherwise.
    /// Control characters count as 1 because the renderer draws them as a visible placeholder.
    @inline(__always)
    public static func of(_ scalar: Unicode.Scalar) -> Int {
        let value = scalar.value
        if value < UnicodeWidthTable.fastPathEnd { return 1 }
        return tableWidth(value)
    }

    /// Binary search of the sorted runs; scalars in no run are one cell wide.
    private static func tableWidth(_ value: UInt32) -> Int {
        let ranges = UnicodeWidthTable.ranges
        var low = 0, high = ranges.count / 3
        while low < high {
            let mid = (low + high) / 2
            if value < ranges[mid * 3] {
                high = mid
            } else if value > ranges[mid * 3 + 1] {
                low = mid + 1
            } else {
                return Int(ranges[mid * 3 + 2])
            }
        }
        return 1
    }

    /// Total cells of a run of scalars with tabs expanded at `tabWidth` stops from column 0.
    public static func of<S: Sequence>(_ scalars: S, tabWidth: Int = EditorLayout.tabWidth) -> Int
    where S.Element == Unicode.Scalar {
        var column = 0
        for scalar in scalars {
            if scalar == "\t" { column += tabWidth - column % tabWidth } else { column += of(scalar) }
        }
        return column
    }

    /// Total cells of a string, no tab expansion.
    public static func of(_ text: String) -> Int {
        text.unicodeScalars.reduce(0) { $0 + of($1) }
    }
}
