import ArgumentParser
import CodeSyncProtocol
import Foundation

/// `CODESYNC_SECRET=S codesync cat ADDRESS`: prints a session's current text.
struct Cat: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the current text of a session.")

    @Argument(help: "HOST:PORT of a host, RELAY-HOST:PORT/SESSION, or ssh://[USER@]BOX[:PORT][/PATH].")
    var address: String

    @OptionGroup var secrets: SecretOptions

    func run() async throws {
        let target = try JoinTarget.resolve(address, secrets: secrets)
        var options = target.options(name: "cat")
        options.reconnect = false
        options.onWaiting = { FileHandle.standardError.write(Data("waiting for the host to admit you…\n".utf8)) }
        let peer = try await CollaborationPeer.join(target.address, options: options)
        _ = peer.poll()
        let text = peer.text
        await peer.close()
        FileHandle.standardOutput.write(Data(text.utf8))
    }
}
