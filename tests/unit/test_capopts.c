/*
 * test_capopts.c — capture options as JSON (capopts.c): checking (types,
 * ranges, unknown fields, "***" against stored secrets, nulls dropped),
 * layering over defaults (server < link < job), masking, and the
 * command-line flags.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "capopts.h"
#include "testhelp.h"

/* capopts_check of JSON text; *out (caller frees) or NULL + err. */
static sc_result check(const char *json, const char *stored, char **out,
		       char *err)
{
	cJSON *o = cJSON_Parse(json);
	sc_result rc = capopts_check(o, stored, out, err, 300);
	cJSON_Delete(o);
	return rc;
}

TEST(check_accepts_every_field)
{
	char *out = NULL, err[300] = "";
	const char *all = "{\"width\":390,\"height\":844,\"scale\":3,\"timeout\":30,"
		"\"mobile\":true,\"full_page\":false,\"consent\":false,\"mhtml\":false,"
		"\"color_scheme\":\"dark\",\"delay\":500,\"hide\":[\"#chat\",\".x y\"],"
		"\"user_agent\":\"UA/1\",\"headers\":{\"Authorization\":\"Bearer t\"},"
		"\"cookies\":[{\"name\":\"sid\",\"value\":\"v\",\"path\":\"/\"}]}";
	CHECK_EQ_INT(check(all, NULL, &out, err), SC_OK);
	CHECK(out && !strcmp(out, all));
	cJSON_free(out);
	CHECK_EQ_INT(check("{\"width\":null,\"delay\":0}", NULL, &out, err), SC_OK);
	CHECK_STR(out, "{\"delay\":0}"); /* null: not set here */
	cJSON_free(out);
}

/* Readiness options: wait_for (a selector), perpetual (a boolean). */
TEST(readiness_options)
{
	char *out = NULL, err[300] = "";
	struct capture_opts o = {0};
	struct capopts_hold h = {0};
	CHECK_EQ_INT(check("{\"wait_for\":\"#done .x\",\"perpetual\":false}",
			   NULL, &out, err), SC_OK);
	capopts_apply(&o, out, &h);
	CHECK_STR(o.wait_for, "#done .x");
	CHECK_EQ_INT(o.no_perpetual, 1);
	cJSON_free(out);
	CHECK_EQ_INT(check("{\"wait_for\":\"\"}", NULL, &out, err),
		     SC_ERR_INVALID);
	CHECK(strstr(err, "wait_for") != NULL);
	CHECK_EQ_INT(check("{\"perpetual\":\"no\"}", NULL, &out, err),
		     SC_ERR_INVALID);
	CHECK_EQ_INT(capopts_flag(&o, &h, "wait-for", "main img", err,
				  sizeof(err)), 0);
	CHECK_STR(o.wait_for, "main img");
	o.no_perpetual = 0;
	CHECK_EQ_INT(capopts_flag(&o, &h, "no-perpetual", NULL, err,
				  sizeof(err)), 0);
	CHECK_EQ_INT(o.no_perpetual, 1);
	capopts_hold_free(&h);
}

/* pdf (a boolean, off unless true): the JSON option and the flags. */
TEST(pdf_option)
{
	char *out = NULL, err[300] = "";
	struct capture_opts o = {0};
	struct capopts_hold h = {0};
	capopts_apply(&o, "{}", &h);
	CHECK_EQ_INT(o.pdf, 0); /* the default: no PDF */
	CHECK_EQ_INT(check("{\"pdf\":true}", NULL, &out, err), SC_OK);
	CHECK_STR(out, "{\"pdf\":true}");
	capopts_apply(&o, out, &h);
	CHECK_EQ_INT(o.pdf, 1);
	cJSON_free(out);
	capopts_apply(&o, "{\"pdf\":false}", &h);
	CHECK_EQ_INT(o.pdf, 0);
	CHECK_EQ_INT(check("{\"pdf\":1}", NULL, &out, err), SC_ERR_INVALID);
	CHECK(strstr(err, "pdf") != NULL);
	CHECK_EQ_INT(capopts_flag(&o, &h, "pdf", NULL, err, sizeof(err)), 0);
	CHECK_EQ_INT(o.pdf, 1);
	CHECK_EQ_INT(capopts_flag(&o, &h, "no-pdf", NULL, err, sizeof(err)), 0);
	CHECK_EQ_INT(o.pdf, 0);
	capopts_hold_free(&h);
}

/* stealth (a boolean, on unless false): the JSON option and the flags. */
TEST(stealth_option)
{
	char *out = NULL, err[300] = "";
	struct capture_opts o = {0};
	struct capopts_hold h = {0};
	CHECK_EQ_INT(check("{\"stealth\":false}", NULL, &out, err), SC_OK);
	capopts_apply(&o, out, &h);
	CHECK_EQ_INT(o.no_stealth, 1);
	cJSON_free(out);
	CHECK_EQ_INT(check("{\"stealth\":true}", NULL, &out, err), SC_OK);
	capopts_apply(&o, out, &h);
	CHECK_EQ_INT(o.no_stealth, 0);
	cJSON_free(out);
	CHECK_EQ_INT(check("{\"stealth\":\"off\"}", NULL, &out, err),
		     SC_ERR_INVALID);
	CHECK(strstr(err, "stealth") != NULL);
	CHECK_EQ_INT(capopts_flag(&o, &h, "no-stealth", NULL, err,
				  sizeof(err)), 0);
	CHECK_EQ_INT(o.no_stealth, 1);
	CHECK_EQ_INT(capopts_flag(&o, &h, "stealth", NULL, err,
				  sizeof(err)), 0);
	CHECK_EQ_INT(o.no_stealth, 0);
	capopts_hold_free(&h);
}

TEST(check_refuses_bad_fields)
{
	static const char *const bad[] = {
		"[]", "{\"width\":99}", "{\"scale\":6}", "{\"delay\":60001}",
		"{\"mobile\":1}", "{\"color_scheme\":\"blue\"}", "{\"hide\":\"#x\"}",
		"{\"hide\":[\"a{b}\"]}", "{\"hide\":[\"\"]}", "{\"user_agent\":\"a\\nb\"}",
		"{\"headers\":{\"Bad Name\":\"x\"}}", "{\"headers\":{\"A\":\"x\\r\\nB: y\"}}",
		"{\"headers\":{\"A\":1}}", "{\"cookies\":{}}", "{\"cookies\":[{\"name\":\"a\"}]}",
		"{\"cookies\":[{\"name\":\"a\",\"value\":\"b;c\"}]}",
		"{\"cookies\":[{\"name\":\"a\",\"value\":\"b\",\"domain\":\"x\"}]}",
		"{\"cookies\":[{\"name\":\"a\",\"value\":\"b\",\"path\":\"x\"}]}",
		"{\"nope\":1}", "{\"headers\":{\"A\":\"***\"}}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *out = NULL, err[300] = "";
		if (check(bad[i], NULL, &out, err) != SC_ERR_INVALID || out) {
			fprintf(stderr, "accepted: %s\n", bad[i]);
			test_failed_now = 1;
		}
		CHECK(!strncmp(err, "options", 7));
		cJSON_free(out);
	}
}

TEST(masked_values_keep_the_stored_ones)
{
	const char *stored = "{\"headers\":{\"Authorization\":\"Bearer old\"},"
		"\"cookies\":[{\"name\":\"sid\",\"value\":\"c0\"}]}";
	char *out = NULL, err[300] = "";
	CHECK_EQ_INT(check("{\"headers\":{\"authorization\":\"***\",\"X\":\"new\"},"
			   "\"cookies\":[{\"name\":\"sid\",\"value\":\"***\"}]}",
			   stored, &out, err), SC_OK);
	CHECK_STR(out, "{\"headers\":{\"authorization\":\"Bearer old\",\"X\":\"new\"},"
		  "\"cookies\":[{\"name\":\"sid\",\"value\":\"c0\"}]}");
	cJSON_free(out);
	out = NULL;
	CHECK_EQ_INT(check("{\"cookies\":[{\"name\":\"other\",\"value\":\"***\"}]}",
			   stored, &out, err), SC_ERR_INVALID);
	CHECK(strstr(err, "other") != NULL);
}

TEST(mask_hides_every_secret)
{
	cJSON *m = capopts_masked("{\"width\":5,\"headers\":{\"A\":\"s1\",\"B\":\"\"},"
				  "\"cookies\":[{\"name\":\"n\",\"value\":\"s2\","
				  "\"path\":\"/p\"}]}");
	char *s = cJSON_PrintUnformatted(m);
	CHECK_STR(s, "{\"width\":5,\"headers\":{\"A\":\"***\",\"B\":\"***\"},"
		  "\"cookies\":[{\"name\":\"n\",\"value\":\"***\",\"path\":\"/p\"}]}");
	cJSON_free(s);
	cJSON_Delete(m);
	m = capopts_masked(NULL);
	CHECK(cJSON_IsObject(m) && !m->child);
	cJSON_Delete(m);
	m = capopts_masked("not json");
	CHECK(cJSON_IsObject(m) && !m->child);
	cJSON_Delete(m);
}

TEST(apply_layers_over_defaults)
{
	struct capture_opts o = {.width = 1280, .height = 800, .no_consent = 1,
				 .color_scheme = CAPTURE_SCHEME_DARK,
				 .user_agent = "server"};
	struct capopts_hold h = {0};
	capopts_apply(&o, "{\"width\":390,\"mobile\":true,\"consent\":true,"
		      "\"hide\":[\"#a\"],\"headers\":{\"A\":\"1\"}}", &h);
	capopts_apply(&o, "{\"width\":500,\"full_page\":false,\"color_scheme\":"
		      "\"light\",\"headers\":{\"B\":\"2\"},\"mhtml\":false}", &h);
	CHECK_EQ_INT(o.width, 500);
	CHECK_EQ_INT(o.height, 800);
	CHECK_EQ_INT(o.mobile, 1);
	CHECK_EQ_INT(o.no_consent, 0);
	CHECK_EQ_INT(o.viewport_only, 1);
	CHECK_EQ_INT(o.no_mhtml, 1);
	CHECK_EQ_INT(o.color_scheme, CAPTURE_SCHEME_LIGHT);
	CHECK_STR(o.user_agent, "server");
	CHECK_STR(o.hide, "[\"#a\"]");
	CHECK_STR(o.headers, "{\"B\":\"2\"}"); /* replaced, not merged */
	capopts_apply(&o, NULL, &h);
	capopts_apply(&o, "{bad", &h);
	CHECK_EQ_INT(o.width, 500);
	capopts_hold_free(&h);
	capopts_hold_free(NULL);
}

TEST(flags)
{
	struct capture_opts o = {0};
	struct capopts_hold h = {0};
	char err[300];
	CHECK_EQ_INT(capopts_flag(&o, &h, "mobile", NULL, err, sizeof(err)), 0);
	CHECK_EQ_INT(capopts_flag(&o, &h, "delay", "250", err, sizeof(err)), 0);
	CHECK_EQ_INT(capopts_flag(&o, &h, "hide", "#a", err, sizeof(err)), 0);
	CHECK_EQ_INT(capopts_flag(&o, &h, "hide", ".b", err, sizeof(err)), 0);
	CHECK_EQ_INT(capopts_flag(&o, &h, "header", "Authorization: Bearer x",
				  err, sizeof(err)), 0);
	CHECK_EQ_INT(capopts_flag(&o, &h, "cookie", "sid=a=b", err, sizeof(err)), 0);
	CHECK_EQ_INT(capopts_flag(&o, &h, "color-scheme", "dark", err, sizeof(err)), 0);
	CHECK_EQ_INT(capopts_flag(&o, &h, "user-agent", "UA", err, sizeof(err)), 0);
	CHECK_EQ_INT(o.mobile, 1);
	CHECK_EQ_INT(o.delay_ms, 250);
	CHECK_EQ_INT(o.color_scheme, CAPTURE_SCHEME_DARK);
	CHECK_STR(o.hide, "[\"#a\",\".b\"]");
	CHECK_STR(o.headers, "{\"Authorization\":\"Bearer x\"}");
	CHECK_STR(o.cookies, "[{\"name\":\"sid\",\"value\":\"a=b\"}]");
	CHECK_STR(o.user_agent, "UA");
	CHECK_EQ_INT(capopts_flag(&o, &h, "listen", "x", err, sizeof(err)), 1);
	CHECK_EQ_INT(capopts_flag(&o, &h, "color-scheme", "blue", err, sizeof(err)), -1);
	CHECK_EQ_INT(capopts_flag(&o, &h, "header", "nocolon", err, sizeof(err)), -1);
	CHECK_EQ_INT(capopts_flag(&o, &h, "width", "99", err, sizeof(err)), -1);
	capopts_hold_free(&h);
}

/* getopt_long entries of capopts_flag's names: has_arg from the flag
 * (a value, or a boolean), in the caller's order, ended by {0}; a name
 * that is not a capture option flag, or too little room: -1. */
TEST(longopts)
{
	struct option lo[4];
	const char *names[] = {"no-pdf", "shot-pixels", "full-page", NULL};
	CHECK_EQ_INT(capopts_longopts(lo, 4, names, 0x100), 3);
	CHECK_STR(lo[0].name, "no-pdf");
	CHECK_EQ_INT(lo[0].has_arg, 0);
	CHECK_STR(lo[1].name, "shot-pixels");
	CHECK_EQ_INT(lo[1].has_arg, 1);
	CHECK_EQ_INT(lo[2].has_arg, 0);
	CHECK_EQ_INT(lo[2].val, 0x100);
	CHECK(lo[2].flag == NULL && lo[3].name == NULL);
	CHECK_EQ_INT(capopts_longopts(lo, 3, names, 0x100), -1);
	const char *bad[] = {"width", "listen", NULL};
	CHECK_EQ_INT(capopts_longopts(lo, 4, bad, 0x100), -1);
}

int main(void)
{
	RUN(check_accepts_every_field);
	RUN(check_refuses_bad_fields);
	RUN(readiness_options);
	RUN(stealth_option);
	RUN(pdf_option);
	RUN(masked_values_keep_the_stored_ones);
	RUN(mask_hides_every_secret);
	RUN(apply_layers_over_defaults);
	RUN(flags);
	RUN(longopts);
	return test_report();
}
