/*
 * fuzz_container.c - libFuzzer target for container log unwrapping.
 *
 * The first byte picks the wrapping (CRI, Docker, auto), the streams and
 * a line cap (small ones reach the reassembly limits fast); the rest is
 * split at newlines into wrapped lines fed to one container_unwrap, as a
 * file's lines would be.  Every delivered line must fit the cap and be
 * readable in full; pieces must never make memory grow past it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "exporter/input/container.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum config_container formats[] = {
	    CONFIG_CONTAINER_CRI, CONFIG_CONTAINER_DOCKER, CONFIG_CONTAINER_AUTO,
	    CONFIG_CONTAINER_CRI};
	static const size_t caps[] = {1, 7, 64, 0};
	struct container_unwrap *u;
	const char *p, *end;
	volatile unsigned char sink = 0;

	if (size < 1 || size > 1u << 20) {
		return 0;
	}
	size_t cap = caps[(data[0] >> 4) & 3] ? caps[(data[0] >> 4) & 3] : TAIL_DEFAULT_LINE_CAP;
	u = container_unwrap_create(formats[data[0] & 3], (data[0] >> 2) & 3, cap);
	if (!u) {
		return 0;
	}
	p = (const char *)data + 1;
	end = (const char *)data + size;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		const char *out = NULL;
		size_t n = 0;
		if (container_unwrap_line(u, p, len, &out, &n) == CONTAINER_LINE &&
		    container_unwrap_format(u) != CONFIG_CONTAINER_NONE) {
			if (n > cap) {
				abort();
			}
			for (size_t i = 0; i < n; i++) {
				sink ^= (unsigned char)out[i];
			}
		}
		p += len + 1;
	}
	(void)sink;
	container_unwrap_destroy(u);
	return 0;
}
