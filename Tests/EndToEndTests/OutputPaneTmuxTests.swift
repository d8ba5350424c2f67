import CodeSyncTestSupport
import Foundation
import Testing

/// The real `codesync edit` in tmux with the real sandbox: a program's colours reach the screen as
/// colours (and nothing else it prints reaches the terminal), and a traceback line jumps to the code.
@Suite(.ownThreads, .serialized) struct OutputPaneTmuxTests {
    /// The words checked on screen are built at run time, so that the source in the editor pane
    /// never shows them itself.
    static let program = #"""
        E = "\033"
        print(E + "[1;32m" + "green" + " ok" + E + "[0m " + E + "[38;2;255;0;0m" + "true" + " red" + E + "[0m")
        print(E + "]0;" + "pw" + "ned" + "\007" + E + "[2J" + E + "[Hstill" + " here")
        def fail():
            raise ValueError("boom")
        fail()

        """#

    @Test func colouredRunThenJumpFromTheTraceback() throws {
        guard let (docker, image) = try DockerFixture.withImage("python") else { return }
        let file = try EditorTmuxTests.scratchFile(text: Self.program)
        let binary = try TestEnvironment.codesyncBinary()
        let command = "\(TmuxFixture.shellQuote(binary.path)) edit \(TmuxFixture.shellQuote(file.path)); "
            + "echo \"editor exited with $?\"; sleep 30"
        let environment = ["DOCKER_HOST": "unix://\(docker.socketPath)", "CODESYNC_IMAGE_PYTHON": image, "USER": "tester"]
        guard let tmux = try TmuxFixture.start(command, columns: 100, rows: 60, environment: environment) else { return }
        try tmux.waitFor("F1 help")
        try tmux.send("C-r")
        var screen = try tmux.waitFor("exited with code 1", timeout: 120)
        #expect(screen.contains("green ok true red"))
        #expect(screen.contains("still here"))
        #expect(screen.contains("ValueError: boom"))
        #expect(screen.contains("def fail():"), "the program's clear-screen never reached the terminal:\n\(screen)")
        #expect(!screen.contains("pwned") && !screen.contains("␛"))

        // Colours arrive as colours: bold green, and 24-bit red as the nearest of 256 colours.
        let styled = try tmux.captureWithEscapes()
        let row = styled.split(separator: "\n").first { $0.contains("green ok") }.map(String.init) ?? ""
        let beforeGreen = String(row[..<(row.range(of: "green ok")?.lowerBound ?? row.startIndex)])
        #expect(beforeGreen.contains("32m") && beforeGreen.contains("1m"), "no bold green before the text: \(row.debugDescription)")
        let beforeRed = String(row[..<(row.range(of: "true red")?.lowerBound ?? row.startIndex)])
        #expect(beforeRed.contains("38;5;196"), "24-bit red is not drawn as colour 196: \(row.debugDescription)")

        // A line is added on top after the run; the traceback's line 5 is line 6 now.
        try tmux.type("# added after the run")
        try tmux.send("Enter")
        try tmux.send("Tab", "Tab")
        // From the bottom: the exit line, ValueError, the raise line, then `File ..., line 5, in fail`.
        try tmux.send("Up", "Up", "Up", "Up", "Enter")
        screen = try tmux.waitFor("is line 6 now", timeout: 10)
        #expect(screen.contains("line 5 of tester's run is line 6 now"), "\(screen)")
        try tmux.type("X")
        try tmux.send("C-s")
        try tmux.waitFor("saved")
        let lines = try String(contentsOf: file, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count > 6 && lines[5] == "X    raise ValueError(\"boom\")", "\(lines)")
        try tmux.send("C-q")
        try tmux.waitFor("editor exited with 0")
    }
}
