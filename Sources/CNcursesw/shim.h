#ifndef CODESYNC_CNCURSESW_SHIM_H
#define CODESYNC_CNCURSESW_SHIM_H

/* Wide-character ncurses: these must be defined before the header, and
   pkg-config is not used because its -D flags make SwiftPM warn on every build. */
#define _XOPEN_SOURCE_EXTENDED 1
#define NCURSES_WIDECHAR 1
#include <locale.h>
#include <stdio.h>
#include <wchar.h>
#include <ncursesw/curses.h>

/* ncurses macros do not import into Swift; these wrap the ones we use. */
static inline int codesync_color_pair(int n) { return COLOR_PAIR(n); }
static inline attr_t codesync_a_bold(void) { return A_BOLD; }
static inline attr_t codesync_a_reverse(void) { return A_REVERSE; }
static inline attr_t codesync_a_underline(void) { return A_UNDERLINE; }
static inline attr_t codesync_a_dim(void) { return A_DIM; }
static inline WINDOW *codesync_stdscr(void) { return stdscr; }
static inline int codesync_lines(void) { return LINES; }
static inline int codesync_cols(void) { return COLS; }
static inline int codesync_colors(void) { return COLORS; }
static inline int codesync_color_pairs(void) { return COLOR_PAIRS; }
static inline int codesync_key_f(int n) { return KEY_F(n); }
static inline mmask_t codesync_all_mouse_events(void) { return ALL_MOUSE_EVENTS; }
static inline mmask_t codesync_button1_pressed(void) { return BUTTON1_PRESSED; }
static inline mmask_t codesync_button1_clicked(void) { return BUTTON1_CLICKED; }
static inline mmask_t codesync_button4_pressed(void) { return BUTTON4_PRESSED; }
#ifdef BUTTON5_PRESSED
static inline mmask_t codesync_button5_pressed(void) { return BUTTON5_PRESSED; }
#else
static inline mmask_t codesync_button5_pressed(void) { return 0; }
#endif
static inline attr_t codesync_a_normal(void) { return A_NORMAL; }
/* stdio's streams are mutable globals, which Swift 6 refuses to read directly. */
static inline FILE *codesync_stdout(void) { return stdout; }
static inline FILE *codesync_stdin(void) { return stdin; }

#endif
