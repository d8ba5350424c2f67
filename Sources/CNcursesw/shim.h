#ifndef CODESYNC_CNCURSESW_SHIM_H
#define CODESYNC_CNCURSESW_SHIM_H

/* Wide-character ncurses: these must be defined before the header, and
   pkg-config is not used because its -D flags make SwiftPM warn on every build. */
#define _XOPEN_SOURCE_EXTENDED 1
#define NCURSES_WIDECHAR 1
#include <locale.h>
#include <wchar.h>
#include <ncursesw/curses.h>

int wcwidth(wchar_t c);

/* ncurses macros do not import into Swift; these wrap the ones we use. */
static inline int codesync_color_pair(int n) { return COLOR_PAIR(n); }
static inline attr_t codesync_a_bold(void) { return A_BOLD; }
static inline attr_t codesync_a_reverse(void) { return A_REVERSE; }
static inline attr_t codesync_a_underline(void) { return A_UNDERLINE; }
static inline attr_t codesync_a_dim(void) { return A_DIM; }
static inline WINDOW *codesync_stdscr(void) { return stdscr; }
static inline int codesync_lines(void) { return LINES; }
static inline int codesync_cols(void) { return COLS; }

#endif
