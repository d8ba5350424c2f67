import EditorCore
import Testing
import CodeSyncTestSupport

@Suite(.ownThreads) struct TerminalSizeTests {
    @Test func minimumIsFortyByTwelve() {
        #expect(TerminalSize.minimum == TerminalSize(columns: 40, rows: 12))
    }
}
