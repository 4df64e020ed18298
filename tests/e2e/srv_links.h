/*
 * srv_links.h — after a fault-injection run: every link of the catalog has
 * exactly one ok snapshot and its PNG decodes (none lost, none twice, no torn
 * file). Include after srv_harness.h, img.h and testhelp.h.
 */
#ifndef SRV_LINKS_H
#define SRV_LINKS_H

/* Optional per-PNG check on the decoded image (e.g. the fixture's block). */
typedef void (*srv_png_check)(const struct img_rgba *im);

/* One link's ok snapshots: each PNG decoded (and checked); the first
 * written to *png_out when set (then cleared). Returns how many were ok. */
static int srv_link_ok_pngs(struct srv *s, long id, srv_png_check check,
			    const char **png_out)
{
	char path[128];
	struct srv_resp sr, pr;
	int ok = 0;
	cJSON *sn;
	snprintf(path, sizeof(path), "/api/links/%ld/snapshots", id);
	srv_req(s, "GET", path, NULL, NULL, &sr);
	cJSON_ArrayForEach(sn, cJSON_GetObjectItem(sr.json, "items")) {
		if (strcmp(srv_jstr(sn, "state"), "ok"))
			continue;
		ok++;
		srv_req(s, "GET", srv_jstr(sn, "png_url"), NULL, NULL, &pr);
		struct img_rgba im = {0};
		CHECK(img_decode_mem(pr.body.data, pr.body.len, &im) == SC_OK);
		if (check)
			check(&im);
		img_rgba_free(&im);
		FILE *f = *png_out ? fopen(*png_out, "wb") : NULL;
		if (f) {
			fwrite(pr.body.data, 1, pr.body.len, f);
			fclose(f);
		}
		*png_out = NULL;
		srv_resp_free(&pr);
	}
	srv_resp_free(&sr);
	return ok;
}

/* Every link (up to 1000): exactly one ok snapshot whose PNG decodes.
 * Returns the number of links; the first PNG is saved to png_out if set. */
static __attribute__((unused)) int srv_check_links(struct srv *s, srv_png_check check,
						   const char *png_out)
{
	struct srv_resp r;
	cJSON *it;
	int links = 0;
	srv_req(s, "GET", "/api/links?limit=1000", NULL, NULL, &r);
	cJSON_ArrayForEach(it, cJSON_GetObjectItem(r.json, "items")) {
		long id = (long)srv_jnum(it, "id");
		int ok = srv_link_ok_pngs(s, id, check, &png_out);
		links++;
		if (ok != 1)
			fprintf(stderr, "link %ld has %d ok snapshots\n", id, ok);
		CHECK_EQ_INT(ok, 1);
	}
	srv_resp_free(&r);
	return links;
}

#endif
