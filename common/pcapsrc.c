/* Capture-file packet source: libpcap offline reader with nanosecond
 * timestamps and a link-type table that finds the IP header (Ethernet with up
 * to two VLAN tags, Linux SLL/SLL2, raw IP, BSD loopback). */
#include "common/pcapsrc.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Link types by value: some are not defined by every libpcap header. */
enum {
	LT_NULL = 0,
	LT_EN10MB = 1,
	LT_RAW = 12,
	LT_RAW_OPENBSD = 14,
	LT_LOOP = 108,
	LT_RAW_LINKTYPE = 101,
	LT_LINUX_SLL = 113,
	LT_IPV4 = 228,
	LT_IPV6 = 229,
	LT_LINUX_SLL2 = 276,
};

#define ETH_P_IPV4    0x0800
#define ETH_P_IPV6    0x86dd
#define ETH_P_8021Q   0x8100
#define ETH_P_8021AD  0x88a8
#define ETH_P_QINQ    0x9100
#define MAX_VLAN_TAGS 2

struct rdpi_pcapsrc {
	pcap_t *pcap;
	int linktype;
	struct rdpi_pcapsrc_stats stats;
};

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t rd32be(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint32_t rd32le(const uint8_t *p)
{
	return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

/* IP version from the first nibble at off, 0 when not an IP header. */
static uint8_t ip_version_at(const uint8_t *frame, size_t caplen, size_t off)
{
	if (off >= caplen)
		return 0;
	uint8_t v = frame[off] >> 4;
	return v == 4 || v == 6 ? v : 0;
}

static int ethertype_version(uint16_t type)
{
	if (type == ETH_P_IPV4)
		return 4;
	if (type == ETH_P_IPV6)
		return 6;
	return 0;
}

/* BSD address families for IPv6 differ per OS; Linux uses 10. */
static int af_version(uint32_t af)
{
	if (af == 2)
		return 4;
	if (af == 10 || af == 24 || af == 28 || af == 30)
		return 6;
	return 0;
}

static int l3_ether(const uint8_t *frame, size_t caplen, size_t *off, uint16_t *vlan)
{
	if (caplen < 14)
		return -EMSGSIZE;
	uint16_t type = rd16(frame + 12);
	size_t o = 14;
	for (int tags = 0; type == ETH_P_8021Q || type == ETH_P_8021AD || type == ETH_P_QINQ;
	     tags++) {
		if (tags == MAX_VLAN_TAGS)
			return -ENOENT;
		if (caplen < o + 4)
			return -EMSGSIZE;
		if (tags == 0)
			*vlan = rd16(frame + o) & 0x0fff;
		type = rd16(frame + o + 2);
		o += 4;
	}
	if (!ethertype_version(type))
		return -ENOENT;
	*off = o;
	return 0;
}

int rdpi_pcapsrc_l3(int linktype, const uint8_t *frame, size_t caplen, size_t *ret_off,
		    uint16_t *ret_vlan, uint8_t *ret_version)
{
	size_t off = 0;
	uint16_t vlan = 0;
	int want = 0; /* version the link header announces, 0 = any */
	int rc;

	switch (linktype) {
	case LT_EN10MB:
		rc = l3_ether(frame, caplen, &off, &vlan);
		if (rc < 0)
			return rc;
		want = ethertype_version(rd16(frame + off - 2));
		break;
	case LT_LINUX_SLL:
		if (caplen < 16)
			return -EMSGSIZE;
		want = ethertype_version(rd16(frame + 14));
		if (!want)
			return -ENOENT;
		off = 16;
		break;
	case LT_LINUX_SLL2:
		if (caplen < 20)
			return -EMSGSIZE;
		want = ethertype_version(rd16(frame));
		if (!want)
			return -ENOENT;
		off = 20;
		break;
	case LT_NULL:
	case LT_LOOP: {
		if (caplen < 4)
			return -EMSGSIZE;
		/* the AF value is in the capturing host's order (NULL) or network
		 * order (LOOP); files from other hosts break that rule, accept both */
		want = af_version(rd32le(frame));
		if (!want)
			want = af_version(rd32be(frame));
		if (!want)
			return -ENOENT;
		off = 4;
		break;
	}
	case LT_RAW:
	case LT_RAW_OPENBSD:
	case LT_RAW_LINKTYPE:
		break;
	case LT_IPV4:
		want = 4;
		break;
	case LT_IPV6:
		want = 6;
		break;
	default:
		return -EPROTONOSUPPORT;
	}
	if (off >= caplen)
		return -EMSGSIZE;
	uint8_t v = ip_version_at(frame, caplen, off);
	if (!v || (want && v != want))
		return -ENOENT;
	*ret_off = off;
	*ret_vlan = vlan;
	*ret_version = v;
	return 0;
}

int rdpi_pcapsrc_linktype_supported(int linktype)
{
	switch (linktype) {
	case LT_NULL:
	case LT_EN10MB:
	case LT_RAW:
	case LT_RAW_OPENBSD:
	case LT_RAW_LINKTYPE:
	case LT_LOOP:
	case LT_LINUX_SLL:
	case LT_LINUX_SLL2:
	case LT_IPV4:
	case LT_IPV6:
		return 1;
	default:
		return 0;
	}
}

int rdpi_pcapsrc_open(const char *path, char *err, size_t errlen, struct rdpi_pcapsrc **ret)
{
	char perr[PCAP_ERRBUF_SIZE] = "";
	FILE *f = fopen(path, "rb");
	if (!f) {
		int e = errno;
		if (err)
			snprintf(err, errlen, "%s: %s", path, strerror(e));
		return -e;
	}
	pcap_t *p = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_NANO, perr);
	if (!p) {
		fclose(f);
		if (err)
			snprintf(err, errlen, "%s: %s", path, perr);
		return -EINVAL;
	}
	int lt = pcap_datalink(p);
	if (!rdpi_pcapsrc_linktype_supported(lt)) {
		if (err)
			snprintf(err, errlen, "%s: unsupported link type %d (%s)", path, lt,
				 pcap_datalink_val_to_name(lt) ? pcap_datalink_val_to_name(lt)
							       : "?");
		pcap_close(p);
		return -EPROTONOSUPPORT;
	}
	struct rdpi_pcapsrc *src = calloc(1, sizeof(*src));
	if (!src) {
		pcap_close(p);
		return -ENOMEM;
	}
	src->pcap = p;
	src->linktype = lt;
	*ret = src;
	return 0;
}

void rdpi_pcapsrc_free(struct rdpi_pcapsrc *src)
{
	if (!src)
		return;
	pcap_close(src->pcap);
	free(src);
}

int rdpi_pcapsrc_next(struct rdpi_pcapsrc *src, struct rdpi_pcapsrc_pkt *ret)
{
	for (;;) {
		struct pcap_pkthdr *h;
		const u_char *data;
		int rc = pcap_next_ex(src->pcap, &h, &data);
		if (rc == PCAP_ERROR_BREAK)
			return 0;
		if (rc != 1)
			return -EIO;
		src->stats.frames++;
		size_t off;
		uint16_t vlan;
		uint8_t ver;
		rc = rdpi_pcapsrc_l3(src->linktype, data, h->caplen, &off, &vlan, &ver);
		if (rc == -EMSGSIZE) {
			src->stats.truncated++;
			continue;
		}
		if (rc < 0) {
			src->stats.non_ip++;
			continue;
		}
		src->stats.ip++;
		ret->ts_ns = (uint64_t)h->ts.tv_sec * 1000000000ull + (uint64_t)h->ts.tv_usec;
		ret->l3 = data + off;
		ret->caplen = (uint32_t)(h->caplen - off);
		ret->origlen = h->len > off ? (uint32_t)(h->len - off) : ret->caplen;
		ret->vlan = vlan;
		ret->ip_version = ver;
		return 1;
	}
}

int rdpi_pcapsrc_linktype(const struct rdpi_pcapsrc *src)
{
	return src->linktype;
}

void rdpi_pcapsrc_stats(const struct rdpi_pcapsrc *src, struct rdpi_pcapsrc_stats *ret)
{
	*ret = src->stats;
}
