/* nftables log prefix rules and the firewall_logs.hint string (design section 9): the logger
 * maps each NFLOG prefix to zones/rule/action and renders the DPI evidence it attaches to a row. */
#ifndef RDPI_SERVICES_LOGGER_HINT_H
#define RDPI_SERVICES_LOGGER_HINT_H

#include <stddef.h>

enum hint_action {
	HINT_ACTION_ACCEPT,
	HINT_ACTION_DENY,
	HINT_ACTION_DROP,
	HINT_ACTION_REJECT,
	HINT_ACTION__COUNT,
};

#define HINT_PREFIX_ZONE_MAX 64
#define HINT_PREFIX_RULE_MAX 128

/* Parsed "routerd firewall ..." prefix. rule_name is the chain ("input", "forward"), the zone
 * pair ("lan-to-wan") or the rule word; zones are set only for "<from>-to-<to>" and for input
 * (zone_to "local"). */
struct hint_prefix {
	char zone_from[HINT_PREFIX_ZONE_MAX];
	char zone_to[HINT_PREFIX_ZONE_MAX];
	char rule_name[HINT_PREFIX_RULE_MAX];
	enum hint_action action;
};

/* "accept", "deny", "drop", "reject"; NULL out of range. */
const char *hint_action_name(enum hint_action a);

/* Maps an nftables log prefix ("routerd firewall forward accept ", trailing spaces optional):
 * a last word accept/deny/drop/reject is the action; otherwise the action is taken from the rule
 * word when it contains one of those words, else drop. Returns 0, -ENOMSG for a prefix that is not
 * ours (or has no rule), -ENAMETOOLONG when a name does not fit. *ret written only on success. */
int hint_parse_prefix(const char *prefix, struct hint_prefix *ret);

#define HINT_TAG_MAX   32  /* source tag ("nflog-netlink"), NUL included */
#define HINT_VALUE_MAX 256 /* one dpi.* value, NUL included */
#define HINT_TEXT_MAX  512 /* free text, NUL included */

/* Hint contents. Every field is a NUL-terminated string; "" means absent (not rendered). */
struct hint_fields {
	char tag[HINT_TAG_MAX];
	char app[HINT_VALUE_MAX];			/* dpi.app */
	char engine[HINT_VALUE_MAX];			/* dpi.engine */
	char source[HINT_VALUE_MAX];			/* dpi.source */
	char category[HINT_VALUE_MAX];			/* dpi.category */
	char detected_protocol[HINT_VALUE_MAX];		/* dpi.detected_protocol */
	char master_protocol[HINT_VALUE_MAX];		/* dpi.master_protocol */
	char application_protocol[HINT_VALUE_MAX];	/* dpi.application_protocol */
	char classification_category[HINT_VALUE_MAX];	/* dpi.classification_category */
	char classification_confidence[HINT_VALUE_MAX]; /* dpi.classification_confidence */
	char risk[HINT_VALUE_MAX];			/* dpi.risk ("a,b") */
	char reason[HINT_VALUE_MAX];			/* dpi.reason */
	char tls_sni[HINT_VALUE_MAX];			/* dpi.tls_sni */
	char http_host[HINT_VALUE_MAX];			/* dpi.http_host */
	char dns_query[HINT_VALUE_MAX];			/* dpi.dns_query */
	char confidence[HINT_VALUE_MAX];		/* dpi.confidence */
	char text[HINT_TEXT_MAX];			/* free text after the tokens */
};

/* Large enough for any hint_build() output, NUL included. */
#define HINT_LEN_MAX (3 * HINT_TAG_MAX + 15 * (40 + 3 * HINT_VALUE_MAX) + 3 * HINT_TEXT_MAX + 8)

/* Renders "<tag>[ dpi.<key>=<value>]...[ <text>]" with the keys in the order of the struct.
 * Escaping (so hint_parse() reads it back losslessly): in the tag and values, '%', ' ', '=',
 * bytes < 0x20 and 0x7f become %XX (uppercase hex); in the free text only '%' and control bytes
 * are escaped (spaces and '=' stay readable), plus the 'd' of a leading "dpi." (as %64) so the
 * text cannot be read as a token. Non-ASCII bytes pass unchanged. The tag must be non-empty.
 * Returns 0, -EINVAL (empty tag), -ENOSPC when len is too small (buf untouched). */
int hint_build(const struct hint_fields *f, char *buf, size_t len);

/* Reads a hint back: the first space-separated token is the tag, then "dpi.<key>=<value>"
 * tokens (unknown dpi.* keys are skipped, a repeated key keeps the last value), then everything
 * after the next single space is the free text. Also reads unescaped Go-era hints. Returns 0,
 * -EINVAL (empty input or a bad %XX escape), -EMSGSIZE (a field does not fit).
 * *ret written only on success. */
int hint_parse(const char *hint, struct hint_fields *ret);

#endif
