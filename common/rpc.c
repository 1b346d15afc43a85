/* NNG REQ/REP transport: the server maps envelopes to service calls on many
 * contexts at once; the client adds deadlines, fast failure and redial. */
#include "common/rpc.h"

#include <errno.h>
#include <jansson.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/pbjson.h"
#include "routerd/dpi/v1/common.pb-c.h"

/* ---- envelope ----------------------------------------------------------- */

static int envelope_parse_json(const uint8_t *data, size_t len, struct rdpi_rpc_envelope *env,
			       char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *root = json_loadb((const char *)data, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		snprintf(err, errlen, "bad JSON envelope at line %d column %d: %s", jerr.line,
			 jerr.column, jerr.text);
		return -EINVAL;
	}
	int rv = -EINVAL;
	if (!json_is_object(root)) {
		snprintf(err, errlen, "JSON envelope must be an object");
		goto out;
	}
	json_t *m = json_object_get(root, "method");
	if (!json_is_string(m) || json_string_length(m) == 0 ||
	    json_string_length(m) >= sizeof(env->method)) {
		snprintf(err, errlen, "JSON envelope: \"method\" must be a non-empty string");
		goto out;
	}
	json_t *t = json_object_get(root, "timeoutMs");
	if (t && !json_is_null(t)) {
		if (!json_is_integer(t) || json_integer_value(t) < 0 ||
		    json_integer_value(t) > UINT32_MAX) {
			snprintf(err, errlen,
				 "JSON envelope: \"timeoutMs\" must be a "
				 "non-negative integer");
			goto out;
		}
		env->timeout_ms = (uint32_t)json_integer_value(t);
	}
	json_t *b = json_object_get(root, "body");
	if (b && !json_is_null(b)) {
		if (!json_is_object(b)) {
			snprintf(err, errlen, "JSON envelope: \"body\" must be an object");
			goto out;
		}
		env->json_body = json_dumps(b, JSON_COMPACT);
		if (!env->json_body) {
			snprintf(err, errlen, "out of memory");
			rv = -ENOMEM;
			goto out;
		}
	}
	snprintf(env->method, sizeof(env->method), "%s", json_string_value(m));
	env->json = 1;
	rv = 0;
out:
	json_decref(root);
	return rv;
}

int rdpi_rpc_envelope_parse(const uint8_t *data, size_t len, struct rdpi_rpc_envelope *ret,
			    char *err, size_t errlen)
{
	struct rdpi_rpc_envelope env = {0};
	if (len > 0 && data[0] == '{') {
		int rv = envelope_parse_json(data, len, &env, err, errlen);
		if (rv < 0) {
			free(env.json_body);
			return rv;
		}
		*ret = env;
		return 0;
	}
	Routerd__Dpi__V1__Request *req = routerd__dpi__v1__request__unpack(NULL, len, data);
	if (!req) {
		snprintf(err, errlen, "malformed request envelope (%zu bytes)", len);
		return -EINVAL;
	}
	size_t mlen = req->method ? strlen(req->method) : 0;
	if (mlen == 0 || mlen >= sizeof(env.method)) {
		snprintf(err, errlen, "request envelope has %s method name",
			 mlen ? "an over-long" : "no");
		routerd__dpi__v1__request__free_unpacked(req, NULL);
		return -EINVAL;
	}
	memcpy(env.method, req->method, mlen + 1);
	env.timeout_ms = req->timeoutms;
	env.body = req->body.data;
	env.body_len = req->body.len;
	env.pb = req;
	*ret = env;
	return 0;
}

void rdpi_rpc_envelope_fini(struct rdpi_rpc_envelope *env)
{
	if (!env)
		return;
	free(env->json_body);
	if (env->pb)
		routerd__dpi__v1__request__free_unpacked(env->pb, NULL);
	memset(env, 0, sizeof(*env));
}

/* ---- server ---------------------------------------------------------------- */

enum ctx_state { CTX_RECV, CTX_WAIT, CTX_SEND };

struct srv_ctx {
	struct rdpi_rpc_server *srv;
	nng_ctx ctx;
	nng_aio *aio;
	enum ctx_state state;
	bool json;
};

struct rdpi_rpc_server {
	struct rdpi_rpc_server_opts opts;
	nng_socket sock;
	bool sock_open;
	struct srv_ctx *ctxs;
	unsigned nctxs;
	atomic_bool closing;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned waiting; /* contexts with a call in flight */
	atomic_uint_fast64_t requests, json_requests, bad_envelopes, replies, send_errors;
};

static int nng_to_errno(int rv)
{
	switch (rv) {
	case 0:
		return 0;
	case NNG_ENOMEM:
		return -ENOMEM;
	case NNG_EADDRINUSE:
		return -EADDRINUSE;
	case NNG_EADDRINVAL:
		return -EINVAL;
	case NNG_EPERM:
		return -EACCES;
	case NNG_ENOENT:
		return -ENOENT;
	case NNG_ECONNREFUSED:
		return -ECONNREFUSED;
	case NNG_ENOTSUP:
		return -ENOTSUP;
	default:
		return -EIO;
	}
}

/* Append a length-delimited field holding msg, packed straight into the NNG
 * message (no intermediate buffer). */
static size_t put_varint(uint8_t *p, size_t v)
{
	size_t n = 0;
	do {
		p[n] = (uint8_t)(v & 0x7f);
		v >>= 7;
		if (v)
			p[n] |= 0x80;
		n++;
	} while (v);
	return n;
}

/* head: the envelope without its bytes field; tag: that field's key byte. */
static nng_msg *pack_envelope(const ProtobufCMessage *head, uint8_t tag,
			      const ProtobufCMessage *body, size_t *ret_len)
{
	size_t hn = protobuf_c_message_get_packed_size(head);
	size_t bn = body ? protobuf_c_message_get_packed_size(body) : 0;
	uint8_t key[1 + 10];
	size_t kn = 0;
	if (body) {
		key[0] = tag;
		kn = 1 + put_varint(key + 1, bn);
	}
	nng_msg *msg = NULL;
	if (nng_msg_alloc(&msg, hn + kn + bn) != 0)
		return NULL;
	uint8_t *p = nng_msg_body(msg);
	protobuf_c_message_pack(head, p);
	memcpy(p + hn, key, kn);
	if (body)
		protobuf_c_message_pack(body, p + hn + kn);
	if (ret_len)
		*ret_len = hn + kn + bn;
	return msg;
}

static nng_msg *encode_reply_pb(enum rdpi_status st, const char *error,
				const ProtobufCMessage *body)
{
	Routerd__Dpi__V1__Reply rep = ROUTERD__DPI__V1__REPLY__INIT;
	rep.status = (Routerd__Dpi__V1__Status)st;
	rep.error = (char *)(error ? error : "");
	return pack_envelope(&rep.base, 3 << 3 | 2 /* body */, body, NULL);
}

static nng_msg *encode_reply_json(struct rdpi_rpc_server *srv, enum rdpi_status st,
				  const char *error, const ProtobufCMessage *body)
{
	json_t *root = json_object();
	if (!root)
		return NULL;
	json_object_set_new(root, "status", json_string(rdpi_status_name(st)));
	if (error && *error)
		json_object_set_new(root, "error", json_string(error));
	if (body) {
		json_t *jb = NULL;
		if (rdpi_pbjson_to_json(body, rdpi_service_json_opts(srv->opts.svc), &jb) == 0)
			json_object_set_new(root, "body", jb);
		else
			json_object_set_new(root, "error",
					    json_string("reply cannot be shown as JSON"));
	}
	char *text = json_dumps(root, JSON_COMPACT);
	json_decref(root);
	if (!text)
		return NULL;
	nng_msg *msg = NULL;
	size_t n = strlen(text);
	if (nng_msg_alloc(&msg, n + 1) == 0) {
		memcpy(nng_msg_body(msg), text, n);
		((char *)nng_msg_body(msg))[n] = '\n';
	}
	free(text);
	return msg;
}

/* Queue a reply on c's context; consumes nothing the caller owns. */
static void ctx_send_reply(struct srv_ctx *c, enum rdpi_status st, const char *error,
			   const ProtobufCMessage *body)
{
	struct rdpi_rpc_server *srv = c->srv;
	nng_msg *msg =
	    c->json ? encode_reply_json(srv, st, error, body) : encode_reply_pb(st, error, body);
	if (!msg && body) /* reply too big or OOM: say so instead */
		msg = c->json ? encode_reply_json(srv, RDPI_STATUS_INTERNAL, "cannot encode reply",
						  NULL)
			      : encode_reply_pb(RDPI_STATUS_INTERNAL, "cannot encode reply", NULL);
	c->state = CTX_SEND;
	if (!msg) {
		/* nothing to send: go back to receiving; the client times out */
		atomic_fetch_add(&srv->send_errors, 1);
		c->state = CTX_RECV;
		if (!atomic_load(&srv->closing))
			nng_ctx_recv(c->ctx, c->aio);
		return;
	}
	atomic_fetch_add(&srv->replies, 1);
	nng_aio_set_msg(c->aio, msg);
	nng_ctx_send(c->ctx, c->aio);
}

static void on_call_done(void *arg, struct rdpi_call *call)
{
	struct srv_ctx *c = arg;
	struct rdpi_rpc_server *srv = c->srv;
	enum rdpi_status st = rdpi_call_status(call);
	/* under the lock: rdpi_rpc_server_stop() sets closing under it before nng_close(), so
	 * no worker sends on a context the close is tearing down (nng 1.5 panics on that race) */
	pthread_mutex_lock(&srv->lock);
	if (!atomic_load(&srv->closing))
		ctx_send_reply(c, st, rdpi_call_error(call), rdpi_call_reply(call));
	srv->waiting--;
	pthread_cond_broadcast(&srv->cond);
	pthread_mutex_unlock(&srv->lock);
	rdpi_call_free(call);
}

static void handle_request(struct srv_ctx *c, nng_msg *msg)
{
	struct rdpi_rpc_server *srv = c->srv;
	struct rdpi_rpc_envelope env;
	char err[256];
	const uint8_t *data = nng_msg_body(msg);
	size_t len = nng_msg_len(msg);
	atomic_fetch_add(&srv->requests, 1);
	c->json = len > 0 && data[0] == '{';
	if (c->json)
		atomic_fetch_add(&srv->json_requests, 1);
	if (rdpi_rpc_envelope_parse(data, len, &env, err, sizeof(err)) < 0) {
		nng_msg_free(msg);
		atomic_fetch_add(&srv->bad_envelopes, 1);
		ctx_send_reply(c, RDPI_STATUS_INVALID_ARGUMENT, err, NULL);
		return;
	}
	struct rdpi_call *call = NULL;
	int rv = rdpi_call_new(srv->opts.svc, env.method, &call);
	if (rv < 0) {
		snprintf(err, sizeof(err),
			 rv == -ENOENT ? "unknown method \"%s\" for service %s"
				       : "cannot create call for %s%s",
			 env.method, rv == -ENOENT ? rdpi_service_desc(srv->opts.svc)->name : "");
		rdpi_rpc_envelope_fini(&env);
		nng_msg_free(msg);
		ctx_send_reply(c, rv == -ENOENT ? RDPI_STATUS_NOT_FOUND : RDPI_STATUS_INTERNAL, err,
			       NULL);
		return;
	}
	if (env.json)
		rv = rdpi_call_decode_json(call, env.json_body,
					   env.json_body ? strlen(env.json_body) : 0);
	else
		rv = rdpi_call_decode_pb(call, env.body, env.body_len);
	uint32_t timeout = env.timeout_ms;
	rdpi_rpc_envelope_fini(&env);
	nng_msg_free(msg);
	if (rv < 0) {
		ctx_send_reply(c, RDPI_STATUS_INVALID_ARGUMENT, rdpi_call_error(call), NULL);
		rdpi_call_free(call);
		return;
	}
	c->state = CTX_WAIT;
	pthread_mutex_lock(&srv->lock);
	srv->waiting++;
	pthread_mutex_unlock(&srv->lock);
	rdpi_call_start(call, timeout, on_call_done, c);
}

static void srv_ctx_cb(void *arg)
{
	struct srv_ctx *c = arg;
	struct rdpi_rpc_server *srv = c->srv;
	int rv = nng_aio_result(c->aio);
	switch (c->state) {
	case CTX_RECV:
		if (rv != 0) {
			if (rv == NNG_ECLOSED || rv == NNG_ECANCELED || atomic_load(&srv->closing))
				return;
			nng_ctx_recv(c->ctx, c->aio);
			return;
		}
		handle_request(c, nng_aio_get_msg(c->aio));
		return;
	case CTX_SEND:
		if (rv != 0) {
			nng_msg_free(nng_aio_get_msg(c->aio));
			atomic_fetch_add(&srv->send_errors, 1);
		}
		c->state = CTX_RECV;
		if (!atomic_load(&srv->closing))
			nng_ctx_recv(c->ctx, c->aio);
		return;
	case CTX_WAIT:
		return; /* no aio operation is outstanding while waiting */
	}
}

int rdpi_rpc_server_start(const struct rdpi_rpc_server_opts *opts, struct rdpi_rpc_server **ret)
{
	if (!opts || !opts->url || !opts->svc)
		return -EINVAL;
	struct rdpi_rpc_server *srv = calloc(1, sizeof(*srv));
	if (!srv)
		return -ENOMEM;
	srv->opts = *opts;
	if (!srv->opts.contexts)
		srv->opts.contexts = 32;
	if (!srv->opts.max_msg)
		srv->opts.max_msg = RDPI_RPC_DEFAULT_MAX_MSG;
	pthread_mutex_init(&srv->lock, NULL);
	pthread_cond_init(&srv->cond, NULL);

	nng_listener l;
	int rv = nng_rep0_open(&srv->sock);
	if (rv != 0)
		goto out;
	srv->sock_open = true;
	if ((rv = nng_socket_set_size(srv->sock, NNG_OPT_RECVMAXSZ, srv->opts.max_msg)) != 0)
		goto out;
	if ((rv = nng_listener_create(&l, srv->sock, srv->opts.url)) != 0)
		goto out;
	if (strncmp(srv->opts.url, "ipc://", 6) == 0)
		nng_listener_set_int(l, NNG_OPT_IPC_PERMISSIONS, 0660);
	if ((rv = nng_listener_start(l, 0)) != 0)
		goto out;
	srv->ctxs = calloc(srv->opts.contexts, sizeof(*srv->ctxs));
	if (!srv->ctxs) {
		rv = NNG_ENOMEM;
		goto out;
	}
	for (unsigned i = 0; i < srv->opts.contexts; i++) {
		struct srv_ctx *c = &srv->ctxs[i];
		c->srv = srv;
		if ((rv = nng_aio_alloc(&c->aio, srv_ctx_cb, c)) != 0)
			goto out;
		if ((rv = nng_ctx_open(&c->ctx, srv->sock)) != 0) {
			nng_aio_free(c->aio);
			c->aio = NULL;
			goto out;
		}
		srv->nctxs++;
	}
	for (unsigned i = 0; i < srv->nctxs; i++) {
		srv->ctxs[i].state = CTX_RECV;
		nng_ctx_recv(srv->ctxs[i].ctx, srv->ctxs[i].aio);
	}
	*ret = srv;
	return 0;
out:
	rdpi_rpc_server_stop(srv);
	return nng_to_errno(rv);
}

void rdpi_rpc_server_stop(struct rdpi_rpc_server *srv)
{
	if (!srv)
		return;
	pthread_mutex_lock(&srv->lock);
	atomic_store(&srv->closing, true);
	pthread_mutex_unlock(&srv->lock);
	if (srv->sock_open)
		nng_close(srv->sock);
	/* calls in flight settle by their deadline at the latest */
	pthread_mutex_lock(&srv->lock);
	while (srv->waiting > 0)
		pthread_cond_wait(&srv->cond, &srv->lock);
	pthread_mutex_unlock(&srv->lock);
	for (unsigned i = 0; i < srv->nctxs; i++) {
		nng_aio_stop(srv->ctxs[i].aio);
		nng_ctx_close(srv->ctxs[i].ctx);
		nng_aio_free(srv->ctxs[i].aio);
	}
	free(srv->ctxs);
	pthread_cond_destroy(&srv->cond);
	pthread_mutex_destroy(&srv->lock);
	free(srv);
}

void rdpi_rpc_server_stats(const struct rdpi_rpc_server *srv, struct rdpi_rpc_server_stats *ret)
{
	struct rdpi_rpc_server *s = (struct rdpi_rpc_server *)srv;
	ret->requests = atomic_load(&s->requests);
	ret->json_requests = atomic_load(&s->json_requests);
	ret->bad_envelopes = atomic_load(&s->bad_envelopes);
	ret->replies = atomic_load(&s->replies);
	ret->send_errors = atomic_load(&s->send_errors);
}

/* ---- client ------------------------------------------------------------------ */

struct inflight {
	struct inflight *prev, *next;
	nng_aio *aio;
	bool aborted;
};

struct rdpi_rpc_client {
	struct rdpi_rpc_client_opts opts;
	char *url;
	nng_socket sock;
	bool sock_open;
	pthread_mutex_t lock;
	int pipes;
	struct inflight *head;
};

static void client_pipe_cb(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	struct rdpi_rpc_client *cl = arg;
	pthread_mutex_lock(&cl->lock);
	if (ev == NNG_PIPE_EV_ADD_POST) {
		cl->pipes++;
	} else if (ev == NNG_PIPE_EV_REM_POST) {
		if (cl->pipes > 0)
			cl->pipes--;
		/* the peer went away: fail calls now instead of at their deadline */
		if (cl->pipes == 0) {
			for (struct inflight *f = cl->head; f; f = f->next) {
				f->aborted = true;
				nng_aio_abort(f->aio, NNG_ECONNSHUT);
			}
		}
	}
	pthread_mutex_unlock(&cl->lock);
}

int rdpi_rpc_client_new(const char *url, const struct rdpi_rpc_client_opts *opts,
			struct rdpi_rpc_client **ret)
{
	if (!url)
		return -EINVAL;
	struct rdpi_rpc_client *cl = calloc(1, sizeof(*cl));
	if (!cl)
		return -ENOMEM;
	if (opts)
		cl->opts = *opts;
	if (!cl->opts.max_msg)
		cl->opts.max_msg = RDPI_RPC_DEFAULT_MAX_MSG;
	if (!cl->opts.reconnect_min_ms)
		cl->opts.reconnect_min_ms = 20;
	if (!cl->opts.reconnect_max_ms)
		cl->opts.reconnect_max_ms = 1000;
	pthread_mutex_init(&cl->lock, NULL);
	int rv;
	cl->url = strdup(url);
	if (!cl->url) {
		rv = NNG_ENOMEM;
		goto out;
	}
	if ((rv = nng_req0_open(&cl->sock)) != 0)
		goto out;
	cl->sock_open = true;
	nng_socket_set_size(cl->sock, NNG_OPT_RECVMAXSZ, cl->opts.max_msg);
	nng_socket_set_ms(cl->sock, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE);
	nng_socket_set_ms(cl->sock, NNG_OPT_RECONNMINT, (nng_duration)cl->opts.reconnect_min_ms);
	nng_socket_set_ms(cl->sock, NNG_OPT_RECONNMAXT, (nng_duration)cl->opts.reconnect_max_ms);
	nng_pipe_notify(cl->sock, NNG_PIPE_EV_ADD_POST, client_pipe_cb, cl);
	nng_pipe_notify(cl->sock, NNG_PIPE_EV_REM_POST, client_pipe_cb, cl);
	/* a synchronous first dial makes the first call see a live peer; when
	 * the peer is not up yet, keep dialling in the background */
	if (nng_dial(cl->sock, url, NULL, 0) != 0 &&
	    (rv = nng_dial(cl->sock, url, NULL, NNG_FLAG_NONBLOCK)) != 0)
		goto out;
	*ret = cl;
	return 0;
out:
	rdpi_rpc_client_free(cl);
	return nng_to_errno(rv);
}

void rdpi_rpc_client_free(struct rdpi_rpc_client *cl)
{
	if (!cl)
		return;
	if (cl->sock_open)
		nng_close(cl->sock);
	pthread_mutex_destroy(&cl->lock);
	free(cl->url);
	free(cl);
}

int rdpi_rpc_client_connected(struct rdpi_rpc_client *cl)
{
	pthread_mutex_lock(&cl->lock);
	int up = cl->pipes > 0;
	pthread_mutex_unlock(&cl->lock);
	return up;
}

static nng_duration remaining_ms(uint64_t deadline)
{
	uint64_t now = rdpi_monotonic_ns();
	if (now >= deadline)
		return 1; /* let the aio time out rather than block */
	return (nng_duration)((deadline - now + 999999u) / 1000000u);
}

static enum rdpi_status map_nng(int rv, bool aborted, const char *url, char *err, size_t errlen)
{
	if (rv == NNG_ETIMEDOUT) {
		snprintf(err, errlen, "deadline exceeded calling %s", url);
		return RDPI_STATUS_DEADLINE_EXCEEDED;
	}
	if (aborted || rv == NNG_ECONNSHUT || rv == NNG_ECLOSED || rv == NNG_ECONNREFUSED ||
	    rv == NNG_ECANCELED) {
		snprintf(err, errlen, "%s went away during the call", url);
		return RDPI_STATUS_UNAVAILABLE;
	}
	if (rv == NNG_EMSGSIZE) {
		snprintf(err, errlen, "message too large for %s", url);
		return RDPI_STATUS_RESOURCE_EXHAUSTED;
	}
	snprintf(err, errlen, "calling %s: %s", url, nng_strerror(rv));
	return RDPI_STATUS_UNAVAILABLE;
}

static nng_msg *encode_request(const char *method, const ProtobufCMessage *req, uint32_t timeout_ms,
			       size_t *ret_len)
{
	Routerd__Dpi__V1__Request env = ROUTERD__DPI__V1__REQUEST__INIT;
	env.method = (char *)method;
	env.timeoutms = timeout_ms;
	return pack_envelope(&env.base, 2 << 3 | 2 /* body */, req, ret_len);
}

enum rdpi_status rdpi_rpc_client_call(struct rdpi_rpc_client *cl, const char *method,
				      const ProtobufCMessage *req,
				      const ProtobufCMessageDescriptor *reply_desc,
				      uint32_t timeout_ms, ProtobufCMessage **ret_reply, char *err,
				      size_t errlen)
{
	char dummy[8];
	if (!err) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	err[0] = '\0';
	if (timeout_ms == 0)
		timeout_ms = 1000;
	uint64_t deadline = rdpi_monotonic_ns() + (uint64_t)timeout_ms * 1000000ull;
	size_t len = 0;
	nng_msg *msg = encode_request(method, req, timeout_ms, &len);
	if (!msg) {
		snprintf(err, errlen, "out of memory encoding %s", method);
		return RDPI_STATUS_INTERNAL;
	}
	if (len > cl->opts.max_msg) {
		nng_msg_free(msg);
		snprintf(err, errlen, "%s request of %zu bytes exceeds the %zu byte limit", method,
			 len, cl->opts.max_msg);
		return RDPI_STATUS_RESOURCE_EXHAUSTED;
	}

	enum rdpi_status st = RDPI_STATUS_INTERNAL;
	nng_ctx ctx;
	nng_aio *aio = NULL;
	nng_msg *rmsg = NULL;
	bool ctx_open = false;
	struct inflight f = {0};
	int rv;
	if ((rv = nng_aio_alloc(&aio, NULL, NULL)) != 0 ||
	    (rv = nng_ctx_open(&ctx, cl->sock)) != 0) {
		nng_msg_free(msg);
		st = map_nng(rv, false, cl->url, err, errlen);
		goto out;
	}
	ctx_open = true;
	f.aio = aio;
	pthread_mutex_lock(&cl->lock);
	f.next = cl->head;
	if (cl->head)
		cl->head->prev = &f;
	cl->head = &f;
	int pipes = cl->pipes;
	pthread_mutex_unlock(&cl->lock);
	if (pipes == 0) {
		nng_msg_free(msg);
		snprintf(err, errlen, "%s is not connected", cl->url);
		st = RDPI_STATUS_UNAVAILABLE;
		goto unlink;
	}

	nng_aio_set_msg(aio, msg);
	nng_aio_set_timeout(aio, remaining_ms(deadline));
	nng_ctx_send(ctx, aio);
	nng_aio_wait(aio);
	if ((rv = nng_aio_result(aio)) != 0) {
		nng_msg_free(nng_aio_get_msg(aio));
		st = map_nng(rv, f.aborted, cl->url, err, errlen);
		goto unlink;
	}
	if (f.aborted) { /* the peer vanished before the send was queued */
		st = map_nng(NNG_ECONNSHUT, true, cl->url, err, errlen);
		goto unlink;
	}
	nng_aio_set_timeout(aio, remaining_ms(deadline));
	nng_ctx_recv(ctx, aio);
	nng_aio_wait(aio);
	if ((rv = nng_aio_result(aio)) != 0) {
		st = map_nng(rv, f.aborted, cl->url, err, errlen);
		goto unlink;
	}
	rmsg = nng_aio_get_msg(aio);
	Routerd__Dpi__V1__Reply *rep =
	    routerd__dpi__v1__reply__unpack(NULL, nng_msg_len(rmsg), nng_msg_body(rmsg));
	if (!rep) {
		snprintf(err, errlen, "malformed reply envelope from %s", cl->url);
		st = RDPI_STATUS_INTERNAL;
		goto unlink;
	}
	st = (enum rdpi_status)rep->status;
	if (st != RDPI_STATUS_OK) {
		snprintf(err, errlen, "%s",
			 rep->error && *rep->error ? rep->error : rdpi_status_name(st));
	} else if (reply_desc) {
		ProtobufCMessage *m =
		    protobuf_c_message_unpack(reply_desc, NULL, rep->body.len, rep->body.data);
		if (!m) {
			snprintf(err, errlen, "malformed %s reply from %s", reply_desc->name,
				 cl->url);
			st = RDPI_STATUS_INTERNAL;
		} else if (ret_reply) {
			*ret_reply = m;
		} else {
			protobuf_c_message_free_unpacked(m, NULL);
		}
	}
	routerd__dpi__v1__reply__free_unpacked(rep, NULL);
unlink:
	pthread_mutex_lock(&cl->lock);
	if (f.prev)
		f.prev->next = f.next;
	else
		cl->head = f.next;
	if (f.next)
		f.next->prev = f.prev;
	pthread_mutex_unlock(&cl->lock);
out:
	if (rmsg)
		nng_msg_free(rmsg);
	if (ctx_open)
		nng_ctx_close(ctx);
	nng_aio_free(aio);
	return st;
}

void rdpi_rpc_fini(void)
{
	nng_fini();
}
