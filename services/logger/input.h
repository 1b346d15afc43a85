/* The logger's inputs, each on its own thread feeding logger_submit(): NFLOG (live, never
 * waits), a capture file (--pcap) and text lines (--input-file/--input-format). File inputs
 * call done_fn at EOF so the daemon can flush and exit 0. */
#ifndef RDPI_SERVICES_LOGGER_INPUT_H
#define RDPI_SERVICES_LOGGER_INPUT_H

#include <stdbool.h>
#include <stdint.h>

#include "common/counters.h"
#include "lines.h"
#include "nflogrd.h"

struct logger;
struct input;

struct input_opts {
	struct logger *lg;
	/* exactly one source */
	const struct nflogrd_opts *nflog; /* live NFLOG group */
	const char *pcap_path;		  /* capture file */
	const char *lines_path;		  /* text lines; "-" is stdin */
	enum lines_format lines_format;
	/* a capture's packets carry no log prefix: this one is applied to all of them */
	const char *pcap_prefix;
	void (*done_fn)(void *arg, int status); /* file inputs at EOF (0) or on error (<0) */
	void *done_arg;
};

struct input_stats {
	struct rdpi_counter lines, line_errors, lines_skipped;
	struct rdpi_counter pcap_packets;
};

/* Opens the source (binding NFLOG, opening the file); errbuf gets the reason. */
int input_open(const struct input_opts *opts, char *errbuf, size_t errlen, struct input **ret);
int input_start(struct input *in);
/* Stops reading (a file input stops early) and joins the thread. */
void input_stop(struct input *in);
void input_free(struct input *in);

/* NFLOG counters under nflog_* plus input counters (zeros when in is NULL: no input). */
int input_register(struct input *in, struct rdpi_counters *reg);
/* "NFLOG group 1", ...; in may be NULL (no input). */
const char *input_describe(const struct input *in);

#endif
