/*
 * capopts.c — capture options as JSON: check, apply, mask (see capopts.h).
 *
 *   capopts_check: one checker per field (capopts_fields[]), secrets
 *                  ("***" = keep the stored value) resolved against the
 *                  stored object -> canonical JSON text
 *   capopts_apply: a checked object over a struct capture_opts
 *   capopts_masked: header and cookie values -> "***"
 */
#include "capopts.h"

#include <getopt.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CO_HIDE_MAX 32
#define CO_SELECTOR_MAX 512
#define CO_UA_MAX 1024
#define CO_HEADERS_MAX 32
#define CO_HEADER_VALUE_MAX 8192
#define CO_COOKIES_MAX 32
#define CO_COOKIE_MAX 4096

struct co_ctx {
	const cJSON *stored; /* the stored options, or NULL */
	char *err;
	size_t errlen;
};

static int co_err(struct co_ctx *x, const char *field, const char *fmt, ...)
	SC_PRINTF(3, 4);
static int co_err(struct co_ctx *x, const char *field, const char *fmt, ...)
{
	int n = snprintf(x->err, x->errlen, "options.%s: ", field);
	va_list ap;
	va_start(ap, fmt);
	if (n > 0 && (size_t)n < x->errlen)
		vsnprintf(x->err + n, x->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

/* No control characters (CR/LF would split a header), at most max bytes. */
static int co_plain(const char *s, size_t max)
{
	size_t n = strlen(s);
	if (!n || n > max)
		return 0;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

/* An RFC 7230 token (header names, cookie names). */
static int co_token(const char *s)
{
	if (!*s || strlen(s) > 256)
		return 0;
	for (; *s; s++)
		if (!(*s > 0x20 && *s < 0x7f) || strchr("\"(),/:;<=>?@[\\]{}", *s))
			return 0;
	return 1;
}

/* ---- the fields ---- */

static int co_range(struct co_ctx *x, cJSON *v, double min, double max,
		    const char *unit)
{
	if (cJSON_IsNumber(v) && v->valuedouble >= min && v->valuedouble <= max)
		return 0;
	return co_err(x, v->string, "a number from %g to %g%s", min, max, unit);
}

static int co_bool(struct co_ctx *x, cJSON *v)
{
	return cJSON_IsBool(v) ? 0 : co_err(x, v->string, "true or false");
}

static int co_scheme(struct co_ctx *x, cJSON *v)
{
	if (cJSON_IsString(v) && (!strcmp(v->valuestring, "light") ||
				  !strcmp(v->valuestring, "dark") ||
				  !strcmp(v->valuestring, "auto")))
		return 0;
	return co_err(x, v->string, "\"light\", \"dark\" or \"auto\"");
}

static int co_hide(struct co_ctx *x, cJSON *v)
{
	int n = 0;
	if (!cJSON_IsArray(v))
		return co_err(x, "hide", "an array of CSS selectors");
	for (const cJSON *it = v->child; it; it = it->next, n++)
		if (n == CO_HIDE_MAX || !cJSON_IsString(it) ||
		    !co_plain(it->valuestring, CO_SELECTOR_MAX) ||
		    strpbrk(it->valuestring, "{}"))
			return co_err(x, "hide", "at most %d selectors, each 1 to "
				      "%d characters without braces or control "
				      "characters", CO_HIDE_MAX, CO_SELECTOR_MAX);
	return 0;
}

static int co_ua(struct co_ctx *x, cJSON *v)
{
	if (cJSON_IsString(v) && co_plain(v->valuestring, CO_UA_MAX))
		return 0;
	return co_err(x, "user_agent", "a string of 1 to %d characters without "
		      "control characters", CO_UA_MAX);
}

static int co_wait_for(struct co_ctx *x, cJSON *v)
{
	if (cJSON_IsString(v) && co_plain(v->valuestring, CO_SELECTOR_MAX))
		return 0;
	return co_err(x, "wait_for", "a CSS selector of 1 to %d characters "
		      "without control characters", CO_SELECTOR_MAX);
}

/* A stored header's value by name (any case), or NULL. */
static const char *co_stored_header(struct co_ctx *x, const char *name)
{
	const cJSON *h = cJSON_GetObjectItem(x->stored, "headers");
	for (const cJSON *it = h ? h->child : NULL; it; it = it->next)
		if (!strcasecmp(it->string, name) && cJSON_IsString(it))
			return it->valuestring;
	return NULL;
}

/* "***" -> the stored value (in place), else -1 with the error. */
static int co_unmask(struct co_ctx *x, const char *field, cJSON *v,
		     const char *name, const char *stored)
{
	if (!stored)
		return co_err(x, field, "\"%s\": \"***\" stands for the value "
			      "stored before, and none is", name);
	cJSON_SetValuestring(v, stored);
	return 0;
}

static int co_headers(struct co_ctx *x, cJSON *v)
{
	int n = 0;
	if (!cJSON_IsObject(v))
		return co_err(x, "headers", "an object {\"Name\": \"value\"}");
	for (cJSON *it = v->child; it; it = it->next, n++) {
		if (n == CO_HEADERS_MAX || !co_token(it->string))
			return co_err(x, "headers", "at most %d, each name a "
				      "header name", CO_HEADERS_MAX);
		if (cJSON_IsString(it) && !strcmp(it->valuestring, CAPOPTS_MASK)) {
			if (co_unmask(x, "headers", it, it->string,
				      co_stored_header(x, it->string)))
				return -1;
		} else if (!cJSON_IsString(it) ||
			   (*it->valuestring &&
			    !co_plain(it->valuestring, CO_HEADER_VALUE_MAX))) {
			return co_err(x, "headers", "\"%s\": the value must be a "
				      "string without control characters",
				      it->string);
		}
	}
	return 0;
}

static const char *co_stored_cookie(struct co_ctx *x, const char *name)
{
	const cJSON *c = cJSON_GetObjectItem(x->stored, "cookies");
	for (const cJSON *it = c ? c->child : NULL; it; it = it->next) {
		const cJSON *n = cJSON_GetObjectItem(it, "name");
		const cJSON *v = cJSON_GetObjectItem(it, "value");
		if (cJSON_IsString(n) && !strcmp(n->valuestring, name) &&
		    cJSON_IsString(v))
			return v->valuestring;
	}
	return NULL;
}

static int co_cookie(struct co_ctx *x, cJSON *c)
{
	cJSON *name = cJSON_GetObjectItem(c, "name");
	cJSON *value = cJSON_GetObjectItem(c, "value");
	cJSON *path = cJSON_GetObjectItem(c, "path");
	if (!cJSON_IsObject(c) || !cJSON_IsString(name) ||
	    !co_token(name->valuestring) || !cJSON_IsString(value))
		return co_err(x, "cookies", "each cookie is {\"name\", \"value\", "
			      "\"path\"?} with a token for a name");
	for (const cJSON *f = c->child; f; f = f->next)
		if (strcmp(f->string, "name") && strcmp(f->string, "value") &&
		    strcmp(f->string, "path"))
			return co_err(x, "cookies", "unknown field \"%s\" (known: "
				      "name, value, path)", f->string);
	if (!strcmp(value->valuestring, CAPOPTS_MASK))
		return co_unmask(x, "cookies", value, name->valuestring,
				 co_stored_cookie(x, name->valuestring));
	if ((*value->valuestring && !co_plain(value->valuestring, CO_COOKIE_MAX)) ||
	    strchr(value->valuestring, ';'))
		return co_err(x, "cookies", "\"%s\": the value must be a string "
			      "without ';' or control characters",
			      name->valuestring);
	if (path && (!cJSON_IsString(path) || path->valuestring[0] != '/' ||
		     !co_plain(path->valuestring, 1024)))
		return co_err(x, "cookies", "\"%s\": path must start with /",
			      name->valuestring);
	return 0;
}

static int co_cookies(struct co_ctx *x, cJSON *v)
{
	int n = 0;
	if (!cJSON_IsArray(v))
		return co_err(x, "cookies", "an array of {name, value, path?}");
	for (cJSON *it = v->child; it; it = it->next, n++) {
		if (n == CO_COOKIES_MAX)
			return co_err(x, "cookies", "at most %d", CO_COOKIES_MAX);
		if (co_cookie(x, it))
			return -1;
	}
	return 0;
}

static int co_num_field(struct co_ctx *x, cJSON *v)
{
	static const struct { const char *name; double min, max; const char *unit; } num[] = {
		{"width", 100, 10000, " CSS px"}, {"height", 100, 10000, " CSS px"},
		{"scale", 0.1, 5, ""}, {"timeout", 1, 3600, " s"},
		{"delay", 0, 60000, " ms"}};
	for (size_t i = 0; i < sizeof(num) / sizeof(num[0]); i++)
		if (!strcmp(v->string, num[i].name))
			return co_range(x, v, num[i].min, num[i].max, num[i].unit);
	return 1; /* not a number field */
}

static int co_field(struct co_ctx *x, cJSON *v)
{
	int rc = co_num_field(x, v);
	if (rc <= 0)
		return rc;
	static const char *const bools[] = {"mobile", "full_page", "consent",
					    "mhtml", "perpetual", "stealth",
					    "pdf"};
	for (size_t i = 0; i < sizeof(bools) / sizeof(bools[0]); i++)
		if (!strcmp(v->string, bools[i]))
			return co_bool(x, v);
	if (!strcmp(v->string, "color_scheme"))
		return co_scheme(x, v);
	if (!strcmp(v->string, "hide"))
		return co_hide(x, v);
	if (!strcmp(v->string, "user_agent"))
		return co_ua(x, v);
	if (!strcmp(v->string, "wait_for"))
		return co_wait_for(x, v);
	if (!strcmp(v->string, "headers"))
		return co_headers(x, v);
	if (!strcmp(v->string, "cookies"))
		return co_cookies(x, v);
	return co_err(x, v->string, "unknown option (known: width, height, "
		      "scale, timeout, mobile, full_page, color_scheme, delay, "
		      "wait_for, perpetual, hide, consent, stealth, mhtml, "
		      "pdf, user_agent, "
		      "headers, cookies)");
}

sc_result capopts_check(const cJSON *opts, const char *stored, char **out,
			char *err, size_t errlen)
{
	*out = NULL;
	cJSON *st = stored ? cJSON_Parse(stored) : NULL;
	struct co_ctx x = {.stored = st, .err = err, .errlen = errlen};
	cJSON *o = cJSON_IsObject(opts) ? cJSON_Duplicate(opts, 1) : NULL;
	int bad = 0;
	if (!o) {
		snprintf(err, errlen, "options must be an object");
		bad = 1;
	}
	for (cJSON *it = o ? o->child : NULL; it && !bad; it = it->next)
		if (!cJSON_IsNull(it))
			bad = co_field(&x, it) != 0;
	/* null fields mean "not set here": they are not stored */
	for (cJSON *it = o ? o->child : NULL, *next; it && !bad; it = next) {
		next = it->next;
		if (cJSON_IsNull(it))
			cJSON_Delete(cJSON_DetachItemViaPointer(o, it));
	}
	if (!bad)
		*out = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	cJSON_Delete(st);
	return bad ? SC_ERR_INVALID : SC_OK;
}

/* ---- apply ---- */

void capopts_hold_free(struct capopts_hold *h)
{
	if (!h)
		return;
	free(h->hide);
	free(h->user_agent);
	free(h->headers);
	free(h->cookies);
	free(h->wait_for);
	memset(h, 0, sizeof(*h));
}

/* A fresh copy of v's JSON (or string) in *slot; returns it. */
static char *co_keep(char **slot, const cJSON *v)
{
	free(*slot);
	if (cJSON_IsString(v)) {
		*slot = sc_xstrdup(v->valuestring);
	} else {
		char *s = cJSON_PrintUnformatted(v);
		*slot = sc_xstrdup(s ? s : "null");
		cJSON_free(s);
	}
	return *slot;
}

static void co_apply_strings(struct capture_opts *o, const cJSON *j,
			     struct capopts_hold *h)
{
	const cJSON *v;
	if ((v = cJSON_GetObjectItem(j, "hide")) && cJSON_IsArray(v))
		o->hide = cJSON_GetArraySize(v) ? co_keep(&h->hide, v) : NULL;
	if ((v = cJSON_GetObjectItem(j, "user_agent")) && cJSON_IsString(v))
		o->user_agent = co_keep(&h->user_agent, v);
	if ((v = cJSON_GetObjectItem(j, "wait_for")) && cJSON_IsString(v))
		o->wait_for = co_keep(&h->wait_for, v);
	if ((v = cJSON_GetObjectItem(j, "headers")) && cJSON_IsObject(v))
		o->headers = v->child ? co_keep(&h->headers, v) : NULL;
	if ((v = cJSON_GetObjectItem(j, "cookies")) && cJSON_IsArray(v))
		o->cookies = v->child ? co_keep(&h->cookies, v) : NULL;
}

void capopts_apply(struct capture_opts *o, const char *json,
		   struct capopts_hold *h)
{
	cJSON *j = json ? cJSON_Parse(json) : NULL;
	const cJSON *v;
	if (!cJSON_IsObject(j)) {
		cJSON_Delete(j);
		return;
	}
	if ((v = cJSON_GetObjectItem(j, "width")) && cJSON_IsNumber(v))
		o->width = v->valueint;
	if ((v = cJSON_GetObjectItem(j, "height")) && cJSON_IsNumber(v))
		o->height = v->valueint;
	if ((v = cJSON_GetObjectItem(j, "scale")) && cJSON_IsNumber(v))
		o->scale = v->valuedouble;
	if ((v = cJSON_GetObjectItem(j, "timeout")) && cJSON_IsNumber(v))
		o->timeout_ms = v->valueint * 1000;
	if ((v = cJSON_GetObjectItem(j, "delay")) && cJSON_IsNumber(v))
		o->delay_ms = v->valueint;
	if ((v = cJSON_GetObjectItem(j, "mhtml")) && cJSON_IsBool(v))
		o->no_mhtml = cJSON_IsFalse(v);
	if ((v = cJSON_GetObjectItem(j, "pdf")) && cJSON_IsBool(v))
		o->pdf = cJSON_IsTrue(v);
	if ((v = cJSON_GetObjectItem(j, "mobile")) && cJSON_IsBool(v))
		o->mobile = cJSON_IsTrue(v);
	if ((v = cJSON_GetObjectItem(j, "full_page")) && cJSON_IsBool(v))
		o->viewport_only = cJSON_IsFalse(v);
	if ((v = cJSON_GetObjectItem(j, "consent")) && cJSON_IsBool(v))
		o->no_consent = cJSON_IsFalse(v);
	if ((v = cJSON_GetObjectItem(j, "perpetual")) && cJSON_IsBool(v))
		o->no_perpetual = cJSON_IsFalse(v);
	if ((v = cJSON_GetObjectItem(j, "stealth")) && cJSON_IsBool(v))
		o->no_stealth = cJSON_IsFalse(v);
	if ((v = cJSON_GetObjectItem(j, "color_scheme")) && cJSON_IsString(v))
		o->color_scheme = !strcmp(v->valuestring, "dark")    ? CAPTURE_SCHEME_DARK
				  : !strcmp(v->valuestring, "light") ? CAPTURE_SCHEME_LIGHT
								     : CAPTURE_SCHEME_AUTO;
	co_apply_strings(o, j, h);
	cJSON_Delete(j);
}

/* ---- mask ---- */

/* v's value -> "***" (whatever its type), in place. */
static void co_mask(cJSON *parent, cJSON *v)
{
	if (cJSON_IsString(v))
		cJSON_SetValuestring(v, CAPOPTS_MASK);
	else
		cJSON_ReplaceItemInObjectCaseSensitive(parent, v->string,
						       cJSON_CreateString(CAPOPTS_MASK));
}

cJSON *capopts_masked(const char *json)
{
	cJSON *j = json ? cJSON_Parse(json) : NULL;
	if (!cJSON_IsObject(j)) {
		cJSON_Delete(j);
		return cJSON_CreateObject();
	}
	cJSON *h = cJSON_GetObjectItem(j, "headers");
	for (cJSON *it = h ? h->child : NULL, *next; it; it = next) {
		next = it->next;
		co_mask(h, it);
	}
	cJSON *c = cJSON_GetObjectItem(j, "cookies");
	for (cJSON *it = c ? c->child : NULL; it; it = it->next) {
		cJSON *v = cJSON_GetObjectItem(it, "value");
		if (v)
			co_mask(it, v);
	}
	return j;
}

/* ---- command-line flags ---- */

/* Add item to the JSON array/object kept in *slot (a fresh one if NULL). */
static char *co_flag_add(char **slot, int object, const char *key, cJSON *item)
{
	cJSON *j = *slot ? cJSON_Parse(*slot) : NULL;
	if (!j)
		j = object ? cJSON_CreateObject() : cJSON_CreateArray();
	if (object)
		cJSON_AddItemToObject(j, key, item);
	else
		cJSON_AddItemToArray(j, item);
	char *s = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	free(*slot);
	*slot = sc_xstrdup(s);
	cJSON_free(s);
	return *slot;
}

/* "Name: value" / "name=value" -> the header or cookie, checked. */
static int co_flag_secret(struct capture_opts *o, struct capopts_hold *h,
			  int header, const char *v, char *err, size_t errlen)
{
	const char *sep = strchr(v, header ? ':' : '=');
	char name[257];
	if (!sep || sep == v || (size_t)(sep - v) >= sizeof(name))
		goto bad;
	memcpy(name, v, (size_t)(sep - v));
	name[sep - v] = 0;
	const char *val = sep + 1;
	while (header && *val == ' ')
		val++;
	if (!co_token(name) || (*val && !co_plain(val, CO_HEADER_VALUE_MAX)) ||
	    (!header && strchr(val, ';')))
		goto bad;
	if (header) {
		o->headers = co_flag_add(&h->headers, 1, name,
					 cJSON_CreateString(val));
	} else {
		cJSON *c = cJSON_CreateObject();
		cJSON_AddStringToObject(c, "name", name);
		cJSON_AddStringToObject(c, "value", val);
		o->cookies = co_flag_add(&h->cookies, 0, NULL, c);
	}
	return 0;
bad:
	snprintf(err, errlen, header ? "--header wants \"Name: value\""
				     : "--cookie wants \"name=value\"");
	return -1;
}

static int co_flag_num(struct capture_opts *o, const char *name,
		       const char *v, char *err, size_t errlen)
{
	long n;
	double d;
	if (!strcmp(name, "scale")) {
		if (sc_parse_double(v, 0.1, 5, &d))
			goto bad;
		o->scale = d;
		return 0;
	}
	long min = strcmp(name, "delay") ? 100 : 0;
	long max = strcmp(name, "delay") ? 10000 : 60000;
	if (sc_parse_long(v, min, max, &n))
		goto bad;
	if (!strcmp(name, "width"))
		o->width = (int)n;
	else if (!strcmp(name, "height"))
		o->height = (int)n;
	else
		o->delay_ms = (int)n;
	return 0;
bad:
	snprintf(err, errlen, "--%s: out of range or not a number: \"%s\" "
		 "(width, height 100-10000; scale 0.1-5; delay 0-60000 ms)",
		 name, v);
	return -1;
}

#define CO_OFF(f) offsetof(struct capture_opts, f)
/* The boolean flags: the int field of struct capture_opts each one sets,
 * and to what. */
static const struct co_bool_flag {
	const char *name;
	size_t off;
	int v;
} co_bool_flags[] = {
	{"mobile", CO_OFF(mobile), 1}, {"viewport-only", CO_OFF(viewport_only), 1},
	{"full-page", CO_OFF(viewport_only), 0},
	{"no-consent", CO_OFF(no_consent), 1}, {"consent", CO_OFF(no_consent), 0},
	{"no-mhtml", CO_OFF(no_mhtml), 1}, {"pdf", CO_OFF(pdf), 1},
	{"no-pdf", CO_OFF(pdf), 0}, {"no-perpetual", CO_OFF(no_perpetual), 1},
	{"no-stealth", CO_OFF(no_stealth), 1}, {"stealth", CO_OFF(no_stealth), 0},
};
#undef CO_OFF
/* The flags that take a value (capopts_flag's other branches). */
static const char *const co_value_flags[] = {
	"width", "height", "scale", "delay", "header", "cookie", "shot-pixels",
	"color-scheme", "wait-for", "user-agent", "hide",
};

static const struct co_bool_flag *co_bool_find(const char *name)
{
	for (size_t i = 0; i < sizeof(co_bool_flags) / sizeof(*co_bool_flags); i++)
		if (!strcmp(co_bool_flags[i].name, name))
			return &co_bool_flags[i];
	return NULL;
}

static int co_flag_bool(struct capture_opts *o, const char *name)
{
	const struct co_bool_flag *f = co_bool_find(name);
	if (!f)
		return 1;
	*(int *)(void *)((char *)o + f->off) = f->v;
	return 0;
}

/* The name of a flag (static storage) and whether it takes a value: 1 a
 * value, 0 none, -1 not a capture option flag. */
static int co_flag_arg(const char *name, const char **stored)
{
	const struct co_bool_flag *f = co_bool_find(name);
	*stored = f ? f->name : NULL;
	for (size_t i = 0; !f && i < sizeof(co_value_flags) / sizeof(char *); i++)
		if (!strcmp(co_value_flags[i], name)) {
			*stored = co_value_flags[i];
			return 1;
		}
	return f ? 0 : -1;
}

int capopts_longopts(struct option *lo, size_t cap, const char *const *names,
		     int val)
{
	size_t n = 0;
	for (; names[n]; n++) {
		const char *name;
		int arg = co_flag_arg(names[n], &name);
		if (arg < 0 || n + 1 >= cap)
			return -1;
		lo[n] = (struct option){name, arg, NULL, val};
	}
	if (n >= cap)
		return -1;
	lo[n] = (struct option){0};
	return (int)n;
}

int capopts_flag(struct capture_opts *o, struct capopts_hold *h,
		 const char *name, const char *v, char *err, size_t errlen)
{
	if (co_flag_bool(o, name) == 0)
		return 0;
	if (!v)
		return 1;
	if (!strcmp(name, "width") || !strcmp(name, "height") ||
	    !strcmp(name, "scale") || !strcmp(name, "delay"))
		return co_flag_num(o, name, v, err, errlen);
	if (!strcmp(name, "header") || !strcmp(name, "cookie"))
		return co_flag_secret(o, h, name[0] == 'h', v, err, errlen);
	if (!strcmp(name, "shot-pixels")) {
		uint64_t n;
		if (!sc_parse_size(v, &n) && n >= (1u << 20) && n <= (1ull << 32)) {
			o->shot_px = n;
			return 0;
		}
		snprintf(err, errlen, "--shot-pixels wants 1m to 4g pixels "
			 "(k, m, g: 1024, 1024^2, 1024^3), not \"%.40s\"", v);
		return -1;
	}
	if (!strcmp(name, "color-scheme")) {
		o->color_scheme = !strcmp(v, "dark")    ? CAPTURE_SCHEME_DARK
				  : !strcmp(v, "light") ? CAPTURE_SCHEME_LIGHT
							: CAPTURE_SCHEME_AUTO;
		if (o->color_scheme || !strcmp(v, "auto"))
			return 0;
		snprintf(err, errlen, "--color-scheme wants light, dark or auto");
		return -1;
	}
	if (!strcmp(name, "wait-for")) {
		if (!co_plain(v, CO_SELECTOR_MAX)) {
			snprintf(err, errlen, "--wait-for: empty, too long, or "
				 "with control characters");
			return -1;
		}
		free(h->wait_for);
		o->wait_for = h->wait_for = sc_xstrdup(v);
		return 0;
	}
	if (!strcmp(name, "user-agent") || !strcmp(name, "hide")) {
		int ua = name[0] == 'u';
		if (!co_plain(v, ua ? CO_UA_MAX : CO_SELECTOR_MAX) ||
		    (!ua && strpbrk(v, "{}"))) {
			snprintf(err, errlen, "--%s: empty, too long, or with "
				 "control characters%s", name, ua ? "" : " or braces");
			return -1;
		}
		if (ua) {
			free(h->user_agent);
			o->user_agent = h->user_agent = sc_xstrdup(v);
		} else
			o->hide = co_flag_add(&h->hide, 0, NULL, cJSON_CreateString(v));
		return 0;
	}
	return 1;
}
