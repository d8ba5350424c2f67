import ArgumentParser
import CodeSyncApp
import CodeSyncProtocol
import CodeSyncRunner
import Foundation

/// `codesync run FILE`: runs a file in the Docker sandbox, streaming its output.
struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a file, or a session's buffer, in the sandbox.",
        discussion: """
            Runs FILE in a single-use container with no network, 128 MiB of memory, half a CPU, \
            64 processes, a read-only root and a 10 s wall-clock limit (see docs/RUNNER.md; defaults \
            can be changed in $XDG_CONFIG_HOME/codesync/runner.json). The program's stdout and stderr \
            go to codesync's own, and codesync exits with the program's exit code: 124 when it timed \
            out, 137 when it was killed (memory, output limit), 125 when the sandbox itself failed. \
            With HOST:PORT, asks that session's host to run the current buffer in the host's sandbox \
            and streams that run's output the same way; the secret comes from --secret-file, else \
            CODESYNC_SECRET, else a prompt on the terminal (--secret shows it to every user in `ps`). \
            The program's output is written raw, as a local run writes it; a session's run output, \
            which a peer's program produced, has terminal escape sequences neutralised. In a session \
            that shares a folder (`codesync host DIR`), PATH names the file to run (relative to the \
            folder): the host runs it with the session's files (unsaved edits included) mounted \
            read-only as the working directory, or runs the folder's own command from its \
            .codesync.json (printed before the run is asked for).
            """)

    @Argument(help: "The source file to run, or HOST:PORT of a session.")
    var file: String

    @Argument(help: "With HOST:PORT of a session that shares a folder: the file to run, relative to the folder.")
    var path: String?

    @OptionGroup var secrets: SecretOptions

    @Option(help: ArgumentHelp("Your name as the session's peers see it (default: $USER).", visibility: .hidden))
    var name: String?

    @Option(help: "Language: python, node, go, c or cpp (default: from the file extension).")
    var lang: String?

    @Option(help: "A file whose contents become the program's stdin (default: empty stdin).")
    var stdin: String?

    @Option(help: "Wall-clock limit in seconds (default 10).")
    var timeout: Double?

    @Option(help: "Memory limit, e.g. 128m or 1g (swap is capped to the same amount).")
    var memory: String?

    @Option(help: "Image to run in, instead of the language's configured image.")
    var image: String?

    @Option(help: "Runner config file (default: $XDG_CONFIG_HOME/codesync/runner.json).")
    var config: String?

    func validate() throws {
        if let timeout, !(timeout > 0) { throw ValidationError("--timeout must be a positive number of seconds") }
        if let memory, RunLimits.parseByteSize(memory) == nil {
            throw ValidationError("--memory must be a size such as 128m or 1g")
        }
    }

    func run() async throws {
        if let address = try sessionAddress() {
            let secret: String
            do { secret = try secrets.resolve() } catch { throw Self.fail("\(error)") }
            let status: Int32
            do {
                var remote = RemoteRun(address: address, secret: secret, name: name ?? defaultName())
                remote.path = path
                status = try await remote.run()
            } catch let failure as RemoteRun.Failure {
                throw Self.fail(failure.description)
            }
            if status != 0 { throw ExitCode(status) }
            return
        }
        let sandboxConfig: SandboxConfig
        let request: RunRequest
        do {
            var loaded = try SandboxConfig.load(file: config.map { URL(fileURLWithPath: $0) })
            loaded.poolSize = 0  // one run: a pool would only add a second container
            var language: Language
            if let lang {
                language = try loaded.catalog.named(lang)
            } else if let inferred = loaded.catalog.forFile(file) {
                language = inferred
            } else {
                throw RunnerError.languageNotInferred(file: file)
            }
            if let image { language.image = image }
            var limits = loaded.limits
            if let timeout { limits.timeoutSeconds = timeout }
            if let memory, let bytes = RunLimits.parseByteSize(memory) { limits.memoryBytes = bytes }
            if let problem = limits.problem { throw RunnerError.invalidConfiguration(problem) }
            let source = try Self.readText(file, what: "source file")
            let input = try stdin.map { [UInt8](try Self.readData($0, what: "stdin file")) }
            sandboxConfig = loaded
            request = RunRequest(source: source, language: language, stdin: input, limits: limits,
                                 startedBy: defaultName())
        } catch let error as RunnerError {
            throw Self.fail(error.description)
        }

        let status: Int32
        do {
            status = try await LocalRun.run(request, config: sandboxConfig)
        } catch {
            throw Self.fail("\(error)")
        }
        if status != 0 { throw ExitCode(status) }
    }

    /// The session to run in, nil for a local file; a clear error when the argument is neither.
    func sessionAddress() throws -> SessionAddress? {
        let isFile = FileManager.default.fileExists(atPath: file)
        if isFile {
            if secrets.givenOnCommandLine {
                throw Self.fail("--secret and --secret-file are for a session address HOST:PORT, but \(file) is a local file; drop them to run it here")
            }
            if let path { throw Self.fail("'\(path)': a PATH is for a session that shares a folder (HOST:PORT PATH), not for a local file") }
            return nil
        }
        guard let address = try? SessionAddress(parsing: file) else {
            if secrets.givenOnCommandLine { throw Self.fail("'\(file)' is neither a file nor a session address HOST:PORT") }
            return nil
        }
        let localOnly = [("--lang", lang), ("--stdin", stdin), ("--memory", memory), ("--image", image), ("--config", config)]
            .filter { $0.1 != nil }.map(\.0) + (timeout != nil ? ["--timeout"] : [])
        if !localOnly.isEmpty {
            throw Self.fail("\(localOnly.joined(separator: ", ")) apply to local runs only: the session's host runs with its own settings")
        }
        return address
    }

    static func readText(_ path: String, what: String) throws -> String {
        let data = try readData(path, what: what)
        return String(decoding: data, as: UTF8.self)
    }

    static func readData(_ path: String, what: String) throws -> Data {
        guard FileManager.default.fileExists(atPath: path) else { throw fail("\(what) \(path) does not exist") }
        guard let data = FileManager.default.contents(atPath: path) else { throw fail("cannot read \(what) \(path)") }
        return data
    }

    static func note(_ line: String) {
        try? FileHandle.standardError.write(contentsOf: Array((line + "\n").utf8))
    }

    /// Prints the one-line error and gives the sandbox-failure exit status.
    static func fail(_ message: String) -> ExitCode {
        note("codesync: \(message)")
        return ExitCode(125)
    }
}
