import Testing
import CodeSyncTestSupport

@testable import CodeSyncTUI

@Suite(.ownThreads) struct TerminalKeyTests {
    @Test func rawModeControlBytesAreCtrlLetters() {
        #expect(Terminal.key(for: "\u{13}") == .control("s"))
        #expect(Terminal.key(for: "\u{11}") == .control("q"))
        #expect(Terminal.key(for: "\u{1A}") == .control("z"))
        #expect(Terminal.key(for: "\u{12}") == .control("r"))
        #expect(Terminal.key(for: "\r") == .enter)
        #expect(Terminal.key(for: "\t") == .tab)
        #expect(Terminal.key(for: "\u{7F}") == .backspace)
        #expect(Terminal.key(for: "\u{1B}") == .escape)
        #expect(Terminal.key(for: "漢") == .character("漢"))
        #expect(Terminal.key(for: "\u{1C}") == nil)
    }

    @Test func gridDiffFindsOnlyChangedCells() {
        var a = ScreenGrid(columns: 10, rows: 2)
        a.write("hello", row: 0, column: 0, role: .plain)
        var b = a
        b.write("J", row: 1, column: 3, role: .keyword)
        #expect(b.changedCells(since: a) == [13])
        #expect(b.changedCells(since: nil).count == 20)
        #expect(b.changedCells(since: ScreenGrid(columns: 5, rows: 2)).count == 20)
        var c = b
        c.addMark("\u{301}", row: 0, column: 1)
        #expect(c.changedCells(since: b) == [1])
    }
}
