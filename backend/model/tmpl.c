/*
 * Placeholders in command templates, and the rule for ids.
 *
 * The syntax is chosen so that shell and awk text needs no escaping: only
 * "{identifier}" is a placeholder, so "{s+=$1}", "{ print }" and "${HOME}"
 * stay as written. "{{identifier}}" is the one escape, for a program that
 * really wants "{name}" in its argv.
 */
#include <stdlib.h>
#include <string.h>

#include "defn.h"
#include "util.h"

enum tok {
	TOK_END,
	TOK_PARAM,  /* "{name}" */
	TOK_ESCAPE, /* "{{name}}" */
};

struct token {
	const char *start; /* the opening brace */
	const char *name;
	size_t len;	 /* of name */
	const char *end; /* just past the closing brace(s) */
};

/* Byte tests by hand: <ctype.h> follows the locale, ids must not. */
static int
ident_start(int ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_';
}

static int
ident_char(int ch)
{
	return ident_start(ch) || (ch >= '0' && ch <= '9');
}

static size_t
ident_len(const char *s)
{
	size_t n = 0;

	if (!ident_start((unsigned char)s[0]))
		return 0;
	while (ident_char((unsigned char)s[n]))
		n++;
	return n;
}

static enum tok
next_token(const char *s, struct token *t)
{
	const char *p;
	size_t n;

	for (p = strchr(s, '{'); p != NULL; p = strchr(p + 1, '{')) {
		if (p[1] == '{' && (n = ident_len(p + 2)) > 0 && p[2 + n] == '}' &&
		    p[3 + n] == '}') {
			t->start = p;
			t->name = p + 2;
			t->len = n;
			t->end = p + n + 4;
			return TOK_ESCAPE;
		}
		if ((n = ident_len(p + 1)) > 0 && p[1 + n] == '}') {
			t->start = p;
			t->name = p + 1;
			t->len = n;
			t->end = p + n + 2;
			return TOK_PARAM;
		}
	}
	return TOK_END;
}

char *
tmpl_subst(const char *tmpl, tmpl_lookup_fn lookup, void *arg)
{
	struct buf b = {0};
	struct token t;
	enum tok k;
	const char *s = tmpl, *v;
	int rc = 0;

	while (rc == 0 && (k = next_token(s, &t)) != TOK_END) {
		rc |= buf_add(&b, s, (size_t)(t.start - s));
		if (k == TOK_ESCAPE) {
			rc |= buf_add(&b, t.start + 1, (size_t)(t.end - t.start - 2));
		} else if ((v = lookup(t.name, t.len, arg)) != NULL) {
			rc |= buf_adds(&b, v);
		} else {
			rc |= buf_add(&b, t.start, (size_t)(t.end - t.start));
		}
		s = t.end;
	}
	if (rc != 0 || buf_adds(&b, s) < 0) {
		buf_free(&b);
		return NULL;
	}
	return buf_steal(&b);
}

void
tmpl_params(const char *tmpl, void (*fn)(const char *name, size_t len, void *arg), void *arg)
{
	struct token t;
	enum tok k;
	const char *s = tmpl;

	while ((k = next_token(s, &t)) != TOK_END) {
		if (k == TOK_PARAM)
			fn(t.name, t.len, arg);
		s = t.end;
	}
}

int
defn_valid_id(const char *s)
{
	size_t n;

	for (n = 0; s[n] != '\0'; n++) {
		unsigned char ch = (unsigned char)s[n];

		if (!ident_char(ch) && ch != '.' && ch != '-')
			return 0;
		if (n >= DEFN_MAX_ID)
			return 0;
	}
	if (n == 0 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return 0;
	return 1;
}
