import CNcursesw

/// Display width of Unicode scalars in terminal cells, as the C library's `wcwidth` reports it
/// under a UTF-8 locale (the same table ncurses and most terminals use).
public enum DisplayWidth {
    /// Makes sure `wcwidth` answers for non-ASCII scalars: it returns -1 under the "C" locale,
    /// which is what a test process starts with.
    private static let localeReady: Bool = {
        if let current = setlocale(LC_CTYPE, nil), String(cString: current).uppercased().contains("UTF") {
            return true
        }
        return setlocale(LC_CTYPE, "C.UTF-8") != nil || setlocale(LC_CTYPE, "") != nil
    }()

    /// Cells taken by `scalar`: 0 for combining marks, 2 for wide (CJK, most emoji), 1 otherwise.
    /// Control characters count as 1 because the renderer draws them as a visible placeholder.
    @inline(__always)
    public static func of(_ scalar: Unicode.Scalar) -> Int {
        let value = scalar.value
        if value >= 0x20 && value < 0x7F { return 1 }
        if value < 0x20 || (value >= 0x7F && value < 0xA0) { return 1 }
        return slowWidth(value)
    }

    private static func slowWidth(_ value: UInt32) -> Int {
        _ = localeReady
        let width = wcwidth(wchar_t(bitPattern: value))
        if width < 0 { return 1 }
        return min(Int(width), 2)
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
