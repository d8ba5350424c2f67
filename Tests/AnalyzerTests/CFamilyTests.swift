import CodeSyncAnalyzer
import CodeSyncTestSupport
import Foundation
import Testing

/// The C-family front ends (Java, JavaScript, Go, C, C++): textbook sets, syntax errors, and
/// CodeComplex Java.
@Suite(.ownThreads) struct CFamilyTests {
    private func score(_ language: String, _ programs: [CanonicalCFamily.Program]) -> AccuracyTable {
        let table = AccuracyTable(CanonicalCFamily.samples(language, programs))
        print(table.text(title: "canonical \(language), per function, exact class"))
        for miss in table.misses { print("  miss \(miss.id): expected \(miss.expected), got \(miss.got)") }
        return table
    }

    @Test func canonicalJava() {
        let table = score("java", CanonicalCFamily.javaPrograms)
        #expect(table.total >= 30)
        #expect(table.percent >= 90)
    }

    @Test func canonicalC() {
        let table = score("c", CanonicalCFamily.cPrograms)
        #expect(table.total >= 30)
        #expect(table.percent >= 90)
    }

    @Test func canonicalCpp() {
        let table = score("cpp", CanonicalCFamily.cppPrograms)
        #expect(table.total >= 30)
        #expect(table.percent >= 90)
    }

    @Test func canonicalGo() {
        let table = score("go", CanonicalCFamily.goPrograms)
        #expect(table.total >= 30)
        #expect(table.percent >= 90)
    }

    @Test func canonicalJavaScript() {
        let table = score("javascript", CanonicalCFamily.jsPrograms)
        #expect(table.total >= 30)
        #expect(table.percent >= 90)
    }
}

/// The language rules of the C-family front ends, each on a textbook-sized program, and how they
/// treat broken or hostile input.
@Suite(.ownThreads) struct CFamilyRuleTests {
    private func overall(_ source: String, _ language: String) -> String {
        Analyzer.analyze(source: source, language: language).overall?.class.rawValue ?? "none"
    }

    @Test func readingOneTokenIsConstant() {
        // A hand-written reader's loop over bytes is per token, not per input.
        let java = """
            import java.io.*;
            public class Main {
                static DataInputStream in = new DataInputStream(System.in);
                static int nextInt() throws IOException {
                    int r = 0, b = in.read();
                    while (b >= '0') { r = r * 10 + b - '0'; b = in.read(); }
                    return r;
                }
                public static void main(String[] args) throws IOException {
                    int n = nextInt();
                    long s = 0;
                    for (int i = 0; i < n; i++) s += nextInt();
                    System.out.println(s);
                }
            }
            """
        #expect(overall(java, "java") == "O(n)")
    }

    @Test func threadStartRunsRun() {
        let java = """
            public class Main implements Runnable {
                public void run() {
                    int n = 1000;
                    java.util.Scanner sc = new java.util.Scanner(System.in);
                    n = sc.nextInt();
                    for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) {}
                }
                public static void main(String[] args) {
                    new Thread(null, new Main(), "main", 1 << 26).start();
                }
            }
            """
        #expect(overall(java, "java") == "O(n^2)")
    }

    @Test func methodOfANewObjectIsTheProgramsMethod() {
        let java = """
            import java.util.*;
            public class Main {
                void solve() {
                    Scanner sc = new Scanner(System.in);
                    int n = sc.nextInt();
                    int[] a = new int[n];
                    for (int i = 0; i < n; i++) a[i] = sc.nextInt();
                    Arrays.sort(a);
                }
                public static void main(String[] args) { new Main().solve(); }
            }
            """
        #expect(overall(java, "java") == "O(n log n)")
    }

    @Test func readingNItemsIsNotNTestCases() {
        // `while (n-- > 0)` that fills a list made before it reads one input of n items.
        let java = """
            import java.util.*;
            public class Main {
                public static void main(String[] args) {
                    Scanner sc = new Scanner(System.in);
                    int n = sc.nextInt();
                    List<Integer> xs = new ArrayList<>();
                    while (n-- > 0) { int x = sc.nextInt(); xs.add(x); }
                    Collections.sort(xs);
                }
            }
            """
        #expect(overall(java, "java") == "O(n log n)")
        // Independent test cases stay per case.
        let cases = """
            #include <cstdio>
            int main() {
                int t;
                scanf("%d", &t);
                while (t--) {
                    long long a, b;
                    scanf("%lld %lld", &a, &b);
                    printf("%lld\\n", a + b);
                }
            }
            """
        #expect(overall(cases, "cpp") == "O(1)")
    }

    @Test func inputReadsInEveryLanguage() {
        #expect(overall("#include <stdio.h>\nint main(){int n;scanf(\"%d\",&n);for(int i=0;i<n;i++)printf(\"x\");}", "c") == "O(n)")
        #expect(overall("#include <iostream>\nusing namespace std;\nint main(){int n; cin >> n; for(int i=0;i<n;i++) for(int j=0;j<n;j++) cout << i;}", "cpp") == "O(n^2)")
        #expect(overall("package main\nimport \"fmt\"\nfunc main() {\n\tvar n int\n\tfmt.Scan(&n)\n\tfor i := 0; i < n; i++ {\n\t\tfmt.Println(i)\n\t}\n}\n", "go") == "O(n)")
        #expect(overall("const lines = require('fs').readFileSync(0, 'utf8').split('\\n');\nconst n = parseInt(lines[0]);\nfor (let i = 1; i < n; i *= 2) console.log(i);\n", "javascript") == "O(log n)")
    }

    @Test func syntaxErrorsAreReportedAndCostOnlyTheirStatement() {
        let java = """
            public class Main {
                static int f(int n) {
                    int x = (n + ;
                    int s = 0;
                    for (int i = 0; i < n; i++) s += i;
                    return s;
                }
            }
            """
        let report = Analyzer.analyze(source: java, language: "java")
        #expect(report.analysed)
        #expect(report.errors.map(\.line) == [3])
        #expect(report.functions.first { $0.name == "f" }?.class == .linear)
        let js = "function g(a) {\n  for (const x of a) {\n    let y = x +* 2;\n  }\n  return a.length;\n}\n"
        let jr = Analyzer.analyze(source: js, language: "js")
        #expect(jr.errors.count == 1)
        #expect(jr.errors.first?.line == 3)
        #expect(jr.functions.first { $0.name == "g" }?.class == .linear)
        for (src, lang) in [("int main( {", "c"), ("func main() {", "go"), ("class A { void f() { \"abc", "java"), ("`${", "javascript")] {
            #expect(!Analyzer.analyze(source: src, language: lang).errors.isEmpty, "\(lang): \(src)")
        }
    }

    @Test func hostileInputNeverCrashesOrHangs() {
        let deep = String(repeating: "(", count: 5_000) + "1" + String(repeating: ")", count: 5_000)
        let blocks = String(repeating: "{", count: 5_000)
        var rng = SystemRandomNumberGenerator()
        let alphabet = Array("{}()[];,<>=+-*/&|!?:.\"'`#\\ \nabcfnrtwi0123456789")
        for lang in ["java", "javascript", "go", "c", "cpp"] {
            for src in ["int f() { return \(deep); }", "void f() \(blocks)", "", "\u{0}\u{FFFF}é", String(repeating: "}", count: 1000)] {
                let r = Analyzer.analyze(source: src, language: lang)
                #expect(r.analysed)
            }
            for _ in 0..<100 {
                let src = String((0..<Int.random(in: 0..<300, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! })
                _ = Analyzer.analyze(source: src, language: lang)
            }
        }
    }

    @Test func languageNamesAndExtensions() {
        for (path, lang) in [("a.java", "java"), ("a.js", "javascript"), ("a.go", "go"), ("a.c", "c"), ("a.cpp", "cpp")] {
            #expect(Analyzer.language(forPath: path) == lang)
            #expect(Analyzer.analyze(source: "", language: lang).analysed)
            #expect(Analyzer.analyze(source: "", language: lang).language == lang)
        }
        #expect(!Analyzer.analyze(source: "fn main() {}", language: "rust").analysed)
    }
}

extension CFamilyRuleTests {
    @Test func printedCallsStillCost() {
        let java = """
            public class Main {
                static long count(int n) { long c = 0; for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) c++; return c; }
                public static void main(String[] args) {
                    java.util.Scanner sc = new java.util.Scanner(System.in);
                    System.out.println(count(sc.nextInt()));
                }
            }
            """
        #expect(Analyzer.analyze(source: java, language: "java").overall?.class == .quadratic)
        let c = "#include <stdio.h>\nint f(int n) { int s = 0; for (int i = 0; i < n; i++) s += i; return s; }\nint main() { int n; scanf(\"%d\", &n); printf(\"%d\\n\", f(n)); }\n"
        #expect(Analyzer.analyze(source: c, language: "c").overall?.class == .linear)
    }
}
