/* Parameters at submit (model/params.c): the wrapper is taken apart, the
 * values given replace the defaults, and every bad submission is refused
 * with the name at fault. */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "check.h"
#include "defn.h"

#define DEF                                                                                        \
	"{\"name\": \"p\", \"params\": {\"n\": \"3\", \"g\": \"hg38\"},"                           \
	" \"tasks\": {\"t\": {\"command\": [\"echo\", \"{x}\"]}},"                                 \
	" \"steps\": [{\"id\": \"a\", \"task\": \"t\", \"args\": {\"x\": {\"param\": \"n\"}}}]}"

/* apply TEXT: 0 and the resulting definition's params.n, or -1 and err. */
static int
apply(const char *text, char **out, char **err)
{
	return defn_apply_params(text, strlen(text), out, err);
}

static void
refused(const char *text, const char *want)
{
	char *out = NULL, *err = NULL;

	CHECK(apply(text, &out, &err) == -1 && out == NULL);
	if (err == NULL || strstr(err, want) == NULL)
		fprintf(stderr, "refusal of %s: got \"%s\", wanted \"%s\"\n", text,
			err ? err : "(none)", want);
	CHECK(err && strstr(err, want));
	free(err);
}

int
main(void)
{
	char *out = NULL, *err = NULL, *pj;
	struct defn *d = NULL;

	/* A bare definition is submitted as it is. */
	CHECK(apply(DEF, &out, &err) == 0 && out == NULL && err == NULL);
	/* Not JSON at all: left to defn_parse to refuse. */
	CHECK(apply("name: x", &out, &err) == 0 && out == NULL);

	/* Given values replace the defaults; the others stay. */
	CHECK(apply("{\"definition\": " DEF ", \"params\": {\"n\": 20}}", &out, &err) == 0);
	CHECK(out != NULL);
	if (out) {
		CHECK(defn_parse(out, strlen(out), &d, &err) == 0 && d != NULL);
		if (d) {
			CHECK_STR(d->steps[0].args[0].lit, "20");
			pj = defn_params_json(d);
			CHECK_STR(pj, "{\n  \"n\": \"20\",\n  \"g\": \"hg38\"\n}");
			free(pj);
		}
		defn_free(d);
		free(out);
		out = NULL;
	}
	/* The wrapper without params: the defaults. */
	CHECK(apply("{\"definition\": " DEF "}", &out, &err) == 0 && out != NULL);
	free(out);

	refused("{\"definition\": " DEF ", \"params\": {\"threads\": 4}}",
		"params.threads: unknown parameter \"threads\" (the definition declares: n, g)");
	refused("{\"definition\": {\"name\": \"q\", \"tasks\": {}, \"steps\": []},"
		" \"params\": {\"x\": 1}}",
		"(the definition declares: none)");
	refused("{\"definition\": " DEF ", \"params\": {\"n\": [1]}}",
		"params.n: expected a string, number or boolean");
	refused("{\"definition\": " DEF ", \"params\": [1]}", "params: expected an object");
	refused("{\"definition\": 3}", "definition: expected an object");
	refused("{\"definition\": " DEF ", \"more\": 1}", "more: unknown field of a submission");

	/* A reference to a parameter the definition does not declare. */
	{
		const char *bad =
		    "{\"name\": \"p\", \"tasks\": {\"t\": {\"command\": [\"echo\", \"{x}\"]}},"
		    " \"steps\": [{\"id\": \"a\", \"task\": \"t\", \"args\": {\"x\": "
		    "{\"param\": \"n\"}}}]}";
		CHECK(defn_parse(bad, strlen(bad), &d, &err) == -1);
		CHECK(err && strstr(err, "steps[0].args.x.param: unknown parameter \"n\""));
		free(err);
		err = NULL;
	}
	return check_done();
}
