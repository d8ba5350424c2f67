import ArgumentParser
import CodeSyncApp
import CodeSyncProtocol
import Foundation

/// `codesync relay`: forwards frames between the peers of many isolated sessions.
struct Relay: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a relay: hosts register sessions (`host FILE --relay HOST:PORT`), peers join RELAY/SESSION.")

    @Option(help: "TCP port to listen on (0: any free port).")
    var port = 7879

    @Option(help: "Address to listen on.")
    var bind = "127.0.0.1"

    func validate() throws {
        if !(0...65535).contains(port) { throw ValidationError("--port must be 0...65535") }
    }

    func run() async throws {
        try await Relaying.run(bind: bind, port: port)
    }
}
