import CodeSyncTestSupport
import Foundation
import Testing

/// The real `codesync edit` binary driven in tmux: typing, saving, UTF-8, resize, help, quitting cleanly.
@Suite(.ownThreads, .serialized) struct EditorTmuxTests {
    /// A scratch folder with a file holding `text`.
    static func scratchFile(_ name: String = "demo.py", text: String?) throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("codesync-editor-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let file = folder.appendingPathComponent(name)
        if let text { try text.write(to: file, atomically: true, encoding: .utf8) }
        return file
    }

    /// Starts the editor on `file`; after it exits the pane prints the exit status and a shell prompt
    /// (an interactive shell outlives tmux's kill-server, so it is bounded by a timeout).
    static func startEditor(_ file: URL, columns: Int = 100, rows: Int = 30, environment: String = "") throws -> TmuxFixture? {
        let binary = try TestEnvironment.codesyncBinary()
        let command = environment + "\(TmuxFixture.shellQuote(binary.path)) edit \(TmuxFixture.shellQuote(file.path)); "
            + "echo \"editor exited with $?\"; PS1='shell-prompt> ' exec timeout --foreground 60 sh -i"
        guard let tmux = try TmuxFixture.start(command, columns: columns, rows: rows) else { return nil }
        try tmux.waitFor("F1 help")
        return tmux
    }

    static func tmuxValue(_ tmux: TmuxFixture, _ format: String) throws -> String {
        try Command.run(["tmux", "-L", tmux.socketName, "display-message", "-p", "-t", tmux.sessionName, format], timeout: 20)
            .stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func typingAndSavingWritesTheFile() throws {
        let file = try Self.scratchFile(text: "x = 1\n")
        guard let tmux = try Self.startEditor(file) else { return }
        try tmux.type("y = 2")
        try tmux.send("Enter")
        try tmux.waitFor("y = 2")
        try tmux.send("C-s")
        try tmux.waitFor("saved")
        #expect(try String(contentsOf: file, encoding: .utf8) == "y = 2\nx = 1\n")
        try tmux.send("C-q")
        try tmux.waitFor("editor exited with 0")
    }

    @Test func utf8TextRoundTrips() throws {
        let file = try Self.scratchFile(text: "s = '漢字'\n")
        guard let tmux = try Self.startEditor(file) else { return }
        try tmux.send("End")
        try tmux.type(" # 😀 é 中文")
        let screen = try tmux.waitFor("😀 é 中文")
        #expect(screen.contains("s = '漢字' # 😀 é 中文"))
        try tmux.send("C-s")
        try tmux.waitFor("saved")
        #expect(try String(contentsOf: file, encoding: .utf8) == "s = '漢字' # 😀 é 中文\n")
        try tmux.send("C-q")
        try tmux.waitFor("editor exited with 0")
    }

    /// The real binary draws the same screen, text and colours, whether it starts under the C locale
    /// or a UTF-8 one: widths come from the editor's Unicode table, not from the locale.
    @Test func screenIsTheSameUnderCAndUTF8Locales() throws {
        let text = "s = '漢字😀'\n# 👨\u{200D}👩\u{200D}👧 e\u{301} Ａ ｱ end\n"
        var screens: [String] = []
        for locale in ["C", "C.UTF-8"] {
            let file = try Self.scratchFile(text: text)
            guard let tmux = try Self.startEditor(file, environment: "LANG=\(locale) LC_ALL=\(locale) ") else { return }
            let screen = try tmux.waitUntil("the analysed screen under \(locale)") { $0.contains("ｱ end") && $0.contains("overall") }
            #expect(screen.contains("# 👨👩👧 é Ａ ｱ end"), "\(screen)")
            screens.append(try tmux.captureWithEscapes())
            try tmux.send("C-q")
            try tmux.waitFor("editor exited with 0")
        }
        #expect(screens.count == 2 && screens[0] == screens[1])
    }

    @Test func resizeRedrawsAndTooSmallShowsANotice() throws {
        let file = try Self.scratchFile(text: "def f(x):\n    return x\n")
        guard let tmux = try Self.startEditor(file) else { return }
        try tmux.resize(columns: 60, rows: 15)
        var screen = try tmux.waitUntil("a redraw at 60x15") { $0.contains("def f(x):") && $0.split(separator: "\n").last?.contains("demo.py") == true }
        #expect(screen.split(separator: "\n", omittingEmptySubsequences: false).count >= 15)
        try tmux.resize(columns: 30, rows: 10)
        screen = try tmux.waitFor("Terminal too small")
        #expect(screen.contains("30x10, need 40x12"))
        try tmux.resize(columns: 120, rows: 40)
        screen = try tmux.waitFor("def f(x):")
        #expect(!screen.contains("Terminal too small"))
        try tmux.send("C-q")
        try tmux.waitFor("editor exited with 0")
    }

    @Test func helpOverlayOpensAndCloses() throws {
        let file = try Self.scratchFile(text: "x = 1\n")
        guard let tmux = try Self.startEditor(file) else { return }
        try tmux.send("F1")
        let screen = try tmux.waitFor("Keys (any key closes)")
        for key in ["Ctrl-S", "Ctrl-Q", "Ctrl-Z  Ctrl-Y", "Ctrl-F", "Ctrl-G", "Ctrl-R", "Ctrl-K", "Tab  Shift-Tab", "F1"] {
            #expect(screen.contains(key))
        }
        try tmux.send("Escape")
        try tmux.waitUntil("help closed") { !$0.contains("Keys (any key closes)") }
        try tmux.send("C-q")
        try tmux.waitFor("editor exited with 0")
    }

    @Test func quitAsksAboutUnsavedChangesAndLeavesTheTerminalClean() throws {
        let file = try Self.scratchFile(text: "x = 1\n")
        guard let tmux = try Self.startEditor(file) else { return }
        try tmux.type("zzz")
        try tmux.send("C-q")
        try tmux.waitFor("Save changes to demo.py?")
        try tmux.send("n")
        let screen = try tmux.waitFor("shell-prompt>")
        #expect(screen.contains("editor exited with 0"))
        #expect(!screen.contains("F1 help"), "the editor's screen is gone")
        #expect(try Self.tmuxValue(tmux, "#{alternate_on}") == "0")
        #expect(try String(contentsOf: file, encoding: .utf8) == "x = 1\n")
        // The shell gets sane line handling back: typed text echoes.
        try tmux.type("echo back-to-normal")
        try tmux.send("Enter")
        try tmux.waitUntil("the shell echoes") { $0.components(separatedBy: "back-to-normal").count >= 3 }
    }

    @Test func sigtermRestoresTheTerminal() throws {
        let file = try Self.scratchFile(text: "x = 1\n")
        guard let tmux = try Self.startEditor(file) else { return }
        let shellPID = try Self.tmuxValue(tmux, "#{pane_pid}")
        let child = try Command.run(["pgrep", "-P", shellPID], timeout: 10).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let pid = try #require(Int32(child), "no editor process under the pane's shell \(shellPID)")
        kill(pid, SIGTERM)
        let screen = try tmux.waitFor("shell-prompt>")
        #expect(screen.contains("editor exited with 143"))
        #expect(try Self.tmuxValue(tmux, "#{alternate_on}") == "0")
    }

    @Test func bracketedPasteIsOneEdit() throws {
        let file = try Self.scratchFile(text: "")
        guard let tmux = try Self.startEditor(file) else { return }
        let pasted = "def pasted():\n    return 1\n"
        try Command.run(["tmux", "-L", tmux.socketName, "set-buffer", "--", pasted], timeout: 10)
        try Command.run(["tmux", "-L", tmux.socketName, "paste-buffer", "-p", "-t", tmux.sessionName], timeout: 10)
        try tmux.waitFor("return 1")
        // Auto-indent would have doubled the indentation if the paste had been typed key by key.
        try tmux.send("C-s")
        try tmux.waitFor("saved")
        #expect(try String(contentsOf: file, encoding: .utf8) == pasted)
        try tmux.send("C-z")
        try tmux.waitUntil("the paste undone in one step") { !$0.contains("return 1") }
        try tmux.send("C-q", "n")
        try tmux.waitFor("editor exited with 0")
    }

    @Test func missingFolderIsAOneLineError() throws {
        let binary = try TestEnvironment.codesyncBinary()
        let result = try Command.run([binary.path, "edit", "/nonexistent-folder-xyz/a.py"], timeout: 30)
        #expect(result.status != 0)
        #expect(result.stderr.contains("does not exist"))
        let notTTY = try Command.run([binary.path, "edit", "/tmp/whatever.py"], timeout: 30)
        #expect(notTTY.status != 0)
        #expect(notTTY.stderr.contains("interactive terminal"))
    }
}
