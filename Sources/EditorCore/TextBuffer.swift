/// A place in a buffer: a line and a Unicode-scalar column within it.
public struct TextPosition: Comparable, Hashable, Sendable, CustomStringConvertible {
    public var line: Int
    public var column: Int

    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    public static func < (a: TextPosition, b: TextPosition) -> Bool {
        a.line != b.line ? a.line < b.line : a.column < b.column
    }

    public var description: String { "\(line):\(column)" }
}

/// Text stored as lines of Unicode scalars in chunks, so that edits, offset look-ups and drawing the
/// visible lines cost about the chunk count plus a chunk's size, never the whole document.
/// Offsets are Unicode scalar offsets, each line break counting one, as in the replicated document.
public struct TextBuffer: Sendable {
    struct Chunk: Sendable {
        var lines: [[Unicode.Scalar]]
        /// Lexer state at the start of each line (see `SyntaxLexer`), when states are tracked.
        var states: [UInt8]
        /// Scalars in the chunk's lines, not counting line breaks.
        var scalars: Int
    }

    static let chunkTarget = 512
    private var chunks: [Chunk]
    public private(set) var lineCount: Int
    /// Scalars in the whole text, line breaks included.
    public private(set) var scalarCount: Int
    /// Whether lexer states for syntax highlighting are kept up to date on every edit.
    public let tracksSyntax: Bool

    /// The highlighter whose line states are tracked (Python's unless the file says otherwise).
    public let lexer: SyntaxLexer

    /// A buffer holding `text`.
    public init(_ text: String = "", tracksSyntax: Bool = true, lexer: SyntaxLexer = .python) {
        self.tracksSyntax = tracksSyntax
        self.lexer = lexer
        var lines: [[Unicode.Scalar]] = [[]]
        for scalar in text.unicodeScalars {
            if scalar == "\n" { lines.append([]) } else { lines[lines.count - 1].append(scalar) }
        }
        chunks = []
        lineCount = lines.count
        scalarCount = 0
        var start = 0
        while start < lines.count {
            let end = min(lines.count, start + Self.chunkTarget)
            let slice = Array(lines[start..<end])
            let count = slice.reduce(0) { $0 + $1.count }
            chunks.append(Chunk(lines: slice, states: Array(repeating: 0, count: slice.count), scalars: count))
            scalarCount += count
            start = end
        }
        scalarCount += lineCount - 1
        if tracksSyntax { restate(from: 0, through: lineCount - 1) }
    }

    /// The scalars of line `index` (empty when out of range).
    public func line(_ index: Int) -> [Unicode.Scalar] {
        guard let (c, i) = locate(line: index) else { return [] }
        return chunks[c].lines[i]
    }

    /// Length of line `index` in scalars.
    public func lineLength(_ index: Int) -> Int { line(index).count }

    /// The lexer state at the start of line `index`.
    public func lexState(atStartOf index: Int) -> UInt8 {
        guard let (c, i) = locate(line: index) else { return 0 }
        return chunks[c].states[i]
    }

    /// The whole text (costs the whole document; for saving and analysis, not drawing).
    public var text: String {
        var view = String.UnicodeScalarView()
        view.reserveCapacity(scalarCount)
        var first = true
        for chunk in chunks {
            for line in chunk.lines {
                if !first { view.append("\n") }
                first = false
                view.append(contentsOf: line)
            }
        }
        return String(view)
    }

    /// Clamps a position into the buffer.
    public func clamp(_ p: TextPosition) -> TextPosition {
        let line = min(max(0, p.line), lineCount - 1)
        return TextPosition(line: line, column: min(max(0, p.column), lineLength(line)))
    }

    /// The scalar offset of a position.
    public func offset(of position: TextPosition) -> Int {
        let p = clamp(position)
        var offset = 0, line = 0
        for chunk in chunks {
            if line + chunk.lines.count > p.line {
                for l in chunk.lines[0..<(p.line - line)] { offset += l.count + 1 }
                return offset + p.column
            }
            offset += chunk.scalars + chunk.lines.count
            line += chunk.lines.count
        }
        return offset
    }

    /// The position of a scalar offset (clamped into the text).
    public func position(of offset: Int) -> TextPosition {
        var remaining = min(max(0, offset), scalarCount)
        var line = 0
        for chunk in chunks {
            let size = chunk.scalars + chunk.lines.count
            if remaining < size || line + chunk.lines.count == lineCount {
                for l in chunk.lines {
                    if remaining <= l.count { return TextPosition(line: line, column: remaining) }
                    remaining -= l.count + 1
                    line += 1
                }
                return TextPosition(line: lineCount - 1, column: lineLength(lineCount - 1))
            }
            remaining -= size
            line += chunk.lines.count
        }
        return TextPosition(line: lineCount - 1, column: lineLength(lineCount - 1))
    }

    /// The scalars between two positions, line breaks included.
    public func scalars(from start: TextPosition, to end: TextPosition) -> [Unicode.Scalar] {
        let a = clamp(min(start, end)), b = clamp(max(start, end))
        if a.line == b.line { return Array(line(a.line)[a.column..<b.column]) }
        var out = Array(line(a.line)[a.column...])
        for l in (a.line + 1)..<b.line {
            out.append("\n")
            out.append(contentsOf: line(l))
        }
        out.append("\n")
        out.append(contentsOf: line(b.line)[..<b.column])
        return out
    }

    /// Replaces the text between two positions with `inserted`; returns the position after the insertion.
    @discardableResult
    public mutating func replace(from start: TextPosition, to end: TextPosition, with inserted: some Sequence<Unicode.Scalar>) -> TextPosition {
        let a = clamp(min(start, end)), b = clamp(max(start, end))
        let first = line(a.line), last = a.line == b.line ? first : line(b.line)
        var newLines: [[Unicode.Scalar]] = [Array(first[..<a.column])]
        var insertedCount = 0
        for scalar in inserted {
            insertedCount += 1
            if scalar == "\n" { newLines.append([]) } else { newLines[newLines.count - 1].append(scalar) }
        }
        let endColumn = newLines[newLines.count - 1].count
        newLines[newLines.count - 1].append(contentsOf: last[b.column...])
        let deleted = offsetDistance(a, b)
        replaceLines(a.line...b.line, with: newLines)
        scalarCount += insertedCount - deleted
        if tracksSyntax { restate(from: a.line, through: a.line + newLines.count - 1) }
        return TextPosition(line: a.line + newLines.count - 1, column: endColumn)
    }

    /// Inserts at a scalar offset; returns the position after the insertion.
    @discardableResult
    public mutating func insert(_ text: String, at offset: Int) -> TextPosition {
        let p = position(of: offset)
        return replace(from: p, to: p, with: text.unicodeScalars)
    }

    /// Deletes `count` scalars at a scalar offset (clamped).
    public mutating func delete(at offset: Int, count: Int) {
        let a = position(of: offset), b = position(of: offset + max(0, count))
        replace(from: a, to: b, with: EmptyCollection())
    }

    /// Scalars between two ordered, clamped positions without walking the document.
    private func offsetDistance(_ a: TextPosition, _ b: TextPosition) -> Int {
        if a.line == b.line { return b.column - a.column }
        var total = lineLength(a.line) - a.column + 1
        var l = a.line + 1
        while l < b.line {
            total += lineLength(l) + 1
            l += 1
        }
        return total + b.column
    }

    /// Chunk index and line index within it.
    @inline(__always)
    private func locate(line index: Int) -> (Int, Int)? {
        guard index >= 0, index < lineCount else { return nil }
        var line = index
        for c in chunks.indices {
            let n = chunks[c].lines.count
            if line < n { return (c, line) }
            line -= n
        }
        return nil
    }

    private mutating func replaceLines(_ range: ClosedRange<Int>, with newLines: [[Unicode.Scalar]]) {
        guard let (c0, i0) = locate(line: range.lowerBound), let (c1, i1) = locate(line: range.upperBound) else { return }
        if c0 == c1 {
            let removed = chunks[c0].lines[i0...i1].reduce(0) { $0 + $1.count }
            chunks[c0].lines.replaceSubrange(i0...i1, with: newLines)
            chunks[c0].states.replaceSubrange(i0...i1, with: repeatElement(0, count: newLines.count))
            chunks[c0].scalars += newLines.reduce(0) { $0 + $1.count } - removed
        } else {
            // Cut the tail of the first chunk and the head of the last, drop the ones between.
            let removedFirst = chunks[c0].lines[i0...].reduce(0) { $0 + $1.count }
            chunks[c0].lines.removeSubrange(i0...)
            chunks[c0].states.removeSubrange(i0...)
            chunks[c0].scalars -= removedFirst
            let removedLast = chunks[c1].lines[...i1].reduce(0) { $0 + $1.count }
            chunks[c1].lines.removeSubrange(...i1)
            chunks[c1].states.removeSubrange(...i1)
            chunks[c1].scalars -= removedLast
            chunks[c0].lines.append(contentsOf: newLines)
            chunks[c0].states.append(contentsOf: repeatElement(0, count: newLines.count))
            chunks[c0].scalars += newLines.reduce(0) { $0 + $1.count }
            chunks.removeSubrange((c0 + 1)..<c1)
        }
        lineCount += newLines.count - range.count
        rebalance(around: c0)
    }

    /// Splits oversized chunks and drops empty ones, so every chunk stays near the target size.
    private mutating func rebalance(around index: Int) {
        var c = min(index, chunks.count - 1)
        while c < chunks.count && c <= index + 1 {
            if chunks[c].lines.isEmpty && chunks.count > 1 {
                chunks.remove(at: c)
                continue
            }
            if chunks[c].lines.count > 2 * Self.chunkTarget {
                let tailLines = Array(chunks[c].lines[Self.chunkTarget...])
                let tailStates = Array(chunks[c].states[Self.chunkTarget...])
                let tailScalars = tailLines.reduce(0) { $0 + $1.count }
                chunks[c].lines.removeSubrange(Self.chunkTarget...)
                chunks[c].states.removeSubrange(Self.chunkTarget...)
                chunks[c].scalars -= tailScalars
                chunks.insert(Chunk(lines: tailLines, states: tailStates, scalars: tailScalars), at: c + 1)
            }
            c += 1
        }
    }

    /// Recomputes lexer states after lines `from...through` changed, continuing past them only
    /// while a line's end state differs from what the next line had (e.g. an opened triple quote).
    private mutating func restate(from start: Int, through changedEnd: Int) {
        guard var (c, i) = locate(line: start) else { return }
        var state: UInt8 = 0
        if start > 0 { state = lexer.endState(of: line(start - 1), start: lexState(atStartOf: start - 1)) }
        chunks[c].states[i] = state
        var lineIndex = start
        while true {
            let end = lexer.endState(of: chunks[c].lines[i], start: state)
            lineIndex += 1
            i += 1
            if i == chunks[c].lines.count {
                c += 1
                i = 0
                if c == chunks.count { return }
            }
            if lineIndex > changedEnd && chunks[c].states[i] == end { return }
            chunks[c].states[i] = end
            state = end
        }
    }
}
