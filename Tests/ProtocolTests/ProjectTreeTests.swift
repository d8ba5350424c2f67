import CodeSyncTestSupport
import CodeSyncProtocol
import Foundation
import Testing

/// A temporary project folder (and a sibling "outside" folder for escape attempts).
struct ProjectFixture {
    let base: URL
    var root: URL { base.appendingPathComponent("project") }
    var outside: URL { base.appendingPathComponent("outside") }

    init() throws {
        base = FileManager.default.temporaryDirectory.appendingPathComponent("codesync-project-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: base.appendingPathComponent("project"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: base.appendingPathComponent("outside"), withIntermediateDirectories: true)
        try Data("top secret\n".utf8).write(to: base.appendingPathComponent("outside/secret.txt"))
    }

    func write(_ path: String, _ text: String) throws {
        let url = root.appendingPathComponent(path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
    }

    func symlink(_ path: String, to destination: String) throws {
        let url = root.appendingPathComponent(path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: url.path, withDestinationPath: destination)
    }

    func contents(_ path: String) -> String? {
        FileManager.default.contents(atPath: root.appendingPathComponent(path).path).map { String(decoding: $0, as: UTF8.self) }
    }

    func remove() { try? FileManager.default.removeItem(at: base) }
}

@Suite(.ownThreads) struct IgnoreRuleTests {
    private func ignored(_ rules: String, _ path: String, directory: Bool = false) -> Bool {
        IgnoreStack().pushing(IgnoreFile(text: rules), depth: 0).ignores(path.split(separator: "/").map(String.init), isDirectory: directory)
    }

    @Test func globsAnchorsAndDoubleStars() {
        #expect(ignored("*.log", "a/b/c.log"))
        #expect(!ignored("*.log", "a/b/c.logx"))
        #expect(ignored("/build", "build", directory: true))
        #expect(!ignored("/build", "src/build", directory: true))
        #expect(ignored("build", "src/build", directory: true))
        #expect(ignored("doc/*.txt", "doc/a.txt"))
        #expect(!ignored("doc/*.txt", "doc/x/a.txt"))
        #expect(ignored("**/tmp", "a/b/tmp", directory: true))
        #expect(ignored("**/tmp", "tmp", directory: true))
        #expect(ignored("a/**/b", "a/b"))
        #expect(ignored("a/**/b", "a/x/y/b"))
        #expect(ignored("out/**", "out/x/y"))
        #expect(!ignored("out/**", "out", directory: true))
        #expect(ignored("file?.[ch]", "file1.c"))
        #expect(!ignored("file?.[ch]", "file12.c"))
        #expect(ignored("[!a]x", "bx"))
        #expect(!ignored("[!a]x", "ax"))
        #expect(ignored("[0-9]*", "7up"))
    }

    @Test func negationDirectoryOnlyCommentsAndEscapes() {
        let rules = "# comment\n*.env\n!example.env\nlogs/\n\\#literal\n\\!bang\ntrailing   \n"
        #expect(ignored(rules, "prod.env"))
        #expect(!ignored(rules, "example.env"))
        #expect(ignored(rules, "logs", directory: true))
        #expect(!ignored(rules, "logs"))  // a file named logs: the pattern is for folders
        #expect(ignored(rules, "#literal"))
        #expect(ignored(rules, "!bang"))
        #expect(ignored(rules, "trailing"))
        #expect(!ignored(rules, "# comment"))
        #expect(ignored("", ".git", directory: true))
    }

    @Test func deeperFilesWin() {
        let stack = IgnoreStack().pushing(IgnoreFile(text: "*.gen\n"), depth: 0).pushing(IgnoreFile(text: "!keep.gen\n"), depth: 1)
        #expect(!stack.ignores(["sub", "keep.gen"], isDirectory: false))
        #expect(stack.ignores(["sub", "other.gen"], isDirectory: false))
        #expect(stack.ignores(["keep.gen"], isDirectory: false))
    }

    @Test func hostileGlobsStayFast() {
        // A backtracking matcher would take exponential time on this; one backtrack point does not.
        let pattern = String(repeating: "*a", count: 40) + "b"
        let start = ContinuousClock.now
        #expect(!ignored(pattern, String(repeating: "a", count: 200)))
        #expect(ContinuousClock.now - start < .seconds(2))
    }
}

@Suite(.ownThreads) struct ProjectTreeTests {
    @Test func indexesHonouringIgnoreFilesNestedAndNegated() throws {
        let fixture = try ProjectFixture()
        defer { fixture.remove() }
        try fixture.write(".gitignore", "*.log\nbuild/\n/secret.env\n")
        try fixture.write(".codesyncignore", "private/\n!keep.log\n")
        try fixture.write("main.py", "print(1)\n")
        try fixture.write("keep.log", "kept\n")
        try fixture.write("debug.log", "dropped\n")
        try fixture.write("secret.env", "KEY=1\n")
        try fixture.write("build/out.o", "x")
        try fixture.write("private/notes.txt", "x")
        try fixture.write("src/.gitignore", "*.tmp\n!important.tmp\n")
        try fixture.write("src/a.tmp", "x")
        try fixture.write("src/important.tmp", "y")
        try fixture.write("src/deep/secret.env", "not anchored here\n")
        try fixture.write(".git/config", "[remote]\n")
        try fixture.write("img/logo.png", "\u{89}PNG")
        let tree = try ProjectTree(root: fixture.root.path)
        let paths = tree.entries.map(\.path)
        #expect(paths == [".codesyncignore", ".gitignore", "img/logo.png", "keep.log", "main.py", "src/.gitignore",
                          "src/deep/secret.env", "src/important.tmp"])
        #expect(tree.entry("img/logo.png")?.kind == .binary)
        #expect(tree.entry("main.py") == ProjectEntry(path: "main.py", size: 9, kind: .text))
        #expect(throws: ProjectError.self) { try tree.read("debug.log") }
        #expect(throws: ProjectError.self) { try tree.read(".git/config") }
        #expect(throws: ProjectError.self) { try tree.read("build/out.o") }
        #expect(throws: ProjectError.self) { try tree.read("src/a.tmp") }
        #expect(try tree.read("src/important.tmp").text == "y")
    }

    @Test func largeAndBinaryFilesAreListedNotOpened() throws {
        let fixture = try ProjectFixture()
        defer { fixture.remove() }
        var limits = ProjectTree.Limits()
        limits.maxOpenBytes = 1000
        try fixture.write("big.txt", String(repeating: "x", count: 1001))
        try fixture.write("nul.txt", "a\u{0}b")
        try Data([0xff, 0xfe, 0x41]).write(to: fixture.root.appendingPathComponent("latin.txt"))
        let tree = try ProjectTree(root: fixture.root.path, limits: limits)
        #expect(tree.entry("big.txt")?.kind == .large)
        #expect(throws: ProjectError.self) { try tree.read("big.txt") }
        #expect(throws: ProjectError.self) { try tree.read("nul.txt") }
        #expect(throws: ProjectError.self) { try tree.read("latin.txt") }
        #expect(tree.entry("nul.txt")?.kind == .binary)
        #expect(tree.entry("latin.txt")?.kind == .binary)
    }

    @Test func pathSyntaxAttacksAreRefused() throws {
        let fixture = try ProjectFixture()
        defer { fixture.remove() }
        try fixture.write("a.txt", "a")
        let tree = try ProjectTree(root: fixture.root.path)
        let hostile = [
            "", "/etc/passwd", "../outside/secret.txt", "a/../../outside/secret.txt", "./a.txt", "a.txt/", "a//b",
            "..", ".", "a.txt\u{0}.py", "a\u{1b}[2Jb", "\u{202E}txt.exe", "a\u{200B}.txt",
            String(repeating: "a", count: 256), String(repeating: "a/", count: 70) + "b",
            String(repeating: "x", count: 5000),
        ]
        for path in hostile {
            #expect(throws: ProjectError.self, "\(path.debugDescription)") { try tree.read(path) }
            #expect(throws: ProjectError.self, "\(path.debugDescription)") { try tree.write("x", to: path, mustCreate: true) }
        }
        #expect(fixture.contents("a.txt") == "a")
        // Look-alikes of separators and dots are ordinary names: they stay inside the folder.
        try tree.write("x", to: "\u{2025}\u{FF0F}etc", mustCreate: true)
        #expect(fixture.contents("\u{2025}\u{FF0F}etc") == "x")
        #expect(try tree.read("\u{2025}\u{FF0F}etc").text == "x")
    }

    @Test func symlinksThatLeaveTheTreeAreNeverFollowed() throws {
        let fixture = try ProjectFixture()
        defer { fixture.remove() }
        try fixture.write("real.txt", "inside\n")
        try fixture.write(".gitignore", "hidden.env\n")
        try fixture.write("hidden.env", "KEY=1\n")
        try fixture.symlink("escape.txt", to: fixture.outside.appendingPathComponent("secret.txt").path)
        try fixture.symlink("relative-escape.txt", to: "../outside/secret.txt")
        try fixture.symlink("outdir", to: fixture.outside.path)
        try fixture.symlink("loop", to: ".")
        try fixture.symlink("inner.txt", to: "real.txt")
        try fixture.symlink("to-ignored.txt", to: "hidden.env")
        try fixture.symlink("zero", to: "/dev/zero")
        try fixture.symlink("tty", to: "/dev/tty")
        #expect(mkfifo(fixture.root.appendingPathComponent("fifo").path, 0o600) == 0)
        let tree = try ProjectTree(root: fixture.root.path)
        // Listed: the regular file, the ignore file, and the symlink to a shared file inside.
        #expect(tree.entries.map(\.path) == [".gitignore", "inner.txt", "real.txt"])
        #expect(try tree.read("inner.txt").text == "inside\n")
        #expect(try tree.read("inner.txt").real.string == "real.txt")
        for path in ["escape.txt", "relative-escape.txt", "outdir/secret.txt", "loop/real.txt", "to-ignored.txt", "zero", "tty", "fifo"] {
            #expect(throws: ProjectError.self, "\(path)") { try tree.read(path) }
        }
        // Writes never go through a symlink either: not the link, not a symlinked folder.
        #expect(throws: ProjectError.self) { try tree.write("pwned", to: "escape.txt") }
        #expect(throws: ProjectError.self) { try tree.write("pwned", to: "outdir/new.txt", mustCreate: true) }
        #expect(throws: ProjectError.self) { try tree.rename("real.txt", to: "outdir/stolen.txt") }
        #expect(throws: ProjectError.self) { try tree.delete("outdir/secret.txt") }
        #expect(try String(contentsOf: fixture.outside.appendingPathComponent("secret.txt"), encoding: .utf8) == "top secret\n")
        #expect(!FileManager.default.fileExists(atPath: fixture.outside.appendingPathComponent("new.txt").path))
        #expect(!FileManager.default.fileExists(atPath: fixture.outside.appendingPathComponent("stolen.txt").path))
    }

    @Test func aSymlinkSwappedInAfterTheIndexIsCaughtAtOpen() throws {
        let fixture = try ProjectFixture()
        defer { fixture.remove() }
        try fixture.write("sub/file.txt", "fine\n")
        let tree = try ProjectTree(root: fixture.root.path)
        #expect(tree.entry("sub/file.txt") != nil)
        // The race an attacker with a foot on the host's disk would try: the folder becomes a symlink out.
        try FileManager.default.removeItem(at: fixture.root.appendingPathComponent("sub"))
        try FileManager.default.createDirectory(at: fixture.outside.appendingPathComponent("sub"), withIntermediateDirectories: true)
        try Data("outside\n".utf8).write(to: fixture.outside.appendingPathComponent("sub/file.txt"))
        try fixture.symlink("sub", to: fixture.outside.appendingPathComponent("sub").path)
        #expect(throws: ProjectError.self) { try tree.read("sub/file.txt") }
        #expect(throws: ProjectError.self) { try tree.write("x", to: "sub/file.txt") }
        // And a file swapped for a symlink to a device.
        try fixture.write("dev.txt", "x")
        try tree.rescan()
        try FileManager.default.removeItem(at: fixture.root.appendingPathComponent("dev.txt"))
        try fixture.symlink("dev.txt", to: "/dev/zero")
        #expect(throws: ProjectError.self) { try tree.read("dev.txt") }
    }

    /// Found by the folder fuzzer: a path through a folder that does not exist yet had its later
    /// components checked against no ignore rule at all, so a guest could create (or rename a file
    /// to) `new/key.secret` under a `*.secret` rule, or plant `new/.git/config` (a nested repository's
    /// config, which git run there would obey), and the index then listed them.
    @Test func ignoreRulesHoldBelowFoldersThatDoNotExistYet() throws {
        let fixture = try ProjectFixture()
        defer { fixture.remove() }
        try fixture.write("a.py", "a\n")
        try fixture.write(".gitignore", "*.secret\nbuild/\n")
        let tree = try ProjectTree(root: fixture.root.path)
        // Each under a folder of its own, so that none is made by an earlier one.
        let paths = ["n1/key.secret", "n2/deeper/key.secret", "n3/.git/config", "n4/.git/hooks/pre-commit", "n5/build/out.py", "n6/x/.git"]
        for path in paths {
            #expect(throws: ProjectError.self, "\(path)") { try tree.check(path) }
            #expect(throws: ProjectError.self, "\(path)") { try tree.write("[core]\n", to: path, mustCreate: true) }
            #expect(throws: ProjectError.self, "\(path)") { try tree.rename("a.py", to: path) }
        }
        for folder in paths.map({ String($0.prefix(2)) }) {
            #expect(!FileManager.default.fileExists(atPath: fixture.root.appendingPathComponent(folder).path), "a refused path made \(folder)")
        }
        #expect(fixture.contents("a.py") == "a\n")
        #expect(tree.entries.map(\.path) == [".gitignore", "a.py"])
        // Paths below a new folder that no rule matches are still made.
        try tree.write("ok\n", to: "new/deeper/fine.py", mustCreate: true)
        #expect(fixture.contents("new/deeper/fine.py") == "ok\n")
    }

    @Test func createRenameDeleteStayInsideAndKeepTheIndex() throws {
        let fixture = try ProjectFixture()
        defer { fixture.remove() }
        try fixture.write("a.py", "a\n")
        let tree = try ProjectTree(root: fixture.root.path)
        try tree.write("new\n", to: "pkg/mod.py", mustCreate: true)
        #expect(fixture.contents("pkg/mod.py") == "new\n")
        #expect(tree.entry("pkg/mod.py")?.size == 4)
        #expect(throws: ProjectError.self) { try tree.write("again", to: "pkg/mod.py", mustCreate: true) }
        #expect(throws: ProjectError.self) { try tree.rename("a.py", to: "pkg/mod.py") }
        #expect(fixture.contents("pkg/mod.py") == "new\n")
        try tree.rename("a.py", to: "lib/b.py")
        #expect(fixture.contents("lib/b.py") == "a\n")
        #expect(fixture.contents("a.py") == nil)
        #expect(tree.entry("a.py") == nil && tree.entry("lib/b.py") != nil)
        try tree.write("saved\n", to: "lib/b.py")
        #expect(fixture.contents("lib/b.py") == "saved\n")
        try tree.delete("lib/b.py")
        #expect(fixture.contents("lib/b.py") == nil)
        #expect(tree.entries.map(\.path) == ["pkg/mod.py"])
        #expect(throws: ProjectError.self) { try tree.delete("pkg") }
        #expect(throws: ProjectError.self) { try tree.write("x", to: ".git/hooks/pre-commit", mustCreate: true) }
        #expect(!FileManager.default.fileExists(atPath: fixture.root.appendingPathComponent(".git").path))
    }
}
