import CodeSyncProtocol
import CodeSyncTestSupport
import Foundation
import Testing

/// `codesync join ssh://…`: addresses read as hostile input, the attach preamble, the private runtime
/// directory, and real joins through a real sshd on loopback.
@Suite(.ownThreads, .serialized, .timeLimit(.minutes(3))) struct SSHJoinTests {
    private let work: URL
    private let runtime: URL
    private let environment: [String: String]

    init() throws {
        // Short: a unix socket path must fit in 107 bytes.
        work = URL(fileURLWithPath: "/tmp/cs-ssh-\(UUID().uuidString.prefix(6))")
        runtime = work.appendingPathComponent("run")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        environment = ["XDG_STATE_HOME": work.appendingPathComponent("state").path, "XDG_RUNTIME_DIR": runtime.path, "CODESYNC_NAME": "tester"]
    }

    @Test func addressesParseAsGitReadsThem() throws {
        let full = try SSHTarget(parsing: "ssh://me@box.example:2222/~/src/app.py")
        #expect(full.user == "me" && full.host == "box.example" && full.port == 2222 && full.path == "~/src/app.py")
        let absolute = try SSHTarget(parsing: "ssh://box/srv/a.py")
        #expect(absolute.user == nil && absolute.port == nil && absolute.path == "/srv/a.py")
        let only = try SSHTarget(parsing: "ssh://box")
        #expect(only.path == nil && only.description == "ssh://box")
        let v6 = try SSHTarget(parsing: "ssh://[::1]:22/x")
        #expect(v6.host == "::1" && v6.port == 22)
    }

    /// Each of these would let an address smuggle an option or a second command to ssh or the remote shell.
    @Test(arguments: ["ssh://-oProxyCommand=touch%20x/", "ssh://-x", "ssh://me@-oProxyCommand=x", "ssh://-me@box", "ssh://box:0", "ssh://box:99999",
                      "ssh://box:22x", "ssh://bo x", "ssh://box'", "ssh://", "ssh://box/a\u{0}b", "ssh://box/\u{1b}[2J", "box:22",
                      "ssh://u$(touch x)@box/", "ssh://box`id`/", "ssh://a;b/", "ssh://a|b/", "ssh://%h/", "ssh://2001:db8::1/", "ssh://[::1;x]/"])
    func hostileAddressesAreRefused(address: String) {
        #expect(throws: (any Error).self) { _ = try SSHTarget(parsing: address) }
    }

    @Test func thePathReachesTheRemoteShellAsOneQuotedWord() throws {
        let target = try SSHTarget(parsing: "ssh://box/~/it's $(rm -rf ~); `x`.py")
        let quoted = SSHTargetProbe.remoteCommand(target)
        #expect(quoted == "codesync attach '~/it'\\''s $(rm -rf ~); `x`.py'")
    }

    @Test func preamblesAreCheckedAsHostileInput() throws {
        let good = try LocalSessions.Preamble.parse(Array(#"{"codesyncAttach":1,"secret":"0123456789abcdef0123456789abcdef","file":"a.py"}"#.utf8))
        #expect(good.file == "a.py")
        for bad in [#"{"codesyncAttach":2,"secret":"0123456789abcdef0123456789abcdef","file":"a.py"}"#,
                    #"{"codesyncAttach":1,"secret":"short","file":"a.py"}"#,
                    #"{"codesyncAttach":1,"secret":"0123456789abcdef 123456789abcdef","file":"a.py"}"#,
                    #"{"codesyncAttach":1,"secret":"0123456789abcdef0123456789abcdef","file":"../x"}"#,
                    "bash: codesync: command not found", ""] {
            #expect(throws: SessionError.self) { _ = try LocalSessions.Preamble.parse(Array(bad.utf8)) }
        }
        // What a wrong remote end printed is shown, but never its control characters.
        do {
            _ = try LocalSessions.Preamble.parse(Array("\u{1b}]0;pwned\u{07}nope".utf8))
            Issue.record("accepted")
        } catch {
            #expect(!"\(error)".contains("\u{1b}") && "\(error)".contains("codesync attach"))
        }
    }

    /// A descriptor is trusted for nothing but its own NAME.sock: not to connect elsewhere, not to delete elsewhere.
    @Test func aDescriptorNamingAnotherSocketPathIsIgnoredAndNothingOutsideIsDeleted() throws {
        let dir = runtime.appendingPathComponent("codesync")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let victim = work.appendingPathComponent("victim")
        try "keep me".write(to: victim, atomically: true, encoding: .utf8)
        let planted = LocalSessions.Descriptor(pid: 999_999_999, file: "/tmp/x.py", secret: String(repeating: "a", count: 32), socket: dir.path + "/../../victim")
        try LocalSessions.publish(planted, name: "planted", in: dir)
        #expect(LocalSessions.live(in: dir).isEmpty)
        #expect(FileManager.default.fileExists(atPath: victim.path), "a descriptor made codesync delete a file outside its directory")
    }

    @Test func theRuntimeDirectoryMustBeOursAndPrivate() throws {
        let binary = try TestEnvironment.codesyncBinary()
        // Someone else's directory where ours should be: refused, never used.
        let dir = runtime.appendingPathComponent("codesync")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o777])
        #expect(chown(dir.path, 65534, 65534) == 0)
        let attach = try Command.run([binary.path, "attach"], timeout: 20, environment: environment)
        #expect(attach.status != 0)
        #expect(attach.stderr.contains("not a directory of yours"), "\(attach.stderr)")
        #expect(attach.stdout.isEmpty, "nothing may reach the joiner before the session does")
        try FileManager.default.removeItem(at: dir)
        // Ours but open to others: narrowed to 0700 before anything is written into it.
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        let none = try Command.run([binary.path, "attach"], timeout: 20, environment: environment)
        #expect(none.stderr.contains("no codesync session is hosted"), "\(none.stderr)")
        let mode = try FileManager.default.attributesOfItem(atPath: dir.path)[.posixPermissions] as? Int
        #expect(mode == 0o700)
    }

    @Test func aGuestJoinsOverRealSSHTypesAndTheSecretIsOnNoCommandLine() async throws {
        guard let sshd = try SSHDFixture.start() else { return }
        defer { sshd.stop() }
        let binary = try TestEnvironment.codesyncBinary()
        let file = work.appendingPathComponent("shared.py")
        try "print('base')\n".write(to: file, atomically: true, encoding: .utf8)
        let host = try CodesyncProcess(binary, ["host", file.path, "--headless", "--name", "host", "--port", "0"], environment: environment)
        defer { host.kill9() }
        let joinLine = try #require(await host.line(prefix: "CODESYNC_SECRET="), "\(host.stderr)")
        let (address, secret) = try #require(HostSession.parseJoinLine(joinLine))
        // The remote shell gets no environment from us: the runtime directory goes on its command.
        var overSSH = environment
        overSSH["CODESYNC_SSH"] = sshd.sshCommand
        overSSH["CODESYNC_REMOTE_COMMAND"] = "env XDG_RUNTIME_DIR=\(runtime.path) \(binary.path)"
        overSSH["CODESYNC_SECRET"] = nil
        let sshEnvironment = overSSH
        let target = "ssh://root@127.0.0.1:\(sshd.port)\(file.path)"
        let guest = try CodesyncProcess(binary, ["join", target, "--headless", "--name", "sshguest"], environment: sshEnvironment)
        defer { guest.kill9() }
        #expect(await guest.line(prefix: "joined ") != nil, "\(guest.stderr)")
        guest.send("append \"# typed over ssh\\n\"")
        guest.send("sync")
        #expect(await guest.line(prefix: "synced") != nil, "\(guest.stderr)")
        // The host's own session sees the guest's text (read over TCP with the secret).
        let text = try await offPool {
            try Command.run([binary.path, "cat", address], timeout: 20, environment: environment.merging(["CODESYNC_SECRET": secret]) { $1 })
        }
        #expect(text.stdout == "print('base')\n# typed over ssh\n", "\(text.stderr)")
        // Neither end put the secret on a command line (ssh, the remote shell, attach, the joiner).
        for pid in try FileManager.default.contentsOfDirectory(atPath: "/proc") where Int(pid) != nil {
            guard let line = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { continue }
            #expect(!String(decoding: line, as: UTF8.self).contains(secret), "pid \(pid) shows the secret in ps")
        }
        // A dropped link comes back through a new ssh (BatchMode: no prompt over an editor).
        guest.send("drop")
        guest.send("append \"# after the drop\\n\"")
        guest.send("sync")
        #expect(await guest.line(prefix: "synced", timeout: 30) != nil, "\(guest.stderr)")
        #expect(await guest.text() == "print('base')\n# typed over ssh\n# after the drop\n")
        // `cat` over ssh reads the same text; a path no session hosts says which ones are hosted.
        let viaSSH = try await offPool { try Command.run([binary.path, "cat", target], timeout: 30, environment: sshEnvironment) }
        #expect(viaSSH.stdout == "print('base')\n# typed over ssh\n# after the drop\n", "\(viaSSH.stderr)")
        let wrong = try await offPool {
            try Command.run([binary.path, "cat", "ssh://root@127.0.0.1:\(sshd.port)/tmp/none.py"], timeout: 30, environment: sshEnvironment)
        }
        #expect(wrong.status != 0)
        #expect(wrong.stderr.contains("no session hosts /tmp/none.py") && wrong.stderr.contains(file.path), "\(wrong.stderr)")
        // A box without sshd listening: ssh's own message reaches the user.
        let refused = try await offPool {
            try Command.run([binary.path, "cat", "ssh://root@127.0.0.1:1/x"], timeout: 30, environment: sshEnvironment)
        }
        #expect(refused.status != 0 && refused.stderr.contains("Connection refused"), "\(refused.stderr)")
        // The host goes: the joiner stops with the box's reason instead of logging in again and again.
        host.kill9()
        let ended = await guest.stderrContains("no codesync session is hosted")
        #expect(ended, "\(guest.stderr)")
    }

    @Test func anSSHGuestWaitsForAnApprovingHostLikeAnyOther() async throws {
        guard let sshd = try SSHDFixture.start() else { return }
        defer { sshd.stop() }
        let binary = try TestEnvironment.codesyncBinary()
        let file = work.appendingPathComponent("approve.py")
        try "print('base')\n".write(to: file, atomically: true, encoding: .utf8)
        let host = try CodesyncProcess(binary, ["host", file.path, "--headless", "--approve", "--name", "host", "--port", "0"], environment: environment)
        defer { host.kill9() }
        _ = try #require(await host.line(prefix: "CODESYNC_SECRET="), "\(host.stderr)")
        var overSSH = environment
        overSSH["CODESYNC_SSH"] = sshd.sshCommand
        overSSH["CODESYNC_REMOTE_COMMAND"] = "env XDG_RUNTIME_DIR=\(runtime.path) \(binary.path)"
        let guest = try CodesyncProcess(binary, ["join", "ssh://root@127.0.0.1:\(sshd.port)\(file.path)", "--headless", "--name", "sshguest"],
                                        environment: overSSH)
        defer { guest.kill9() }
        // The host sees how it came: through its local socket, i.e. over SSH.
        let waiting = try #require(await host.line(prefix: "waiting ", timeout: 30), "\(host.stderr)")
        #expect(waiting.hasSuffix("edit+run \"ssh (local socket)\" \"sshguest\""), "\(waiting)")
        // Its own line may reach us a moment after the host's (two processes, two pipes).
        let told = await guest.stderrContains("waiting for the host to admit you")
        #expect(told, "\(guest.stderr)")
        let id = String(waiting.split(separator: " ")[1])
        host.send("admit \(id)")
        #expect(await guest.line(prefix: "joined ", timeout: 30) != nil, "\(guest.stderr)")
        guest.send("append \"# admitted over ssh\\n\"")
        guest.send("sync")
        #expect(await guest.line(prefix: "synced") != nil, "\(guest.stderr)")
        host.send("remove \(id)")
        let removed = await guest.stderrContains("you were removed from this session by the host")
        #expect(removed, "\(guest.stderr)")
        #expect(await host.stop() == 0)
        #expect(try String(contentsOf: file, encoding: .utf8) == "print('base')\n# admitted over ssh\n")
    }
}

/// Reads the remote command a target builds, through the ssh arguments it would run.
enum SSHTargetProbe {
    static func remoteCommand(_ target: SSHTarget) -> String {
        target.transport(environment: [:]).arguments(attempt: 0).last ?? ""
    }
}
