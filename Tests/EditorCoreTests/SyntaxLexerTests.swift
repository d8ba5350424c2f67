import EditorCore
import Testing
import CodeSyncTestSupport

/// The C-family highlighter shared by Java, JavaScript, Go, C and C++, and the buffer keeping its
/// line states across edits.
@Suite(.ownThreads) struct SyntaxLexerTests {
    private func roles(_ lexer: SyntaxLexer, _ line: String, start: UInt8 = 0) -> [(String, Role)] {
        let scalars = Array(line.unicodeScalars)
        return lexer.spans(of: scalars, start: start).map { (String(String.UnicodeScalarView(scalars[$0.start..<$0.end])), $0.role) }
    }

    @Test func languagesFromFileNames() {
        #expect(SyntaxLexer(fileName: "Main.java") == .cFamily(.java))
        #expect(SyntaxLexer(fileName: "a.mjs") == .cFamily(.javascript))
        #expect(SyntaxLexer(fileName: "x.go") == .cFamily(.go))
        #expect(SyntaxLexer(fileName: "x.h") == .cFamily(.c))
        #expect(SyntaxLexer(fileName: "x.cpp") == .cFamily(.cpp))
        #expect(SyntaxLexer(fileName: "x.py") == .python)
        #expect(SyntaxLexer(fileName: "README") == .python)
    }

    @Test func keywordsStringsNumbersCommentsPerLanguage() {
        let java = roles(.cFamily(.java), "for (int i = 0; i < 10; i++) s += \"a//b\"; // done")
        #expect(java.contains { $0 == ("for", .keyword) })
        #expect(java.contains { $0 == ("int", .keyword) })
        #expect(java.contains { $0 == ("10", .number) })
        #expect(java.contains { $0 == ("\"a//b\"", .string) })
        #expect(java.last.map { $0 == ("// done", .comment) } == true)
        let go = roles(.cFamily(.go), "func f() { for k := range m { fmt.Println(len(k)) } }")
        #expect(go.contains { $0 == ("func", .keyword) } && go.contains { $0 == ("range", .keyword) } && go.contains { $0 == ("len", .builtin) })
        // `func` is a name in Java, `int` is one in JavaScript.
        #expect(!roles(.cFamily(.java), "func").contains { $0.1 == .keyword })
        #expect(!roles(.cFamily(.javascript), "int").contains { $0.1 == .keyword })
        #expect(roles(.cFamily(.c), "#include <stdio.h>").first.map { $0 == ("#include <stdio.h>", .decorator) } == true)
        #expect(roles(.cFamily(.cpp), "x = 1'000'000;").contains { $0 == ("1'000'000", .number) })
    }

    @Test func multiLineConstructsCarryState() {
        let c = SyntaxLexer.cFamily(.c)
        let open = c.endState(of: Array("int x; /* start".unicodeScalars), start: 0)
        #expect(open != 0)
        #expect(roles(c, "still comment", start: open).first.map { $0 == ("still comment", .comment) } == true)
        #expect(c.endState(of: Array("end */ int y;".unicodeScalars), start: open) == 0)
        let js = SyntaxLexer.cFamily(.javascript)
        let t = js.endState(of: Array("const s = `line one".unicodeScalars), start: 0)
        #expect(t != 0 && js.endState(of: Array("two` + 1".unicodeScalars), start: t) == 0)
        let java = SyntaxLexer.cFamily(.java)
        let b = java.endState(of: Array("String s = \"\"\"".unicodeScalars), start: 0)
        #expect(b != 0 && java.endState(of: Array("  text\"\"\";".unicodeScalars), start: b) == 0)
        // A `//` inside a string is not a comment, and `/*` inside a line comment opens nothing.
        #expect(c.endState(of: Array("s = \"/*\"; // /*".unicodeScalars), start: 0) == 0)
    }

    @Test func bufferTracksStatesWithItsLexer() {
        var buffer = TextBuffer("int a;\n/* one\ntwo */\nint b;", lexer: .cFamily(.c))
        #expect(buffer.lexState(atStartOf: 2) != 0)
        #expect(buffer.lexState(atStartOf: 3) == 0)
        // Closing the comment earlier changes the states after the edited line.
        _ = buffer.replace(from: TextPosition(line: 1, column: 6), to: TextPosition(line: 1, column: 6), with: " */".unicodeScalars)
        #expect(buffer.lexState(atStartOf: 2) == 0)
    }
}
