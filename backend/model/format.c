/* The table of definition formats (defn.h). */
#include <string.h>

#include <jansson.h>

#include "defn.h"

static int
json_detect(const char *text, size_t len)
{
	size_t i = 0;

	while (i < len && strchr(" \t\r\n", text[i]) && text[i] != '\0')
		i++;
	return i == len || text[i] == '{';
}

/* The last write's last non-blank byte closes an object or array and the
 * whole parses. A write of only blanks completes nothing: the brace before
 * it was already tried. */
static int
json_complete(const char *text, size_t len, const char *last, size_t lastlen)
{
	json_t *j;

	while (lastlen > 0 && strchr(" \t\r\n", last[lastlen - 1]))
		lastlen--;
	if (lastlen == 0 || (last[lastlen - 1] != '}' && last[lastlen - 1] != ']'))
		return 0;
	j = json_loadb(text, len, 0, NULL);
	json_decref(j);
	return j != NULL;
}

static const struct defn_format formats[] = {
    {"json", json_detect, defn_parse_json, json_complete},
};
#define NFORMATS (sizeof(formats) / sizeof(*formats))

const struct defn_format *
defn_format_of(const char *text, size_t len)
{
	for (size_t i = 0; i < NFORMATS; i++)
		if (formats[i].detect(text, len))
			return &formats[i];
	return &formats[0];
}

int
defn_parse(const char *text, size_t len, struct defn **out, char **err)
{
	return defn_format_of(text, len)->parse(text, len, out, err);
}

/* Asks every format, each of which looks at the last write first: a
 * write that ends no document in any of them costs no pass over the text
 * (a 16 MiB definition arrives in a hundred writes). */
int
defn_write_completes(const char *text, size_t len, const char *last, size_t lastlen)
{
	for (size_t i = 0; i < NFORMATS; i++)
		if (formats[i].complete(text, len, last, lastlen))
			return 1;
	return 0;
}
