/// The tiny programs that wait in a container for the source on stdin, then run it.
///
/// The source arrives first on stdin, framed so the loader reads exactly its bytes and not one
/// more; everything after it stays unread on fd 0 and becomes the program's own stdin. This is what
/// lets a pooled container sit with its interpreter already started until a run arrives.
enum Loader {
    /// Written to stderr by the shell loader after a successful build; never shown.
    static let buildMarker: [UInt8] = Array("\u{1}\u{2}codesync-build-ok\u{2}\u{1}".utf8)

    /// The container command for a language.
    static func command(for language: Language) -> [String] {
        switch language.loader {
        case .python:
            return ["python3", "-u", "-B", "-c", pythonSource(fileName: language.fileName)]
        case .node:
            return ["node", "-e", nodeSource(fileName: language.fileName)]
        case .shell:
            return ["/bin/sh", "-c", shellSource(language)]
        }
    }

    /// The bytes written to stdin for a run: the framed source, then the program's stdin.
    static func payload(source: String, stdin: [UInt8]?, language: Language) -> [UInt8] {
        var bytes: [UInt8]
        switch language.loader {
        case .python, .node:
            let code = Array(source.utf8)
            bytes = Array("\(code.count)\n".utf8) + code
        case .shell:
            // Line-framed: `read` in every POSIX shell consumes a pipe one byte at a time, so it never
            // over-reads into the program's stdin (unlike `head -c` in some busybox builds).
            var text = source.replacingOccurrences(of: "\u{0}", with: "")
            if !text.isEmpty && !text.hasSuffix("\n") { text += "\n" }
            let lines = text.utf8.reduce(0) { $0 + ($1 == 10 ? 1 : 0) }
            bytes = Array("\(lines)\n".utf8) + Array(text.utf8)
        }
        if let stdin { bytes += stdin }
        return bytes
    }

    static func pythonSource(fileName: String) -> String {
        """
        import os, sys
        def _codesync_read(n):
            b = b''
            while len(b) < n:
                c = os.read(0, n - len(b))
                if not c:
                    os._exit(0)
                b += c
            return b
        def _codesync_main():
            h = b''
            while not h.endswith(b'\\n'):
                h += _codesync_read(1)
            data = _codesync_read(int(h))
            path = '/tmp/\(fileName)'
            try:
                with open(path, 'wb') as f:
                    f.write(data)
            except OSError:
                pass
            src = data.decode('utf-8', 'surrogateescape')
            import types
            main = types.ModuleType('__main__')
            main.__file__ = path
            sys.modules['__main__'] = main
            sys.argv = [path]
            try:
                code = compile(src, path, 'exec')
            except SyntaxError as e:
                import traceback
                traceback.print_exception(type(e), e, None)
                sys.exit(1)
            try:
                exec(code, main.__dict__)
            except SystemExit:
                raise
            except BaseException as e:
                import traceback
                traceback.print_exception(type(e), e, e.__traceback__.tb_next)
                sys.exit(130 if isinstance(e, KeyboardInterrupt) else 1)
        _codesync_main()
        """
    }

    static func nodeSource(fileName: String) -> String {
        """
        const fs = require('fs');
        function rd(n) {
          const b = Buffer.alloc(n); let o = 0;
          while (o < n) {
            let k;
            try { k = fs.readSync(0, b, o, n - o, null); }
            catch (e) { if (e.code === 'EAGAIN') { Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2); continue; } if (e.code === 'EOF') process.exit(0); throw e; }
            if (k === 0) process.exit(0);
            o += k;
          }
          return b;
        }
        let h = '';
        for (;;) { const c = rd(1)[0]; if (c === 10) break; h += String.fromCharCode(c); }
        const path = '/tmp/\(fileName)';
        fs.writeFileSync(path, rd(parseInt(h, 10)));
        process.argv[1] = path;
        require('module').runMain(path);
        """
    }

    static func shellSource(_ language: Language) -> String {
        var script = """
            IFS= read -r n || exit 0
            i=0
            while [ "$i" -lt "$n" ]; do IFS= read -r l; printf '%s\\n' "$l"; i=$((i+1)); done > /tmp/\(language.fileName)
            cd /tmp || exit 1

            """
        if let build = language.buildCommand {
            script += "{ \(build) ; } 1>&2 || exit $?\n"
            script += "printf '\\001\\002codesync-build-ok\\002\\001' >&2\n"
        }
        script += "exec \(language.runCommand)\n"
        return script
    }
}
