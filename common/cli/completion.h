/* Shell completion scripts built from the tool table, each tool's
 * option table and its --help text, so that they list exactly what the
 * binary accepts: `xmpp --completion bash|zsh|fish`, run by `make`.
 * `xmpp --completion accounts` lists the config file's sections, which
 * the scripts offer after --account. */
#ifndef XMPP_COMPLETION_H
#define XMPP_COMPLETION_H

#include <stdio.h>

/* Write the script for shell ("bash", "zsh" or "fish"), or the account
 * names ("accounts"), to f. Returns 0, or XE_USAGE for another shell
 * (the message printed). */
int completion_print(FILE *f, const char *shell);

#endif
