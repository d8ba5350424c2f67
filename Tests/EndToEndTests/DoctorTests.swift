import CodeSyncTestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `codesync doctor` run as a user runs it: against the real engine, a socket where no engine
/// listens, an image that does not exist, a non-UTF-8 locale, open directories and a taken port.
@Suite(.ownThreads) struct DoctorTests {
    /// One check as `--json` reports it.
    struct Check {
        var ok: Bool
        var detail: String
        var fix: String?
    }

    /// A run of doctor: its exit status, checks by name, and the raw output.
    struct Outcome {
        var status: Int32
        var checks: [String: Check]
        var result: CommandResult

        func check(_ name: String) throws -> Check {
            try #require(checks[name], "no \(name) check in:\n\(result.stdout)\n\(result.stderr)")
        }
    }

    /// A private home for doctor: config and state directories under a fresh 0700 temp directory.
    final class Home {
        let url: URL
        init() throws {
            url = FileManager.default.temporaryDirectory.appendingPathComponent("codesync-doctor-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
        deinit { try? FileManager.default.removeItem(at: url) }

        var environment: [String: String] {
            ["XDG_CONFIG_HOME": url.appendingPathComponent("config").path,
             "XDG_STATE_HOME": url.appendingPathComponent("state").path]
        }

        /// Writes `$XDG_CONFIG_HOME/codesync/runner.json`.
        func writeRunnerConfig(_ json: String) throws {
            let directory = url.appendingPathComponent("config/codesync")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            try json.write(to: directory.appendingPathComponent("runner.json"), atomically: true, encoding: .utf8)
        }
    }

    /// Runs `codesync doctor --json ARGS` with the home's directories and `environment` on top.
    func doctor(_ arguments: [String], home: Home, environment: [String: String] = [:]) throws -> Outcome {
        let binary = try TestEnvironment.codesyncBinary()
        var env = home.environment
        env.merge(environment) { $1 }
        let result = try Command.run([binary.path, "doctor", "--json"] + arguments, timeout: 60, environment: env)
        #expect(!result.timedOut, "doctor did not finish")
        let object = try #require(
            try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any],
            "not a JSON object:\n\(result.stdout)\n\(result.stderr)")
        let list = try #require(object["checks"] as? [[String: Any]])
        var checks: [String: Check] = [:]
        for entry in list {
            let name = try #require(entry["name"] as? String)
            checks[name] = Check(ok: entry["ok"] as? Bool ?? false, detail: entry["detail"] as? String ?? "",
                                 fix: entry["fix"] as? String)
        }
        #expect((object["ok"] as? Bool) == !checks.values.contains { !$0.ok }, "\"ok\" disagrees with the checks")
        return Outcome(status: result.status, checks: checks, result: result)
    }

    /// The engine's version as the docker CLI reports it: a second, independent source.
    func cliServerVersion() throws -> String {
        try Command.run(["docker", "version", "--format", "{{.Server.Version}}"], timeout: 20)
            .stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func realEnginePassesTheEngineChecks() throws {
        guard let (docker, image) = try DockerFixture.withImage("python") else { return }
        let home = try Home()
        let outcome = try doctor(["--lang", "python"], home: home,
                                 environment: ["DOCKER_HOST": "unix://\(docker.socketPath)", "CODESYNC_IMAGE_PYTHON": image])
        for name in ["runner-config", "docker-socket", "docker-engine", "docker-version", "image python", "clock"] {
            let check = try outcome.check(name)
            #expect(check.ok, "\(name) failed: \(check.detail) — \(check.fix ?? "")")
        }
        #expect(try outcome.check("docker-version").detail.contains("engine \(try cliServerVersion()),"))
        #expect(try outcome.check("image python").detail.contains(image))
        #expect(try outcome.check("clock").detail.contains("engine within"), "the engine's clock was not compared")
        #expect(outcome.checks["image node"] == nil, "--lang python still checked node")
    }

    @Test func aSocketWhereNothingListensFailsWithTheStartHint() throws {
        let home = try Home()
        let missing = home.url.appendingPathComponent("no-engine.sock").path
        try home.writeRunnerConfig(#"{"socket": "\#(missing)"}"#)
        let outcome = try doctor(["--lang", "python"], home: home)
        #expect(outcome.status != 0)
        let socket = try outcome.check("docker-socket")
        #expect(!socket.ok && socket.detail.contains(missing) && socket.detail.contains("does not exist"))
        let engine = try outcome.check("docker-engine")
        #expect(!engine.ok)
        #expect(engine.fix?.contains("systemctl start docker") == true, "fix: \(engine.fix ?? "none")")
        #expect(try !outcome.check("image python").ok)
        #expect(try outcome.check("runner-config").ok, "the config naming the socket is valid")
    }

    @Test func aStaleSocketFileFailsAtTheEngineLine() throws {
        let home = try Home()
        // A socket file nobody listens on, as a crashed dockerd leaves behind: connect is refused.
        let path = home.url.appendingPathComponent("stale.sock").path
        try Self.bindUnixSocketWithoutListening(path)
        try home.writeRunnerConfig(#"{"socket": "\#(path)"}"#)
        let outcome = try doctor(["--lang", "python"], home: home)
        #expect(outcome.status != 0)
        #expect(try outcome.check("docker-socket").ok, "the file is a socket we may open")
        let engine = try outcome.check("docker-engine")
        #expect(!engine.ok && engine.detail.contains(path))
        #expect(engine.fix?.contains("start one with") == true, "fix: \(engine.fix ?? "none")")
    }

    @Test func aMissingImageFailsWithThePullLine() throws {
        guard let docker = try DockerFixture.available() else { return }
        let home = try Home()
        let image = "codesync-test/absent-\(UInt32.random(in: 0...UInt32.max)):never"
        #expect(!docker.hasImage(image))
        let outcome = try doctor(["--lang", "python"], home: home,
                                 environment: ["DOCKER_HOST": "unix://\(docker.socketPath)", "CODESYNC_IMAGE_PYTHON": image])
        #expect(outcome.status != 0)
        #expect(try outcome.check("docker-engine").ok)
        let line = try outcome.check("image python")
        #expect(!line.ok && line.detail.contains(image))
        #expect(line.fix?.hasPrefix("docker pull \(image)") == true, "fix: \(line.fix ?? "none")")
        #expect(line.fix?.contains("scripts/build-test-images python") == true)
    }

    @Test func anAbsentImageNamesTheLocallyBuiltOneWhenItIsPresent() throws {
        guard let (docker, local) = try DockerFixture.withImage("python") else { return }
        guard local == "codesync-test/python:latest" else { return }  // only that name is known to doctor
        let home = try Home()
        let image = "codesync-test/absent-\(UInt32.random(in: 0...UInt32.max)):never"
        let outcome = try doctor(["--lang", "python"], home: home,
                                 environment: ["DOCKER_HOST": "unix://\(docker.socketPath)", "CODESYNC_IMAGE_PYTHON": image])
        let line = try outcome.check("image python")
        #expect(!line.ok)
        #expect(line.fix?.contains("use the one built here from Debian packages: export CODESYNC_IMAGE_PYTHON=\(local)") == true,
                "fix: \(line.fix ?? "none")")
    }

    @Test func aNonUTF8LocaleFailsWithTheFixAndAUTF8OnePasses() throws {
        let home = try Home()
        let bad = try doctor(["--lang", "python"], home: home, environment: ["LANG": "C", "LC_ALL": "C"])
        #expect(bad.status != 0)
        let locale = try bad.check("locale")
        #expect(!locale.ok && locale.detail.contains("LC_ALL=C"), "detail: \(locale.detail)")
        #expect(locale.fix?.contains("LANG=C.UTF-8") == true)

        let absent = try doctor(["--lang", "python"], home: home, environment: ["LC_ALL": "xx_NOPE.UTF-8"])
        #expect(try absent.check("locale").detail.contains("does not have"))

        let good = try doctor(["--lang", "python"], home: home, environment: ["LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"])
        let passing = try good.check("locale")
        #expect(passing.ok, "C.UTF-8 failed: \(passing.detail)")
    }

    @Test func openOrForeignDirectoriesFail() throws {
        let home = try Home()
        let state = home.url.appendingPathComponent("state/codesync")
        try FileManager.default.createDirectory(at: state, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        let open = try doctor(["--lang", "python"], home: home)
        let line = try open.check("state-dir")
        #expect(!line.ok && line.detail.contains("0755"))
        #expect(line.fix == "chmod 700 \(state.path)")
        #expect(try open.check("config-dir").ok, "an absent config directory is fine")

        try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: state.path)
        #expect(try doctor(["--lang", "python"], home: home).check("state-dir").ok)
    }

    @Test func aTakenPortFails() throws {
        let home = try Home()
        let (fd, port) = try Self.listenOnLoopback()
        defer { close(fd) }
        let outcome = try doctor(["--lang", "python", "--port", "\(port)"], home: home)
        let line = try outcome.check("port")
        #expect(!line.ok && line.detail.contains("127.0.0.1:\(port)"), "detail: \(line.detail)")
        #expect(line.fix?.contains("--port") == true)
        #expect(outcome.status != 0)
    }

    @Test func textOutputIsOneLinePerCheckWithFixes() throws {
        let binary = try TestEnvironment.codesyncBinary()
        let home = try Home()
        var env = home.environment
        env["LC_ALL"] = "C"
        let result = try Command.run([binary.path, "doctor", "--lang", "python"], timeout: 60, environment: env)
        #expect(result.status == 1)
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.count >= 12, "too few lines:\n\(result.stdout)")
        for line in lines {
            #expect(line.hasPrefix("ok   ") || (line.hasPrefix("FAIL ") && line.contains(" — fix: ")), "bad line: \(line)")
        }
        #expect(lines.contains { $0.hasPrefix("FAIL locale: LC_ALL=C") })
    }

    /// Everything passes in a real terminal with the engine, the test image and a free port: exit 0.
    @Test func everyCheckPassesInARealTerminal() throws {
        guard let (docker, image) = try DockerFixture.withImage("python") else { return }
        let binary = try TestEnvironment.codesyncBinary()
        let home = try Home()
        let (fd, port) = try Self.listenOnLoopback()
        close(fd)
        var env = home.environment
        env["DOCKER_HOST"] = "unix://\(docker.socketPath)"
        env["CODESYNC_IMAGE_PYTHON"] = image
        let command = "\(TmuxFixture.shellQuote(binary.path)) doctor --lang python --port \(port); echo doctor-exit=$?; sleep 30"
        guard let tmux = try TmuxFixture.start(command, columns: 200, rows: 40, environment: env) else { return }
        let screen = try tmux.waitFor("doctor-exit=", timeout: 60)
        #expect(screen.contains("doctor-exit=0"), "doctor failed in a real terminal:\n\(screen)")
        #expect(screen.contains("ok   size: 200x40"))
        #expect(screen.contains("ok   colours: 256 colours"))
    }

    /// The editor's output pane names doctor when a run cannot start (here: no engine at the socket).
    @Test func theEditorPointsToDoctorWhenItCannotRun() throws {
        let binary = try TestEnvironment.codesyncBinary()
        let home = try Home()
        try home.writeRunnerConfig(#"{"socket": "\#(home.url.appendingPathComponent("no-engine.sock").path)"}"#)
        let file = home.url.appendingPathComponent("demo.py")
        try "print(1)\n".write(to: file, atomically: true, encoding: .utf8)
        let command = "\(TmuxFixture.shellQuote(binary.path)) edit \(TmuxFixture.shellQuote(file.path)); sleep 30"
        guard let tmux = try TmuxFixture.start(command, columns: 160, rows: 30, environment: home.environment) else { return }
        try tmux.waitFor("F1 help")
        try tmux.send("C-r")
        let screen = try tmux.waitFor("codesync doctor", timeout: 30)
        #expect(screen.contains("no Docker engine"), "the failure itself is shown too:\n\(screen)")
        try tmux.send("C-q", "n")
    }

    // MARK: Sockets for the tests

    /// Listens on an ephemeral loopback port; returns the descriptor and the port.
    static func listenOnLoopback() throws -> (Int32, Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw SocketSetupError("socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && listen(fd, 1) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard ok else {
            close(fd)
            throw SocketSetupError("listen: \(String(cString: strerror(errno)))")
        }
        return (fd, Int(UInt16(bigEndian: address.sin_port)))
    }

    /// Leaves a unix socket file at `path` that nothing listens on.
    static func bindUnixSocketWithoutListening(_ path: String) throws {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw SocketSetupError("socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { throw SocketSetupError("path too long: \(path)") }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0 else { throw SocketSetupError("bind \(path): \(String(cString: strerror(errno)))") }
    }
}

/// Shell completions from the binary, what `make install` does with them, and `--help` examples
/// that stay the same as README's "Using it" block.
@Suite(.ownThreads) struct CompletionAndHelpTests {
    @Test(arguments: ["bash", "zsh", "fish"])
    func completionScriptNamesEverySubcommand(shell: String) throws {
        let binary = try TestEnvironment.codesyncBinary()
        let result = try Command.run([binary.path, "--generate-completion-script", shell], timeout: 30)
        #expect(result.status == 0, "\(result.stderr)")
        for name in ["host", "join", "doctor", "analyze"] {
            #expect(result.stdout.contains(name), "\(shell) completion lacks \(name)")
        }
        // The shell itself must accept the script, when it is installed.
        let check: [String] = switch shell {
        case "bash": ["bash", "-n"]
        case "zsh": ["zsh", "-n"]
        default: ["fish", "--no-execute"]
        }
        guard Command.exists(check[0]) else { return }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("codesync-completion-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: file) }
        try result.stdout.write(to: file, atomically: true, encoding: .utf8)
        let syntax = try Command.run(check + [file.path], timeout: 30)
        #expect(syntax.status == 0, "\(shell) rejects its completion script: \(syntax.stderr)")
        // Loaded, the script completes a subcommand from its prefix (zsh needs its line editor for
        // that, so zsh stops at the syntax check).
        let completes: [String]? = switch shell {
        case "bash": ["bash", "-c", """
            source "$1"; f=$(complete -p codesync | sed -E 's/.* -F ([^ ]+).*/\\1/')
            COMP_WORDS=(codesync ho); COMP_CWORD=1; COMP_LINE="codesync ho"; COMP_POINT=11
            "$f" codesync ho codesync; printf '%s\\n' "${COMPREPLY[@]}"
            """, "bash", file.path]
        case "fish": ["fish", "-c", "source $argv[1]; complete -C 'codesync ho'", file.path]
        default: nil
        }
        if let completes {
            let offered = try Command.run(completes, timeout: 30)
            #expect(offered.stdout.split(separator: "\n").contains { $0.hasPrefix("host") }, "\(shell) offers: \(offered.stdout) \(offered.stderr)")
        }
    }

    @Test func makeInstallPutsCompletionsWhereShellsLook() throws {
        guard Command.exists("make") else {
            let _: Bool? = try TestEnvironment.missing("make", fix: "apt-get install make")
            return
        }
        let root = TestEnvironment.packageRoot().path
        let plan = try Command.run(["make", "-n", "-C", root, "install", "DESTDIR=/stage", "PREFIX=/usr"], timeout: 30)
        #expect(plan.status == 0, "\(plan.stderr)")
        for path in ["/stage/usr/share/bash-completion/completions/codesync", "/stage/usr/share/zsh/site-functions/_codesync",
                     "/stage/usr/share/fish/vendor_completions.d/codesync.fish", "/stage/usr/bin/codesync",
                     "/stage/usr/share/man/man1/codesync.1"] {
            #expect(plan.stdout.contains(path), "make install does not install \(path)")
        }
        for shell in ["bash", "zsh", "fish"] {
            #expect(plan.stdout.contains("--generate-completion-script \(shell)"))
        }
    }

    @Test func helpExamplesMatchTheReadme() throws {
        let binary = try TestEnvironment.codesyncBinary()
        let help = try Command.run([binary.path, "--help"], timeout: 30).stdout
        let readme = try String(contentsOf: TestEnvironment.packageRoot().appendingPathComponent("README.md"), encoding: .utf8)
        let section = try #require(readme.range(of: "## Using it\n\n```sh\n"))
        let end = try #require(readme.range(of: "```", range: section.upperBound..<readme.endIndex))
        // README's commands, without their comments or alignment.
        let readmeCommands = readme[section.upperBound..<end.lowerBound].split(separator: "\n").compactMap { line -> String? in
            let command = line.split(separator: "#", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
            return Self.isExample(command) ? command.split(separator: " ").joined(separator: " ") : nil
        }
        let helpCommands = help.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { Self.isExample($0) && !$0.hasPrefix("codesync <") }
            .map { $0.split(separator: " ").joined(separator: " ") }
        #expect(!readmeCommands.isEmpty)
        #expect(helpCommands == readmeCommands, "codesync --help:\n\(helpCommands)\nREADME:\n\(readmeCommands)")
    }

    /// A command line, possibly behind environment assignments (`CODESYNC_SECRET=… codesync join …`).
    static func isExample(_ line: String) -> Bool {
        var words = line.split(separator: " ")[...]
        while let first = words.first, first.contains("="), first.first?.isUppercase == true { words = words.dropFirst() }
        return words.first == "codesync"
    }
}

/// A socket the test itself needed could not be set up.
struct SocketSetupError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
