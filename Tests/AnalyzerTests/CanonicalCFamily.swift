import CodeSyncAnalyzer

/// Textbook programs of known class, written fresh for these tests, per C-family language. Each
/// entry names the function scored; the class is the textbook one for that algorithm with n the
/// input's size (or value, for number-theoretic routines).
enum CanonicalCFamily {
    struct Program {
        var label: String
        var function: String
        var source: String
    }

    static func samples(_ language: String, _ programs: [Program]) -> [AccuracySample] {
        programs.enumerated().map { i, p in
            AccuracySample(id: "\(language)-\(i)-\(p.function)", language: language, label: p.label, source: p.source, example_call: "\(p.function)()")
        }
    }

    static func java(_ label: String, _ function: String, _ body: String) -> Program {
        Program(label: label, function: function, source: "import java.util.*;\n\npublic class Main {\n" + body + "\n}\n")
    }

    static let javaPrograms: [Program] = [
        java("O(1)", "ends", "    static int ends(int[] a) {\n        return a[0] + a[a.length - 1];\n    }"),
        java("O(1)", "triangle", "    static long triangle(long n) {\n        return n * (n + 1) / 2;\n    }"),
        java("O(1)", "letters", "    static int letters(String s) {\n        int[] c = new int[26];\n        int k = 0;\n        for (int i = 0; i < 26; i++) {\n            if (c[i] == 0) k++;\n        }\n        return k;\n    }"),
        java("O(log n)", "search", "    static int search(int[] a, int x) {\n        int lo = 0, hi = a.length - 1;\n        while (lo <= hi) {\n            int mid = (lo + hi) / 2;\n            if (a[mid] == x) return mid;\n            if (a[mid] < x) lo = mid + 1; else hi = mid - 1;\n        }\n        return -1;\n    }"),
        java("O(log n)", "bits", "    static int bits(int n) {\n        int c = 0;\n        while (n > 0) {\n            c += n & 1;\n            n >>= 1;\n        }\n        return c;\n    }"),
        java("O(log n)", "power", "    static long power(long b, long e) {\n        if (e == 0) return 1;\n        long h = power(b, e / 2);\n        return e % 2 == 0 ? h * h : h * h * b;\n    }"),
        java("O(log n)", "gcd", "    static int gcd(int a, int b) {\n        while (b != 0) {\n            int t = a % b;\n            a = b;\n            b = t;\n        }\n        return a;\n    }"),
        java("O(sqrt n)", "isPrime", "    static boolean isPrime(int n) {\n        for (int i = 2; i * i <= n; i++) {\n            if (n % i == 0) return false;\n        }\n        return n > 1;\n    }"),
        java("O(n)", "sum", "    static long sum(int[] a) {\n        long s = 0;\n        for (int x : a) s += x;\n        return s;\n    }"),
        java("O(n)", "max", "    static int max(int[] a) {\n        int m = a[0];\n        for (int i = 1; i < a.length; i++) m = Math.max(m, a[i]);\n        return m;\n    }"),
        java("O(n)", "reverse", "    static void reverse(int[] a) {\n        int i = 0, j = a.length - 1;\n        while (i < j) {\n            int t = a[i]; a[i] = a[j]; a[j] = t;\n            i++;\n            j--;\n        }\n    }"),
        java("O(n)", "prefix", "    static long[] prefix(int[] a) {\n        long[] p = new long[a.length + 1];\n        for (int i = 0; i < a.length; i++) p[i + 1] = p[i] + a[i];\n        return p;\n    }"),
        java("O(n)", "find", "    static int find(int[] a, int x) {\n        for (int i = 0; i < a.length; i++) {\n            if (a[i] == x) return i;\n        }\n        return -1;\n    }"),
        java("O(n)", "fact", "    static long fact(int n) {\n        if (n <= 1) return 1;\n        return n * fact(n - 1);\n    }"),
        java("O(n)", "fib", "    static long[] memo = new long[100];\n    static long fib(int n) {\n        if (n < 2) return n;\n        if (memo[n] != 0) return memo[n];\n        memo[n] = fib(n - 1) + fib(n - 2);\n        return memo[n];\n    }"),
        java("O(n)", "freq", "    static Map<Integer, Integer> freq(int[] a) {\n        Map<Integer, Integer> m = new HashMap<>();\n        for (int x : a) m.put(x, m.getOrDefault(x, 0) + 1);\n        return m;\n    }"),
        java("O(n)", "kadane", "    static long kadane(int[] a) {\n        long best = a[0], cur = 0;\n        for (int x : a) {\n            cur = Math.max(x, cur + x);\n            best = Math.max(best, cur);\n        }\n        return best;\n    }"),
        java("O(n log n)", "sortedGaps", "    static int sortedGaps(int[] a) {\n        Arrays.sort(a);\n        int best = Integer.MAX_VALUE;\n        for (int i = 1; i < a.length; i++) best = Math.min(best, a[i] - a[i - 1]);\n        return best;\n    }"),
        java("O(n log n)", "mergeSort", "    static void mergeSort(int[] a, int lo, int hi) {\n        if (hi - lo < 2) return;\n        int mid = (lo + hi) / 2;\n        mergeSort(a, lo, mid);\n        mergeSort(a, mid, hi);\n        int[] t = new int[hi - lo];\n        int i = lo, j = mid, k = 0;\n        while (i < mid && j < hi) t[k++] = a[i] <= a[j] ? a[i++] : a[j++];\n        while (i < mid) t[k++] = a[i++];\n        while (j < hi) t[k++] = a[j++];\n        for (k = 0; k < t.length; k++) a[lo + k] = t[k];\n    }"),
        java("O(n log n)", "doubling", "    static int doubling(int n) {\n        int c = 0;\n        for (int i = 0; i < n; i++) {\n            for (int j = 1; j < n; j *= 2) c++;\n        }\n        return c;\n    }"),
        java("O(n log n)", "heapSort", "    static int[] heapSort(int[] a) {\n        PriorityQueue<Integer> pq = new PriorityQueue<>();\n        for (int x : a) pq.add(x);\n        int[] out = new int[a.length];\n        for (int i = 0; i < a.length; i++) out[i] = pq.poll();\n        return out;\n    }"),
        java("O(n log n)", "distinctSorted", "    static int distinctSorted(int[] a) {\n        TreeSet<Integer> s = new TreeSet<>();\n        for (int x : a) s.add(x);\n        return s.size();\n    }"),
        java("O(n^2)", "bubble", "    static void bubble(int[] a) {\n        for (int i = 0; i < a.length; i++)\n            for (int j = 0; j + 1 < a.length - i; j++)\n                if (a[j] > a[j + 1]) { int t = a[j]; a[j] = a[j + 1]; a[j + 1] = t; }\n    }"),
        java("O(n^2)", "pairs", "    static int pairs(int[] a, int k) {\n        int c = 0;\n        for (int i = 0; i < a.length; i++)\n            for (int j = i + 1; j < a.length; j++)\n                if (a[i] + a[j] == k) c++;\n        return c;\n    }"),
        java("O(n^2)", "insertion", "    static void insertion(int[] a) {\n        for (int i = 1; i < a.length; i++) {\n            int x = a[i], j = i - 1;\n            while (j >= 0 && a[j] > x) {\n                a[j + 1] = a[j];\n                j--;\n            }\n            a[j + 1] = x;\n        }\n    }"),
        java("O(n^2)", "dedupe", "    static List<Integer> dedupe(int[] a) {\n        List<Integer> out = new ArrayList<>();\n        for (int x : a) {\n            if (!out.contains(x)) out.add(x);\n        }\n        return out;\n    }"),
        java("O(n^2)", "grid", "    static int[][] grid(int n) {\n        int[][] g = new int[n][n];\n        for (int i = 0; i < n; i++)\n            for (int j = 0; j < n; j++) g[i][j] = i * j;\n        return g;\n    }"),
        java("O(n^3)", "multiply", "    static int[][] multiply(int[][] a, int[][] b) {\n        int n = a.length;\n        int[][] c = new int[n][n];\n        for (int i = 0; i < n; i++)\n            for (int j = 0; j < n; j++)\n                for (int k = 0; k < n; k++) c[i][j] += a[i][k] * b[k][j];\n        return c;\n    }"),
        java("O(n^3)", "floyd", "    static void floyd(int[][] d) {\n        int n = d.length;\n        for (int k = 0; k < n; k++)\n            for (int i = 0; i < n; i++)\n                for (int j = 0; j < n; j++)\n                    if (d[i][k] + d[k][j] < d[i][j]) d[i][j] = d[i][k] + d[k][j];\n    }"),
        java("O(2^n)", "slowFib", "    static long slowFib(int n) {\n        if (n < 2) return n;\n        return slowFib(n - 1) + slowFib(n - 2);\n    }"),
        java("O(2^n)", "subsets", "    static int subsets(int[] a, int target) {\n        int n = a.length, c = 0;\n        for (int mask = 0; mask < (1 << n); mask++) {\n            int s = 0;\n            for (int i = 0; i < n; i++) if ((mask >> i & 1) == 1) s += a[i];\n            if (s == target) c++;\n        }\n        return c;\n    }"),
    ]
}
