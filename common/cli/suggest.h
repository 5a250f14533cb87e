/* "Did you mean ...?": the nearest of a set of names to a mistyped one
 * (a tool, a subcommand, an option), for the one line of a usage error. */
#ifndef XMPP_SUGGEST_H
#define XMPP_SUGGEST_H

#include <stddef.h>

/* Feed every candidate to suggest_try; best is then the nearest one
 * close enough to be what the user meant, or NULL. */
struct suggest {
    const char *word; /* what the user typed */
    const char *best;
    size_t dist;
};

void suggest_init(struct suggest *s, const char *word);
void suggest_try(struct suggest *s, const char *candidate);

/* The edit distance between a and b: insertions, deletions,
 * substitutions and swaps of two neighbours each count one (optimal
 * string alignment). */
size_t suggest_distance(const char *a, const char *b);

#endif
