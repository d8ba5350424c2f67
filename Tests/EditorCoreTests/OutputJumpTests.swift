import CodeSyncApp
import CodeSyncProtocol
import CodeSyncTestSupport
import Testing

@testable import CodeSyncTUI

let divideSource = """
    def f(x):
        return 1 / x

    print("start")
    f(0)
    """

let divideTraceback = """
    Traceback (most recent call last):
      File "/tmp/main.py", line 5, in <module>
        f(0)
      File "/tmp/main.py", line 2, in f
        return 1 / x
    ZeroDivisionError: division by zero

    """

extension Harness {
    /// Runs the buffer as alice and prints the traceback, as the runner would report it.
    mutating func runDivide(by: String = "alice") {
        keys(.control("r"))
        send(.run(.started(by: by, language: "python")))
        send(.run(.output("start\n", isError: false)))
        send(.run(.output(divideTraceback, isError: true)))
        send(.run(.finished(summary: "exited with code 1", success: false, durationMs: 40)))
    }

    /// Focuses the output pane and selects the line `fromBottom` lines above the newest one.
    mutating func selectOutputLine(fromBottom: Int) {
        while model.focus != .output { keys(.tab) }
        for _ in 0...fromBottom { keys(.up) }
    }

    /// Index of the output line with exactly this text.
    func outputIndex(_ text: String) -> Int? { model.output.lines.firstIndex { $0.text == text } }
}

/// Error locations in the output pane jump to the line as the document is now.
@Suite(.ownThreads) struct OutputJumpTests {
    @Test func enterOnATracebackLineGoesToThatLine() {
        var h = Harness(divideSource)
        h.runDivide()
        // Lines from the bottom: ■ exit, ZeroDivisionError, `return 1 / x`, `File ..., line 2`.
        h.selectOutputLine(fromBottom: 3)
        #expect(h.model.output.selectedIndex == h.outputIndex("  File \"/tmp/main.py\", line 2, in f"))
        h.keys(.enter)
        #expect(h.model.cursor == TextPosition(line: 1, column: 0))
        #expect(h.model.focus == .editor)
        #expect(h.model.message?.text == "line 2 of alice's run")
    }

    @Test func theLocationIsCarriedThroughLaterEdits() {
        var h = Harness(divideSource)
        h.runDivide()
        // A peer adds two lines on top, and the user types inside line 2 — after the run.
        h.send(.remoteChanges([EditorChange(offset: 0, deleted: 0, inserted: "import os\nimport sys\n")]))
        h.selectOutputLine(fromBottom: 3)
        h.keys(.enter)
        #expect(h.model.cursor.line == 3, "line 2 of the run is line 4 now")
        #expect(h.model.buffer.line(3) == Array("    return 1 / x".unicodeScalars))
        #expect(h.model.message?.text == "line 2 of alice's run is line 4 now")
        // Edits above and on the line itself do not lose it.
        h.keys(.home, .home)
        h.type("# ")
        h.keys(.up, .end)
        h.keys(.enter)
        while h.model.focus != .output { h.keys(.tab) }
        h.keys(.enter)
        #expect(h.model.cursor.line == 4)
        #expect(String(String.UnicodeScalarView(h.model.buffer.line(4))) == "# return 1 / x" || String(String.UnicodeScalarView(h.model.buffer.line(4))).hasSuffix("return 1 / x"))
    }

    @Test func aDeletedLineGoesToTheNearestSurvivorAndSaysSo() {
        var h = Harness(divideSource)
        h.runDivide()
        let start = h.model.buffer.offset(of: TextPosition(line: 1, column: 0))
        let length = h.model.buffer.line(1).count + 1
        h.send(.remoteChanges([EditorChange(offset: start, deleted: length, inserted: "")]))
        h.selectOutputLine(fromBottom: 3)
        h.keys(.enter)
        #expect(h.model.cursor.line == 1, "the line that followed it")
        #expect(h.model.message?.text == "line 2 of alice's run was deleted since; went to the nearest line, 2")
        #expect(h.model.message?.isError == true)
    }

    @Test func aColumnIsCarriedToo() {
        var h = Harness(divideSource)
        h.keys(.control("r"))
        h.send(.run(.started(by: "carol", language: "python")))
        h.send(.run(.output("demo.py:2:12: E225 missing whitespace around operator\n", isError: false)))
        h.send(.remoteChanges([EditorChange(offset: h.model.buffer.offset(of: TextPosition(line: 1, column: 4)), deleted: 0, inserted: "y = ")]))
        h.selectOutputLine(fromBottom: 0)
        h.keys(.enter)
        #expect(h.model.cursor == TextPosition(line: 1, column: 15), "column 12 (the `1`) moved right by the 4 inserted before it")
        #expect(h.model.buffer.line(1)[15] == "1")
    }

    @Test func aLineWithoutALocationOfThisFileSaysSo() {
        var h = Harness(divideSource)
        h.runDivide()
        h.selectOutputLine(fromBottom: 1)  // ZeroDivisionError: division by zero
        h.keys(.enter)
        #expect(h.model.cursor == TextPosition(line: 0, column: 0))
        #expect(h.model.message?.text == "no location in demo.py on this line")
        #expect(h.model.focus == .output)
    }

    @Test func clickSelectsAndASecondClickJumps() {
        var h = Harness(divideSource, columns: 60, rows: 40)
        h.runDivide()
        let grid = Renderer.render(h.model)
        guard let row = (0..<grid.rows).first(where: { grid.line(at: $0).contains("line 5, in <module>") }) else {
            Issue.record("the frame is not on screen:\n\(grid.lines.joined(separator: "\n"))")
            return
        }
        h.send(.mouse(.press(row: row, column: 10)))
        #expect(h.model.focus == .output)
        #expect(h.model.output.selectedIndex == h.outputIndex("  File \"/tmp/main.py\", line 5, in <module>"))
        h.send(.mouse(.press(row: row, column: 10)))
        #expect(h.model.cursor.line == 4)
        #expect(h.model.focus == .editor)
    }

    @Test func upAndDownMoveTheSelectionAndScrollToIt() {
        var h = Harness("", columns: 60, rows: 12)
        h.send(.run(.started(by: "bob", language: "python")))
        for i in 1...20 { h.send(.run(.output("line \(i)\n", isError: false))) }
        while h.model.focus != .output { h.keys(.tab) }
        let height = h.model.layout.output.height
        for _ in 0..<(height + 3) { h.keys(.up) }
        let selected = h.model.output.selectedIndex ?? -1
        #expect(h.model.output.lines[selected].text == "line \(20 - height - 2)")
        let visibleEnd = h.model.output.lines.count - h.model.output.scrollBack
        #expect(selected >= visibleEnd - height && selected < visibleEnd, "the selection stays on screen")
        h.keys(.down)
        #expect(h.model.output.lines[h.model.output.selectedIndex ?? 0].text == "line \(20 - height - 1)")
    }

    @Test func anOlderRunsLinesJumpThroughThatRunsText() {
        var h = Harness(divideSource)
        h.runDivide(by: "alice")
        h.send(.remoteChanges([EditorChange(offset: 0, deleted: 0, inserted: "# one\n")]))
        h.runDivide(by: "bob")  // bob ran the text with the extra line
        h.send(.remoteChanges([EditorChange(offset: 0, deleted: 0, inserted: "# two\n")]))
        // Alice's traceback (line 2 of her text) and bob's (line 2 of his) are different lines now.
        let aliceFrame = h.model.output.lines.firstIndex { $0.text.contains("line 2, in f") } ?? -1
        let bobFrame = h.model.output.lines.lastIndex { $0.text.contains("line 2, in f") } ?? -1
        #expect(aliceFrame >= 0 && bobFrame > aliceFrame)
        while h.model.focus != .output { h.keys(.tab) }
        h.model.output.select(index: aliceFrame)
        h.keys(.enter)
        #expect(h.model.cursor.line == 3)
        #expect(h.model.message?.text == "line 2 of alice's run is line 4 now")
        while h.model.focus != .output { h.keys(.tab) }
        h.model.output.select(index: bobFrame)
        h.keys(.enter)
        #expect(h.model.cursor.line == 2, "bob's line 2 was `def f(x):`")
        #expect(h.model.message?.text == "line 2 of bob's run is line 3 now")
    }

    /// A guest presses Ctrl-R, keeps typing, and the host's start arrives later: the host's version
    /// names the text the guest sent, so the guest's copy from its Ctrl-R is the anchor.
    @Test func aSharedRunIsAnchoredOnTheVersionTheHostRan() {
        var h = Harness(divideSource)
        h.keys(.control("r"))
        let ran = divideSource
        h.type("# typed while the request travelled\n")
        let started = RunStartedMessage(run: "r1", by: "guest-1", language: "python", byName: "gina", version: RunVersion.of(ran))
        for event in SessionEvents.editorEvents(for: .run(.started(started)), isHost: false) { h.send(event) }
        for event in SessionEvents.editorEvents(for: .run(.output(RunOutputMessage(run: "r1", stream: .stderr, text: divideTraceback))), isHost: false) {
            h.send(event)
        }
        #expect(h.model.output.runs.last?.version == RunVersion.of(ran))
        #expect(h.model.output.lines.contains { $0.text == "▶ gina started a python run · version \(RunVersion.short(RunVersion.of(ran)))" })
        h.selectOutputLine(fromBottom: 2)  // File ..., line 2 (no exit line yet)
        h.keys(.enter)
        #expect(h.model.cursor.line == 2, "line 2 of what ran is line 3 of the text now")
    }

    /// A Ctrl-R that never became a run (refused) leaves a stale copy; the host's version of
    /// someone else's run shows it is not what ran, and the text at the start is used instead.
    @Test func aStaleCtrlRCopyIsReplacedWhenTheVersionSaysSo() {
        var h = Harness(divideSource)
        h.keys(.control("r"))  // say the host refused it
        h.send(.remoteChanges([EditorChange(offset: 0, deleted: 0, inserted: "# from bob\n")]))
        let bobRan = h.model.buffer.text
        // Carol's edit at the end has not reached the host yet.
        h.send(.remoteChanges([EditorChange(offset: h.model.buffer.scalarCount, deleted: 0, inserted: "\n# carol")]))
        let started = RunStartedMessage(run: "r2", by: "bob-1", language: "python", byName: "bob", version: RunVersion.of(bobRan))
        for event in SessionEvents.editorEvents(for: .run(.started(started)), isHost: false) { h.send(event) }
        h.send(.run(.output(divideTraceback, isError: true)))
        h.selectOutputLine(fromBottom: 2)  // `File ..., line 2` of bob's text: `def f(x):`
        h.keys(.enter)
        // The stale copy (without bob's line) would give `return 1 / x`, line 3 now.
        #expect(h.model.cursor.line == 1, "line 2 of bob's text is `def f(x):`")
        #expect(h.model.message?.text == "line 2 of bob's run")
    }

    /// A watcher that did not start the run anchors on its text when the start arrives; a hostile
    /// version does not change anything.
    @Test func aWatcherAnchorsOnItsTextAndIgnoresABadVersion() {
        var h = Harness(divideSource)
        let started = RunStartedMessage(run: "r1", by: "guest-1", language: "python", byName: "gina", version: "\u{1B}]52;c;eA==\u{07}")
        for event in SessionEvents.editorEvents(for: .run(.started(started)), isHost: false) { h.send(event) }
        h.send(.run(.output(divideTraceback, isError: true)))
        #expect(h.model.output.runs.last?.version == RunVersion.of(divideSource))
        h.send(.remoteChanges([EditorChange(offset: 0, deleted: 0, inserted: "\n")]))
        h.selectOutputLine(fromBottom: 2)
        h.keys(.enter)
        #expect(h.model.cursor.line == 2)
    }

    /// Random edits after a run: the jump lands where the run's line went, checked against a
    /// reference that tracks every line of the run's text through the same edits.
    @Test func fuzzAnchorsFollowRandomEdits() {
        var rng = SeededGenerator(seed: 16)
        for _ in 0..<50 {
            let lineCount = Int.random(in: 3...12, using: &rng)
            let text = (1...lineCount).map { "line\($0)" }.joined(separator: "\n")
            var h = Harness(text)
            h.keys(.control("r"))
            h.send(.run(.started(by: "a", language: "python")))
            let target = Int.random(in: 1...lineCount, using: &rng)
            h.send(.run(.output("  File \"main.py\", line \(target)\n", isError: true)))
            // Edits that never touch line `target`'s own text: inserts anywhere else, deletes of other lines.
            for _ in 0..<Int.random(in: 0...10, using: &rng) {
                let lines = h.model.buffer.text.split(separator: "\n", omittingEmptySubsequences: false)
                guard let current = lines.firstIndex(where: { $0 == "line\(target)" }) else { break }
                var other = Int.random(in: 0..<lines.count, using: &rng)
                if other == current { other = (other + 1) % lines.count }
                if other == current { break }
                let start = h.model.buffer.offset(of: TextPosition(line: other, column: 0))
                if Bool.random(using: &rng) {
                    h.send(.remoteChanges([EditorChange(offset: start, deleted: 0, inserted: "new\n")]))
                } else if other + 1 < lines.count {
                    h.send(.remoteChanges([EditorChange(offset: start, deleted: lines[other].unicodeScalars.count + 1, inserted: "")]))
                }
            }
            let lines = h.model.buffer.text.split(separator: "\n", omittingEmptySubsequences: false)
            let expected = lines.firstIndex { $0 == "line\(target)" }
            h.selectOutputLine(fromBottom: 0)
            h.keys(.enter)
            #expect(h.model.cursor.line == expected, "\(h.model.buffer.text.debugDescription) target \(target)")
        }
    }
}

/// The output pane drawn: text plus colour grids, in the ratatui style.
@Suite(.ownThreads) struct OutputPaneScreenTests {
    /// One letter per cell for the foreground of styled cells: the palette index in hex for the 16
    /// basic colours, `#` for other palette entries, `*` for 24-bit, `=` for a styled cell in the
    /// default colour; other cells show their role letter.
    static func colourLines(_ grid: ScreenGrid, rows: Range<Int>) -> [String] {
        rows.map { row in
            String((0..<grid.columns).map { column -> Character in
                let role = grid[row, column].role
                guard case .styled(let style) = role else { return role.code }
                if let p = style.foreground.paletteIndex { return p < 16 ? Character(String(p, radix: 16)) : "#" }
                return style.foreground.components != nil ? "*" : "="
            })
        }
    }

    /// Attributes of styled cells: b bold, u underline, r reverse, d dim (first that applies), `.` none.
    static func attributeLines(_ grid: ScreenGrid, rows: Range<Int>) -> [String] {
        rows.map { row in
            String((0..<grid.columns).map { column -> Character in
                guard case .styled(let style) = grid[row, column].role else { return " " }
                let a = style.attributes
                return a.contains(.bold) ? "b" : a.contains(.underline) ? "u" : a.contains(.reverse) ? "r" : a.contains(.dim) ? "d" : "."
            })
        }
    }

    @Test func colouredOutputIsDrawnInItsColours() {
        var model = EditorModel(text: "print('hi')\n", fileName: "demo.py", size: TerminalSize(columns: 44, rows: 32))
        _ = model.handle(.complexity(ComplexityView(overall: "O(1)")))
        _ = model.handle(.run(.started(by: "alice", language: "python")))
        _ = model.handle(.run(.output("\u{1B}[32mPASSED\u{1B}[0m test_a\n", isError: false)))
        _ = model.handle(.run(.output("\u{1B}[1;31mFAILED\u{1B}[0m \u{1B}[4mtest_b\u{1B}[24m\n", isError: false)))
        _ = model.handle(.run(.output("\u{1B}[38;5;208m256\u{1B}[0m \u{1B}[38;2;10;20;30mrgb\u{1B}[7m rev\u{1B}[m\n", isError: false)))
        _ = model.handle(.run(.output("50%\r\u{1B}[2K100%\tok\u{1B}]0;pwned\u{07}\u{1B}[2J\n", isError: false)))
        _ = model.handle(.run(.output("warn \u{1B}[1mbold\u{1B}[0m\n", isError: true)))
        let grid = Renderer.render(model)
        let pane = model.layout.output
        #expect(pane.height == 6)
        let rows = pane.y..<(pane.y + pane.height)
        let started = " ▶ alice started a python run · version " + RunVersion.short(RunVersion.of("print('hi')\n"))
        func pad(_ s: String) -> String { s + String(repeating: " ", count: max(0, 44 - s.count)) }
        expectScreen(Array(grid.trimmedLines[(pane.y - 1)..<(pane.y + pane.height)]), [
            "─ Output · run by alice · python · running (",
            String(started.prefix(44)),
            " PASSED test_a",
            " FAILED test_b",
            " 256 rgb rev",
            " 100%    ok",
            " warn bold",
        ])
        // Roles: o stdout, ! stderr, i run info, a styled by the program.
        expectScreen(Array(grid.roleLines[rows]), [
            String(repeating: "i", count: 44),
            pad("oaaaaaaooooooo"),
            pad("oaaaaaaoaaaaaa"),
            pad("oaaaoaaaaaaa"),
            pad("ooooooooooo"),
            pad("!!!!!!aaaa"),
        ].map { String($0) })
        // Foreground: 2 green, 1 red (bold red; stderr's own red under a bold-only SGR), # a 256-colour
        // entry, * 24-bit, = the default colour (underline only).
        expectScreen(Self.colourLines(grid, rows: rows), [
            String(repeating: "i", count: 44),
            pad("o222222ooooooo"),
            pad("o111111o======"),
            pad("o###o*******"),
            pad("ooooooooooo"),
            pad("!!!!!!1111"),
        ])
        expectScreen(Self.attributeLines(grid, rows: rows), [
            pad(""),
            pad(" ......"),
            pad(" bbbbbb uuuuuu"),
            pad(" ... ...rrrr"),
            pad(""),
            pad("      bbbb"),
        ])
    }

    @Test func theJumpScreen() {
        var model = EditorModel(text: divideSource, fileName: "demo.py", size: TerminalSize(columns: 60, rows: 40))
        _ = model.handle(.complexity(ComplexityView(overall: "O(1)")))
        _ = model.handle(.key(.control("r")))
        _ = model.handle(.run(.started(by: "alice", language: "python")))
        _ = model.handle(.run(.output(divideTraceback, isError: true)))
        _ = model.handle(.run(.finished(summary: "exited with code 1", success: false, durationMs: 40)))
        for _ in 0..<2 { _ = model.handle(.key(.tab)) }
        for _ in 0..<4 { _ = model.handle(.key(.up)) }
        var grid = Renderer.render(model)
        let version = RunVersion.short(RunVersion.of(divideSource))
        let pane = model.layout.output
        #expect(pane.height == 8 && pane.y == 31)
        let title = "─ Output · run by alice · python "
        func pad(_ s: String) -> String { s + String(repeating: " ", count: max(0, 60 - s.count)) }
        expectScreen(Array(grid.trimmedLines[30...38]), [
            title + String(repeating: "─", count: 60 - title.count),
            " ▶ alice started a python run · version \(version)",
            " Traceback (most recent call last):",
            "   File \"/tmp/main.py\", line 5, in <module>",
            "     f(0)",
            "   File \"/tmp/main.py\", line 2, in f",
            "     return 1 / x",
            " ZeroDivisionError: division by zero",
            " ■ exited with code 1 · 40 ms",
        ])
        // The locations are underlined (a: styled) in the stream's colour; the selected line is O.
        expectScreen(Array(grid.roleLines[30...38]), [
            String(repeating: "T", count: 60),
            pad(String(repeating: "i", count: 48)),
            pad(String(repeating: "!", count: 35)),
            pad("!!!" + String(repeating: "a", count: 27) + String(repeating: "!", count: 13)),
            pad(String(repeating: "!", count: 9)),
            String(repeating: "O", count: 60),
            pad(String(repeating: "!", count: 17)),
            pad(String(repeating: "!", count: 36)),
            pad(String(repeating: "-", count: 29)),
        ])
        expectScreen(Self.attributeLines(grid, rows: 33..<34), [pad("   " + String(repeating: "u", count: 27))])
        expectScreen(Self.colourLines(grid, rows: 33..<34), [pad("!!!" + String(repeating: "1", count: 27) + String(repeating: "!", count: 13))])
        _ = model.handle(.key(.enter))
        grid = Renderer.render(model)
        #expect(model.cursor == TextPosition(line: 1, column: 0))
        #expect(grid.cursor?.row == 1 && grid.cursor?.column == 4)
        #expect(grid.trimmedLines[39].hasSuffix("line 2 of alice's run"), "\(grid.trimmedLines[39])")
        #expect(grid.roleLines[1].hasPrefix("  N "))
    }
}
