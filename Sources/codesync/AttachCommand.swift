import ArgumentParser
import CodeSyncProtocol
import Foundation

/// `codesync attach [PATH]`: the box's end of `codesync join ssh://BOX/PATH` (run by ssh, not by hand).
struct Attach: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Connect standard input/output to a session hosted on this machine (what `join ssh://` runs on the box).",
        discussion: """
            Finds the session hosting PATH (or the only one) among this account's sessions in \
            $XDG_RUNTIME_DIR/codesync (else /tmp/codesync-UID, mode 0700), writes one line that tells the \
            joiner the session's secret, then copies bytes between standard input/output and the session's \
            unix socket. The joiner and the host speak the encrypted channel end to end through it.
            """)

    @Argument(help: "The hosted file (absolute, or relative to the home directory); omitted: the only session.")
    var path: String?

    func run() throws {
        do {
            let status = try LocalAttach.run(path: path)
            if status != 0 { throw ExitCode(status) }
        } catch let error as SessionError {
            FileHandle.standardError.write(Data("codesync attach: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}

/// Where `join` and `cat` connect: a TCP address, or an SSH box whose `codesync attach` tells the secret.
struct JoinTarget {
    var address: SessionAddress
    var secret: String
    var transport: PipeTransport?

    /// Parses `text`; for ssh:// opens the first connection now (the secret comes from the box).
    static func resolve(_ text: String, secrets: SecretOptions) throws -> JoinTarget {
        guard text.hasPrefix("ssh://") else {
            return JoinTarget(address: try SessionAddress(parsing: text), secret: try secrets.resolve(), transport: nil)
        }
        let target = try SSHTarget(parsing: text)
        let transport = target.transport()
        let secret = try transport.start().secret
        return JoinTarget(address: SessionAddress(host: target.host, port: target.port ?? 22), secret: secret, transport: transport)
    }

    /// Options for a peer joining this target.
    func options(name: String) -> CollaborationPeer.Options {
        var options = CollaborationPeer.Options(name: name, secret: secret)
        options.transport = transport
        if transport != nil { options.connectTimeout = 30 }
        return options
    }
}
