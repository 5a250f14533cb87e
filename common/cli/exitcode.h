/* The one list of exit statuses (sysexits.h style). README.md and
 * man/xmpp.1 document the same table; keep them in step. */
#ifndef XMPP_EXITCODE_H
#define XMPP_EXITCODE_H

enum exit_status {
    XE_OK = 0,           /* the server took every stanza */
    XE_STANZA = 1,       /* the peer answered with a stanza error */
    XE_USAGE = 64,       /* bad command line */
    XE_DATA = 65,        /* bad input: JID, XML, UTF-8, control chars, size */
    XE_NOINPUT = 66,     /* input file missing or unreadable */
    XE_UNTRUSTED = 67,   /* OMEMO: a recipient device is not trusted */
    XE_UNAVAILABLE = 69, /* cannot resolve or connect */
    XE_OSERR = 71,       /* out of memory (EX_OSERR) */
    XE_CONNLOST = 74,    /* connection lost */
    XE_IOERR = 74,       /* a write to stdout failed (EX_IOERR) */
    XE_TIMEOUT = 75,     /* deadline reached */
    XE_PROTOCOL = 76,    /* stream or protocol error from the server */
    XE_AUTH = 77,        /* authentication failed or certificate rejected */
    XE_CONFIG = 78,      /* configuration error */
};

#endif
