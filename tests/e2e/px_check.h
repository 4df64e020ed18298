/*
 * px_check.h — pixel checks on a decoded capture (img_rgba). Include after
 * img.h; header-only.
 */
#ifndef PX_CHECK_H
#define PX_CHECK_H

#include <stdio.h>
#include <stdlib.h>

/* Is the pixel at (x,y) within 8 of rgb 0xRRGGBB? Says which when not. */
static __attribute__((unused)) int px_is(const struct img_rgba *im, uint32_t x,
					 uint32_t y, unsigned rgb)
{
	if (x >= im->w || y >= im->h)
		return 0;
	const uint8_t *p = im->px + ((size_t)y * im->w + x) * 4;
	int want[3] = {(rgb >> 16) & 255, (rgb >> 8) & 255, rgb & 255};
	for (int i = 0; i < 3; i++)
		if (abs(p[i] - want[i]) > 8) {
			fprintf(stderr, "pixel %u,%u is %02x%02x%02x, want %06x\n",
				x, y, p[0], p[1], p[2], rgb);
			return 0;
		}
	return 1;
}

#endif
