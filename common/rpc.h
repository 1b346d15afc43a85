/* NNG REQ/REP transport for routerd.dpi.v1 envelopes: a server that runs
 * service calls on many contexts at once, and a client with deadlines, fast
 * failure on a dead peer and automatic redial. JSON envelopes ("{...}") are
 * answered in JSON for nngcat debugging. */
#ifndef RDPI_COMMON_RPC_H
#define RDPI_COMMON_RPC_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdint.h>

#include "common/service.h"

struct rdpi_rpc_server;
struct rdpi_rpc_client;

#define RDPI_RPC_DEFAULT_MAX_MSG (4u * 1024u * 1024u)

struct rdpi_rpc_server_opts {
	const char *url; /* "ipc:///run/routerd/dpi-classifier/default.ipc" */
	struct rdpi_service *svc;
	unsigned contexts; /* requests in flight, default 32 */
	size_t max_msg;	   /* larger requests are dropped by NNG, default 4 MiB */
};

/* Listen and serve. For ipc:// a stale socket file is replaced and the
 * socket is made mode 0660. The service must outlive the server. */
int rdpi_rpc_server_start(const struct rdpi_rpc_server_opts *opts, struct rdpi_rpc_server **ret);
/* Close the socket and wait for calls in flight to settle; NULL ok. */
void rdpi_rpc_server_stop(struct rdpi_rpc_server *srv);

struct rdpi_rpc_server_stats {
	uint64_t requests, json_requests, bad_envelopes, replies, send_errors;
};
void rdpi_rpc_server_stats(const struct rdpi_rpc_server *srv, struct rdpi_rpc_server_stats *ret);

struct rdpi_rpc_client_opts {
	size_t max_msg;		   /* default 4 MiB, both directions */
	uint32_t reconnect_min_ms; /* default 20 */
	uint32_t reconnect_max_ms; /* default 1000 */
};

/* Dial url (ipc:// or tcp://) and keep redialling in the background; a peer
 * that is not up yet is not an error. opts may be NULL. */
int rdpi_rpc_client_new(const char *url, const struct rdpi_rpc_client_opts *opts,
			struct rdpi_rpc_client **ret);
void rdpi_rpc_client_free(struct rdpi_rpc_client *cl);

/* Tear down nng once every server and client is gone: waits for nng's reaper, so
 * no socket is still being freed on a background thread when the process exits
 * (LeakSanitizer saw those as leaks). Call last, from main or a test teardown. */
void rdpi_rpc_fini(void);

/* Whether a connection to the peer is up right now. */
int rdpi_rpc_client_connected(struct rdpi_rpc_client *cl);

/* One call, safe from many threads at once. On OK *ret_reply holds the
 * unpacked reply (free with protobuf_c_message_free_unpacked(m, NULL)).
 * Otherwise err gets the reason: UNAVAILABLE when no peer is connected or it
 * went away mid-call, DEADLINE_EXCEEDED after timeout_ms, RESOURCE_EXHAUSTED
 * for a request over max_msg, or the server's status and error text. */
enum rdpi_status rdpi_rpc_client_call(struct rdpi_rpc_client *cl, const char *method,
				      const ProtobufCMessage *req,
				      const ProtobufCMessageDescriptor *reply_desc,
				      uint32_t timeout_ms, ProtobufCMessage **ret_reply, char *err,
				      size_t errlen);

/* ---- envelope decoding, exposed for the fuzzer and tests ------------------ */

struct rdpi_rpc_envelope {
	int json; /* 1 when the request was a JSON envelope */
	char method[64];
	uint32_t timeout_ms;
	const uint8_t *body; /* protobuf body (owned by the envelope), when !json */
	size_t body_len;
	char *json_body; /* JSON text of "body" (malloc'd), when json */
	void *pb;	 /* decoded protobuf Request behind body */
};

/* Decode a request envelope (protobuf Request or JSON {"method","body",
 * "timeoutMs"}). -EINVAL with a message in err. Release with _fini. */
int rdpi_rpc_envelope_parse(const uint8_t *data, size_t len, struct rdpi_rpc_envelope *ret,
			    char *err, size_t errlen);
void rdpi_rpc_envelope_fini(struct rdpi_rpc_envelope *env);

#endif
