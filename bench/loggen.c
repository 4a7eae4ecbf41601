/*
 * loggen.c - deterministic access-log generator for benchmarks and tests.
 *
 * Usage: loggen [--lines N] [--seed S]
 *               [--format combined|timed|traced|common|apache_d|json]
 *               [--junk PCT]
 * Writes N lines to stdout.  The same arguments always give the same bytes
 * (a 64-bit LCG, no time or locale), so benchmark inputs are reproducible.
 * "timed" is nginx combined followed by "$request_time $upstream_response_time",
 * with upstream lists ("0.010, 0.020"), "-" and ":" groups mixed in;
 * "traced" adds a 32-hex-digit $request_id (exemplars).
 * "apache_d" is combined followed by Apache's %D (microseconds).  "json" is
 * the same requests as combined as nginx escape=json objects (the keys of
 * the exporter's default JSON key map), for comparing the JSON parser with
 * the combined one on equal requests.
 * A summary "code count" table goes to stderr so tests can check exact counts.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng_state = 88172645463325252ull;

static uint32_t rnd(void)
{
	rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(rng_state >> 33);
}

static const char *const methods[] = {"GET", "GET", "GET", "GET", "POST", "HEAD", "PUT", "DELETE"};
static const int codes[] = {200, 200, 200, 200, 200, 200, 200, 200, 304, 301, 302, 404,
                            404, 403, 400, 499, 500, 502, 503, 504, 444, 429, 201, 206};
static const char *const paths[] = {"/",
                                    "/index.html",
                                    "/api/v1/items",
                                    "/static/app.js",
                                    "/images/logo.png",
                                    "/login",
                                    "/search?q=hello+world",
                                    "/wp-login.php",
                                    "/favicon.ico",
                                    "/api/v1/items/42/comments"};
static const char *const agents[] = {
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 "
    "Safari/537.36",
    "curl/8.5.0", "Googlebot/2.1 (+http://www.google.com/bot.html)",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15"};

static unsigned long parse_ul(const char *s)
{
	unsigned long v = 0;
	for (; *s >= '0' && *s <= '9'; s++) {
		v = v * 10 + (unsigned long)(*s - '0');
	}
	return v;
}

int main(int argc, char **argv)
{
	unsigned long lines = 1000000, junk = 0;
	const char *format = "combined";
	static unsigned long counts[600];
	unsigned long junk_lines = 0;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--lines") == 0) {
			lines = parse_ul(argv[i + 1]);
		} else if (strcmp(argv[i], "--seed") == 0) {
			rng_state ^= parse_ul(argv[i + 1]) * 0x9E3779B97F4A7C15ull;
		} else if (strcmp(argv[i], "--format") == 0) {
			format = argv[i + 1];
		} else if (strcmp(argv[i], "--junk") == 0) {
			junk = parse_ul(argv[i + 1]);
		} else {
			fprintf(stderr, "loggen: unknown option %s\n", argv[i]);
			return 2;
		}
	}
	/* traced: timed + " $request_id" (32 hex digits, as nginx writes it) */
	bool traced = strcmp(format, "traced") == 0;
	bool timed = traced || strcmp(format, "timed") == 0;
	bool common = strcmp(format, "common") == 0;
	bool apache_d = strcmp(format, "apache_d") == 0;
	bool json = strcmp(format, "json") == 0;
	for (unsigned long n = 0; n < lines; n++) {
		if (junk && rnd() % 100 < junk) {
			printf("garbage line %lu \"unterminated\n", n);
			junk_lines++;
			continue;
		}
		int code = codes[rnd() % (sizeof(codes) / sizeof(codes[0]))];
		unsigned ip = rnd();
		unsigned sec = (unsigned)(n / 50) % 86400;
		counts[code]++;
		const char *method = methods[rnd() % 8], *path = paths[rnd() % 10];
		unsigned bytes = code == 304 || code == 444 ? 0 : rnd() % 50000;
		const char *referer = "-", *agent = "-";
		if (!common) {
			referer = rnd() % 3 ? "-" : "https://example.com/";
			agent = agents[rnd() % 4];
		}
		if (json) {
			printf("{\"time_local\":\"25/Nov/2026:%02u:%02u:%02u +0000\","
			       "\"remote_addr\":\"%u.%u.%u.%u\",\"request\":\"%s %s HTTP/1.1\","
			       "\"status\":%d,\"body_bytes_sent\":%u,\"http_referer\":\"%s\","
			       "\"http_user_agent\":\"%s\"}\n",
			       sec / 3600, sec / 60 % 60, sec % 60, 10 + ip % 200, (ip >> 8) & 255,
			       (ip >> 16) & 255, ip >> 24, method, path, code, bytes, referer,
			       agent);
			continue;
		}
		printf(
		    "%u.%u.%u.%u - - [25/Nov/2026:%02u:%02u:%02u +0000] \"%s %s HTTP/1.1\" %d %u",
		    10 + ip % 200, (ip >> 8) & 255, (ip >> 16) & 255, ip >> 24, sec / 3600,
		    sec / 60 % 60, sec % 60, method, path, code, bytes);
		if (!common) {
			printf(" \"%s\" \"%s\"", referer, agent);
		}
		if (apache_d) {
			printf(" %u", rnd() % 3000000);
		}
		if (timed) {
			unsigned t = rnd() % 3000, u = rnd() % 10;
			printf(" %u.%03u ", t / 1000, t % 1000);
			if (u == 0) {
				printf("-");
			} else if (u == 1) {
				printf("0.%03u, 0.%03u", t % 500, t % 400);
			} else if (u == 2) {
				printf("0.%03u, 0.%03u : 0.%03u", t % 300, t % 200, t % 100);
			} else {
				printf("%u.%03u", t / 1000, t % 1000);
			}
		}
		if (traced) {
			unsigned a = rnd(), b = rnd();
			printf(" %08x%08x%016lx", a, b, n);
		}
		putchar('\n');
	}
	for (int c = 0; c < 600; c++) {
		if (counts[c]) {
			fprintf(stderr, "%d %lu\n", c, counts[c]);
		}
	}
	if (junk_lines) {
		fprintf(stderr, "junk %lu\n", junk_lines);
	}
	return 0;
}
