import ArgumentParser
import CodeSyncApp
import CodeSyncProtocol
import Foundation

/// `codesync doctor`: checks what a session needs and prints one line per check with its fix.
struct Doctor: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check the terminal, Docker engine, images, directories, port and clock a session needs.",
        discussion: """
            Prints one line per check: `ok` or `FAIL`, what was found, and for a failure the fix. \
            The engine socket and images come from the same places runs use: \
            $XDG_CONFIG_HOME/codesync/runner.json, DOCKER_HOST and CODESYNC_IMAGE_<LANG>. \
            Exits 0 only when every check passes.
            """)

    @Flag(help: "Print the checks as one JSON object, for scripts.")
    var json = false

    @Option(name: .customLong("lang"), help: "Check only this language's image (repeatable; default: every language).")
    var languages: [String] = []

    @Option(help: "The TCP port `codesync host` will listen on (on 127.0.0.1).")
    var port: Int = HostSession.defaultPort

    @Option(help: "Runner config file (default: $XDG_CONFIG_HOME/codesync/runner.json).")
    var config: String?

    func validate() throws {
        guard (1...65535).contains(port) else { throw ValidationError("--port must be 1...65535") }
    }

    func run() async throws {
        let checks = await DoctorChecks.all(
            environment: ProcessInfo.processInfo.environment,
            configFile: config.map { URL(fileURLWithPath: $0) }, languages: languages, port: port)
        if json {
            print(DoctorCheck.json(checks))
        } else {
            for check in checks { print(check.line) }
        }
        if checks.contains(where: { !$0.ok }) { throw ExitCode(1) }
    }
}
