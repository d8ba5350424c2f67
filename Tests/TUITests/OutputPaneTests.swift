import CodeSyncTestSupport
import Testing

@testable import CodeSyncTUI

/// SGR parameters as program output writes them.
private func style(_ sgr: String, from start: OutputStyle = .plain) -> OutputStyle {
    var s = start
    s.apply(sgr: Array(sgr.utf8))
    return s
}

@Suite(.ownThreads) struct OutputStyleTests {
    @Test func basicBrightAndAttributes() {
        #expect(style("31") == OutputStyle(foreground: .palette(1)))
        #expect(style("1;4;7;92;44") == OutputStyle(foreground: .palette(10), background: .palette(4), attributes: [.bold, .underline, .reverse]))
        #expect(style("") == .plain)
        #expect(style("0", from: style("1;31")) == .plain)
        #expect(style("22;24;27;39;49", from: style("1;4;7;31;41")) == .plain)
        #expect(style("2") == OutputStyle(attributes: [.dim]))
    }

    @Test func extendedColours() {
        #expect(style("38;5;208") == OutputStyle(foreground: .palette(208)))
        #expect(style("48;5;17;1") == OutputStyle(background: .palette(17), attributes: [.bold]))
        #expect(style("38;2;255;128;0") == OutputStyle(foreground: .rgb(255, 128, 0)))
        #expect(style("38:2::10:20:30;4") == OutputStyle(foreground: .rgb(10, 20, 30), attributes: [.underline]))
        #expect(style("38:5:9") == OutputStyle(foreground: .palette(9)))
        // Truncated or out-of-range extended colours change nothing.
        #expect(style("38;5") == .plain)
        #expect(style("38;5;999") == .plain)
        #expect(style("38;2;1") == .plain)
    }

    @Test func hostileParametersAreBounded() {
        #expect(style("99999999999999999999;31") == OutputStyle(foreground: .palette(1)))
        #expect(style(String(repeating: ";", count: 10_000) + "31") == .plain, "parameters past the first 64 are ignored")
        #expect(style("3x1") == .plain, "a byte that is not a parameter voids the sequence")
    }

    @Test func nearestTerminalColours() {
        #expect(OutputColour.palette(9).terminalIndex(available: 256) == 9)
        #expect(OutputColour.palette(9).terminalIndex(available: 8) == 1, "bright red on 8 colours is red")
        #expect(OutputColour.rgb(255, 0, 0).terminalIndex(available: 256) == 196)
        #expect(OutputColour.rgb(128, 128, 128).terminalIndex(available: 256) == 244)
        #expect(OutputColour.rgb(0, 0, 0).terminalIndex(available: 256) == 16)
        #expect(OutputColour.rgb(250, 10, 10).terminalIndex(available: 16) == 9)
        #expect(OutputColour.palette(208).terminalIndex(available: 8) == 1 || OutputColour.palette(208).terminalIndex(available: 8) == 3)
        #expect(OutputColour.default.terminalIndex(available: 256) == nil)
    }
}

@Suite(.ownThreads) struct OutputLogTests {
    static func log(_ chunks: [String], isError: Bool = false) -> OutputLog {
        var log = OutputLog()
        log.apply(.started(by: "alice", language: "python"))
        for chunk in chunks { log.apply(.output(chunk, isError: isError)) }
        return log
    }

    @Test func coloursAreKeptPerCharacter() {
        let log = Self.log(["plain \u{1B}[1;31mred\u{1B}[0m \u{1B}[38;5;208mor", "ange\u{1B}[m.\n"])
        let line = log.lines[1]
        #expect(line.text == "plain red orange.")
        #expect(line.style(at: 0) == .plain)
        #expect(line.style(at: 6) == OutputStyle(foreground: .palette(1), attributes: [.bold]))
        #expect(line.style(at: 9) == .plain)
        #expect(line.style(at: 10) == OutputStyle(foreground: .palette(208)))
        #expect(line.style(at: 15) == OutputStyle(foreground: .palette(208)), "the style carries across chunks")
        #expect(line.style(at: 16) == .plain)
    }

    @Test func carriageReturnRewritesTheLine() {
        let log = Self.log(["10%\r", "20%\r100%\n", "hello\rab\n", "done\r\n"])
        #expect(log.lines.dropFirst().map(\.text) == ["100%", "abllo", "done"])
    }

    @Test func eraseInLineAfterCarriageReturn() {
        let log = Self.log(["Downloading 100%\r\u{1B}[2KDone\n", "abcdef\r\u{1B}[Kxy\n", "abcdef\u{1B}[1K!\n"])
        #expect(log.lines.dropFirst().map(\.text) == ["Done", "xy", "      !"])
    }

    @Test func tabsAreExpandedToStopsOfEight() {
        let log = Self.log(["a\tb\tc\n", "漢\tx\n", "\tlead\n"])
        #expect(log.lines.dropFirst().map(\.text) == ["a       b       c", "漢      x", "        lead"])
    }

    @Test func blankLinesStayAndStreamsDoNotMix() {
        var log = Self.log(["out1\n\nout", "2\n"])
        log.apply(.output("err\n", isError: true))
        #expect(log.lines.dropFirst().map(\.text) == ["out1", "", "out2", "err"])
        #expect(log.lines.last?.kind == .stderr)
    }

    @Test func aVeryLongLineContinuesOnTheNextOne() {
        let log = Self.log([String(repeating: "x", count: OutputLog.maxLineLength + 10) + "\n"])
        #expect(log.lines.count == 3)
        #expect(log.lines[1].scalars.count == OutputLog.maxLineLength)
        #expect(log.lines[2].text == String(repeating: "x", count: 10))
    }

    @Test func aMillionSGRsInOneLineCostOnlyTheirText() {
        let chunk = String(repeating: "\u{1B}[31m\u{1B}[1;38;2;1;2;3m\u{1B}[0m", count: 10_000)
        var log = OutputLog()
        log.apply(.started(by: "eve", language: "python"))
        for _ in 0..<34 { log.apply(.output(chunk, isError: false)) }  // 10^6 sequences
        log.apply(.output("x\n", isError: false))
        #expect(log.lines.count == 2)
        #expect(log.lines[1].text == "x")
        #expect(log.lines[1].styles.isEmpty, "only plain text was written")
    }

    @Test func historyKeepsTheLastRunsWithWhoAndWhichVersion() {
        var log = OutputLog()
        log.maxRuns = 3
        for i in 1...5 {
            log.apply(.started(by: "user\(i)", language: "python"))
            log.apply(.version(String(repeating: "\(i)", count: 16)))
            log.apply(.output("out \(i)\n", isError: false))
            log.apply(.finished(summary: "exited with code 0", success: true, durationMs: 5))
        }
        #expect(log.runs.map(\.number) == [3, 4, 5])
        #expect(log.runs.map(\.by) == ["user3", "user4", "user5"])
        #expect(log.lines.first?.text == "▶ user3 started a python run · version 33333333")
        #expect(!log.lines.contains { $0.text == "out 2" })
        #expect(log.lines.contains { $0.text == "out 3" })
    }

    @Test func aVersionThatIsNotOneIsIgnored() {
        var log = Self.log([])
        log.apply(.version("\u{1B}[31mnot-a-version"))
        log.apply(.version("ABCDEF0123456789"))
        log.apply(.version(String(repeating: "a", count: 17)))
        #expect(log.runs.last?.version == nil)
        #expect(log.lines[0].text == "▶ alice started a python run")
    }
}

@Suite(.ownThreads) struct ErrorLocationTests {
    static let python = ErrorLocations.fileNames(bufferName: "demo.py", sandboxName: "main.py")

    static func find(_ line: String, _ names: Set<String> = python) -> (String, Int, Int?)? {
        ErrorLocations.find(in: line, fileNames: names).map { ($0.file, $0.line, $0.column) }
    }

    @Test func pythonTracebacksAndWarnings() {
        #expect(Self.find("  File \"/tmp/main.py\", line 12, in <module>")! == ("/tmp/main.py", 12, nil))
        #expect(Self.find("  File \"demo.py\", line 3")! == ("demo.py", 3, nil))
        #expect(Self.find("/tmp/main.py:7: SyntaxWarning: invalid escape sequence")! == ("/tmp/main.py", 7, nil))
        #expect(Self.find("  File \"/usr/lib/python3.12/json/__init__.py\", line 346, in loads") == nil, "not the buffer's file")
    }

    @Test func compilersGoJavaAndNode() {
        let c = ErrorLocations.fileNames(bufferName: "prog.c", sandboxName: "main.c")
        #expect(Self.find("main.c:5:3: error: expected ';' before 'return'", c)! == ("main.c", 5, 3))
        #expect(Self.find("prog.c:12:1: warning: unused", c)! == ("prog.c", 12, 1))
        let go = ErrorLocations.fileNames(bufferName: "x.go", sandboxName: "main.go")
        #expect(Self.find("./main.go:9:2: undefined: fmt.Printn", go)! == ("./main.go", 9, 2))
        #expect(Self.find("\t/tmp/main.go:14 +0x1d", go)! == ("/tmp/main.go", 14, nil))
        let java = ErrorLocations.fileNames(bufferName: "Main.java", sandboxName: "Main.java")
        #expect(Self.find("\tat Main.divide(Main.java:12)", java)! == ("Main.java", 12, nil))
        #expect(Self.find("Main.java:5: error: ';' expected", java)! == ("Main.java", 5, nil))
        let node = ErrorLocations.fileNames(bufferName: "app.js", sandboxName: "main.js")
        #expect(Self.find("    at f (/tmp/main.js:12:5)", node)! == ("/tmp/main.js", 12, 5))
        #expect(Self.find("    at /tmp/main.js:3:9", node)! == ("/tmp/main.js", 3, 9))
        #expect(Self.find("/tmp/main.js:3", node)! == ("/tmp/main.js", 3, nil))
        #expect(Self.find("    at Module._compile (node:internal/modules/cjs/loader:1554:14)", node) == nil)
    }

    @Test func onlyWholeNamesAndRealNumbers() {
        #expect(Self.find("xmain.py:3: no") == nil)
        #expect(Self.find("main.pyc:3: no") == nil)
        #expect(Self.find("main.py:0: no") == nil)
        #expect(Self.find("main.py:12abc") == nil)
        #expect(Self.find("main.py:999999999999: big") == nil)
        #expect(Self.find("see main.py:4 and demo.py:5")! == ("main.py", 4, nil))
        #expect(ErrorLocations.find(in: "main.py:3", fileNames: []) == nil)
    }

    @Test func hostileLinesCostLinearTime() {
        // Many colons, many quotes, a very long path: each is looked at a bounded number of times.
        let colons = String(repeating: "a:1", count: 100_000)
        #expect(Self.find(colons) == nil)
        let quotes = String(repeating: "File \"", count: 50_000)
        #expect(Self.find(quotes) == nil)
        let path = String(repeating: "d/", count: 100_000) + "main.py:4"
        #expect(Self.find(path)?.1 == 4, "only the last part of a long path is read")
    }
}

/// The output log under random program output: whatever the chunking, the same lines, and no line
/// holds anything that could move or restyle the terminal. `CODESYNC_FUZZ_LONG=1` runs many more.
@Suite(.ownThreads) struct OutputLogFuzzTests {
    static let pieces = [
        "\u{1B}[", "\u{1B}]", "\u{1B}P", "\u{1B}", "\u{07}", "\r", "\n", "\t", "\u{08}", "31", ";", ":", "m", "K", "2K", "?",
        " ", "\u{1B}\\", "é", "🎉", "漢", "e\u{301}", "\u{9B}", "\u{202E}", "text", "38;5;", "48;2;1;2;3", "\u{7F}", "\u{0}",
        "main.py:3", "File \"main.py\", line 2",
    ]

    @Test func randomOutputKeepsTheLogClean() {
        let cases = TestEnvironment.value("CODESYNC_FUZZ_LONG") == "1" ? 50_000 : 500
        var rng = SeededGenerator(seed: 0x0_5EED_16)
        for n in 0..<cases {
            var chunks: [String] = []
            for _ in 0..<Int.random(in: 1...6, using: &rng) {
                chunks.append((0..<Int.random(in: 0...30, using: &rng)).map { _ in Self.pieces.randomElement(using: &rng)! }.joined())
            }
            let isError = Bool.random(using: &rng)
            var whole = OutputLog(), chunked = OutputLog()
            for log in [0, 1] {
                var l = OutputLog()
                l.apply(.started(by: "fuzz", language: "python"))
                if log == 0 { l.apply(.output(chunks.joined(), isError: isError)) } else { for c in chunks { l.apply(.output(c, isError: isError)) } }
                l.apply(.finished(summary: "done", success: true, durationMs: 1))
                if log == 0 { whole = l } else { chunked = l }
            }
            #expect(whole.lines == chunked.lines, "case \(n): \(chunks.map(\.debugDescription))")
            for line in whole.lines {
                #expect(line.styles.isEmpty || line.styles.count == line.scalars.count)
                #expect(line.scalars.count <= OutputLog.maxLineLength)
                let bad = line.scalars.first { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) || (0x202A...0x202E).contains($0.value) }
                #expect(bad == nil, "case \(n): \(line.text.debugDescription)")
            }
            if whole.lines != chunked.lines { return }
        }
    }
}
