import CodeSyncTestSupport
import Foundation
import Testing

/// The built binary, its help text, the man page, and the two real environments every other
/// end-to-end test relies on: a Docker engine with the test image, and tmux.
@Suite(.ownThreads) struct FoundationTests {
    @Test func versionFlagPrintsTheVersion() throws {
        let binary = try TestEnvironment.codesyncBinary()
        let result = try Command.run([binary.path, "--version"], timeout: 30)
        #expect(result.status == 0)
        #expect(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ".").count == 3)
    }

    @Test func unknownSubcommandFailsWithAMessage() throws {
        let binary = try TestEnvironment.codesyncBinary()
        let result = try Command.run([binary.path, "frobnicate"], timeout: 30)
        #expect(result.status != 0)
        #expect(result.stderr.contains("frobnicate"))
    }

    @Test func manPageHasNoWarnings() throws {
        let page = TestEnvironment.packageRoot().appendingPathComponent("man/codesync.1").path
        guard Command.exists("groff") else {
            let _: Bool? = try TestEnvironment.missing("groff", fix: "run scripts/test, which installs it")
            return
        }
        let result = try Command.run(["groff", "-man", "-ww", "-z", page], timeout: 30)
        #expect(result.status == 0)
        #expect(result.stderr.isEmpty, "groff warnings:\n\(result.stderr)")
    }

    @Test func manPageDocumentsEverySubcommand() throws {
        let binary = try TestEnvironment.codesyncBinary()
        let help = try Command.run([binary.path, "--help"], timeout: 30).stdout
        let page = try String(
            contentsOf: TestEnvironment.packageRoot().appendingPathComponent("man/codesync.1"), encoding: .utf8)
        let subcommands = Self.subcommands(inHelp: help)
        #expect(!subcommands.isEmpty, "no SUBCOMMANDS section in:\n\(help)")
        var names = subcommands
        if subcommands.contains("bench") {
            let benchHelp = try Command.run([binary.path, "bench", "--help"], timeout: 30).stdout
            names += Self.subcommands(inHelp: benchHelp).map { "bench \($0)" }
        }
        for name in names {
            #expect(page.contains(".SS \"codesync \(name)") || page.contains(".SS codesync \(name)"),
                    "man/codesync.1 has no section for `codesync \(name)`")
        }
    }

    @Test func dockerRunsTheTestImage() throws {
        guard let (_, image) = try DockerFixture.withImage("python") else { return }
        let result = try Command.run(
            ["docker", "run", "--rm", "--network", "none", image, "python3", "-c", "print(42)"], timeout: 60)
        #expect(result.status == 0, "docker run failed: \(result.stderr)")
        #expect(result.stdout == "42\n")
    }

    @Test func tmuxShowsTheBinary() throws {
        let binary = try TestEnvironment.codesyncBinary()
        guard let tmux = try TmuxFixture.start("\(binary.path) --help; sleep 30", columns: 100, rows: 30) else { return }
        let screen = try tmux.waitFor("USAGE: codesync")
        #expect(screen.contains("SUBCOMMANDS"))
    }

    /// Names listed under SUBCOMMANDS in argument-parser's help output.
    static func subcommands(inHelp help: String) -> [String] {
        guard let start = help.range(of: "SUBCOMMANDS:") else { return [] }
        return help[start.upperBound...].split(separator: "\n").compactMap { line in
            // Command names are indented by exactly two spaces; wrapped descriptions by more.
            guard line.hasPrefix("  "), !line.hasPrefix("   ") else { return nil }
            let word = line.trimmingCharacters(in: .whitespaces).split(separator: " ").first.map(String.init)
            guard let word, word.first?.isLetter == true else { return nil }
            return word
        }.filter { $0 != "See" }
    }
}
