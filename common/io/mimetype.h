/* MIME types from file names, for uploads (XEP-0363 asks for one). */
#ifndef XMPP_MIMETYPE_H
#define XMPP_MIMETYPE_H

/* The type for path's extension (case-insensitive), from a built-in
 * table of common types; "application/octet-stream" when unknown. */
const char *mimetype_guess(const char *path);

/* NULL when type looks like a MIME type ("type/subtype", optional
 * parameters, printable ASCII), else the reason. */
const char *mimetype_check(const char *type);

#endif
