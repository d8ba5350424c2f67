import CodeSyncTestSupport
import Testing

@testable import EditorCore

/// Compares rendered rows with literal ones and shows both screens when they differ.
func expectScreen(_ actual: [String], _ expected: [String], sourceLocation: SourceLocation = #_sourceLocation) {
    if actual != expected {
        let diff = Snapshot.describeDifference(
            expected: expected.joined(separator: "\n"), actual: actual.joined(separator: "\n"), name: "screen")
        Issue.record(Comment(rawValue: diff), sourceLocation: sourceLocation)
    }
}

let fibSource = """
    import sys

    @cache
    def fib(n):  # naive
        if n < 2:
            return n
        return fib(n - 1) + fib(n - 2)

    s = "漢字😀"
    """

func fibModel(columns: Int = 60, rows: Int = 12) -> EditorModel {
    var model = EditorModel(text: fibSource, fileName: "demo.py", size: TerminalSize(columns: columns, rows: rows))
    _ = model.handle(.complexity(ComplexityView(overall: "O(2^n)", entries: [
        ComplexityEntry(name: "fib", complexity: "O(2^n)", rank: 9, line: 4, dominatingLine: 7, loopDepth: 0, costly: true)
    ])))
    _ = model.handle(.peers([RemotePeer(id: "b", name: "bob", colour: 1, cursor: 30)]))
    _ = model.handle(.run(.started(by: "alice", language: "python")))
    _ = model.handle(.run(.output("hello\n", isError: false)))
    _ = model.handle(.run(.output("oops\n", isError: true)))
    return model
}

@Suite(.ownThreads) struct RendererTests {
    @Test func sixtyByTwelveScreen() {
        let grid = Renderer.render(fibModel())
        expectScreen(grid.trimmedLines, [
            "  1 import sys                           │ Complexity",
            "  2                                      │ overall O(2^n)",
            "  3 @cache                               │ O(2^n) fib",
            "  4 def fib(n):  # naive   bob           │   line 7",
            "  5     if n < 2:                        │",
            "  6         return n                     │",
            "  7     return fib(n - 1) + fib(n - 2)   │",
            "  8                                      │",
            "─ Output · run by alice · python · running (Ctrl-K cancels)",
            " hello",
            " oops",
            " demo.py ● bob · local    F1 help  ^S save  ^Q quit  ^R run",
        ])
        expectScreen(grid.roleLines, [
            "  N kkkkkk                               |tttttttttttttttttt",
            "  L                                      |HHHHHHHHHHHHHHH   ",
            "  L dddddd                               |rrrrrrreeee       ",
            "  L kkk        1 ccccccc  11111          |eeeeeeeee         ",
            "  L     kk     n                         |                  ",
            "  L         kkkkkk                       |                  ",
            "  L     kkkkkk         n            n    |                  ",
            "  L                                      |                  ",
            "tttttttttttttttttttttttttttttttttttttttttttttttttttttttttttt",
            "oooooo                                                      ",
            "!!!!!                                                       ",
            "SSSSSSSS11SSSSSSSSSSSSSSSShhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhh",
        ])
        #expect(grid.cursor?.row == 0 && grid.cursor?.column == 4)
    }

    @Test func wideCharactersTabsAndCombiningMarksTakeTheirRealWidth() {
        let model = EditorModel(text: "\tx漢😀e\u{301}|", fileName: "w.py", size: TerminalSize(columns: 40, rows: 12))
        let grid = Renderer.render(model)
        // Gutter 4, tab to column 4 of the text, then x, two wide characters, é (two scalars), |.
        #expect(grid.line(at: 0).hasPrefix("  1     x漢😀é|"))
        #expect(grid[0, 9].scalar == "漢" && grid[0, 9].width == 2 && grid[0, 10].width == 0)
        #expect(grid[0, 11].scalar == "😀" && grid[0, 12].width == 0)
        #expect(grid[0, 13].scalar == "e" && grid.marks(row: 0, column: 13) == ["\u{301}"])
        #expect(grid[0, 14].scalar == "|")
    }

    @Test func aWideCharacterCutByTheLeftEdgeIsDrawnBlank() {
        var model = EditorModel(text: String(repeating: "a", count: 30) + "漢" + String(repeating: "b", count: 30),
                                fileName: "w.py", size: TerminalSize(columns: 40, rows: 12))
        _ = model.handle(.key(.end))
        let grid = Renderer.render(model)
        #expect(model.left > 0)
        let text = grid.line(at: 0)
        #expect(text.contains("b"))
        #expect(grid.lines.allSatisfy { !$0.contains("\u{FFFD}") })
    }

    @Test func selectionsAreDrawnIncludingTheLineBreak() {
        var model = EditorModel(text: "ab\ncd", fileName: "s.py", size: TerminalSize(columns: 40, rows: 12))
        for key in [Key.right, .shiftRight, .shiftDown] { _ = model.handle(.key(key)) }
        let roles = Renderer.render(model).roleLines
        #expect(roles[0].hasPrefix("  L  vv"))
        #expect(roles[1].hasPrefix("  N vv "))
    }

    @Test func tooSmallTerminalShowsANotice() {
        let model = EditorModel(text: "x", fileName: "x.py", size: TerminalSize(columns: 39, rows: 11))
        expectScreen(Renderer.render(model).trimmedLines, [
            "", "", "", "",
            "          Terminal too small",
            "           39x11, need 40x12",
            "             Ctrl-Q quits",
            "", "", "", "",
        ])
    }

    @Test func helpOverlayListsEveryKey() {
        var model = EditorModel(text: "", fileName: "x.py", size: TerminalSize(columns: 80, rows: 24))
        _ = model.handle(.key(.function(1)))
        let screen = Renderer.render(model).lines.joined(separator: "\n")
        for key in ["Ctrl-S", "Ctrl-Q", "Ctrl-Z  Ctrl-Y", "Ctrl-F", "Ctrl-G", "Ctrl-R", "Ctrl-K", "Tab  Shift-Tab", "F1", "PgUp PgDn", "Mouse"] {
            #expect(screen.contains(key), "help lacks \(key)")
        }
        _ = model.handle(.key(.character("x")))
        #expect(model.mode == .normal)
        #expect(model.buffer.text == "", "the key that closes help is not typed")
    }

    @Test func findPromptReplacesTheStatusBar() {
        var model = EditorModel(text: "abc", fileName: "x.py", size: TerminalSize(columns: 60, rows: 12))
        _ = model.handle(.key(.control("f")))
        for c in "bc".unicodeScalars { _ = model.handle(.key(.character(c))) }
        let grid = Renderer.render(model)
        #expect(grid.trimmedLines[11] == " Find: bc" + String(repeating: " ", count: 28) + "Enter next · Esc close")
        #expect(grid.cursor?.row == 11 && grid.cursor?.column == 9)
    }

    @Test func unparsableCodeShowsTheErrorLine() {
        var model = EditorModel(text: "def f(:\n", fileName: "x.py", size: TerminalSize(columns: 80, rows: 24))
        _ = model.handle(.complexity(ComplexityView(errors: ["line 1: expected a parameter name"])))
        let lines = Renderer.render(model).trimmedLines
        #expect(!lines[1].contains("no functions"))
        #expect(lines[2].hasSuffix("│ ✗ line 1: expected a pa"))
    }

    @Test func outputPaneScrollsBack() {
        var model = EditorModel(text: "", fileName: "x.py", size: TerminalSize(columns: 60, rows: 12))
        for i in 1...10 { _ = model.handle(.run(.output("line \(i)\n", isError: false))) }
        _ = model.handle(.run(.finished(summary: "exit 1", success: false, durationMs: 2340)))
        var lines = Renderer.render(model).trimmedLines
        #expect(lines[9] == " line 10")
        #expect(lines[10] == " ■ exit 1 · 2.3 s")
        _ = model.handle(.key(.tab))
        _ = model.handle(.key(.tab))
        _ = model.handle(.key(.pageUp))
        lines = Renderer.render(model).trimmedLines
        #expect(lines[9] == " line 9")
        #expect(lines[8].contains("↓ 1 newer"))
    }

    @Test func eightyByTwentyFourSnapshot() throws {
        var model = fibModel(columns: 80, rows: 24)
        _ = model.handle(.key(.down))
        _ = model.handle(.key(.shiftDown))
        _ = model.handle(.run(.finished(summary: "exit 0", success: true, durationMs: 412)))
        let grid = Renderer.render(model)
        try Snapshot.check((grid.lines + [""] + grid.roleLines).joined(separator: "\n") + "\n", named: "editor-80x24.txt")
    }
}

/// A click in the complexity pane picks the entry drawn on that row, scrolled or not, with errors above.
@Suite(.ownThreads) struct ComplexityHitTestTests {
    @Test func aClickPicksTheEntryTheRendererDrewThere() {
        let entries = (0..<12).map {
            ComplexityEntry(name: "f\($0)", complexity: "O(n)", rank: 20 - $0, line: $0 + 1, dominatingLine: nil, loopDepth: 1, costly: false)
        }
        let text = (1...12).map { "def f\($0 - 1)(): pass" }.joined(separator: "\n")
        for selected in [0, 9] {
            var model = EditorModel(text: text, fileName: "x.py", size: TerminalSize(columns: 60, rows: 24))
            _ = model.handle(.complexity(ComplexityView(overall: "O(n)", entries: entries, errors: ["line 3: oops", "line 4: again"])))
            _ = model.handle(.key(.tab))
            for _ in 0..<selected { _ = model.handle(.key(.down)) }
            let area = model.layout.complexity
            let screen = Renderer.render(model).trimmedLines
            var picked = 0
            for row in area.y..<(area.y + area.height) {
                // The entry whose name row is this row or the row above (its detail row).
                let drawn = entries.indices.first { i in
                    [row, row - 1].contains { r in r >= area.y && screen[r].hasSuffix("│ O(n) f\(i)") }
                }
                var clicked = model
                _ = clicked.handle(.mouse(.press(row: row, column: area.x + 2)))
                if let drawn {
                    #expect(clicked.complexitySelection == drawn, "row \(row): \(screen[row])")
                    #expect(clicked.cursor.line == entries[drawn].line - 1)
                    picked += 1
                } else {
                    #expect(clicked.cursor == model.cursor, "row \(row) holds no entry: \(screen[row])")
                }
            }
            #expect(picked >= 8, "\(picked) rows picked an entry")
        }
    }
}
