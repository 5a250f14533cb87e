#ifndef XMPP_VERSION
#define XMPP_VERSION "0.1.0"
#endif
