/// A run inside a shared folder (`codesync host DIR`): the project's files, as a folder on the
/// engine's machine, are mounted read-only at `/project`, which is the container's working
/// directory; the program is a file of it (run the language's way) or the project's own command.
///
/// The folder is the caller's per-run snapshot (see docs/DECISIONS.md, "Runs in a shared folder"):
/// the sandbox mounts exactly it and nothing else.
public struct ProjectMount: Sendable, Equatable, Hashable {
    /// Where the project is mounted in the container (and its working directory).
    public static let target = "/project"

    /// Absolute path of the folder to mount, on the engine's machine.
    public var hostPath: String
    /// The file to run, relative to the folder (already checked by the caller). With a `command`, it
    /// is only passed on (as `$CODESYNC_FILE`), for a command that wants it.
    public var file: String?
    /// A shell command to run instead of the language's way to run `file` (`.codesync.json` `run`).
    public var command: String?
    /// A shell command run first, under the build time limit (`.codesync.json` `build`).
    public var build: String?

    public init(hostPath: String, file: String?, command: String? = nil, build: String? = nil) {
        self.hostPath = hostPath
        self.file = file
        self.command = command
        self.build = build
    }

    /// The file run, for messages: the command when there is one.
    public var shown: String { command ?? file ?? "" }

    /// The build and run shell commands for `language`, relative to /project, with the file in
    /// `$CODESYNC_FILE` (never spliced into the script: a path may hold quotes, `$` or spaces).
    func commands(for language: Language) -> (build: String?, run: String) {
        if let command { return (build, command) }
        let binary = "/tmp/codesync-main"
        switch (language.loader, language.name) {
        case (.python, _):
            // The file's own folder goes first on sys.path: `import helper` finds its sibling.
            return (nil, "python3 -u \"$CODESYNC_FILE\"")
        case (.node, _):
            return (nil, "node \"$CODESYNC_FILE\"")
        case (.shell, "go"):
            // The file's package: every .go file of its folder, with its go.mod if there is one.
            return ("(cd \"$(dirname \"$CODESYNC_FILE\")\" && go build -o \(binary) .)", binary)
        case (.shell, "c"):
            return ("gcc -O2 -pipe -o \(binary) \"$CODESYNC_FILE\" -lm", binary)
        case (.shell, "cpp"):
            return ("g++ -O2 -pipe -o \(binary) \"$CODESYNC_FILE\"", binary)
        case (.shell, _):
            // A language from runner.json knows only its /tmp file name: the file is copied there and
            // its own commands run in /tmp (the project stays readable at /project).
            let copy = "cp \"$CODESYNC_FILE\" /tmp/\(language.fileName)"
            guard let build = language.buildCommand else { return (nil, "\(copy) && cd /tmp && exec \(language.runCommand)") }
            return ("\(copy) && cd /tmp && \(build)", "cd /tmp && exec \(language.runCommand)")
        }
    }

    /// Whether the run has a build step (its own, longer time limit; compiler output on stderr).
    func hasBuild(_ language: Language) -> Bool { commands(for: language).build != nil }

    /// The container's script: the build (if any) with its marker, then the program.
    func script(for language: Language) -> String {
        let (build, run) = commands(for: language)
        var script = "cd \(Self.target) || exit 1\n"
        if let build {
            script += "/bin/sh -c \(Self.shellQuoted(build)) 1>&2 || exit $?\n"
            script += "printf '\\001\\002codesync-build-ok\\002\\001' >&2\n"
        }
        script += "exec /bin/sh -c \(Self.shellQuoted(run))\n"
        return script
    }

    /// `text` as one single-quoted shell word.
    static func shellQuoted(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
