import CodeSyncTestSupport
import Testing

@testable import EditorCore

/// A model and a local document driven together by the core's `EditorDriver`, the path the
/// terminal shell takes; `effects` collects everything the model asked for.
struct Harness {
    let driver: EditorDriver
    let document: LocalDocument
    var effects: [EditorEffect] = []
    var model: EditorModel {
        get { driver.model }
        nonmutating set { driver.withModel { $0 = newValue } }
    }

    init(_ text: String, columns: Int = 60, rows: Int = 12) {
        document = LocalDocument(text: text)
        driver = EditorDriver(
            model: EditorModel(text: text, fileName: "demo.py", size: TerminalSize(columns: columns, rows: rows)),
            document: document)
    }

    mutating func send(_ event: EditorEvent) {
        effects.append(contentsOf: driver.handle(event))
    }

    mutating func type(_ text: String) {
        for scalar in text.unicodeScalars { send(.key(scalar == "\n" ? .enter : .character(scalar))) }
    }

    mutating func keys(_ list: Key...) { for key in list { send(.key(key)) } }
}

@Suite(.ownThreads) struct EditorModelTests {
    @Test func typingEditsTheDocumentAtScalarOffsets() {
        var h = Harness("a😀b")
        h.keys(.right, .right)
        h.type("é")
        #expect(h.model.buffer.text == "a😀éb")
        #expect(h.document.text == "a😀éb")
        #expect(h.effects.contains(.insert("é", at: 2)))
        #expect(h.model.modified)
    }

    @Test func enterKeepsIndentationAndIndentsAfterAColon() {
        var h = Harness("    if x:")
        h.keys(.end, .enter)
        h.type("y")
        #expect(h.document.text == "    if x:\n        y")
        #expect(h.model.cursor == TextPosition(line: 1, column: 9))
    }

    @Test func backspaceInLeadingSpacesRemovesOneIndentLevel() {
        var h = Harness("        x")
        h.keys(.home, .backspace)
        #expect(h.document.text == "    x")
        h.keys(.backspace)
        #expect(h.document.text == "x")
    }

    @Test func backspaceAtLineStartJoinsLines() {
        var h = Harness("ab\ncd")
        h.keys(.down, .home, .home, .backspace)
        #expect(h.document.text == "abcd")
        #expect(h.model.cursor == TextPosition(line: 0, column: 2))
    }

    @Test func selectionIsReplacedByTyping() {
        var h = Harness("hello world")
        h.keys(.shiftRight, .shiftRight, .shiftRight, .shiftRight, .shiftRight)
        h.type("bye")
        #expect(h.document.text == "bye world")
    }

    @Test func undoAndRedoUseTheDocumentAndMoveTheCursor() {
        var h = Harness("x")
        h.keys(.end)
        h.type("abc")
        h.keys(.left)
        h.type("Z")
        #expect(h.document.text == "xabZc")
        h.keys(.control("z"))
        #expect(h.document.text == "xabc")
        #expect(h.model.buffer.text == "xabc")
        h.keys(.control("z"))
        #expect(h.document.text == "x")
        #expect(h.model.cursor == TextPosition(line: 0, column: 1))
        h.keys(.control("y"))
        #expect(h.model.buffer.text == "xabc")
        #expect(h.model.cursor == TextPosition(line: 0, column: 4))
    }

    @Test func pasteIsOneEditAndOneUndoStep() {
        var h = Harness("")
        h.send(.paste("line1\r\nline2\rline3"))
        #expect(h.document.text == "line1\nline2\nline3")
        #expect(h.effects.filter { if case .insert = $0 { return true } else { return false } }.count == 1)
        h.keys(.control("z"))
        #expect(h.document.text == "")
    }

    @Test func remoteChangesKeepTheLocalCursorOnItsText() {
        var h = Harness("hello world")
        h.keys(.end)
        h.send(.remoteChanges([EditorChange(offset: 0, deleted: 0, inserted: "¡")]))
        #expect(h.model.cursor == TextPosition(line: 0, column: 12))
        h.send(.remoteChanges([EditorChange(offset: 5, deleted: 7, inserted: "\n")]))
        #expect(h.model.buffer.text == "¡hell\n")
        #expect(h.model.cursor == TextPosition(line: 1, column: 0))
    }

    @Test func localEditsShiftRemotePeerCursors() {
        var h = Harness("abc")
        h.send(.peers([RemotePeer(id: "b", name: "bob", colour: 2, cursor: 2, selection: 1..<3)]))
        h.type("xy")
        #expect(h.model.peers[0].cursor == 4)
        #expect(h.model.peers[0].selection == 3..<5)
    }

    @Test func quitAsksWhenThereAreUnsavedChanges() {
        var h = Harness("")
        h.type("x")
        h.keys(.control("q"))
        #expect(h.model.mode == .quitConfirm)
        #expect(!h.effects.contains(.quit))
        h.keys(.character("c"))
        #expect(h.model.mode == .normal)
        h.keys(.control("q"), .character("y"))
        #expect(Array(h.effects.suffix(2)) == [.save, .quit])
    }

    @Test func quitWithoutChangesQuitsAtOnce() {
        var h = Harness("x")
        h.keys(.control("q"))
        #expect(h.effects.contains(.quit))
    }

    @Test func findSelectsTheNextMatchAndWraps() {
        var h = Harness("foo\nbar foo\nfoo")
        h.keys(.control("f"))
        h.type("foo")
        h.keys(.enter)
        #expect(h.model.selection?.start == TextPosition(line: 0, column: 0))
        h.keys(.enter)
        #expect(h.model.selection?.start == TextPosition(line: 1, column: 4))
        h.keys(.enter, .enter)
        #expect(h.model.selection?.start == TextPosition(line: 0, column: 0))
        h.keys(.escape)
        #expect(h.model.mode == .normal)
        h.keys(.control("f"))
        h.keys(.backspace, .backspace, .backspace)
        h.type("zzz")
        h.keys(.enter)
        #expect(h.model.message?.text == "\"zzz\" not found")
    }

    @Test func goToLineJumpsAndClamps() {
        var h = Harness(Array(repeating: "x", count: 100).joined(separator: "\n"))
        h.keys(.control("g"))
        h.type("42")
        h.keys(.enter)
        #expect(h.model.cursor == TextPosition(line: 41, column: 0))
        #expect(h.model.top <= 41 && 41 < h.model.top + h.model.layout.editor.height)
        h.keys(.control("g"))
        h.type("999")
        h.keys(.enter)
        #expect(h.model.cursor.line == 99)
    }

    @Test func tabMovesFocusThroughThePanes() {
        var h = Harness("")
        #expect(h.model.focus == .editor)
        h.keys(.tab)
        #expect(h.model.focus == .complexity)
        h.keys(.tab)
        #expect(h.model.focus == .output)
        h.keys(.backTab, .backTab)
        #expect(h.model.focus == .editor)
    }

    @Test func complexityEntryEnterJumpsToItsLine() {
        var h = Harness(Array(repeating: "pass", count: 50).joined(separator: "\n"))
        h.send(.complexity(ComplexityView(overall: "O(n)", entries: [
            ComplexityEntry(name: "a", complexity: "O(1)", rank: 0, line: 3, dominatingLine: nil, loopDepth: 0, costly: false),
            ComplexityEntry(name: "b", complexity: "O(n)", rank: 3, line: 30, dominatingLine: 31, loopDepth: 1, costly: false),
        ])))
        h.keys(.tab, .down, .up, .enter)
        #expect(h.model.cursor.line == 29, "worst entry (b) first")
        #expect(h.model.focus == .editor)
    }

    @Test func mouseClickPlacesTheCursorPastTheGutter() {
        var h = Harness("abc\n\tx漢字y")
        // Gutter is 4 cells wide; line 2's text starts at column 4, a tab fills 4 cells.
        h.send(.mouse(.press(row: 1, column: 4 + 4 + 1 + 3)))
        #expect(h.model.cursor == TextPosition(line: 1, column: 3), "the second cell of 字 is 字")
        h.send(.mouse(.press(row: 0, column: 40)))
        #expect(h.model.cursor == TextPosition(line: 0, column: 3))
    }

    @Test func scrollingFollowsTheCursorVerticallyAndHorizontally() {
        var h = Harness(Array(repeating: String(repeating: "x", count: 100), count: 40).joined(separator: "\n"))
        for _ in 0..<20 { h.keys(.down) }
        #expect(h.model.top == 20 - h.model.layout.editor.height + 1)
        h.keys(.end)
        #expect(h.model.left > 0)
        #expect(h.model.displayColumn(of: h.model.cursor) < h.model.left + h.model.editorTextWidth)
        h.keys(.home, .home)
        #expect(h.model.left == 0)
    }

    @Test func readOnlyRefusesEdits() {
        var h = Harness("abc")
        h.send(.readOnly(true))
        h.type("x")
        h.keys(.delete)
        #expect(h.document.text == "abc")
        #expect(h.model.message?.isError == true)
    }

    @Test func ctrlEAsksToCycleGuestRolesOnlyOnAHost() {
        var guest = Harness("abc")
        guest.keys(.control("e"))
        #expect(!guest.effects.contains(.cycleGuestRoles))
        #expect(guest.model.message?.text.contains("only the host") == true)
        var host = Harness("abc", columns: 80)
        host.send(.guestRoles("edit+run"))
        host.keys(.control("e"))
        #expect(host.effects.contains(.cycleGuestRoles))
        host.send(.guestRoles("view"))
        #expect(host.model.guestRoles == "view")
        let screen = Renderer.render(host.model).lines.joined(separator: "\n")
        #expect(screen.contains("[guests: view]"), "\(screen)")
    }

    @Test func thePeopleDialogAdmitsRefusesAndRemovesOnlyWhatItsRowsHold() {
        var guest = Harness("abc")
        guest.keys(.control("w"))
        #expect(guest.model.mode == .normal)
        #expect(guest.model.message?.text.contains("only the host") == true)
        var host = Harness("abc", columns: 100, rows: 20)
        host.send(.guestRoles("edit+run"))
        host.send(.peers([RemotePeer(id: "bob-1", name: "bob", colour: 1, cursor: 0), RemotePeer(id: "cat-2", name: "cat", colour: 2, cursor: 0)]))
        host.send(.lobby([WaitingGuest(id: "dan-3", name: "dan", from: "127.0.0.1 via relay", access: "edit+run")]))
        // A newcomer is announced on the status line and in the output pane, and counted on the status bar.
        #expect(host.model.message?.text == "dan (127.0.0.1 via relay) asks to join: Ctrl-W to admit or refuse")
        var screen = Renderer.render(host.model).lines.joined(separator: "\n")
        #expect(screen.contains("[1 waiting: ^W]"), "\(screen)")
        host.keys(.control("w"))
        #expect(host.model.mode == .people(selection: 0))
        screen = Renderer.render(host.model).lines.joined(separator: "\n")
        #expect(screen.contains("› waiting  dan · 127.0.0.1 via relay · edit+run") && screen.contains("joined   cat"), "\(screen)")
        // Typing in the dialog never reaches the document; x on a waiting row removes nobody.
        host.keys(.character("x"), .character("z"))
        #expect(host.document.text == "abc")
        #expect(!host.effects.contains { if case .decide = $0 { true } else { false } })
        host.keys(.character("a"))
        #expect(host.effects.last == .decide("dan-3", .admit))
        // a and r only act on someone waiting; x only on a peer.
        host.keys(.down)
        host.keys(.character("r"))
        #expect(host.effects.last == .decide("dan-3", .admit))
        host.keys(.down, .character("x"))
        #expect(host.effects.last == .decide("cat-2", .remove))
        host.send(.lobby([]))
        #expect(host.model.mode == .people(selection: 1), "the selection stays within the shorter list")
        host.keys(.escape)
        #expect(host.model.mode == .normal)
        screen = Renderer.render(host.model).lines.joined(separator: "\n")
        #expect(!screen.contains("waiting"), "\(screen)")
        host.send(.notice("cat left (removed by the host)"))
        #expect(host.model.message?.text == "cat left (removed by the host)")
        #expect(host.model.output.lines.contains { $0.text == "cat left (removed by the host)" })
    }

    @Test func followModeKeepsThePeerOnScreen() {
        var h = Harness(Array(repeating: "line", count: 200).joined(separator: "\n"))
        h.send(.peers([RemotePeer(id: "p", name: "pat", colour: 1, cursor: 5 * 150)]))
        h.keys(.control("p"))
        #expect(h.model.following == "p")
        #expect(h.model.top <= 150 && 150 < h.model.top + h.model.layout.editor.height)
        h.keys(.escape)
        #expect(h.model.following == nil)
    }

    @Test func presenceIsSentWhenTheCursorMoves() {
        var h = Harness("abc")
        h.keys(.right)
        #expect(h.effects.contains(.presence(cursor: 1, selection: nil)))
        h.keys(.shiftRight)
        #expect(h.effects.last == .presence(cursor: 2, selection: 1..<2))
    }

    /// Random keys, pastes and remote changes never make the model's text and the document's differ.
    @Test func randomEventsKeepModelAndDocumentEqual() {
        var rng = SeededGenerator(seed: 42)
        var h = Harness("def f(x):\n    return x\n")
        let keys: [Key] = [.up, .down, .left, .right, .home, .end, .pageUp, .pageDown, .enter, .backspace, .delete,
                           .shiftLeft, .shiftRight, .shiftDown, .control("z"), .control("y"), .control("t"),
                           .character("a"), .character("😀"), .character("漢"), .character(" "), .character("\u{301}")]
        for _ in 0..<2000 {
            switch Int.random(in: 0..<20, using: &rng) {
            case 0: h.send(.paste("x\ny😀\n"))
            case 1:
                let offset = Int.random(in: 0...h.model.buffer.scalarCount, using: &rng)
                let deleted = min(h.model.buffer.scalarCount - offset, Int.random(in: 0...3, using: &rng))
                let change = EditorChange(offset: offset, deleted: deleted, inserted: "r")
                h.document.delete(at: offset, count: deleted)
                h.document.insert("r", at: offset)
                h.send(.remoteChanges([change]))
            default: h.keys(keys.randomElement(using: &rng) ?? .right)
            }
            #expect(h.model.buffer.text == h.document.text)
            if h.model.buffer.text != h.document.text { break }
        }
    }
}

/// The output pane's model holds no escape sequence, whoever wrote the output or the name.
@Suite(.ownThreads) struct OutputLogSanitizingTests {
    @Test func streamedOutputNamesAndNotesAreNeutralisedAcrossChunks() {
        var log = OutputLog()
        log.apply(.started(by: "eve\u{1B}]0;title\u{07}", language: "python\u{1B}[2J"))
        // An escape sequence cut between two chunks, a clipboard write, a bell, a bidi override.
        log.apply(.output("one\u{1B}", isError: false))
        log.apply(.output("[31mred\u{1B}[0m\n", isError: false))
        log.apply(.output("\u{1B}]52;c;ZXZpbA==\u{07}two\u{07}\u{202E}x\n", isError: true))
        log.apply(.finished(summary: "exit\u{1B}[1A 0", success: true, durationMs: 5))
        log.note("joined by \u{1B}[31mmallory\nfake line")
        let text = log.lines.map(\.text)
        for line in text {
            #expect(!line.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F || (0x80...0x9F).contains($0.value) },
                    "\(line.debugDescription)")
        }
        #expect(text.contains("onered"))
        #expect(text.contains("two\u{2407}\u{FFFD}x"))
        #expect(text.contains { $0.hasPrefix("▶ eve") && $0.contains("python") })
        #expect(text.contains("joined by mallory\u{240A}fake line"), "\(text)")
    }
}
