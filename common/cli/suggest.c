#include "common/cli/suggest.h"

#include <string.h>

/* Names are short (tools, options); longer words get no suggestion. */
#define MAX_WORD 64

static size_t min3(size_t a, size_t b, size_t c)
{
    size_t m = a < b ? a : b;
    return m < c ? m : c;
}

size_t suggest_distance(const char *a, const char *b)
{
    size_t n = strlen(a), m = strlen(b);
    if (n > MAX_WORD || m > MAX_WORD)
        return (size_t)-1;
    /* d[i][j]: distance between the first i bytes of a and j of b */
    size_t d[MAX_WORD + 1][MAX_WORD + 1];
    for (size_t i = 0; i <= n; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= m; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= n; i++) {
        for (size_t j = 1; j <= m; j++) {
            size_t cost = a[i - 1] != b[j - 1];
            d[i][j] =
                min3(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
                a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < d[i][j])
                d[i][j] = d[i - 2][j - 2] + 1;
        }
    }
    return d[n][m];
}

void suggest_init(struct suggest *s, const char *word)
{
    *s = (struct suggest){.word = word, .dist = (size_t)-1};
}

/* Close enough to be a typo: one edit in a short name, two in a name
 * of six letters or more, and never a whole other word ("ls" is not a
 * typo of "rm"); or the start of the name, three letters or more. */
static size_t limit(const char *candidate)
{
    size_t len = strlen(candidate);
    return len < 3 ? 0 : len < 6 ? 1 : 2;
}

void suggest_try(struct suggest *s, const char *candidate)
{
    if (!candidate || !*candidate)
        return;
    size_t d = suggest_distance(s->word, candidate);
    size_t len = strlen(s->word);
    if (len >= 3 && !strncmp(s->word, candidate, len) && d > 1)
        d = 1;
    else if (d > limit(candidate))
        return;
    if (d < s->dist) {
        s->best = candidate;
        s->dist = d;
    }
}
