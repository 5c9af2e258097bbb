/*
 * addr.h — host, port and IP-literal text as nginx writes it: "host:port", "[v6]:port",
 * "host", and whether a name is an IPv4 or IPv6 literal. Pure string work: no resolving,
 * no sockets.
 */
#ifndef TT_ADDR_H
#define TT_ADDR_H

#include <stdbool.h>
#include <stddef.h>

/* Whether s[0..len) is a dotted-quad IPv4 literal as nginx's ngx_inet_addr() takes it for
 * the SNI rule (four runs of digits, each at most 255; leading zeros allowed). */
bool addr_is_ipv4(const char *s, size_t len);

/* Whether s is an IP literal: IPv4, IPv6, or IPv6 in brackets ("[::1]"). */
bool addr_is_ip(const char *s);

/*
 * Splits s[0..len) into host and port: "host:port", "[v6]:port", "host" or "[v6]" (port =
 * default_port; pass 0 to learn that none was written). The host keeps the brackets of an
 * IPv6 literal and may be empty (":443"). Returns 0 with *host allocated, or -1 for a bare
 * IPv6 address (more than one ':' outside brackets: nginx wants brackets), an unclosed or
 * empty "[]", anything after ']' but ":PORT", or a PORT that is not 1-65535 in digits.
 */
int addr_split(const char *s, size_t len, unsigned default_port, char **host, unsigned *port);

#endif
