/* Helpers: base64 and bytes in JSON. */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "check.h"
#include "util.h"

static void
roundtrip(const char *data, size_t n, const char *want)
{
	char *enc = base64_encode(data, n), *dec;
	size_t m = 0;

	CHECK_STR(enc, want);
	dec = enc ? base64_decode(enc, &m) : NULL;
	CHECK(dec && m == n && memcmp(dec, data, n) == 0);
	free(enc);
	free(dec);
}

int
main(void)
{
	size_t n;
	char *s;
	json_t *v;

	roundtrip("", 0, "");
	roundtrip("f", 1, "Zg==");
	roundtrip("fo", 2, "Zm8=");
	roundtrip("foo", 3, "Zm9v");
	roundtrip("foobar", 6, "Zm9vYmFy");
	roundtrip("a\377b", 3, "Yf9i");
	roundtrip("\0\1\2", 3, "AAEC");
	CHECK(base64_decode("Zm9", &n) == NULL);
	CHECK(base64_decode("Zm!v", &n) == NULL);
	CHECK(base64_decode("Z===", &n) == NULL);
	CHECK(base64_decode("Zg==Zg==", &n) == NULL);

	/* UTF-8 stays a string; other bytes become {"base64": ...}. */
	v = json_bytes("héllo", strlen("héllo"));
	CHECK(json_is_string(v));
	s = json_bytes_get(v, &n);
	CHECK(s && n == strlen("héllo") && strcmp(s, "héllo") == 0);
	free(s);
	json_decref(v);
	v = json_bytes("a\377b", 3);
	CHECK(json_is_object(v));
	CHECK_STR(json_string_value(json_object_get(v, "base64")), "Yf9i");
	s = json_bytes_get(v, &n);
	CHECK(s && n == 3 && memcmp(s, "a\377b", 3) == 0);
	free(s);
	json_decref(v);
	v = json_integer(3);
	CHECK(json_bytes_get(v, &n) == NULL);
	json_decref(v);
	return check_done();
}
