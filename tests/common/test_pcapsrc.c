/* Tests for common/pcapsrc: captures of every supported link type written by
 * the test itself with pcap_dump (and a hand-made pcapng), then real captures
 * of the shared corpus when it is present. */
#include <errno.h>
#include <pcap/pcap.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/pcapsrc.h"

static char tmpdir[64];
static char path[128];

/* 20-byte IPv4 header + 8-byte UDP header + 4 bytes payload */
static const uint8_t ip4[] = {0x45, 0, 0, 32, 0,    1,	  0, 0,	 64, 17, 0, 0, 10,  0,	 0,   1,
			      10,   0, 0, 2,  0x30, 0x39, 0, 53, 0,  12, 0, 0, 'a', 'b', 'c', 'd'};
/* 40-byte IPv6 header (no L4 payload) */
static const uint8_t ip6[40] = {0x60, 0,    0,	  0,	    0,	  0,	59,   64,   0x20,
				0x01, 0x0d, 0xb8, [23] = 1, 0x20, 0x01, 0x0d, 0xb8, [39] = 2};

struct frame {
	uint8_t b[256];
	size_t len;
	uint64_t ts_ns;
};

static void frame_set(struct frame *f, const void *hdr, size_t hlen, const void *l3, size_t l3len)
{
	memcpy(f->b, hdr, hlen);
	memcpy(f->b + hlen, l3, l3len);
	f->len = hlen + l3len;
}

static void write_pcap(int linktype, const struct frame *frames, size_t n)
{
	pcap_t *dead =
	    pcap_open_dead_with_tstamp_precision(linktype, 65535, PCAP_TSTAMP_PRECISION_NANO);
	assert_non_null(dead);
	pcap_dumper_t *d = pcap_dump_open(dead, path);
	assert_non_null(d);
	for (size_t i = 0; i < n; i++) {
		struct pcap_pkthdr h = {0};
		h.ts.tv_sec = (time_t)(frames[i].ts_ns / 1000000000ull);
		h.ts.tv_usec = (suseconds_t)(frames[i].ts_ns % 1000000000ull);
		h.caplen = h.len = (bpf_u_int32)frames[i].len;
		pcap_dump((u_char *)d, &h, frames[i].b);
	}
	pcap_dump_close(d);
	pcap_close(dead);
}

/* Reads path, expecting each given frame's L3 (or a skip when l3 == NULL). */
struct expect {
	const uint8_t *l3;
	size_t l3len;
	uint16_t vlan;
	uint64_t ts_ns;
};

static void read_expect(int linktype, const struct expect *ex, size_t n, uint64_t non_ip)
{
	struct rdpi_pcapsrc *src;
	char err[256];
	assert_int_equal(rdpi_pcapsrc_open(path, err, sizeof(err), &src), 0);
	assert_int_equal(rdpi_pcapsrc_linktype(src), linktype);
	struct rdpi_pcapsrc_pkt p;
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(rdpi_pcapsrc_next(src, &p), 1);
		assert_int_equal(p.caplen, ex[i].l3len);
		assert_int_equal(p.origlen, ex[i].l3len);
		assert_memory_equal(p.l3, ex[i].l3, ex[i].l3len);
		assert_int_equal(p.vlan, ex[i].vlan);
		assert_int_equal(p.ip_version, ex[i].l3[0] >> 4);
		assert_int_equal(p.ts_ns, ex[i].ts_ns);
	}
	assert_int_equal(rdpi_pcapsrc_next(src, &p), 0);
	struct rdpi_pcapsrc_stats st;
	rdpi_pcapsrc_stats(src, &st);
	assert_int_equal(st.ip, n);
	assert_int_equal(st.non_ip, non_ip);
	rdpi_pcapsrc_free(src);
}

static int setup(void **state)
{
	strcpy(tmpdir, "/tmp/rdpi-pcapsrc-XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	snprintf(path, sizeof(path), "%s/t.cap", tmpdir);
	return 0;
}

static int teardown(void **state)
{
	unlink(path);
	rmdir(tmpdir);
	return 0;
}

static void test_pcapsrc_ethernet_vlan(void **state)
{
	static const uint8_t eth4[14] = {[12] = 0x08, 0x00};
	static const uint8_t eth6[14] = {[12] = 0x86, 0xdd};
	static const uint8_t eth_arp[14] = {[12] = 0x08, 0x06};
	static const uint8_t eth_vlan[18] = {[12] = 0x81, 0x00, 0x00, 0x2a, 0x08, 0x00};
	static const uint8_t eth_qinq[22] = {[12] = 0x88, 0xa8, 0x00, 0x07, 0x81,
					     0x00,	  0x00, 0x2a, 0x86, 0xdd};
	static const uint8_t eth_3tags[26] = {[12] = 0x81, 0x00, 0,    1, 0x81, 0x00, 0,
					      2,	   0x81, 0x00, 0, 3,	0x08, 0x00};
	struct frame f[6];
	frame_set(&f[0], eth4, sizeof(eth4), ip4, sizeof(ip4));
	frame_set(&f[1], eth_arp, sizeof(eth_arp), ip4, 28);
	frame_set(&f[2], eth6, sizeof(eth6), ip6, sizeof(ip6));
	frame_set(&f[3], eth_vlan, sizeof(eth_vlan), ip4, sizeof(ip4));
	frame_set(&f[4], eth_qinq, sizeof(eth_qinq), ip6, sizeof(ip6));
	frame_set(&f[5], eth_3tags, sizeof(eth_3tags), ip4, sizeof(ip4));
	for (int i = 0; i < 6; i++)
		f[i].ts_ns = 1700000000123456789ull + (uint64_t)i;
	write_pcap(DLT_EN10MB, f, 6);
	struct expect ex[] = {
	    {ip4, sizeof(ip4), 0, f[0].ts_ns},
	    {ip6, sizeof(ip6), 0, f[2].ts_ns},
	    {ip4, sizeof(ip4), 42, f[3].ts_ns},
	    {ip6, sizeof(ip6), 7, f[4].ts_ns},
	};
	read_expect(DLT_EN10MB, ex, 4, 2);
}

static void test_pcapsrc_linux_sll(void **state)
{
	static const uint8_t sll4[16] = {[14] = 0x08, 0x00};
	static const uint8_t sll6[16] = {[14] = 0x86, 0xdd};
	static const uint8_t sll_arp[16] = {[14] = 0x08, 0x06};
	struct frame f[3];
	frame_set(&f[0], sll4, 16, ip4, sizeof(ip4));
	frame_set(&f[1], sll_arp, 16, ip4, 28);
	frame_set(&f[2], sll6, 16, ip6, sizeof(ip6));
	f[0].ts_ns = 1000;
	f[1].ts_ns = 2000;
	f[2].ts_ns = 3000;
	write_pcap(DLT_LINUX_SLL, f, 3);
	struct expect ex[] = {{ip4, sizeof(ip4), 0, 1000}, {ip6, sizeof(ip6), 0, 3000}};
	read_expect(DLT_LINUX_SLL, ex, 2, 1);
}

static void test_pcapsrc_linux_sll2(void **state)
{
	static const uint8_t sll4[20] = {0x08, 0x00};
	static const uint8_t sll6[20] = {0x86, 0xdd};
	struct frame f[2];
	frame_set(&f[0], sll6, 20, ip6, sizeof(ip6));
	frame_set(&f[1], sll4, 20, ip4, sizeof(ip4));
	f[0].ts_ns = f[1].ts_ns = 5;
	write_pcap(276, f, 2);
	struct expect ex[] = {{ip6, sizeof(ip6), 0, 5}, {ip4, sizeof(ip4), 0, 5}};
	read_expect(276, ex, 2, 0);
}

static void test_pcapsrc_raw_ip(void **state)
{
	static const uint8_t junk[4] = {0x12, 0x34, 0x56, 0x78};
	struct frame f[3];
	frame_set(&f[0], "", 0, ip4, sizeof(ip4));
	frame_set(&f[1], "", 0, junk, sizeof(junk));
	frame_set(&f[2], "", 0, ip6, sizeof(ip6));
	f[0].ts_ns = f[1].ts_ns = f[2].ts_ns = 0;
	struct expect ex[] = {{ip4, sizeof(ip4), 0, 0}, {ip6, sizeof(ip6), 0, 0}};
	/* DLT_RAW is written as LINKTYPE_RAW (101) and read back as DLT_RAW */
	write_pcap(DLT_RAW, f, 3);
	read_expect(DLT_RAW, ex, 2, 1);
	/* DLT_IPV4 / DLT_IPV6 carry one family each: the other one is skipped */
	write_pcap(228, f, 3);
	read_expect(228, ex, 1, 2);
	write_pcap(229, f, 3);
	read_expect(229, ex + 1, 1, 2);
}

static void test_pcapsrc_bsd_loopback(void **state)
{
	/* AF_INET = 2 in host (little endian here) and network order, AF_INET6
	 * as BSDs (24/28/30) and Linux (10) number it; 17 = unknown AF */
	static const uint8_t af4_le[4] = {2, 0, 0, 0};
	static const uint8_t af4_be[4] = {0, 0, 0, 2};
	static const uint8_t af6_30[4] = {30, 0, 0, 0};
	static const uint8_t af6_24_be[4] = {0, 0, 0, 24};
	static const uint8_t af_bad[4] = {17, 0, 0, 0};
	struct frame f[5];
	frame_set(&f[0], af4_le, 4, ip4, sizeof(ip4));
	frame_set(&f[1], af4_be, 4, ip4, sizeof(ip4));
	frame_set(&f[2], af6_30, 4, ip6, sizeof(ip6));
	frame_set(&f[3], af6_24_be, 4, ip6, sizeof(ip6));
	frame_set(&f[4], af_bad, 4, ip4, sizeof(ip4));
	for (int i = 0; i < 5; i++)
		f[i].ts_ns = 77;
	struct expect ex[] = {{ip4, sizeof(ip4), 0, 77},
			      {ip4, sizeof(ip4), 0, 77},
			      {ip6, sizeof(ip6), 0, 77},
			      {ip6, sizeof(ip6), 0, 77}};
	write_pcap(DLT_NULL, f, 5);
	read_expect(DLT_NULL, ex, 4, 1);
	write_pcap(DLT_LOOP, f, 5);
	read_expect(DLT_LOOP, ex, 4, 1);
}

static void put32(FILE *f, uint32_t v)
{
	fwrite(&v, 4, 1, f);
}

static void put16(FILE *f, uint16_t v)
{
	fwrite(&v, 2, 1, f);
}

/* Minimal pcapng: SHB, IDB (Ethernet, if_tsresol 9 = ns), one EPB. */
static void test_pcapsrc_pcapng(void **state)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	put32(f, 0x0a0d0d0a);
	put32(f, 28);
	put32(f, 0x1a2b3c4d);
	put16(f, 1);
	put16(f, 0);
	put32(f, 0xffffffff);
	put32(f, 0xffffffff);
	put32(f, 28);
	/* IDB with option if_tsresol (9) = 9, opt_endofopt */
	put32(f, 1);
	put32(f, 32);
	put16(f, 1);
	put16(f, 0);
	put32(f, 65535);
	put16(f, 9);
	put16(f, 1);
	put32(f, 9); /* value byte 9 + 3 padding bytes */
	put32(f, 0);
	put32(f, 32);
	/* EPB */
	uint8_t frame[14 + sizeof(ip4)] = {[12] = 0x08, 0x00};
	memcpy(frame + 14, ip4, sizeof(ip4));
	uint32_t pad = (4 - sizeof(frame) % 4) % 4;
	uint32_t blen = 32 + (uint32_t)sizeof(frame) + pad;
	uint64_t ts = 1700000000987654321ull;
	put32(f, 6);
	put32(f, blen);
	put32(f, 0);
	put32(f, (uint32_t)(ts >> 32));
	put32(f, (uint32_t)ts);
	put32(f, sizeof(frame));
	put32(f, sizeof(frame));
	fwrite(frame, sizeof(frame), 1, f);
	fwrite("\0\0\0", pad, 1, f);
	put32(f, blen);
	fclose(f);
	struct expect ex[] = {{ip4, sizeof(ip4), 0, ts}};
	read_expect(DLT_EN10MB, ex, 1, 0);
}

static void test_pcapsrc_errors(void **state)
{
	struct rdpi_pcapsrc *src = NULL;
	char err[256] = "";
	char missing[160];
	snprintf(missing, sizeof(missing), "%s/missing.pcap", tmpdir);
	assert_int_equal(rdpi_pcapsrc_open(missing, err, sizeof(err), &src), -ENOENT);
	assert_non_null(strstr(err, "missing.pcap"));
	/* not a capture file */
	FILE *f = fopen(path, "wb");
	fputs("hello, this is not a pcap file at all", f);
	fclose(f);
	assert_int_equal(rdpi_pcapsrc_open(path, err, sizeof(err), &src), -EINVAL);
	/* unsupported link type (IEEE 802.11 = 105) */
	struct frame fr;
	frame_set(&fr, "", 0, ip4, sizeof(ip4));
	fr.ts_ns = 0;
	write_pcap(105, &fr, 1);
	assert_int_equal(rdpi_pcapsrc_open(path, err, sizeof(err), &src), -EPROTONOSUPPORT);
	assert_null(src);
	/* truncated file: the last record is cut in half */
	struct frame fs[2];
	frame_set(&fs[0], "", 0, ip4, sizeof(ip4));
	frame_set(&fs[1], "", 0, ip4, sizeof(ip4));
	fs[0].ts_ns = fs[1].ts_ns = 0;
	write_pcap(DLT_RAW, fs, 2);
	assert_int_equal(truncate(path, 24 + 16 + 32 + 16 + 10), 0);
	assert_int_equal(rdpi_pcapsrc_open(path, err, sizeof(err), &src), 0);
	struct rdpi_pcapsrc_pkt p;
	assert_int_equal(rdpi_pcapsrc_next(src, &p), 1);
	assert_int_equal(rdpi_pcapsrc_next(src, &p), -EIO);
	rdpi_pcapsrc_free(src);
	rdpi_pcapsrc_free(NULL);
}

static void test_pcapsrc_l3_truncated(void **state)
{
	size_t off;
	uint16_t vlan;
	uint8_t ver;
	static const uint8_t eth_vlan[16] = {[12] = 0x81, 0x00, 0x00, 0x2a};
	assert_int_equal(rdpi_pcapsrc_l3(DLT_EN10MB, eth_vlan, 10, &off, &vlan, &ver), -EMSGSIZE);
	assert_int_equal(rdpi_pcapsrc_l3(DLT_EN10MB, eth_vlan, 16, &off, &vlan, &ver), -EMSGSIZE);
	assert_int_equal(rdpi_pcapsrc_l3(DLT_RAW, ip4, 0, &off, &vlan, &ver), -EMSGSIZE);
	assert_int_equal(rdpi_pcapsrc_l3(DLT_LINUX_SLL, ip4, 15, &off, &vlan, &ver), -EMSGSIZE);
	assert_int_equal(rdpi_pcapsrc_l3(DLT_NULL, ip4, 3, &off, &vlan, &ver), -EMSGSIZE);
	assert_int_equal(rdpi_pcapsrc_l3(105, ip4, sizeof(ip4), &off, &vlan, &ver),
			 -EPROTONOSUPPORT);
	assert_int_equal(rdpi_pcapsrc_l3(DLT_RAW, ip4, sizeof(ip4), &off, &vlan, &ver), 0);
	assert_int_equal(off, 0);
	assert_int_equal(ver, 4);
}

/* ---- real captures from the shared corpus ------------------------------- */

static const char *corpus_dir(char *buf, size_t len)
{
	const char *d = getenv("RDPI_CORPUS_DIR");
	if (d && *d)
		return d;
	const char *src = getenv("RDPI_SOURCE_DIR");
	snprintf(buf, len, "%s/../shared/corpus", src ? src : ".");
	return buf;
}

static void corpus_count(const char *file, int linktype, uint64_t ip, uint64_t vlan_pkts)
{
	char dbuf[512], p[1024];
	const char *dir = corpus_dir(dbuf, sizeof(dbuf));
	snprintf(p, sizeof(p), "%s/pcap/%s", dir, file);
	if (access(p, R_OK) != 0) {
		print_message("SKIP: corpus capture %s not found (set RDPI_CORPUS_DIR)\n", p);
		skip();
	}
	struct rdpi_pcapsrc *src;
	char err[256];
	assert_int_equal(rdpi_pcapsrc_open(p, err, sizeof(err), &src), 0);
	assert_int_equal(rdpi_pcapsrc_linktype(src), linktype);
	struct rdpi_pcapsrc_pkt pk;
	uint64_t n = 0, tagged = 0, last_ts = 0;
	int rc;
	while ((rc = rdpi_pcapsrc_next(src, &pk)) == 1) {
		n++;
		tagged += pk.vlan != 0;
		assert_true(pk.ts_ns > 0);
		assert_true(pk.caplen >= 20);
		last_ts = pk.ts_ns;
	}
	assert_int_equal(rc, 0);
	assert_int_equal(n, ip);
	assert_int_equal(tagged, vlan_pkts);
	assert_true(last_ts > 0);
	rdpi_pcapsrc_free(src);
}

static void test_pcapsrc_corpus_sll(void **state)
{
	corpus_count("quickplay.pcap", DLT_LINUX_SLL, 155, 0);
}

static void test_pcapsrc_corpus_null(void **state)
{
	corpus_count("rdp.pcap", DLT_NULL, 2010, 0);
}

static void test_pcapsrc_corpus_pcapng(void **state)
{
	/* manifest: 3435 frames, 29 non-IP */
	corpus_count("alexa-app.pcapng", DLT_EN10MB, 3435 - 29, 0);
}

static void test_pcapsrc_corpus_vlan(void **state)
{
	corpus_count("mqtt.pcap", DLT_EN10MB, 9, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pcapsrc_ethernet_vlan),
	    cmocka_unit_test(test_pcapsrc_linux_sll),
	    cmocka_unit_test(test_pcapsrc_linux_sll2),
	    cmocka_unit_test(test_pcapsrc_raw_ip),
	    cmocka_unit_test(test_pcapsrc_bsd_loopback),
	    cmocka_unit_test(test_pcapsrc_pcapng),
	    cmocka_unit_test(test_pcapsrc_errors),
	    cmocka_unit_test(test_pcapsrc_l3_truncated),
	    cmocka_unit_test(test_pcapsrc_corpus_sll),
	    cmocka_unit_test(test_pcapsrc_corpus_null),
	    cmocka_unit_test(test_pcapsrc_corpus_pcapng),
	    cmocka_unit_test(test_pcapsrc_corpus_vlan),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
