/// A place in a source file that a program's output names: a compiler error, a traceback entry or a
/// stack frame.
public struct ErrorLocation: Equatable, Sendable {
    /// The file as the output wrote it (a path, or a bare name).
    public var file: String
    /// 1-based line.
    public var line: Int
    /// 1-based column, when the output gives one.
    public var column: Int?
    /// Where the location sits in the output line, in scalars (the part drawn as a link).
    public var range: Range<Int>
}

/// Finds error locations in output lines. One pass over the line, no backtracking beyond a bounded
/// path, so a hostile line costs at most a few times its length.
///
/// Recognised: Python tracebacks (`File "x.py", line 12`), `file:line` and `file:line:col` (gcc,
/// clang, go, javac, python warnings, node's syntax-error header, go panics), Java stack frames
/// (`at Main.f(Main.java:12)`) and Node stack frames (`at f (/path/x.js:12:5)`, `at /path/x.js:12:5`).
public enum ErrorLocations {
    /// Longest path looked at before a `:line`.
    static let maxPath = 512
    /// Line and column numbers past this are not locations.
    static let maxNumber = 99_999_999

    /// The file names that count as the buffer's: its own base name and the sandbox's name for it
    /// (e.g. `main.py`, `OutputRun.sandboxFileName`), when the run's language is known.
    public static func fileNames(bufferName: String, sandboxName: String?) -> Set<String> {
        var names: Set<String> = [baseName(Substring(bufferName))]
        if let sandboxName { names.insert(sandboxName) }
        names.remove("")
        return names
    }

    /// The first location in `line` whose file's base name is one of `fileNames`.
    public static func find(in line: [Unicode.Scalar], fileNames: Set<String>) -> ErrorLocation? {
        guard !fileNames.isEmpty else { return nil }
        if let python = pythonFrame(line, fileNames: fileNames) { return python }
        var i = 0
        while i < line.count {
            if line[i] == ":", i + 1 < line.count, isDigit(line[i + 1]), let found = colonLocation(line, colon: i, fileNames: fileNames) {
                return found
            }
            i += 1
        }
        return nil
    }

    /// The first location in a line of text (see `find(in:fileNames:)`).
    public static func find(in text: String, fileNames: Set<String>) -> ErrorLocation? {
        find(in: Array(text.unicodeScalars), fileNames: fileNames)
    }

    /// `File "path", line N` anywhere in the line.
    private static func pythonFrame(_ line: [Unicode.Scalar], fileNames: Set<String>) -> ErrorLocation? {
        let marker = Array("File \"".unicodeScalars)
        var i = 0
        while i + marker.count <= line.count {
            guard line[i] == "F", Array(line[i..<(i + marker.count)]) == marker else { i += 1; continue }
            let pathStart = i + marker.count
            var j = pathStart
            while j < line.count, line[j] != "\"", j - pathStart < maxPath { j += 1 }
            guard j < line.count, line[j] == "\"" else { i += 1; continue }
            let path = String(String.UnicodeScalarView(line[pathStart..<j]))
            let suffix = Array("\", line ".unicodeScalars)
            guard j + suffix.count < line.count, Array(line[j..<(j + suffix.count)]) == suffix,
                  let (lineNumber, end) = number(line, from: j + suffix.count),
                  fileNames.contains(baseName(Substring(path))) else { i = j; continue }
            return ErrorLocation(file: path, line: lineNumber, column: nil, range: i..<end)
        }
        return nil
    }

    /// `path:line` or `path:line:col`, with the colon before the line at `colon`.
    private static func colonLocation(_ line: [Unicode.Scalar], colon: Int, fileNames: Set<String>) -> ErrorLocation? {
        var start = colon
        while start > 0, colon - start < maxPath, isPathScalar(line[start - 1]) { start -= 1 }
        guard start < colon else { return nil }
        let path = String(String.UnicodeScalarView(line[start..<colon]))
        guard fileNames.contains(baseName(Substring(path))), let (lineNumber, afterLine) = number(line, from: colon + 1) else { return nil }
        var column: Int?
        var end = afterLine
        if afterLine + 1 < line.count, line[afterLine] == ":", let (c, afterColumn) = number(line, from: afterLine + 1) {
            column = c
            end = afterColumn
        }
        // "main.py:12abc" is not a location.
        if end < line.count, isLetter(line[end]) { return nil }
        return ErrorLocation(file: path, line: lineNumber, column: column, range: start..<end)
    }

    /// A positive decimal number starting at `from`, and the index after it.
    private static func number(_ line: [Unicode.Scalar], from: Int) -> (Int, Int)? {
        var value = 0, i = from
        while i < line.count, isDigit(line[i]) {
            value = value * 10 + Int(line[i].value - 0x30)
            if value > maxNumber { return nil }
            i += 1
        }
        return i > from && value > 0 ? (value, i) : nil
    }

    static func baseName(_ path: Substring) -> String {
        String(path.split(separator: "/", omittingEmptySubsequences: false).last ?? path)
    }

    private static func isDigit(_ s: Unicode.Scalar) -> Bool { s.value >= 0x30 && s.value <= 0x39 }
    private static func isLetter(_ s: Unicode.Scalar) -> Bool { (s.value | 0x20) >= 0x61 && (s.value | 0x20) <= 0x7A }

    /// Characters a path in compiler output is made of (stops at spaces, brackets and quotes).
    private static func isPathScalar(_ s: Unicode.Scalar) -> Bool {
        switch s {
        case " ", "\t", "(", ")", "[", "]", "<", ">", "\"", "'", ",", ";", ":", "=", "`", "|": return false
        default: return s.value > 0x20
        }
    }
}
