import EditorCore
import Testing
import CodeSyncTestSupport

@Suite(.ownThreads) struct TerminalSanitizerTests {
    @Test func plainTextNewlinesAndTabsPass() {
        #expect(TerminalSanitizer.sanitize("a\tb\nçé 日本 🎉\n") == "a\tb\nçé 日本 🎉\n")
    }

    @Test func escapeSequencesAreRemoved() {
        #expect(TerminalSanitizer.sanitize("\u{1B}[31mred\u{1B}[0m") == "red")
        #expect(TerminalSanitizer.sanitize("\u{1B}[2J\u{1B}[H\u{1B}[?1049hx") == "x")
        #expect(TerminalSanitizer.sanitize("\u{1B}]0;title\u{7}after") == "after")
        #expect(TerminalSanitizer.sanitize("\u{1B}]52;c;aGk=\u{1B}\\clip") == "clip")
        #expect(TerminalSanitizer.sanitize("\u{1B}Pq#0;2;0;0;0\u{1B}\\ok") == "ok")
        #expect(TerminalSanitizer.sanitize("\u{1B}(0\u{1B}7x\u{1B}8") == "x")
    }

    @Test func strayControlsBecomeVisible() {
        #expect(TerminalSanitizer.sanitize("bell\u{7} bs\u{8} nul\u{0} del\u{7F}") == "bell␇ bs␈ nul␀ del␡")
        #expect(TerminalSanitizer.sanitize("esc at end\u{1B}") == "esc at end␛")
        #expect(TerminalSanitizer.sanitize("\u{1B}\u{1}x") == "␛␁x")
        #expect(TerminalSanitizer.sanitize("50%\r100%\r\n") == "50%␍100%\n")
        #expect(TerminalSanitizer.sanitize("c1:\u{9B}31m bidi:\u{202E}x") == "c1:\u{FFFD}31m bidi:\u{FFFD}x")
    }

    @Test func unterminatedStringStopsAtLineEnd() {
        #expect(TerminalSanitizer.sanitize("\u{1B}]0;no end\nvisible\n") == "\nvisible\n")
    }

    @Test func invalidUTF8BecomesReplacement() {
        #expect(TerminalSanitizer.sanitize(bytes: [0x61, 0xFF, 0x62, 0xC3]) == "a\u{FFFD}b\u{FFFD}")
    }

    @Test func chunkBoundariesDoNotMatter() {
        let text = "ok \u{1B}[1;32mgreen\u{1B}[0m é🎉\r\n\u{1B}]0;t\u{7}end\u{7}\n"
        let whole = TerminalSanitizer.sanitize(text)
        #expect(whole == "ok green é🎉\nend␇\n")
        let bytes = Array(text.utf8)
        for size in 1...7 {
            var sanitizer = TerminalSanitizer()
            var out = ""
            var index = 0
            while index < bytes.count {
                out += sanitizer.feed(Array(bytes[index..<min(bytes.count, index + size)]))
                index += size
            }
            out += sanitizer.finish()
            #expect(out == whole, "slice size \(size)")
        }
    }
}
