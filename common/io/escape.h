/* Text that is safe to show: on a terminal, nothing from the network
 * may move the cursor, change colours, retitle the window or reorder
 * what follows; for line-based tools, one record stays one line. */
#ifndef XMPP_ESCAPE_H
#define XMPP_ESCAPE_H

#include <stddef.h>
#include <stdio.h>

/* Write s[0..len) to f with these escapes (xmpp(1), TEXT OUTPUT), and
 * everything else as it is:
 *   \\ \t \n \r   backslash, TAB, LF, CR
 *   \xHH          any other C0 control, DEL, and each byte that is not
 *                 part of valid UTF-8
 *   \uHHHH        the other characters utf8_is_control() names: C1
 *                 controls, bidirectional controls, U+2028, U+2029
 * (lower-case hex). Every backslash in the output starts an escape, so
 * the text can be restored exactly. */
void escape_text(FILE *f, const char *s, size_t len);

#endif
