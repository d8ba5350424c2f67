import EditorCore
import Testing

@Suite struct TerminalSizeTests {
    @Test func minimumIsFortyByTwelve() {
        #expect(TerminalSize.minimum == TerminalSize(columns: 40, rows: 12))
    }
}
