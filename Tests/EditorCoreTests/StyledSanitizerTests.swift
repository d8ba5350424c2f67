import EditorCore
import CodeSyncTestSupport
import Testing

/// Records what a styled sanitizer hands over, in order.
struct RecordingSink: TerminalSink, Equatable {
    enum Item: Equatable { case text(String), control(TerminalControl) }
    var items: [Item] = []

    mutating func text(_ scalar: Unicode.Scalar) {
        if case .text(let t) = items.last { items[items.count - 1] = .text(t + String(scalar)) } else { items.append(.text(String(scalar))) }
    }

    mutating func control(_ control: TerminalControl) { items.append(.control(control)) }
}

/// The output pane's sanitizer: SGR, lone CR and erase-in-line are reported; nothing else gets through.
@Suite(.ownThreads) struct StyledSanitizerTests {
    static func run(_ bytes: [UInt8], chunk: Int? = nil) -> [RecordingSink.Item] {
        var sanitizer = TerminalSanitizer(keepingStyles: true)
        var sink = RecordingSink()
        let size = chunk ?? max(1, bytes.count)
        var index = 0
        while index < bytes.count {
            sanitizer.feed(Array(bytes[index..<min(bytes.count, index + size)]), into: &sink)
            index += size
        }
        sanitizer.finish(into: &sink)
        return sink.items
    }

    static func run(_ text: String, chunk: Int? = nil) -> [RecordingSink.Item] { run(Array(text.utf8), chunk: chunk) }

    @Test func sgrCarriageReturnAndEraseLineAreReported() {
        let items = Self.run("a\u{1B}[1;31mb\u{1B}[mc\r50%\u{1B}[2K\r\n")
        #expect(items == [
            .text("a"), .control(.graphicRendition(Array("1;31".utf8))), .text("b"), .control(.graphicRendition([])), .text("c"),
            .control(.carriageReturn), .text("50%"), .control(.eraseLine(.whole)), .text("\n"),
        ])
    }

    @Test func otherSequencesAreStillDroppedOrShown() {
        // Private-marker, intermediate and non-SGR CSIs; OSC (title, clipboard); DCS; a lone ESC; C1.
        let items = Self.run("\u{1B}[?25l\u{1B}[2J\u{1B}[1 m\u{1B}[>4;1m\u{1B}]0;t\u{07}\u{1B}]52;c;aGk=\u{1B}\\\u{1B}Pq\u{1B}\\x\u{9B}31m\u{1B}[3Kz\u{1B}")
        #expect(items == [.text("x\u{FFFD}31mz␛")])
    }

    @Test func theSameReportWhateverTheChunking() {
        let text = "ok \u{1B}[38;2;255;128;0mrgb\u{1B}[0m é🎉\r\u{1B}[K\r\n\u{1B}]0;t\u{7}end\u{7}\u{1B}[4:3m\n"
        let whole = Self.run(text)
        for size in 1...9 { #expect(Self.run(text, chunk: size) == whole, "chunk size \(size)") }
    }

    @Test func overlongParameterListsAreCutNotBuffered() {
        // Past the CSI length cap the sequence is abandoned: the tail shows as text, no SGR is reported.
        let parameters = String(repeating: "1;", count: 400) + "31m"
        let items = Self.run("\u{1B}[" + parameters + "X")
        #expect(items == [.text(String(parameters.dropFirst(255)) + "X")])
    }

    /// Random mixes of text, sequences (complete, cut, overlong), controls and invalid UTF-8, fed in
    /// random chunks: no raw control ever comes out as text, controls are only the three kinds, and
    /// chunking does not change the result. `CODESYNC_FUZZ_LONG=1` runs many more cases.
    @Test func fuzzNothingRawGetsThrough() {
        let cases = TestEnvironment.value("CODESYNC_FUZZ_LONG") == "1" ? 200_000 : 2_000
        var rng = SeededGenerator(seed: 0x5A17_2026)
        let pieces: [[UInt8]] = [
            Array("\u{1B}[".utf8), Array("\u{1B}]".utf8), Array("\u{1B}P".utf8), [0x1B], [0x07], [0x0D], [0x0A], [0x09], [0x08],
            Array("31".utf8), Array(";".utf8), Array(":".utf8), Array("m".utf8), Array("K".utf8), Array("?".utf8), Array(" ".utf8),
            Array("\u{1B}\\".utf8), Array("é".utf8), Array("🎉".utf8), [0xC3], [0xFF], [0x80], [0xE2, 0x80], [0xC2, 0x9B],
            Array("\u{202E}".utf8), Array("text".utf8), Array("38;5;".utf8), Array("48;2;1;2;3".utf8), [0x7F], [0x00],
        ]
        for n in 0..<cases {
            var bytes: [UInt8] = []
            for _ in 0..<Int.random(in: 0...40, using: &rng) { bytes += pieces.randomElement(using: &rng)! }
            let whole = Self.run(bytes)
            let chunked = Self.run(bytes, chunk: Int.random(in: 1...8, using: &rng))
            #expect(whole == chunked, "case \(n): \(bytes)")
            for item in whole {
                if case .text(let t) = item {
                    let bad = t.unicodeScalars.first { ($0.value < 0x20 && $0 != "\n" && $0 != "\t") || (0x7F...0x9F).contains($0.value) || (0x202A...0x202E).contains($0.value) }
                    #expect(bad == nil, "case \(n): \(bytes)")
                    if bad != nil { return }
                }
            }
            if whole != chunked { return }
        }
    }
}
