import ArgumentParser
import CodeSyncProtocol
import CodeSyncRunner
import EditorCore
import Logging

/// The `codesync` command: a terminal collaborative code editor.
@main
struct CodeSync: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "codesync",
        abstract: "A terminal collaborative code editor with live complexity analysis and sandboxed runs.",
        discussion: """
            Pair over TCP: one person runs `codesync host FILE` and shares the join line it prints; \
            the other runs it. See `man codesync` for keys and security notes.

            Examples (the same as README's "Using it"):
              codesync host FILE
              CODESYNC_SECRET=3f… codesync join 127.0.0.1:7878
              codesync join ssh://me@box/~/src/app.py
              codesync relay --port 7900
              codesync cat HOST:PORT --secret-file F
              codesync host [DIR]
              codesync ls HOST:PORT
              codesync cat HOST:PORT src/app.py
              codesync edit FILE
              codesync run FILE
              codesync run HOST:PORT
              codesync run HOST:PORT main.py
              codesync analyze FILE [--json]
              codesync doctor
              codesync bench …
            Shell completions: codesync --generate-completion-script bash|zsh|fish
            """,
        version: CodeSyncVersion.current,
        subcommands: subcommandList
    )

    /// Log lines go through the terminal sanitizer before anything is logged, and so does the
    /// final error: it may quote what a peer, a relay or a remote `attach` sent (a refusal's text
    /// arrives before any authentication), which must not reach the terminal as escape sequences.
    static func main() async {
        LoggingSystem.bootstrap { SanitizedLogHandler(label: $0) }
        do {
            var command = try parseAsRoot(nil)
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            // ArgumentParser's own errors (usage, --help, exit codes) are ours and pass unchanged.
            if String(reflecting: type(of: error)).hasPrefix("ArgumentParser.") { exit(withError: error) }
            exit(withError: SanitizedError(text: TerminalSanitizer.line(String(describing: error))))
        }
    }

    /// Every capability registers its subcommand here as it lands.
    static let subcommandList: [ParsableCommand.Type] = [
        Host.self,
        Join.self,
        Attach.self,
        Relay.self,
        Cat.self,
        Ls.self,
        Edit.self,
        Run.self,
        Analyze.self,
        Bench.self,
        Version.self,
        Doctor.self,
    ]
}

/// `codesync version`: prints the version, the same as `--version`.
struct Version: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the version of codesync.")

    func run() {
        print(CodeSyncVersion.current)
    }
}

/// An error whose text was made safe for the terminal.
struct SanitizedError: Error, CustomStringConvertible {
    let text: String
    var description: String { text }
}
