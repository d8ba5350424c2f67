import ArgumentParser
import CodeSyncProtocol
import Foundation

/// `CODESYNC_SECRET=S codesync cat ADDRESS [PATH]`: prints a session's current text, or one file of a shared folder.
struct Cat: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the current text of a session (or, with PATH, one file of a shared folder).")

    @Argument(help: "HOST:PORT of a host, RELAY-HOST:PORT/SESSION, or ssh://[USER@]BOX[:PORT][/PATH].")
    var address: String

    @Argument(help: "A file of a shared folder (`codesync host DIR`), relative to it; omit for a session that shares one file.")
    var path: String?

    @OptionGroup var secrets: SecretOptions

    func run() async throws {
        let text = try await withSessionPeer(address, secrets: secrets, name: "cat") { try await Self.text(of: $0, path: path) }
        FileHandle.standardOutput.write(Data(text.utf8))
    }

    static func text(of peer: CollaborationPeer, path: String?) async throws -> String {
        switch (path, peer.isProject) {
        case (nil, false):
            _ = peer.poll()
            return peer.text
        case (nil, true):
            throw ValidationError("this session shares a folder: give the PATH of one of its files (`codesync ls ADDRESS` lists them)")
        case (let path?, true):
            return try await peer.openFile(path)
        case (_?, false):
            throw ValidationError("this session shares one file, not a folder: omit PATH")
        }
    }
}

/// `CODESYNC_SECRET=S codesync ls ADDRESS`: lists a session's files.
struct Ls: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ls",
        abstract: "List the files of a session (a shared folder's index; a one-file session's file).",
        discussion: "One path per line; --long adds the size in bytes and the kind (text, binary, large: only text files open).")

    @Argument(help: "HOST:PORT of a host, RELAY-HOST:PORT/SESSION, or ssh://[USER@]BOX[:PORT][/PATH].")
    var address: String

    @Flag(name: .shortAndLong, help: "Also print each file's size and kind.")
    var long = false

    @OptionGroup var secrets: SecretOptions

    func run() async throws {
        let output = try await withSessionPeer(address, secrets: secrets, name: "ls") { try await listing(of: $0) }
        FileHandle.standardOutput.write(Data(output.utf8))
    }

    private func listing(of peer: CollaborationPeer) async throws -> String {
        guard peer.isProject else {
            _ = peer.poll()
            let name = peer.sessionFileName.flatMap { (try? ProjectPath($0)).map(\.string) } ?? "(unnamed)"
            return long ? "text\t\(peer.text.utf8.count)\t\(name)\n" : "\(name)\n"
        }
        let (entries, truncated) = try await peer.listFiles()
        var output = ""
        var skipped = 0
        for entry in entries {
            // The host's paths reach this terminal: one that breaks the path rules is not printed.
            guard (try? ProjectPath(entry.path)) != nil else {
                skipped += 1
                continue
            }
            output += long ? "\(entry.kind.rawValue)\t\(entry.size)\t\(entry.path)\n" : "\(entry.path)\n"
        }
        if skipped > 0 { FileHandle.standardError.write(Data("codesync: left out \(skipped) paths that break the path rules\n".utf8)) }
        if truncated { FileHandle.standardError.write(Data("codesync: the host indexed only part of its folder (too many files)\n".utf8)) }
        return output
    }
}

/// Joins the session at `address` once (no reconnecting), runs `body` with the peer, and leaves.
func withSessionPeer<T>(_ address: String, secrets: SecretOptions, name: String, _ body: (CollaborationPeer) async throws -> T) async throws -> T {
    let target = try JoinTarget.resolve(address, secrets: secrets)
    var options = target.options(name: name)
    options.reconnect = false
    options.onWaiting = { FileHandle.standardError.write(Data("waiting for the host to admit you…\n".utf8)) }
    let peer = try await CollaborationPeer.join(target.address, options: options)
    do {
        let result = try await body(peer)
        await peer.close()
        return result
    } catch {
        await peer.close()
        throw error
    }
}
