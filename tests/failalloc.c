/* LD_PRELOAD shim for the out-of-memory tests: XMPP_FAIL_ALLOC=MIN[-MAX]
 * makes every malloc, calloc, realloc, strdup and strndup that asks for
 * MIN to MAX bytes (no MAX: any more than MIN) return NULL, as a system
 * out of memory would; in xmpp only (argv[0] xmpp or xmpp-TOOL), not in
 * the shells and valgrind around it. strdup and strndup are caught too
 * because AddressSanitizer's versions allocate without calling malloc.
 * Built by failing_alloc in tests/helpers.bash. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int refused(size_t n)
{
    /* Read until found: an allocation may come before the environment
     * is set up (under AddressSanitizer, say). */
    static size_t lo, hi;
    static int parsed;
    if (!parsed) {
        const char *v = getenv("XMPP_FAIL_ALLOC");
        const char *me = program_invocation_short_name;
        if (!v || !me || (strcmp(me, "xmpp") && strncmp(me, "xmpp-", 5)))
            return 0;
        char *end;
        lo = strtoull(v, &end, 10);
        hi = *end == '-' ? strtoull(end + 1, NULL, 10) : (size_t)-1;
        parsed = 1;
    }
    return n >= lo && n <= hi;
}

/* The allocator underneath (libc's, ASan's or valgrind's). */
static void *next(const char *name)
{
    return dlsym(RTLD_NEXT, name);
}

void *malloc(size_t n)
{
    return refused(n) ? NULL : ((__typeof__(&malloc))next("malloc"))(n);
}

void *calloc(size_t k, size_t n)
{
    return k && n && refused(k * n)
               ? NULL
               : ((__typeof__(&calloc))next("calloc"))(k, n);
}

void *realloc(void *p, size_t n)
{
    return refused(n) ? NULL : ((__typeof__(&realloc))next("realloc"))(p, n);
}

char *strdup(const char *s)
{
    return refused(strlen(s) + 1) ? NULL
                                  : ((__typeof__(&strdup))next("strdup"))(s);
}

char *strndup(const char *s, size_t n)
{
    return refused(strnlen(s, n) + 1)
               ? NULL
               : ((__typeof__(&strndup))next("strndup"))(s, n);
}
