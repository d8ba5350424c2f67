# Convenience targets; the scripts under scripts/ do the work.
PREFIX ?= /usr/local
DESTDIR ?=

.PHONY: build test run install clean

build:
	swift build -c release --product codesync
	swift build -c release --product codesync-trace-bench

test:
	scripts/test

run:
	scripts/run

install: build
	install -Dm755 .build/release/codesync $(DESTDIR)$(PREFIX)/bin/codesync
	install -Dm755 .build/release/codesync-trace-bench $(DESTDIR)$(PREFIX)/bin/codesync-trace-bench
	install -Dm644 man/codesync.1 $(DESTDIR)$(PREFIX)/share/man/man1/codesync.1

clean:
	rm -rf .build
