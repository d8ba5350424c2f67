import CodeSyncRunner
import CodeSyncTestSupport
import CodeSyncTUI
import Testing

/// EditorCore keeps its own copy of the sandbox's file names (it does not import the runner): the
/// copy must be the runner's, or a traceback naming `main.py` stops being a jump.
@Suite(.ownThreads) struct SandboxFileNamesTests {
    @Test func theOutputPaneKnowsEveryBuiltInLanguagesSandboxFile() {
        let runner = Dictionary(uniqueKeysWithValues: Language.builtIn.map { ($0.name, $0.fileName) })
        #expect(runner == OutputRun.sandboxFileNames)
        #expect(OutputRun.sandboxFileName(language: "python") == "main.py")
        #expect(OutputRun.sandboxFileName(language: "cobol") == nil)
    }
}
