/* Capture-file packet source (libpcap: pcap and pcapng): maps link types to
 * the L3 header and yields IP packets with nanosecond timestamps. Used by the
 * replay/benchmark tools and tests that feed real captures into a pipeline. */
#ifndef RDPI_COMMON_PCAPSRC_H
#define RDPI_COMMON_PCAPSRC_H

#include <stddef.h>
#include <stdint.h>

struct rdpi_pcapsrc;

/* One IP packet. l3 points into the source's buffer and stays valid until the
 * next rdpi_pcapsrc_next() or rdpi_pcapsrc_free(). */
struct rdpi_pcapsrc_pkt {
	uint64_t ts_ns;	    /* capture time, unix ns */
	const uint8_t *l3;  /* IP header first */
	uint32_t caplen;    /* captured bytes from l3 on */
	uint32_t origlen;   /* original bytes on the wire from l3 on */
	uint16_t vlan;	    /* outer 802.1Q id, 0 when untagged */
	uint8_t ip_version; /* 4 or 6 */
};

struct rdpi_pcapsrc_stats {
	uint64_t frames;    /* records read from the file */
	uint64_t ip;	    /* IP packets returned */
	uint64_t non_ip;    /* skipped: not IPv4/IPv6 (ARP, LLDP, ...) */
	uint64_t truncated; /* skipped: link header cut off by the snaplen */
};

/* Open path (pcap or pcapng). -ENOENT / -EACCES when it cannot be opened,
 * -EINVAL when libpcap cannot read it, -EPROTONOSUPPORT for a link type this
 * module does not map; libpcap's text (or ours) goes to err when non-NULL. */
int rdpi_pcapsrc_open(const char *path, char *err, size_t errlen, struct rdpi_pcapsrc **ret);
void rdpi_pcapsrc_free(struct rdpi_pcapsrc *src); /* NULL ok */

/* Next IP packet: 1 with *ret filled, 0 at end of file, -EIO on a read error
 * (truncated file). Non-IP frames are skipped and counted. */
int rdpi_pcapsrc_next(struct rdpi_pcapsrc *src, struct rdpi_pcapsrc_pkt *ret);

int rdpi_pcapsrc_linktype(const struct rdpi_pcapsrc *src); /* DLT_* value */
void rdpi_pcapsrc_stats(const struct rdpi_pcapsrc *src, struct rdpi_pcapsrc_stats *ret);

/* Whether this module maps linktype (DLT_* or LINKTYPE_* value). */
int rdpi_pcapsrc_linktype_supported(int linktype);

/* Pure link-layer decoding, exposed for tests and the fuzzer: find the IP
 * header in frame (caplen bytes) of the given link type. 0 with *ret_off,
 * *ret_vlan (0 when untagged) and *ret_version set; -ENOENT for a non-IP
 * frame, -EMSGSIZE when the link header is truncated, -EPROTONOSUPPORT for an
 * unmapped link type. */
int rdpi_pcapsrc_l3(int linktype, const uint8_t *frame, size_t caplen, size_t *ret_off,
		    uint16_t *ret_vlan, uint8_t *ret_version);

#endif
