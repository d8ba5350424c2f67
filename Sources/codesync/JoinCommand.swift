import ArgumentParser
import CodeSyncApp
import CodeSyncProtocol
import Foundation

/// `CODESYNC_SECRET=S codesync join ADDRESS`: joins a session (headless: driven by commands on stdin).
struct Join: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Join a session: HOST:PORT, RELAY-HOST:PORT/SESSION through a relay, or ssh://[USER@]BOX[/PATH] over your SSH.",
        discussion: """
            With --headless, reads one command per line on stdin and answers on stdout: \
            `insert OFFSET TEXT`, `append TEXT`, `delete OFFSET COUNT`, `cursor OFFSET [FROM TO]`, \
            `undo`, `redo`, `text` (prints `text "<json>"`), `peers`, `sync` (waits until the host \
            stored every edit, prints `synced`), `drop` (cut the link as a network failure would), `quit`. TEXT may be a JSON string literal. \
            End of input means quit: it waits for the host to store every edit, then prints the text. \
            The secret comes from --secret-file, else CODESYNC_SECRET (as in the host's join line), else a prompt \
            on the terminal; --secret also works but shows it to every user of the machine in `ps`. \
            With ssh://[USER@]BOX[:PORT][/PATH], your own `ssh` (keys, agent, ~/.ssh/config) starts \
            `codesync attach PATH` on BOX, which reaches the session hosted there by your account (PATH: \
            the hosted file, /absolute or ~/relative; omitted: the only session): no port needs to be open \
            and no secret is typed (it comes inside SSH). CODESYNC_SSH replaces the ssh command (e.g. \
            "ssh -F my_config"); CODESYNC_REMOTE_COMMAND is codesync's path on the box (default: codesync).
            """)

    @Argument(help: "HOST:PORT of a host, RELAY-HOST:PORT/SESSION, or ssh://[USER@]BOX[:PORT][/PATH].")
    var address: String

    @OptionGroup var secrets: SecretOptions

    @Option(help: "Your name as others see it (default: $CODESYNC_NAME, $USER, else your account name).")
    var name: String?

    @Flag(help: "No editor: drive the peer with commands on stdin (scripts, tests, benchmarks).")
    var headless = false

    @Option(help: ArgumentHelp("Benchmark: type this many random edits per second.", visibility: .hidden))
    var typeRate: Double?

    @Option(help: ArgumentHelp("Benchmark: type for this many seconds.", visibility: .hidden))
    var typeDuration = 5.0

    @Option(help: ArgumentHelp("Benchmark: seed of the random edits.", visibility: .hidden))
    var seed: UInt64 = 1

    @Flag(help: ArgumentHelp("Benchmark: move the cursor after each edit, as the editor does.", visibility: .hidden))
    var typePresence = false

    func validate() throws {
        if address.hasPrefix("ssh://") {
            do { _ = try SSHTarget(parsing: address) } catch { throw ValidationError("\(error)") }
        } else if (try? SessionAddress(parsing: address)) == nil {
            throw ValidationError("'\(address)' is not an address: use HOST:PORT or RELAY-HOST:PORT/SESSION")
        }
        if let typeRate, !(typeRate > 0 && typeRate <= 1000) { throw ValidationError("--type-rate must be in (0, 1000]") }
    }

    func run() async throws {
        let target = try JoinTarget.resolve(address, secrets: secrets)
        var options = target.options(name: name ?? defaultName())
        options.limits.plaintextForBenchmark = BenchLatency.plaintextRequested(headless: headless && typeRate != nil)
        let typing = typeRate.map { Typing(rate: $0, duration: typeDuration, seed: seed, presence: typePresence) }
        let signal = try await Joining.run(target.address, shown: address, options: options, headless: headless, typing: typing)
        if signal != 0 { throw ExitCode(128 + signal) }
    }
}
