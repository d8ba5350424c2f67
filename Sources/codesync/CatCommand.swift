import ArgumentParser
import CodeSyncProtocol
import Foundation

/// `codesync cat ADDRESS --secret S`: prints a session's current text.
struct Cat: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the current text of a session.")

    @Argument(help: "HOST:PORT of a host, or RELAY-HOST:PORT/SESSION.")
    var address: String

    @Option(help: "The session secret from the host's join line.")
    var secret: String

    func run() async throws {
        let target = try SessionAddress(parsing: address)
        var options = CollaborationPeer.Options(name: "cat", secret: secret)
        options.reconnect = false
        let peer = try await CollaborationPeer.join(target, options: options)
        _ = peer.poll()
        let text = peer.text
        await peer.close()
        FileHandle.standardOutput.write(Data(text.utf8))
    }
}
