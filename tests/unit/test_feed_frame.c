/*
 * test_feed_frame.c — the forever frame's event text (http/feed_frame.c):
 * event JSON goes inside <script>…</script>, so no '<' may reach the HTML
 * raw ("</script" would end the element, "<!--" would upset the script
 * data state); each is \u003c, and the text still parses to the same JSON.
 */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "feed_int.h"
#include "testhelp.h"

static char *frame_text(const char *json)
{
	struct feed_frame *f = feed_frame_html(json, 7);
	CHECK_EQ_INT((int)f->id, 7);
	CHECK_EQ_INT((int)strlen(f->data), (int)f->len);
	char *s = strdup(f->data);
	free(f); /* one reference, no other holder */
	return s;
}

TEST(escapes_script_end_and_comment)
{
	const char *json = "{\"title\":\"a </script><!-- b <SCRIPT> </ScRiPt >\","
			   "\"n\":1}";
	char *s = frame_text(json);
	CHECK(!strchr(s, '<'));
	CHECK(strstr(s, "\\u003c/script>\\u003c!-- b") != NULL);
	cJSON *a = cJSON_Parse(json), *b = cJSON_Parse(s);
	CHECK(b != NULL);
	CHECK(cJSON_Compare(a, b, 1));
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(b, "title")),
		  "a </script><!-- b <SCRIPT> </ScRiPt >");
	cJSON_Delete(a);
	cJSON_Delete(b);
	free(s);
}

TEST(plain_json_unchanged)
{
	const char *json = "{\"id\":3,\"type\":\"job.done\",\"url\":\"https://e.org/?a=1&b=>\"}";
	char *s = frame_text(json);
	CHECK_STR(s, json);
	free(s);
	s = frame_text("");
	CHECK_STR(s, "");
	free(s);
}

int main(void)
{
	RUN(escapes_script_end_and_comment);
	RUN(plain_json_unchanged);
	return test_report();
}
