import CodeSyncTestSupport
import Testing

@testable import EditorCore

@Suite(.ownThreads) struct TextBufferTests {
    @Test func offsetsAndPositionsRoundTrip() {
        let buffer = TextBuffer("ab\n\nçd😀\n")
        #expect(buffer.lineCount == 4)
        #expect(buffer.scalarCount == 8)
        #expect(buffer.position(of: 0) == TextPosition(line: 0, column: 0))
        #expect(buffer.position(of: 2) == TextPosition(line: 0, column: 2))
        #expect(buffer.position(of: 3) == TextPosition(line: 1, column: 0))
        #expect(buffer.position(of: 6) == TextPosition(line: 2, column: 2))
        #expect(buffer.position(of: 8) == TextPosition(line: 3, column: 0))
        #expect(buffer.position(of: 99) == TextPosition(line: 3, column: 0))
        for offset in 0...8 { #expect(buffer.offset(of: buffer.position(of: offset)) == offset) }
    }

    @Test func replaceAcrossLinesKeepsCounts() {
        var buffer = TextBuffer("one\ntwo\nthree")
        let end = buffer.replace(from: TextPosition(line: 0, column: 1), to: TextPosition(line: 2, column: 2), with: "X\nY".unicodeScalars)
        #expect(buffer.text == "oX\nYree")
        #expect(end == TextPosition(line: 1, column: 1))
        #expect(buffer.lineCount == 2)
        #expect(buffer.scalarCount == 7)
    }

    /// Random edits on a buffer spanning many chunks match the same edits on a plain scalar array.
    @Test func randomEditsMatchAReferenceAcrossChunks() {
        var rng = SeededGenerator(seed: 7)
        var reference = Array(String(repeating: "line of text\n", count: 3000).unicodeScalars)
        var buffer = TextBuffer(String(String.UnicodeScalarView(reference)), tracksSyntax: false)
        let pieces = ["x", "\n", "é", "漢字", "😀", "a\nb\nc", String(repeating: "\n", count: 700), "\"\"\""]
        for _ in 0..<400 {
            let offset = Int.random(in: 0...reference.count, using: &rng)
            if Bool.random(using: &rng) {
                let piece = pieces.randomElement(using: &rng) ?? "x"
                buffer.insert(piece, at: offset)
                reference.insert(contentsOf: piece.unicodeScalars, at: offset)
            } else {
                let count = min(reference.count - offset, Int.random(in: 0...900, using: &rng))
                buffer.delete(at: offset, count: count)
                reference.removeSubrange(offset..<(offset + count))
            }
            #expect(buffer.scalarCount == reference.count)
        }
        #expect(buffer.text == String(String.UnicodeScalarView(reference)))
        #expect(buffer.lineCount == reference.filter { $0 == "\n" }.count + 1)
        let probe = Int.random(in: 0...reference.count, using: &rng)
        #expect(buffer.offset(of: buffer.position(of: probe)) == probe)
    }

    /// Lexer states kept up to date by edits equal the states of a buffer built fresh from the result.
    @Test func incrementalLexerStatesMatchAFreshBuffer() {
        var rng = SeededGenerator(seed: 11)
        var buffer = TextBuffer(String(repeating: "x = 1\ns = 'a'\n", count: 400))
        let pieces = ["\"\"\"", "'''", "\n", "# \"\"\"", "y", "'"]
        for _ in 0..<200 {
            let offset = Int.random(in: 0...buffer.scalarCount, using: &rng)
            if Int.random(in: 0..<3, using: &rng) > 0 {
                buffer.insert(pieces.randomElement(using: &rng) ?? "y", at: offset)
            } else {
                buffer.delete(at: offset, count: Int.random(in: 0...20, using: &rng))
            }
        }
        let fresh = TextBuffer(buffer.text)
        for line in 0..<buffer.lineCount {
            #expect(buffer.lexState(atStartOf: line) == fresh.lexState(atStartOf: line), "line \(line)")
        }
    }
}

@Suite(.ownThreads) struct LocalDocumentTests {
    @Test func undoAndRedoWholeGroups() throws {
        let document = LocalDocument(text: "hello")
        document.insert(" world", at: 5)
        document.insert("!", at: 11)
        document.closeUndoGroup()
        document.delete(at: 0, count: 6)
        #expect(document.text == "world!")
        let undone = try #require(document.undo())
        #expect(undone == [EditorChange(offset: 0, deleted: 0, inserted: "hello ")])
        #expect(document.text == "hello world!")
        _ = document.undo()
        #expect(document.text == "hello")
        #expect(document.undo() == nil)
        _ = document.redo()
        #expect(document.text == "hello world!")
        document.insert("?", at: 0)
        #expect(document.redo() == nil, "a new edit clears the redo stack")
    }

    @Test func clampsOutOfRangeEdits() {
        let document = LocalDocument(text: "ab")
        document.insert("c", at: 99)
        document.delete(at: 1, count: 99)
        #expect(document.text == "a")
        document.delete(at: -5, count: 0)
        #expect(document.text == "a")
    }
}

@Suite(.ownThreads) struct PythonLexerTests {
    private func roles(_ line: String, start: UInt8 = 0) -> String {
        let scalars = Array(line.unicodeScalars)
        var out = Array(repeating: Character(" "), count: scalars.count)
        for span in PythonLexer.spans(of: scalars, start: start) {
            for i in span.start..<span.end { out[i] = span.role.code }
        }
        return String(out)
    }

    @Test func highlightsKeywordsStringsNumbersCommentsAndDecorators() {
        #expect(roles("def f(x): return len(x) + 10 # done") == "kkk       kkkkkk bbb      nn cccccc")
        #expect(roles("@functools.cache") == "dddddddddddddddd")
        #expect(roles("s = f'a{b}' + r\"\\d\" + x2") == "    sssssss   sssss     ")
    }

    @Test func tripleQuotedStringsCarryAcrossLines() {
        #expect(PythonLexer.endState(of: Array("x = \"\"\"doc".unicodeScalars), start: 0) == 1)
        #expect(roles("still doc", start: 1) == "sssssssss")
        #expect(roles("end\"\"\" if x", start: 1) == "ssssss kk  ")
        #expect(PythonLexer.endState(of: Array("end\"\"\"".unicodeScalars), start: 1) == 0)
        #expect(PythonLexer.endState(of: Array("# '''".unicodeScalars), start: 0) == 0)
    }
}
