import CodeSyncAnalyzer
import Testing
import CodeSyncTestSupport

/// The tokenizer and parser on Python 3.12 syntax, checked through the functions they find and the
/// errors they report.
@Suite(.ownThreads) struct ParserTests {
    private func names(_ source: String) -> [String] {
        PythonSource.functionLocations(in: source).map { "\($0.name)@\($0.line)" }
    }

    @Test func modernSyntaxParsesWithoutErrors() {
        let source = #"""
            from __future__ import annotations
            import os.path as osp, sys
            from . import (a, b as c,)
            type Pair[T] = tuple[T, T]
            class Box[T: (int, str), *Ts, **P](Base, metaclass=Meta):
                x: int = 0
                @property
                def value[U](self, /, a: int = 1, *args: *Ts, key=None, **kw) -> "T":
                    global g
                    return self.x
                async def fetch(self):
                    async with open(x) as f, open(y) as g:
                        async for line in f:
                            await g.write(line)
                    return [i async for i in self.gen() if i]
            def handle(cmd):
                match cmd:
                    case ["go", direction] | ["move", direction]:
                        pass
                    case Point(x=0, y=0) as origin if origin:
                        pass
                    case {"k": v, **rest}:
                        pass
                    case [1, *others]:
                        pass
                    case -1 | 2.5 | 3j | None:
                        pass
                    case _:
                        pass
            def misc(data):
                nonlocal_free = lambda *a, **k: (yield)
                if (n := len(data)) > 10 and not data[0] is None:
                    del data[0], data[-1]
                x = 1_000_000 + 0x_ff + 0o17 + 0b1010 + 1.5e-3 + .5 + 2j
                s = f"{x!r:>{n}} {data["k"]} {'nested' + f'{x}'}" rb'\d' Rb"raw" u'u' b'''bytes'''
                t = f"""multi
            {x
            }"""
                try:
                    raise ValueError("x") from None
                except* (TypeError, ValueError) as eg:
                    pass
                finally:
                    assert x, "message"
                with (open(a) as f,
                      open(b) as g):
                    pass
                y = [i for i in range(10) if i % 2 if i] + [*data, *data]
                z = {**{}, 'a': 1} | {k: v for k, v in zip(a, b)}
                w = x if x else \
                    y
                print(*data, sep="", end="\n"); return z[1:2, ::3]
            """#
        #expect(PythonSource.syntaxIssues(in: source) == [])
        #expect(names(source) == ["value@8", "fetch@11", "handle@16", "misc@30"])
    }

    @Test func softKeywordsStayNames() {
        let source = """
            match = 1
            match.x = 2
            print(match, type)
            type = 3
            case = [match]
            def match_(_): return _
            """
        #expect(PythonSource.syntaxIssues(in: source) == [])
        #expect(names(source) == ["match_@6"])
    }

    @Test func brokenStatementCostsOnlyItself() {
        let source = """
            def a():
                x = (1 +
                return 2
            def b():
                y = ]
                z = 3
            def c(:
                pass
            def d():
                return "unterminated
            def e():
                pass
            """
        let issues = PythonSource.syntaxIssues(in: source)
        #expect(issues.map(\.line) == [2, 5, 7, 10])
        // c's broken header loses c and its indented body; everything else survives.
        #expect(names(source) == ["a@1", "b@4", "d@9", "e@11"])
    }

    @Test func unexpectedIndentIsReportedAndSkipped() {
        let source = """
            x = 1
                y = 2
            def f():
                pass
            """
        #expect(PythonSource.syntaxIssues(in: source).map(\.line) == [2])
        #expect(names(source) == ["f@3"])
    }

    @Test func decoratedFunctionsReportTheDefLine() {
        let source = """
            @decorator(
                arg=1)
            @other
            def f():
                def inner(): pass
            """
        #expect(names(source) == ["f@4", "inner@5"])
    }

    @Test func tripleQuotedStringsAndContinuationsKeepLineNumbers() {
        let source = """
            s = '''
            def not_a_function():
            '''
            t = 1 + \\
                2
            def real():
                pass
            """
        #expect(PythonSource.syntaxIssues(in: source) == [])
        #expect(names(source) == ["real@6"])
    }
}
