import ArgumentParser
import CodeSyncApp

/// `codesync edit FILE`: the full-screen editor on a local file, without a session.
struct Edit: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Edit a file alone in the full-screen editor (no session).",
        discussion: """
            Saves with Ctrl-S (atomically: a temporary file renamed over FILE). F1 lists every key. \
            A FILE that does not exist yet is created on the first save.
            """)

    @Argument(help: "The UTF-8 text file to edit.")
    var file: String

    func run() throws {
        // File and terminal errors describe themselves in one line; argument-parser prints them as "Error: ...".
        let signal = try LocalEditor.run(path: file)
        if signal != 0 { throw ExitCode(128 + signal) }
    }
}
