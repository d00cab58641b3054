#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>

#include "rest.h"
#include "util.h"

static size_t
collect(char *p, size_t size, size_t n, void *arg)
{
	return buf_add(arg, p, size * n) < 0 ? 0 : size * n;
}

/* slurmrestd's first error, if its answer has one. */
static int
first_error(json_t *reply, const char **text)
{
	json_t *e = json_array_get(json_object_get(reply, "errors"), 0);

	*text = json_string_value(json_object_get(e, "error"));
	if (*text == NULL)
		*text = json_string_value(json_object_get(e, "description"));
	return e ? (int)json_integer_value(json_object_get(e, "error_number")) : 0;
}

enum rerr
rest_call(struct rest *r, const char *method, const char *path, json_t *body, json_t **reply,
	  int *errnum, char **err)
{
	char rel[1024], errbuf[CURL_ERROR_SIZE] = "", *url = NULL, *text = NULL;
	struct buf in = {0}, hdr = {0};
	struct curl_slist *h = NULL;
	CURLU *u = curl_url();
	CURL *c = r->curl ? r->curl : curl_easy_init();
	json_error_t je;
	const char *etext;
	enum rerr e = RF_IO;
	long status = 0;
	CURLcode rc;

	*reply = NULL;
	*errnum = 0;
	*err = NULL;
	r->calls++;
	const char *user = r->user ? r->user : getenv("USER") ? getenv("USER") : "root";

	snprintf(rel, sizeof(rel), "slurm/%s/%s", r->api ? r->api : "v0.0.38", path);
	if (u == NULL || c == NULL || curl_url_set(u, CURLUPART_URL, r->uri, 0) != CURLUE_OK ||
	    curl_url_set(u, CURLUPART_URL, rel, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_URL, &url, 0) != CURLUE_OK) {
		*err = errf("bad server address %s", r->uri);
		e = RF_INVAL;
		goto out;
	}
	buf_printf(&hdr, "X-SLURM-USER-NAME: %s", user);
	h = curl_slist_append(h, hdr.p);
	hdr.len = 0;
	buf_printf(&hdr, "X-SLURM-USER-TOKEN: %s", r->token ? r->token : "");
	h = curl_slist_append(h, hdr.p);
	h = curl_slist_append(h, "Content-Type: application/json");
	if (body && (text = json_dumps(body, JSON_COMPACT)) == NULL) {
		e = RF_NOMEM;
		goto out;
	}
	curl_easy_reset(c); /* keeps the connection, forgets the last call */
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	if (text)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, text);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, r->timeout_ms > 0 ? r->timeout_ms : 10000L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &in);
	/* A connection refused or reset before any answer: try again, twice.
	 * (slurmrestd drops connections under a burst of submits.) */
	for (int tries = 0; (rc = curl_easy_perform(c)) != CURLE_OK && tries < 2; tries++) {
		if (rc != CURLE_COULDNT_CONNECT && rc != CURLE_RECV_ERROR &&
		    rc != CURLE_SEND_ERROR && rc != CURLE_GOT_NOTHING)
			break;
		buf_free(&in);
		usleep(100000 << tries);
	}
	if (rc != CURLE_OK) {
		*err =
		    errf("cannot reach %s: %s", r->uri, *errbuf ? errbuf : curl_easy_strerror(rc));
		e = RF_AGAIN;
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	/* GET /jobs?update_time=T answers 304 with no body when no job has
	 * changed since T: an empty listing, not an error. */
	if (status == 304 && in.len == 0) {
		*errnum = 0;
		*reply = json_object();
		e = *reply ? RF_OK : RF_NOMEM;
		goto out;
	}
	*reply = in.p ? json_loadb(in.p, in.len, 0, &je) : NULL;
	*errnum = *reply ? first_error(*reply, &etext) : 0;
	if (status == 401) {
		*err = errf("%s refused the request: no user or token (HTTP 401); run runfs login",
			    r->uri);
		e = RF_PERM;
	} else if (*errnum == -1 || (status == 500 && *reply == NULL)) {
		*err = errf("%s rejected the token (HTTP %ld); run runfs login", r->uri, status);
		e = RF_PERM;
	} else if (*reply == NULL) {
		*err = errf("%s answered HTTP %ld with no JSON", r->uri, status);
	} else if (*errnum != 0 || status >= 400) {
		*err = errf("%s: %s (HTTP %ld, error %d)", r->uri, etext ? etext : "error", status,
			    *errnum);
		e = *errnum == 2017 ? RF_NOENT : RF_FAILED;
	} else {
		e = RF_OK;
	}
	if (e != RF_OK) {
		json_decref(*reply);
		*reply = NULL;
	}
	/* A refused token shows as -1 on some calls only (a submit says
	 * "Zero Bytes were transmitted"): ask the ping, which says it plainly. */
	if (status == 500 && e != RF_PERM && strcmp(path, "ping") != 0) {
		json_t *pong;
		char *perr = NULL;
		int pnum;
		if (rest_call(r, "GET", "ping", NULL, &pong, &pnum, &perr) == RF_PERM) {
			free(*err);
			*err = perr;
			perr = NULL;
			e = RF_PERM;
		}
		json_decref(pong);
		free(perr);
	}
out:
	free(text);
	buf_free(&in);
	buf_free(&hdr);
	curl_slist_free_all(h);
	curl_free(url);
	curl_url_cleanup(u);
	if (c && c != r->curl)
		curl_easy_cleanup(c);
	return e;
}
