import Testing
import CodeSyncTestSupport

@testable import EditorCore

/// The effects the shell carries out, through the same driver `EditorApp` uses.
@Suite(.ownThreads) struct EditorDriverTests {
    struct Failure: Error, CustomStringConvertible {
        var description: String { "disk full" }
    }

    private func driver(_ text: String, actions: EditorActions = EditorActions()) -> EditorDriver {
        EditorDriver(
            model: EditorModel(text: text, fileName: "demo.py", size: TerminalSize(columns: 60, rows: 12)),
            document: LocalDocument(text: text), actions: actions)
    }

    @Test func saveWritesTheDocumentsTextAndClearsTheModifiedMark() {
        var written: [String] = []
        let d = driver("a", actions: EditorActions(save: { text in written.append(text); return "saved 1 line" }))
        d.handle(.key(.character("b")))
        #expect(d.model.modified)
        d.handle(.key(.control("s")))
        #expect(written == ["ba"])
        #expect(!d.model.modified)
        #expect(d.model.message?.text == "saved 1 line")
    }

    @Test func aFailedSaveKeepsTheEditorOpenAndSaysWhy() {
        let d = driver("a", actions: EditorActions(save: { _ in throw Failure() }))
        d.handle(.key(.character("b")))
        d.handle(.key(.control("q")))
        let effects = d.handle(.key(.character("y")))
        #expect(effects.prefix(2) == [.save, .quit])
        #expect(!d.quitRequested, "quitting would lose the edit")
        #expect(d.model.message?.text == "save failed: disk full" && d.model.message?.isError == true)
        #expect(d.model.modified)
        d.handle(.key(.control("q")))
        d.handle(.key(.character("n")))
        #expect(d.quitRequested)
    }

    @Test func runGetsTheDocumentsTextOrSaysNoneIsConfigured() {
        var ran: [String] = []
        let d = driver("print(1)", actions: EditorActions(run: { ran.append($0) }))
        d.handle(.key(.control("r")))
        #expect(ran == ["print(1)"])
        let bare = driver("x")
        bare.handle(.key(.control("r")))
        #expect(bare.model.message?.text == "runs need a session or the runner; none is configured")
    }

    @Test func undoFeedsTheDocumentsChangesBackAndSaysWhenThereIsNothing() {
        let d = driver("")
        d.handle(.key(.control("z")))
        #expect(d.model.message?.text == "nothing of yours to undo")
        d.handle(.key(.character("x")))
        let effects = d.handle(.key(.control("z")))
        #expect(d.model.buffer.text == "" && d.document.text == "")
        #expect(effects.first == .undo && effects.contains(.presence(cursor: 0, selection: nil)))
        d.handle(.key(.control("y")))
        #expect(d.model.buffer.text == "x" && d.document.text == "x")
        d.handle(.key(.control("y")))
        #expect(d.model.message?.text == "nothing to redo")
    }

    @Test func presenceCancelAndGuestRolesReachTheirActions() {
        var presence: [(Int, Range<Int>?)] = []
        var cancels = 0, cycles = 0
        let d = driver("abc", actions: EditorActions(
            cancelRun: { cancels += 1 }, cycleGuestRoles: { cycles += 1 }, presence: { presence.append(($0, $1)) }))
        d.handle(.key(.shiftRight))
        #expect(presence.last?.0 == 1 && presence.last?.1 == 0..<1)
        d.handle(.key(.control("k")))
        d.handle(.guestRoles("edit+run"))
        d.handle(.key(.control("e")))
        #expect(cancels == 1 && cycles == 1)
    }

    /// An action may read the model while the driver carries out the event that called it.
    @Test func actionsMayReadTheModelWhileAnEventIsCarriedOut() {
        var seen: [Int] = []
        var d: EditorDriver?
        d = driver("abc", actions: EditorActions(run: { _ in seen.append(d?.model.cursor.column ?? -1) }))
        d?.handle(.key(.end))
        d?.handle(.key(.control("r")))
        #expect(seen == [3])
        d = nil  // the action holds the variable that holds the driver
    }
}
