import CodeSyncTestSupport
import Foundation
import Glibc
import Testing

@testable import EditorCore

/// Widths come from the generated Unicode table, not from the C library, so they are the same
/// under every locale and on every machine.
@Suite(.ownThreads) struct DisplayWidthTests {
    @Test func knownCharactersHaveTheirTerminalWidth() {
        let cases: [(Unicode.Scalar, Int, String)] = [
            ("a", 1, "ASCII"), ("é", 1, "Latin-1"), ("\u{AD}", 1, "soft hyphen is drawn"),
            ("漢", 2, "CJK ideograph"), ("한", 2, "Hangul syllable"), ("\u{1161}", 0, "Hangul jungseong joins its syllable"),
            ("Ａ", 2, "fullwidth A"), ("ｱ", 1, "halfwidth katakana"), ("、", 2, "ideographic comma"),
            ("😀", 2, "emoji presentation"), ("🚀", 2, "emoji presentation"), ("🏽", 2, "skin tone modifier on its own"),
            ("❤", 1, "text-presentation heart"), ("\u{1F1FA}", 1, "regional indicator (East Asian Width N)"),
            ("\u{301}", 0, "combining acute"), ("\u{20DD}", 0, "enclosing circle (Me)"), ("\u{3099}", 0, "combining kana voiced mark, wide but a mark"),
            ("\u{200D}", 0, "zero width joiner"), ("\u{200B}", 0, "zero width space"), ("\u{FE0F}", 0, "variation selector 16"),
            ("\u{E0041}", 0, "tag character"), ("\u{202E}", 0, "bidi override"), ("\u{0600}", 1, "Arabic number sign is drawn"),
            ("\u{7}", 1, "control: drawn as a one-cell placeholder"), ("\u{9B}", 1, "C1 control: placeholder"),
            ("\u{E000}", 1, "private use"), ("\u{3248}", 1, "ambiguous circled number (glibc says 2)"),
            ("\u{2FFFD}", 2, "unassigned in plane 2: wide by Unicode's default"), ("\u{10FFFF}", 1, "unassigned elsewhere"),
        ]
        for (scalar, width, what) in cases {
            #expect(DisplayWidth.of(scalar) == width, "U+\(String(scalar.value, radix: 16, uppercase: true)) \(what)")
        }
        #expect(DisplayWidth.unicodeVersion.split(separator: ".").count == 3)
    }

    @Test func tabsExpandToStopsAndStringsSumTheirScalars() {
        #expect(DisplayWidth.of("\tx".unicodeScalars) == 5)
        #expect(DisplayWidth.of("ab\tc".unicodeScalars) == 5)
        #expect(DisplayWidth.of("漢字e\u{301}") == 5)
    }

    /// A ZWJ sequence is drawn as its parts: each emoji two cells, the joiners nothing and not sent to
    /// the terminal, so a terminal cannot fuse them into one glyph narrower than the grid thinks.
    @Test func zwjSequencesAreTheirPartsSideBySide() {
        let family = "👨\u{200D}👩\u{200D}👧"
        #expect(DisplayWidth.of(family) == 6)
        var grid = ScreenGrid(columns: 10, rows: 1)
        let end = grid.write(family + "|", row: 0, column: 0, role: .plain)
        #expect(end == 7)
        #expect(grid[0, 0].scalar == "👨" && grid[0, 0].width == 2 && grid[0, 1].width == 0)
        #expect(grid[0, 2].scalar == "👩" && grid[0, 4].scalar == "👧" && grid[0, 6].scalar == "|")
        #expect(grid.line(at: 0).hasPrefix("👨👩👧|"))
        // A flag is two regional indicators, one cell each; a skin tone is a wide modifier of its own.
        #expect(DisplayWidth.of("\u{1F1FA}\u{1F1F8}") == 2)
        #expect(DisplayWidth.of("👍🏽") == 4)
    }

    /// The generated table has the shape the lookup assumes: a block number for every block of
    /// code points, whole blocks of 2-bit widths, no width 3, and only width 1 below the fast path.
    @Test func generatedTableHasTheShapeTheLookupAssumes() {
        let stage1 = UnicodeWidthTable.stage1, stage2 = UnicodeWidthTable.stage2
        let blockSize = 1 << Int(UnicodeWidthTable.blockShift)
        #expect(stage1.count == 0x110000 / blockSize)
        #expect(stage2.count % (blockSize / 4) == 0)
        let blocks = stage2.count / (blockSize / 4)
        #expect(stage1.allSatisfy { Int($0) < blocks })
        #expect(stage2.allSatisfy { byte in (0..<4).allSatisfy { byte >> UInt8($0 * 2) & 3 != 3 } })
        for value in UInt32(0)..<UnicodeWidthTable.fastPathEnd {
            #expect(DisplayWidth.tableWidth(value) == 1, "U+\(String(value, radix: 16))")
        }
        #expect(DisplayWidth.tableWidth(0x10FFFF) == 1 && DisplayWidth.tableWidth(0x3FFFD) == 2)
    }

    /// The committed table is what the generator makes from this machine's Unicode data (when its
    /// Unicode version is the table's), so nobody edits it by hand.
    @Test func committedTableMatchesItsGenerator() throws {
        guard Command.exists("python3") else {
            let _: Bool? = try TestEnvironment.missing("python3", fix: "run scripts/test, which installs it")
            return
        }
        let script = TestEnvironment.packageRoot().appendingPathComponent("scripts/generate-width-table").path
        let result = try Command.run(["python3", script, "--check"], timeout: 120)
        if result.status == 2 {
            print("skipped: \(result.stderr)")
            return
        }
        #expect(result.status == 0, "\(result.stderr)")
    }

    /// The whole screen (wide characters, emoji, marks) is the same grid under the C locale and a
    /// UTF-8 one. The C library's `wcwidth`, which the editor used before, answers differently under
    /// the two: that difference is shown too, so this test would catch a locale dependency.
    @Test func screenRendersIdenticallyUnderCAndUTF8Locales() throws {
        var model = fibModel(columns: 80, rows: 24)
        for key in [Key.down, .down, .down, .down, .down, .down, .down, .down, .end] { _ = model.handle(.key(key)) }
        _ = model.handle(.paste("\n# 👨\u{200D}👩\u{200D}👧 e\u{301} Ａ ｱ \u{200B}|"))
        _ = model.handle(.run(.output("漢字 ok ✓\n", isError: false)))

        func render(underLocale name: String) -> (grid: ScreenGrid, wcwidth: Int32?)? {
            guard let locale = newlocale(Int32(1) << LC_CTYPE, name, nil) else { return nil }
            defer { freelocale(locale) }
            // Per thread, so tests running beside this one keep their locale.
            let previous = uselocale(locale)
            defer { uselocale(previous) }
            return (Renderer.render(model), libcWidth("漢"))
        }
        let c = try #require(render(underLocale: "C"))
        let plain = Renderer.render(model)
        #expect(c.grid == plain)
        #expect(c.grid.lines.joined().contains("漢字"))
        if let utf8 = render(underLocale: "C.UTF-8") {
            #expect(utf8.grid == c.grid)
            if let narrow = c.wcwidth, let wide = utf8.wcwidth {
                #expect(narrow != wide, "wcwidth(漢) is \(narrow) under C and \(wide) under C.UTF-8")
            }
        }
    }
}

/// The C library's `wcwidth`, looked up at run time (Glibc's module does not declare it), for the
/// comparison above; nil when the symbol is missing.
private func libcWidth(_ scalar: Unicode.Scalar) -> Int32? {
    guard let handle = dlopen(nil, RTLD_NOW), let symbol = dlsym(handle, "wcwidth") else { return nil }
    typealias WCWidth = @convention(c) (Int32) -> Int32
    return unsafeBitCast(symbol, to: WCWidth.self)(Int32(bitPattern: scalar.value))
}
