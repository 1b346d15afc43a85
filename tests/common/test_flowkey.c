/* Tests for common/flowkey: canonical ordering and direction bits, SipHash
 * against the reference vectors, golden flow ids, text form. */
#include "common/flowkey.h"

#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/packet.h"

/* veorq/SipHash vectors.h: key 00..0f, message 00..(len-1), len 0..63. */
static const char *const sip64[64] = {
    "310e0edd47db6f72", "fd67dc93c539f874", "5a4fa9d909806c0d", "2d7efbd796666785",
    "b7877127e09427cf", "8da699cd64557618", "cee3fe586e46c9cb", "37d1018bf50002ab",
    "6224939a79f5f593", "b0e4a90bdf82009e", "f3b9dd94c5bb5d7a", "a7ad6b22462fb3f4",
    "fbe50e86bc8f1e75", "903d84c02756ea14", "eef27a8e90ca23f7", "e545be4961ca29a1",
    "db9bc2577fcc2a3f", "9447be2cf5e99a69", "9cd38d96f0b3c14b", "bd6179a71dc96dbb",
    "98eea21af25cd6be", "c7673b2eb0cbf2d0", "883ea3e395675393", "c8ce5ccd8c030ca8",
    "94af49f6c650adb8", "eab8858ade92e1bc", "f315bb5bb835d817", "adcf6b0763612e2f",
    "a5c91da7acaa4dde", "716595876650a2a6", "28ef495c53a387ad", "42c341d8fa92d832",
    "ce7cf2722f512771", "e37859f94623f3a7", "381205bb1ab0e012", "ae97a10fd434e015",
    "b4a31508beff4d31", "81396229f0907902", "4d0cf49ee5d4dcca", "5c73336a76d8bf9a",
    "d0a704536ba93e0e", "925958fcd6420cad", "a915c29bc8067318", "952b79f3bc0aa6d4",
    "f21df2e41d4535f9", "87577519048f53a9", "10a56cf5dfcd9adb", "eb75095ccd986cd0",
    "51a9cb9ecba312e6", "96afadfc2ce666c7", "72fe52975a4364ee", "5a1645b276d592a1",
    "b274cb8ebf87870a", "6f9bb4203de7b381", "eaecb2a30b22a87f", "9924a43cc1315724",
    "bd838d3aafbf8db7", "0b1a2a3265d51aea", "135079a3231ce660", "932b2846e4d70666",
    "e1915f5cb1eca46c", "f325965ca16d629f", "575ff28e60381be5", "724506eb4c328a95",
};

static const char *const sip128[64] = {
    "a3817f04ba25a8e66df67214c7550293", "da87c1d86b99af44347659119b22fc45",
    "8177228da4a45dc7fca38bdef60affe4", "9c70b60c5267a94e5f33b6b02985ed51",
    "f88164c12d9c8faf7d0f6e7c7bcd5579", "1368875980776f8854527a07690e9627",
    "14eeca338b208613485ea0308fd7a15e", "a1f1ebbed8dbc153c0b84aa61ff08239",
    "3b62a9ba6258f5610f83e264f31497b4", "264499060ad9baabc47f8b02bb6d71ed",
    "00110dc378146956c95447d3f3d0fbba", "0151c568386b6677a2b4dc6f81e5dc18",
    "d626b266905ef35882634df68532c125", "9869e247e9c08b10d029934fc4b952f7",
    "31fcefac66d7de9c7ec7485fe4494902", "5493e99933b0a8117e08ec0f97cfc3d9",
    "6ee2a4ca67b054bbfd3315bf85230577", "473d06e8738db89854c066c47ae47740",
    "a426e5e423bf4885294da481feaef723", "78017731cf65fab074d5208952512eb1",
    "9e25fc833f2290733e9344a5e83839eb", "568e495abe525a218a2214cd3e071d12",
    "4a29b54552d16b9a469c10528eff0aae", "c9d184ddd5a9f5e0cf8ce29a9abf691c",
    "2db479ae78bd50d8882a8a178a6132ad", "8ece5f042d5e447b5051b9eacb8d8f6f",
    "9c0b53b4b3c307e87eaee08678141f66", "abf248af69a6eae4bfd3eb2f129eeb94",
    "0664da1668574b88b935f3027358aef4", "aa4b9dc4bf337de90cd4fd3c467c6ab7",
    "ea5c7f471faf6bde2b1ad7d4686d2287", "2939b0183223fafc1723de4f52c43d35",
    "7c3956ca5eeafc3e363e9d556546eb68", "77c6077146f01c32b6b69d5f4ea9ffcf",
    "37a6986cb8847edf0925f0f1309b54de", "a705f0e69da9a8f907241a2e923c8cc8",
    "3dc47d1f29c448461e9e76ed904f6711", "0d62bf01e6fc0e1a0d3c4751c5d3692b",
    "8c03468bca7c669ee4fd5e084bbee7b5", "528a5bb93baf2c9c4473cce5d0d22bd9",
    "df6a301e95c95dad97ae0cc8c6913bd8", "801189902c857f39e73591285e70b6db",
    "e617346ac9c231bb3650ae34ccca0c5b", "27d93437efb721aa401821dcec5adf89",
    "89237d9ded9c5e78d8b1c9b166cc7342", "4a6d8091bf5e7d651189fa94a250b14c",
    "0e33f96055e7ae893ffc0e3dcf492902", "e61c432b720b19d18ec8d84bdc63151b",
    "f7e5aef549f782cf379055a608269b16", "438d030fd0b7a54fa837f2ad201a6403",
    "a590d3ee4fbf04e3247e0d27f286423f", "5fe2c1a172fe93c4b15cd37caef9f538",
    "2c97325cbd06b36eb2133dd08b3a017c", "92c814227a6bca949ff0659f002ad39e",
    "dce850110bd8328cfbd50841d6911d87", "67f14984c7da791248e32bb5922583da",
    "1938f2cf72d54ee97e94166fa91d2a36", "74481e9646ed49fe0f6224301604698e",
    "57fca5de98a9d6d8006438d0583d8a1d", "9fecde1cefdc1cbed4763674d9575359",
    "e3040c00eb28f15366ca73cbd872e740", "7697009a6a831dfecca91c5993670f7a",
    "5853542321f567a005d547a4f04759bd", "5150d1772f50834a503e069a973fbd7c",
};

static void to_hex(const uint8_t *b, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
}

static void addr(const char *s, uint8_t a[16])
{
	assert_int_equal(rdpi_addr_parse(s, a, NULL), 0);
}

static void test_flowkey_siphash_reference_vectors(void **state)
{
	(void)state;
	uint8_t key[16], msg[64], out[16];
	char hex[33];
	for (int i = 0; i < 16; i++)
		key[i] = (uint8_t)i;
	for (int i = 0; i < 64; i++)
		msg[i] = (uint8_t)i;
	for (size_t len = 0; len < 64; len++) {
		assert_int_equal(rdpi_flowkey_siphash(key, msg, len, out, 8), 0);
		to_hex(out, 8, hex);
		assert_string_equal(hex, sip64[len]);
		assert_int_equal(rdpi_flowkey_siphash(key, msg, len, out, 16), 0);
		to_hex(out, 16, hex);
		assert_string_equal(hex, sip128[len]);
	}
	/* the SipHash paper's appendix example: 15 bytes, 64-bit */
	assert_int_equal(rdpi_flowkey_siphash(key, msg, 15, out, 8), 0);
	assert_int_equal(out[0], 0xe5);
	assert_int_equal(out[7], 0xa1);
	assert_int_equal(rdpi_flowkey_siphash(key, msg, 15, out, 12), -EINVAL);
	assert_int_equal(rdpi_flowkey_siphash(key, NULL, 0, out, 8), 0);
}

static void test_flowkey_both_directions_same_key(void **state)
{
	(void)state;
	uint8_t c[16], s[16], id1[16], id2[16];
	addr("192.0.2.10", c);
	addr("198.51.100.10", s);
	struct rdpi_flowkey k1, k2;
	int d1 = -1, d2 = -1;
	rdpi_flowkey_make(4, IPPROTO_TCP, c, 53168, s, 443, &k1, &d1);
	rdpi_flowkey_make(4, IPPROTO_TCP, s, 443, c, 53168, &k2, &d2);
	assert_true(rdpi_flowkey_equal(&k1, &k2));
	assert_memory_equal(&k1, &k2, sizeof(k1));
	assert_int_equal(d1, RDPI_FLOWKEY_DIR_LO_TO_HI);
	assert_int_equal(d2, RDPI_FLOWKEY_DIR_HI_TO_LO);
	rdpi_flowkey_id(&k1, id1);
	rdpi_flowkey_id(&k2, id2);
	assert_memory_equal(id1, id2, 16);
	assert_int_equal(rdpi_flowkey_hash(&k1), rdpi_flowkey_hash(&k2));
	assert_memory_equal(k1.lo_addr, c, 16);
	assert_int_equal(k1.lo_port, 53168);
	assert_int_equal(k1.hi_port, 443);

	/* another port is another flow */
	rdpi_flowkey_make(4, IPPROTO_TCP, c, 53169, s, 443, &k2, NULL);
	assert_false(rdpi_flowkey_equal(&k1, &k2));
	rdpi_flowkey_make(4, IPPROTO_UDP, c, 53168, s, 443, &k2, NULL);
	assert_false(rdpi_flowkey_equal(&k1, &k2));
}

static void test_flowkey_same_addr_orders_by_port(void **state)
{
	(void)state;
	uint8_t a[16];
	addr("127.0.0.1", a);
	struct rdpi_flowkey k1, k2;
	int d1, d2;
	rdpi_flowkey_make(4, IPPROTO_UDP, a, 9000, a, 53, &k1, &d1);
	rdpi_flowkey_make(4, IPPROTO_UDP, a, 53, a, 9000, &k2, &d2);
	assert_true(rdpi_flowkey_equal(&k1, &k2));
	assert_int_equal(k1.lo_port, 53);
	assert_int_equal(k1.hi_port, 9000);
	assert_int_equal(d1, RDPI_FLOWKEY_DIR_HI_TO_LO);
	assert_int_equal(d2, RDPI_FLOWKEY_DIR_LO_TO_HI);
	/* ports compare numerically, not by host-order bytes */
	rdpi_flowkey_make(4, IPPROTO_UDP, a, 256, a, 1, &k1, &d1);
	assert_int_equal(k1.lo_port, 1);
	assert_int_equal(d1, RDPI_FLOWKEY_DIR_HI_TO_LO);
	/* identical endpoints */
	rdpi_flowkey_make(4, IPPROTO_UDP, a, 7, a, 7, &k1, &d1);
	assert_int_equal(d1, RDPI_FLOWKEY_DIR_LO_TO_HI);
}

static void test_flowkey_every_byte_written(void **state)
{
	(void)state;
	uint8_t a[16], b[16];
	addr("10.0.0.1", a);
	addr("10.0.0.2", b);
	struct rdpi_flowkey k1, k2;
	memset(&k1, 0x00, sizeof(k1));
	memset(&k2, 0xff, sizeof(k2));
	rdpi_flowkey_make(4, IPPROTO_TCP, a, 1, b, 2, &k1, NULL);
	rdpi_flowkey_make(4, IPPROTO_TCP, a, 1, b, 2, &k2, NULL);
	assert_int_equal(sizeof(k1), 38);
	assert_memory_equal(&k1, &k2, sizeof(k1));
}

static void test_flowkey_v4_vs_v6(void **state)
{
	(void)state;
	uint8_t a[16], b[16], a6[16], b6[16];
	addr("192.0.2.1", a);
	addr("192.0.2.2", b);
	addr("2001:db8::1", a6);
	addr("2001:db8::2", b6);
	struct rdpi_flowkey k4, k4as6, k6;
	rdpi_flowkey_make(4, IPPROTO_TCP, a, 1000, b, 80, &k4, NULL);
	rdpi_flowkey_make(6, IPPROTO_TCP, a, 1000, b, 80, &k4as6, NULL);
	rdpi_flowkey_make(6, IPPROTO_TCP, a6, 1000, b6, 80, &k6, NULL);
	assert_false(rdpi_flowkey_equal(&k4, &k4as6));
	assert_false(rdpi_flowkey_equal(&k4, &k6));
	char h1[33], h2[33], h3[33];
	rdpi_flowkey_hex(&k4, h1);
	rdpi_flowkey_hex(&k4as6, h2);
	rdpi_flowkey_hex(&k6, h3);
	assert_string_not_equal(h1, h2);
	assert_string_not_equal(h1, h3);
	assert_string_not_equal(h2, h3);
}

static void test_flowkey_golden_id(void **state)
{
	(void)state;
	/* computed once with an independent SipHash-2-4-128 over the documented
	 * serialisation; a change here changes every stored flow_id */
	uint8_t c[16], s[16];
	addr("192.0.2.10", c);
	addr("198.51.100.10", s);
	struct rdpi_flowkey k;
	char hex[33];
	rdpi_flowkey_make(4, IPPROTO_TCP, s, 443, c, 53168, &k, NULL);
	rdpi_flowkey_hex(&k, hex);
	assert_string_equal(hex, "4e334b950a79b43dc61b3b7a66b06f51");
	assert_int_equal(rdpi_flowkey_hash(&k), 0x0bc3664d37e46640ULL);

	addr("2001:db8::1", c);
	addr("2001:db8::2", s);
	rdpi_flowkey_make(6, IPPROTO_UDP, s, 50000, c, 443, &k, NULL);
	rdpi_flowkey_hex(&k, hex);
	assert_string_equal(hex, "751787171eaa9568192fb29780353381");

	uint8_t seed[16] = {1};
	assert_true(rdpi_flowkey_hash_seeded(&k, seed) != rdpi_flowkey_hash(&k));
}

static size_t build_v4_udp(uint8_t *b, const uint8_t src[4], uint16_t sport, const uint8_t dst[4],
			   uint16_t dport)
{
	memset(b, 0, 28);
	b[0] = 0x45;
	b[3] = 28;
	b[8] = 64;
	b[9] = IPPROTO_UDP;
	memcpy(b + 12, src, 4);
	memcpy(b + 16, dst, 4);
	b[20] = (uint8_t)(sport >> 8);
	b[21] = (uint8_t)sport;
	b[22] = (uint8_t)(dport >> 8);
	b[23] = (uint8_t)dport;
	b[25] = 8;
	return 28;
}

static void test_flowkey_from_packet(void **state)
{
	(void)state;
	static const uint8_t a[4] = {10, 0, 0, 5}, b[4] = {8, 8, 8, 8};
	uint8_t q[28], r[28];
	struct rdpi_packet pq, pr;
	assert_int_equal(rdpi_packet_parse(q, build_v4_udp(q, a, 40000, b, 53), &pq), 0);
	assert_int_equal(rdpi_packet_parse(r, build_v4_udp(r, b, 53, a, 40000), &pr), 0);
	struct rdpi_flowkey kq, kr;
	int dq, dr;
	rdpi_flowkey_from_packet(&pq, &kq, &dq);
	rdpi_flowkey_from_packet(&pr, &kr, &dr);
	assert_true(rdpi_flowkey_equal(&kq, &kr));
	assert_int_not_equal(dq, dr);
	char buf[RDPI_FLOWKEY_STRLEN];
	assert_int_equal(rdpi_flowkey_format(&kq, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "udp 8.8.8.8:53 <-> 10.0.0.5:40000");
}

static void test_flowkey_format(void **state)
{
	(void)state;
	uint8_t c[16], s[16];
	struct rdpi_flowkey k;
	char buf[RDPI_FLOWKEY_STRLEN];

	addr("192.0.2.10", c);
	addr("198.51.100.10", s);
	rdpi_flowkey_make(4, IPPROTO_TCP, s, 443, c, 53168, &k, NULL);
	assert_int_equal(rdpi_flowkey_format(&k, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "tcp 192.0.2.10:53168 <-> 198.51.100.10:443");

	rdpi_flowkey_make(4, IPPROTO_ICMP, c, 0, s, 0, &k, NULL);
	assert_int_equal(rdpi_flowkey_format(&k, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "icmp 192.0.2.10 <-> 198.51.100.10");

	rdpi_flowkey_make(4, 47, c, 0, s, 0, &k, NULL);
	assert_int_equal(rdpi_flowkey_format(&k, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "gre 192.0.2.10 <-> 198.51.100.10");
	rdpi_flowkey_make(4, 253, c, 0, s, 0, &k, NULL);
	assert_int_equal(rdpi_flowkey_format(&k, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "proto-253 192.0.2.10 <-> 198.51.100.10");

	addr("2001:db8::1", c);
	addr("2001:db8::2", s);
	rdpi_flowkey_make(6, IPPROTO_UDP, s, 50000, c, 443, &k, NULL);
	assert_int_equal(rdpi_flowkey_format(&k, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "udp [2001:db8::1]:443 <-> [2001:db8::2]:50000");

	/* the longest form fits RDPI_FLOWKEY_STRLEN */
	addr("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255", c);
	addr("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.254", s);
	rdpi_flowkey_make(6, IPPROTO_UDPLITE, c, 65535, s, 65535, &k, NULL);
	assert_int_equal(rdpi_flowkey_format(&k, buf, sizeof(buf)), 0);

	char small[20] = "untouched";
	assert_int_equal(rdpi_flowkey_format(&k, small, sizeof(small)), -ENOSPC);
	assert_string_equal(small, "untouched");
	size_t need = strlen(buf) + 1;
	assert_int_equal(rdpi_flowkey_format(&k, buf, need - 1), -ENOSPC);
	assert_int_equal(rdpi_flowkey_format(&k, buf, need), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_flowkey_siphash_reference_vectors),
	    cmocka_unit_test(test_flowkey_both_directions_same_key),
	    cmocka_unit_test(test_flowkey_same_addr_orders_by_port),
	    cmocka_unit_test(test_flowkey_every_byte_written),
	    cmocka_unit_test(test_flowkey_v4_vs_v6),
	    cmocka_unit_test(test_flowkey_golden_id),
	    cmocka_unit_test(test_flowkey_from_packet),
	    cmocka_unit_test(test_flowkey_format),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
