import ArgumentParser
import CodeSyncApp
import CodeSyncProtocol
import Foundation

/// `codesync host FILE|DIR`: shares FILE (or the folder DIR) in a session and prints the line others join with.
struct Host: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Share FILE, or the folder DIR (default: the current directory), in a session; prints a join line with a fresh secret.",
        discussion: """
            Listens on 127.0.0.1 by default (pair over SSH with a shared box or `ssh -L`); \
            `--bind 0.0.0.0` listens on every interface. Unsaved edits are journaled under \
            $XDG_STATE_HOME/codesync, so a restarted host recovers them (and its join line); if FILE \
            changed meanwhile, FILE wins and the old session's text goes to FILE.codesync-unsaved. \
            One host per file: a second `host FILE` names the pid that holds it. Ctrl-Q drops the journal. \
            The join line passes the secret in CODESYNC_SECRET, out of `ps`. A second line, \
            `watch only: CODESYNC_SECRET=... codesync join ...`, carries a watch-only secret: who joins \
            with it sees everything live but cannot edit or run. Guests run code only on this \
            machine's Docker sandbox, one run at a time. A folder (DIR) is shared as a project: \
            .gitignore and .codesyncignore are honoured, binary and large files are listed but not opened, \
            symlinks leaving DIR are never followed; each file opened by anyone is its own document, \
            journaled like FILE's; `codesync ls` and `codesync cat ADDRESS PATH` read it. The editor \
            shows one file of the folder at a time, a README at its top first (else the first text file): \
            Ctrl-O opens another by name, Ctrl-B shows the files pane (n new, r rename, d delete), \
            Ctrl-N goes to the next open file; every peer opens whichever files it likes. Quitting a \
            folder without saving keeps the unsaved files' journals: the next host of the folder writes them in.
            """)

    @Argument(help: "The file to share (created if missing), or a folder to share as a project.")
    var file = "."

    @Option(help: "TCP port to listen on (0: any free port). Default: 7878, or the port of a recovered session.")
    var port: Int?

    @Option(help: "Address to listen on.")
    var bind = "127.0.0.1"

    @Option(help: "Your name as others see it (default: $CODESYNC_NAME, $USER, else your account name).")
    var name: String?

    @Option(help: "Register the session on this relay (HOST:PORT); with --port, listen directly as well.")
    var relay: String?

    @Option(help: ArgumentHelp(
        "What guests with the join line's secret may do at first: edit+run, edit or view (Ctrl-E in the editor changes it live). The watch-only line always gives view.",
        valueName: "edit+run|edit|view"))
    var guests = GuestAccess.editRun

    @Flag(help: "Serve without the editor: print the join line and keep serving until SIGINT/SIGTERM. Reads admit ID, refuse ID, remove ID, lobby and peers on stdin (a terminal only with --approve).")
    var headless = false

    @Flag(help: "Admit each guest yourself: a joiner waits, seeing nothing of the session, until you admit it (Ctrl-W in the editor; `admit ID` on stdin with --headless) or refuse it. Directly, through a relay and over SSH alike.")
    var approve = false

    func validate() throws {
        if let port, !(0...65535).contains(port) { throw ValidationError("--port must be 0...65535") }
        if let relay, (try? SessionAddress(parsing: relay)) == nil {
            throw ValidationError("--relay wants HOST:PORT, e.g. 127.0.0.1:7879")
        }
    }

    func run() async throws {
        var options = HostSession.Options(file: URL(fileURLWithPath: file), name: name ?? defaultName())
        options.bind = bind
        options.port = port
        options.relay = try relay.map { try SessionAddress(parsing: $0) }
        options.listenToo = relay != nil && port != nil
        options.guests = guests
        options.approve = approve
        options.limits.plaintextForBenchmark = BenchLatency.plaintextRequested(headless: headless)
        let signal = try await Hosting.run(options, headless: headless)
        if signal != 0 { throw ExitCode(128 + signal) }
    }
}

extension GuestAccess: ExpressibleByArgument {
    public init?(argument: String) { self.init(rawValue: argument) }
    public static var allValueStrings: [String] { allCases.map(\.rawValue) }
}
