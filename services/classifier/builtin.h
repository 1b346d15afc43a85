/* The builtin engine: payload parsers in the Go helper's precedence, each
 * hit turned into a verdict with its fixed confidence and reason. Pure
 * function of one payload (the caller reassembles TLS across segments). */
#ifndef RDPI_CLASSIFIER_BUILTIN_H
#define RDPI_CLASSIFIER_BUILTIN_H

#include <stddef.h>
#include <stdint.h>

struct verdict;

struct builtin_input {
	uint8_t l4proto;       /* IPPROTO_TCP / IPPROTO_UDP / other */
	uint16_t sport, dport; /* of this packet */
	const uint8_t *payload;
	size_t len;
};

/* Outcome besides the verdict: whether more bytes could still change it. */
enum builtin_outcome {
	BUILTIN_MATCH,	    /* payload evidence: source builtin-payload */
	BUILTIN_NEED_MORE,  /* a TLS ClientHello that continues in later segments */
	BUILTIN_PORT_GUESS, /* only a port-fallback guess */
	BUILTIN_NO_SIGNAL,  /* nothing: source builtin, reason no_application_signal */
};

/* Classify one payload into *ret (initialised here). Never fails. */
enum builtin_outcome builtin_classify(const struct builtin_input *in, struct verdict *ret);

/* Port-fallback verdict for a tuple; false when no port is listed. */
int builtin_port_guess(uint8_t l4proto, uint16_t sport, uint16_t dport, struct verdict *ret);

/* Category of a builtin app name ("tls" -> "web"), "" when unknown. */
const char *builtin_app_category(const char *app);

#endif
