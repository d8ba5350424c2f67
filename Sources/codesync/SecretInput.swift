import ArgumentParser
import Foundation

/// How `join`, `cat` and `run HOST:PORT` get the session secret, keeping it out of `ps`.
///
/// A command line is readable by every user of the machine (`ps`, /proc/PID/cmdline), so the
/// secret comes from `CODESYNC_SECRET` (readable only by the same user, via /proc/PID/environ),
/// from `--secret-file PATH` (`-` for stdin), or from a no-echo prompt on the terminal.
/// `--secret S` stays for scripts on single-user machines.
struct SecretOptions: ParsableArguments {
    /// The environment variable the host's join line sets.
    static let environmentVariable = "CODESYNC_SECRET"

    @Option(help: ArgumentHelp(
        "The session secret. Every user of this machine can read it in `ps`: prefer CODESYNC_SECRET, --secret-file or the prompt.",
        valueName: "secret"))
    var secret: String?

    @Option(help: ArgumentHelp(
        "Read the session secret from the first line of this file (`-`: from stdin).", valueName: "path"))
    var secretFile: String?

    /// True when the command line names a secret (so the argument must be a session address).
    var givenOnCommandLine: Bool { secret != nil || secretFile != nil }

    /// The secret from the first source that has one, or a one-line error naming every way to give it.
    func resolve(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> String {
        if secret != nil && secretFile != nil { throw SecretError("give either --secret or --secret-file, not both") }
        if let secret {
            guard let trimmed = Self.clean(secret) else { throw SecretError("--secret is empty: copy the secret from the host's join line") }
            return trimmed
        }
        if let secretFile { return try Self.read(file: secretFile) }
        if let value = environment[Self.environmentVariable] {
            guard let trimmed = Self.clean(value) else {
                throw SecretError("\(Self.environmentVariable) is set but empty: copy the secret from the host's join line")
            }
            return trimmed
        }
        guard isatty(STDIN_FILENO) == 1 else {
            throw SecretError(
                "no session secret: set \(Self.environmentVariable) as the host's join line does, or give --secret-file PATH (- reads stdin); stdin is not a terminal to ask on")
        }
        guard let typed = Self.prompt("session secret (from the host's join line): "), let trimmed = Self.clean(typed) else {
            throw SecretError("no session secret was typed")
        }
        return trimmed
    }

    private static func clean(_ text: String) -> String? {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        return trimmed.isEmpty ? nil : trimmed
    }

    private static func read(file path: String) throws -> String {
        if path == "-" {
            // readLine shares stdin's buffer with the headless command reader, so nothing after this line is lost.
            guard let line = Swift.readLine(strippingNewline: true), let secret = clean(line) else {
                throw SecretError("--secret-file -: stdin held no secret on its first line")
            }
            return secret
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw SecretError("secret file \(path) does not exist")
        }
        guard !isDirectory.boolValue else { throw SecretError("secret file \(path) is a directory; give the file holding the secret") }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw SecretError("cannot read secret file \(path): permission denied or unreadable")
        }
        let firstLine = String(decoding: data.prefix(4096), as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).first
        guard let secret = firstLine.map(String.init).flatMap(clean) else {
            throw SecretError("secret file \(path) is empty: put the secret from the host's join line on its first line")
        }
        return secret
    }

    /// Asks on the terminal with echo off (restored even on error).
    private static func prompt(_ question: String) -> String? {
        FileHandle.standardError.write(Data(question.utf8))
        var saved = termios()
        let canHide = tcgetattr(STDIN_FILENO, &saved) == 0
        if canHide {
            var quiet = saved
            quiet.c_lflag &= ~tcflag_t(ECHO)
            tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet)
        }
        let line = Swift.readLine(strippingNewline: true)
        if canHide { tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved) }
        FileHandle.standardError.write(Data("\n".utf8))
        return line
    }
}

/// A secret that could not be had, with what to do instead.
struct SecretError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
