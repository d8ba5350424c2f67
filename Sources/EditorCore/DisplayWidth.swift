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

    /// Two array reads: the scalar's block, then its 2-bit width within that block.
    @inline(__always)
    static func tableWidth(_ value: UInt32) -> Int {
        let block = Int(UnicodeWidthTable.stage1[Int(value >> UnicodeWidthTable.blockShift)])
        let inBlock = Int(value & (1 << UnicodeWidthTable.blockShift - 1))
        let byte = UnicodeWidthTable.stage2[(block << UnicodeWidthTable.blockShift + inBlock) >> 2]
        return Int(byte >> UInt8((inBlock & 3) * 2) & 3)
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
