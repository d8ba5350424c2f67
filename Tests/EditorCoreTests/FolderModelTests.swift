import CodeSyncTestSupport
import Testing

@testable import EditorCore

@Suite(.ownThreads) struct FuzzyMatchTests {
    @Test func theTypedCharactersMustAppearInOrderIgnoringCase() {
        #expect(FuzzyMatch.score("rdme", in: "README.md") != nil)
        #expect(FuzzyMatch.score("READ", in: "docs/readme.txt") != nil)
        #expect(FuzzyMatch.score("mr", in: "README.md") == nil, "m comes after r in README.md")
        #expect(FuzzyMatch.score("xyz", in: "src/main.swift") == nil)
        #expect(FuzzyMatch.score("", in: "anything") == 0)
    }

    @Test func aNameMatchRanksAboveLettersScatteredThroughFolders() {
        let paths = ["m/a/i/n.txt", "domain.py", "src/main.swift", "Sources/EditorCore/Renderer.swift"]
        let ranked = FuzzyMatch.rank("main", paths).map { paths[$0] }
        #expect(ranked.first == "src/main.swift", "ranked: \(ranked)")
        #expect(!ranked.contains("Sources/EditorCore/Renderer.swift"))
        #expect(Set(ranked) == ["m/a/i/n.txt", "domain.py", "src/main.swift"])
    }

    @Test func wordStartsBeatTheSameLettersInsideWords() {
        let paths = ["lib/xfoobar.py", "lib/foo_bar.py"]
        #expect(FuzzyMatch.rank("fb", paths).map { paths[$0] } == ["lib/foo_bar.py", "lib/xfoobar.py"])
        // Capitals after lower-case letters start words too.
        let camel = ["Sources/editorcore.swift", "Sources/EditorCore.swift"]
        #expect(FuzzyMatch.rank("ec", camel).first.map { camel[$0] } == "Sources/EditorCore.swift")
    }

    @Test func anEmptyQueryListsEveryFileInOrder() {
        #expect(FuzzyMatch.rank("", ["b", "a", "c"]) == [0, 1, 2])
    }
}

/// A model in a shared folder with three files (one binary), `a.py` shown.
private func folderHarness() -> Harness {
    var h = Harness("")
    h.send(.projectFiles([ProjectFile(path: "a.py"), ProjectFile(path: "logo.png", refusal: "binary"), ProjectFile(path: "src/b.py")]))
    h.send(.fileOpened(path: "a.py", text: "alpha = 1\nsecond = 2\n"))
    h.effects = []
    return h
}

@Suite(.ownThreads) struct FolderModelTests {
    @Test func beforeAnyFileOpensTypingSaysHowToOpenOne() {
        var h = Harness("")
        h.send(.projectFiles([ProjectFile(path: "a.py")]))
        h.type("x")
        #expect(h.model.buffer.text == "")
        #expect(!h.effects.contains { if case .insert = $0 { return true } else { return false } })
        #expect(h.model.message?.text.contains("Ctrl-O") == true)
        let screen = Renderer.render(h.model)
        #expect((0..<screen.rows).contains { screen.line(at: $0).contains("Ctrl-O: open a file by name") })
    }

    @Test func thePickerFiltersAsYouTypeAndOpensThePickedFile() {
        var h = folderHarness()
        h.keys(.control("o"))
        #expect(h.model.mode == .openFile(query: "", selection: 0))
        #expect(h.model.project?.matches.count == 3)
        h.type("bp")
        #expect(h.model.project?.matches.map { h.model.project!.files[$0].path } == ["src/b.py"])
        let screen = Renderer.render(h.model)
        #expect((0..<screen.rows).contains { screen.line(at: $0).contains("Open file: bp") })
        #expect((0..<screen.rows).contains { screen.line(at: $0).contains("› src/b.py") })
        h.keys(.enter)
        #expect(h.effects.contains(.file(.open("src/b.py"))))
        #expect(h.model.mode == .normal)
        #expect(h.model.project?.opening == "src/b.py")
        // Esc cancels without asking for anything.
        h.effects = []
        h.keys(.control("o"), .character("a"), .escape)
        #expect(h.model.mode == .normal)
        #expect(!h.effects.contains { if case .file = $0 { return true } else { return false } })
    }

    @Test func aBinaryFileIsListedButRefusedWithAReason() {
        var h = folderHarness()
        h.keys(.control("o"))
        h.type("logo")
        h.keys(.enter)
        #expect(!h.effects.contains(.file(.open("logo.png"))))
        #expect(h.model.message?.isError == true)
        #expect(h.model.message?.text.contains("logo.png: binary") == true)
        #expect(h.model.fileName == "a.py")
    }

    @Test func switchingFilesKeepsEachFilesCursorAndUnsavedMark() {
        var h = folderHarness()
        h.keys(.down, .end)
        #expect(h.model.cursor == TextPosition(line: 1, column: 10))
        h.send(.remoteChanges([EditorChange(offset: 0, deleted: 0, inserted: "#")]))
        h.send(.fileOpened(path: "src/b.py", text: "beta\n"))
        #expect(h.model.fileName == "src/b.py")
        #expect(h.model.buffer.text == "beta\n")
        #expect(h.model.cursor == TextPosition(line: 0, column: 0))
        #expect(h.model.project?.open == ["a.py", "src/b.py"])
        // The presence is sent again for the new file, even at an offset the old file had too.
        #expect(h.effects.contains(.presence(cursor: 0, selection: nil)))
        // Ctrl-N: the next open file, back where its cursor was.
        h.effects = []
        h.keys(.control("n"))
        #expect(h.effects.contains(.file(.open("a.py"))))
        h.send(.fileOpened(path: "a.py", text: "#alpha = 1\nsecond = 2\n"))
        #expect(h.model.cursor == TextPosition(line: 1, column: 10))
        #expect(h.model.fileName == "a.py")
    }

    @Test func aHostQuittingWithUnsavedFilesIsAskedAndSavesThemAll() {
        var h = Harness("")
        h.send(.projectFiles([ProjectFile(path: "a.py"), ProjectFile(path: "b.py")]))
        h.send(.fileOpened(path: "a.py", text: "a"))
        h.send(.remoteChanges([EditorChange(offset: 1, deleted: 0, inserted: "!")]))
        h.send(.fileOpened(path: "b.py", text: "b"))
        #expect(!h.model.modified)
        #expect(h.model.anyModified)
        h.keys(.control("q"))
        #expect(h.model.mode == .quitConfirm)
        h.keys(.character("y"))
        #expect(h.effects.suffix(2) == [.file(.saveAll), .quit])
    }

    @Test func remoteCursorsShowOnlyInTheirFileAndTheStatusBarSaysWhereEachPeerIs() {
        var h = folderHarness()
        h.send(.peers([RemotePeer(id: "b", name: "bob", colour: 1, cursor: 2, file: "src/b.py"),
                       RemotePeer(id: "c", name: "carol", colour: 2, cursor: 3, file: "a.py")]))
        #expect(h.model.peersHere.map(\.name) == ["carol"])
        // An edit here moves carol's cursor, not bob's (his offset is in another file).
        h.keys(.character("x"))
        #expect(h.model.peers.first { $0.id == "c" }?.cursor == 4)
        #expect(h.model.peers.first { $0.id == "b" }?.cursor == 2)
        let screen = Renderer.render(h.model)
        let status = screen.line(at: screen.rows - 1)
        #expect(status.contains("bob (b.py)"), "status: \(status)")
        #expect(!status.contains("carol ("), "carol is in this file: \(status)")
    }

    @Test func followModeTakesTheEditorToTheFollowedPeersFile() {
        var h = folderHarness()
        h.send(.peers([RemotePeer(id: "b", name: "bob", colour: 1, cursor: 2, file: "src/b.py")]))
        h.keys(.control("p"))
        #expect(h.effects.contains(.file(.open("src/b.py"))))
        #expect(h.model.message?.text.contains("following bob in src/b.py") == true)
        // Asked once, not again on every event while it opens.
        h.effects = []
        h.send(.peers([RemotePeer(id: "b", name: "bob", colour: 1, cursor: 3, file: "src/b.py")]))
        #expect(!h.effects.contains(.file(.open("src/b.py"))))
        h.send(.fileOpened(path: "src/b.py", text: "beta = 2\n"))
        #expect(h.model.peersHere.map(\.name) == ["bob"])
        // Bob moves to a.py: the editor follows him there.
        h.effects = []
        h.send(.peers([RemotePeer(id: "b", name: "bob", colour: 1, cursor: 0, file: "a.py")]))
        #expect(h.effects.contains(.file(.open("a.py"))))
    }

    @Test func theFilesPaneCreatesRenamesAndDeletes() {
        var h = folderHarness()
        let before = h.model.layout.editor
        h.keys(.control("b"))
        #expect(h.model.mode == .files(selection: 0))
        #expect(h.model.layout.files.width > 0)
        #expect(h.model.layout.editor.x == h.model.layout.files.width + 1)
        #expect(h.model.layout.editor.width < before.width)
        #expect(h.model.project?.rows == ["a.py", "logo.png", "src/b.py"])
        h.keys(.down, .down)
        h.keys(.character("n"))
        #expect(h.model.mode == .filePath(renaming: nil, input: "src/"))
        h.type("c.py")
        h.keys(.enter)
        #expect(h.effects.contains(.file(.create("src/c.py"))))
        h.keys(.control("b"), .character("r"))
        #expect(h.model.mode == .filePath(renaming: "a.py", input: "a.py"))
        h.keys(.backspace, .backspace)
        h.type("txt")
        h.keys(.enter)
        #expect(h.effects.contains(.file(.rename("a.py", to: "a.txt"))))
        h.keys(.control("b"), .character("d"))
        #expect(h.model.mode == .confirmDelete("a.py"))
        h.keys(.character("y"))
        #expect(h.effects.contains(.file(.delete("a.py"))))
        // Ctrl-B in the pane hides it; the editor gets its width back.
        h.keys(.control("b"), .control("b"))
        #expect(h.model.layout.files.width == 0)
        #expect(h.model.layout.editor == before)
    }

    @Test func renamingAndDeletingTheShownFileKeepsTheEditorConsistent() {
        var h = folderHarness()
        h.send(.fileOpened(path: "src/b.py", text: "beta"))
        h.send(.fileMoved(from: "src/b.py", to: "src/c.py", notice: "bob renamed src/b.py to src/c.py"))
        #expect(h.model.fileName == "src/c.py")
        #expect(h.model.project?.open == ["a.py", "src/c.py"])
        #expect(h.model.buffer.text == "beta")
        h.effects = []
        h.send(.fileMoved(from: "src/c.py", to: nil, notice: "bob deleted src/c.py"))
        #expect(h.model.project?.current == nil)
        #expect(h.model.buffer.text == "")
        #expect(h.model.project?.open == ["a.py"])
        #expect(h.effects.contains(.file(.open("a.py"))), "the editor goes back to another open file")
        #expect(h.model.output.lines.contains { $0.text.contains("bob deleted src/c.py") })
    }
}
