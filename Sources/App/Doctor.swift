import CodeSyncProtocol
import CodeSyncRunner
import CodeSyncTUI
import Foundation
import Glibc

// `codesync doctor`'s checks: what a session needs (terminal, Docker engine, images, directories,
// port, clock), one line each with its fix. The command in Sources/codesync only parses arguments.

/// One check's outcome: what was found and, when it failed, what to do.
public struct DoctorCheck: Sendable {
    public var name: String
    public var ok: Bool
    public var detail: String
    public var fix: String?

    static func pass(_ name: String, _ detail: String) -> DoctorCheck { DoctorCheck(name: name, ok: true, detail: detail) }
    static func fail(_ name: String, _ detail: String, fix: String) -> DoctorCheck {
        DoctorCheck(name: name, ok: false, detail: detail, fix: fix)
    }

    /// `ok   NAME: DETAIL` or `FAIL NAME: DETAIL — fix: FIX`.
    public var line: String {
        ok ? "ok   \(name): \(detail)" : "FAIL \(name): \(detail)\(fix.map { " — fix: \($0)" } ?? "")"
    }

    /// `{"ok": Bool, "checks": [{"name", "ok", "detail", "fix"?}]}`.
    public static func json(_ checks: [DoctorCheck]) -> String {
        let list: [[String: Any]] = checks.map { check in
            var entry: [String: Any] = ["name": check.name, "ok": check.ok, "detail": check.detail]
            if let fix = check.fix { entry["fix"] = fix }
            return entry
        }
        let root: [String: Any] = ["ok": !checks.contains { !$0.ok }, "checks": list]
        let data = (try? JSONSerialization.data(withJSONObject: root, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}

/// The checks themselves, each returning lines rather than printing, so the output format is one place.
public enum DoctorChecks {
    /// Every check, in the order `codesync doctor` prints them.
    public static func all(environment: [String: String], configFile: URL?, languages: [String], port: Int) async -> [DoctorCheck] {
        var checks = terminal(environment: environment)
        checks += await engine(configFile: configFile, languages: languages, environment: environment)
        checks.append(directory("config-dir", SandboxConfig.defaultFileURL(environment: environment)
            .deletingLastPathComponent(), createdBy: "you, for runner.json"))
        checks.append(directory("state-dir", StateDirectory.url, createdBy: "`codesync host`, for its journals"))
        checks.append(self.port(port))
        return checks
    }

    // MARK: Terminal

    static func terminal(environment: [String: String]) -> [DoctorCheck] {
        var checks: [DoctorCheck] = []
        let term = environment["TERM"] ?? ""
        let colours: Int?
        if term.isEmpty || term == "dumb" {
            colours = nil
            checks.append(.fail("term", "TERM is \(term.isEmpty ? "unset" : "dumb"): the editor cannot draw",
                                fix: "run in a terminal emulator, or export TERM=xterm-256color"))
        } else if let count = Terminal.colours(term: term) {
            colours = count
            checks.append(.pass("term", "TERM=\(term) is known to ncurses"))
        } else {
            colours = nil
            checks.append(.fail("term", "ncurses has no terminfo entry for TERM=\(term)",
                                fix: "export TERM=xterm-256color, or install its entry (apt-get install ncurses-term)"))
        }
        if let colours, colours >= 8 {
            checks.append(.pass("colours", "\(colours) colours"))
        } else {
            checks.append(.fail("colours", colours.map { "TERM=\(term) has \($0) colours; the panes need 8" } ?? "unknown without a usable TERM",
                                fix: "use a colour terminal, e.g. export TERM=xterm-256color"))
        }
        checks.append(locale(environment: environment))
        let minimum = TerminalSize.minimum
        if let size = Terminal.controllingTerminalSize() {
            if size.columns >= minimum.columns && size.rows >= minimum.rows {
                checks.append(.pass("size", "\(size.columns)x\(size.rows)"))
            } else {
                checks.append(.fail("size", "\(size.columns)x\(size.rows) is below the editor's \(minimum.columns)x\(minimum.rows)",
                                    fix: "enlarge the window to at least \(minimum.columns)x\(minimum.rows)"))
            }
        } else {
            checks.append(.fail("size", "no controlling terminal, so the editor could not draw here",
                                fix: "run codesync (and this check) in an interactive terminal"))
        }
        return checks
    }

    /// The locale the environment selects must exist and use UTF-8, or the terminal and the editor
    /// disagree on every character outside ASCII.
    static func locale(environment: [String: String]) -> DoctorCheck {
        let source = ["LC_ALL", "LC_CTYPE", "LANG"].first { !(environment[$0] ?? "").isEmpty }
        let setting = source.map { "\($0)=\(environment[$0]!)" } ?? "no LANG, LC_CTYPE or LC_ALL"
        let fix = "export LANG=C.UTF-8 (or another UTF-8 locale listed by `locale -a`) and unset LC_ALL if it names a non-UTF-8 one"
        guard setlocale(LC_CTYPE, "") != nil else {
            return .fail("locale", "\(setting) names a locale this system does not have", fix: fix)
        }
        let codeset = String(cString: nl_langinfo(nl_item(CODESET)))
        let normalised = codeset.uppercased().replacingOccurrences(of: "-", with: "")
        guard normalised == "UTF8" else {
            return .fail("locale", "\(setting) uses \(codeset), not UTF-8", fix: fix)
        }
        return .pass("locale", "\(setting) (UTF-8)")
    }

    // MARK: Docker engine, images, clock

    static func engine(configFile: URL?, languages: [String], environment: [String: String]) async -> [DoctorCheck] {
        var checks: [DoctorCheck] = []
        let config: SandboxConfig
        let path = configFile ?? SandboxConfig.defaultFileURL(environment: environment)
        do {
            config = try SandboxConfig.load(file: configFile, environment: environment)
            let where_ = FileManager.default.fileExists(atPath: path.path) ? path.path : "defaults (no \(path.path))"
            checks.append(.pass("runner-config", where_))
        } catch {
            config = SandboxConfig(socketPath: DockerClient.defaultSocketPath(environment: environment))
            checks.append(.fail("runner-config", "\(error)", fix: "correct \(path.path) (format: docs/RUNNER.md)"))
        }
        let socketCheck = socket(config.socketPath)
        checks.append(socketCheck)

        let client = DockerClient(socketPath: config.socketPath)
        var engineAnswers = false
        if socketCheck.ok {
            do {
                try await client.ping()
                engineAnswers = true
                checks.append(.pass("docker-engine", "answers at \(config.socketPath)"))
            } catch {
                checks.append(.fail("docker-engine", "does not answer at \(config.socketPath)", fix: fixText(error)))
            }
        } else {
            checks.append(.fail("docker-engine", "not reachable: see docker-socket", fix: RunnerError.engineUnreachable(socket: config.socketPath).fixText))
        }

        var engineClock: Date?
        if engineAnswers {
            do {
                let version = try await client.engineVersion()
                let oldest = DockerClient.oldestSupportedAPIVersion
                if DockerClient.isOlder(version.apiVersion, than: oldest) {
                    checks.append(.fail("docker-version", "engine \(version.version), API \(version.apiVersion): older than \(oldest), the API runs are tested against",
                                        fix: "upgrade Docker to 20.10 or newer"))
                } else {
                    checks.append(.pass("docker-version", "engine \(version.version), API \(version.apiVersion)"))
                }
                engineClock = try? await client.engineClock()
            } catch {
                checks.append(.fail("docker-version", "the engine did not report its version", fix: fixText(error)))
            }
        } else {
            checks.append(.fail("docker-version", "unknown: no engine", fix: "fix docker-engine first"))
        }

        checks += await images(config: config, languages: languages, client: engineAnswers ? client : nil)
        checks.append(clock(engineClock: engineClock))
        return checks
    }

    /// The socket must exist, be a socket, and be readable and writable by this user.
    static func socket(_ path: String) -> DoctorCheck {
        var info = stat()
        guard stat(path, &info) == 0 else {
            let reason = errno == EACCES ? "cannot be looked up (a parent directory is closed to you)" : "does not exist"
            return .fail("docker-socket", "\(path) \(reason)", fix: RunnerError.engineUnreachable(socket: path).fixText)
        }
        let owner = "\(userName(info.st_uid)):\(groupName(info.st_gid)) \(String(format: "%04o", info.st_mode & 0o7777))"
        guard info.st_mode & S_IFMT == S_IFSOCK else {
            return .fail("docker-socket", "\(path) is not a socket (\(owner))",
                         fix: "point DOCKER_HOST or runner.json's \"socket\" at the engine's socket")
        }
        guard access(path, R_OK | W_OK) == 0 else {
            return .fail("docker-socket", "\(path) (\(owner)) is not readable and writable by you",
                         fix: RunnerError.permissionDenied(socket: path).fixText)
        }
        return .pass("docker-socket", "\(path) (\(owner)), readable and writable by you")
    }

    /// One line per language: its image is present, or how to get it.
    static func images(config: SandboxConfig, languages: [String], client: DockerClient?) async -> [DoctorCheck] {
        var selected: [Language] = []
        for name in languages {
            do { selected.append(try config.catalog.named(name)) } catch {
                return [.fail("images", "\(error)", fix: "pass --lang with one of the listed languages")]
            }
        }
        if selected.isEmpty { selected = config.catalog.languages }
        var checks: [DoctorCheck] = []
        for language in selected {
            let name = "image \(language.name)"
            guard let client else {
                checks.append(.fail(name, "\(language.image): unknown, no engine", fix: "fix docker-engine first"))
                continue
            }
            do {
                if try await client.hasImage(language.image) {
                    checks.append(.pass(name, "\(language.image) is present"))
                } else {
                    // A local image built from Debian packages may be sitting in the store unused
                    // because nothing selects it: say so rather than send the user to a registry.
                    let local = localImage(language)
                    var built = false
                    if local != language.image { built = (try? await client.hasImage(local)) == true }
                    checks.append(.fail(name, "\(language.image) is not in the engine's store",
                                        fix: imageFix(language, localImagePresent: built)))
                }
            } catch {
                checks.append(.fail(name, "\(language.image): the engine did not answer", fix: fixText(error)))
            }
        }
        return checks
    }

    /// The image `scripts/build-test-images` builds from Debian packages for this language.
    static func localImage(_ language: Language) -> String {
        "codesync-test/\(language.name == "cpp" ? "c" : language.name):latest"
    }

    /// `docker pull`, or the local image built from Debian packages (no registry needed) and the
    /// variable that selects it; when that image is already built, only the variable is missing.
    static func imageFix(_ language: Language, localImagePresent: Bool = false) -> String {
        let testImageLanguage = language.name == "cpp" ? "c" : language.name
        let buildable = ["python", "node", "go", "c"].contains(testImageLanguage)
        let local = localImage(language)
        if language.image == local { return "scripts/build-test-images \(testImageLanguage)" }
        var fix = "docker pull \(language.image)"
        let select = "export CODESYNC_IMAGE_\(language.name.uppercased())=\(local)"
        if buildable && localImagePresent {
            fix += ", or use the one built here from Debian packages: \(select) "
                + "(rebuild it with scripts/build-test-images \(testImageLanguage))"
        } else if buildable {
            fix += ", or without a registry: scripts/build-test-images \(testImageLanguage) && \(select)"
        }
        return fix
    }

    /// The local clock must be plausible, and agree with the engine's (run timings, journal times).
    static func clock(engineClock: Date?, now: Date = Date()) -> DoctorCheck {
        let stamp = ISO8601DateFormatter().string(from: now)
        // Any date before this code existed means the clock was reset (a dead RTC battery, no NTP).
        let earliest = Date(timeIntervalSince1970: 1_735_689_600)  // 2025-01-01
        let fix = "set the clock, e.g. `sudo timedatectl set-ntp true`"
        guard now >= earliest else { return .fail("clock", "local clock says \(stamp), before 2025", fix: fix) }
        guard let engineClock else { return .pass("clock", "local \(stamp) (the engine's clock was not compared)") }
        let skew = engineClock.timeIntervalSince(now)
        guard abs(skew) <= 5 else {
            return .fail("clock", String(format: "local \(stamp), the engine's clock differs by %.1f s", skew), fix: fix)
        }
        return .pass("clock", String(format: "local \(stamp), engine within %.1f s", abs(skew)))
    }

    // MARK: Directories and port

    /// The directory, when it exists, must be yours and closed to others (journals hold session secrets).
    static func directory(_ name: String, _ url: URL, createdBy: String) -> DoctorCheck {
        let path = url.path
        var info = stat()
        guard stat(path, &info) == 0 else {
            if errno == ENOENT { return .pass(name, "\(path) does not exist yet (made by \(createdBy))") }
            return .fail(name, "\(path): \(String(cString: strerror(errno)))", fix: "check the permissions of its parent directories")
        }
        guard info.st_mode & S_IFMT == S_IFDIR else {
            return .fail(name, "\(path) is not a directory", fix: "move it away: mv \(path) \(path).old")
        }
        let mode = info.st_mode & 0o7777
        let modeText = String(format: "%04o", mode)
        guard info.st_uid == geteuid() else {
            return .fail(name, "\(path) belongs to \(userName(info.st_uid)), not you",
                         fix: "sudo chown -R \(userName(geteuid())) \(path)")
        }
        guard mode & 0o077 == 0, mode & 0o700 == 0o700 else {
            return .fail(name, "\(path) has mode \(modeText); 0700 expected", fix: "chmod 700 \(path)")
        }
        return .pass(name, "\(path) (yours, \(modeText))")
    }

    /// The port must be free on 127.0.0.1, bound the way the host's server binds it (SO_REUSEADDR).
    static func port(_ port: Int) -> DoctorCheck {
        let name = "port"
        let fd = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return .fail(name, "cannot open a socket: \(String(cString: strerror(errno)))", fix: "check ulimit -n") }
        defer { close(fd) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 1) == 0 else {
            let reason = String(cString: strerror(errno))
            return .fail(name, "127.0.0.1:\(port) cannot be listened on: \(reason)",
                         fix: "stop what uses it (`ss -ltnp 'sport = :\(port)'`), or host with --port N")
        }
        return .pass(name, "127.0.0.1:\(port) is free")
    }

    // MARK: Helpers

    /// The fix part of a runner error (after its " — "), or the whole message.
    static func fixText(_ error: any Error) -> String {
        (error as? RunnerError)?.fixText ?? "\(error)"
    }

    static func userName(_ uid: uid_t) -> String {
        guard let entry = getpwuid(uid) else { return "\(uid)" }
        return String(cString: entry.pointee.pw_name)
    }

    static func groupName(_ gid: gid_t) -> String {
        guard let entry = getgrgid(gid) else { return "\(gid)" }
        return String(cString: entry.pointee.gr_name)
    }
}

extension RunnerError {
    /// The part of the message after " — " (what to do), or the whole message when it has none.
    var fixText: String {
        let text = description
        guard let dash = text.range(of: " — ") else { return text }
        return String(text[dash.upperBound...])
    }
}
