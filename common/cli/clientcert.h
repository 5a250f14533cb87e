/* A client certificate (--cert, --key) checked before the connection:
 * what is wrong with the files is said naming them (78), not as a TLS
 * handshake that failed (69), and an encrypted key is refused rather
 * than asked for on the terminal three times by OpenSSL. */
#ifndef XMPP_CLIENTCERT_H
#define XMPP_CLIENTCERT_H

/* cert: a PEM certificate; key: a PEM private key, not encrypted, that
 * belongs to it. cert_from and key_from name where each came from
 * ("--cert", "XMPP_KEY_FILE", "PATH:LINE: key_file"). Returns 0, or
 * XE_CONFIG (XE_OSERR out of memory) with the message printed. */
int client_cert_check(const char *cert, const char *cert_from, const char *key,
                      const char *key_from);

#endif
