/*
 * syslog_flood.c - syslog load for bench/run-syslog: RFC 3164 datagrams as
 * nginx writes them (<190>Mmm dd hh:mm:ss host nginx: LINE), LINE a
 * combined-format line cycling through 1024 variants (status codes,
 * methods, paths, sizes), sent to 127.0.0.1:PORT with sendmmsg in batches.
 *
 *   syslog_flood --port P --count N [--rate R]   send N datagrams (R per second
 *                                                at most; 0: as fast as possible)
 *   syslog_flood --write N                       print the same N lines (no
 *                                                header) for the file baseline
 *
 * Prints "sent N seconds S" on stderr.  Loopback only: the address is fixed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench/benchkit.h"

#define VARIANTS 1024
#define BATCH 256
#define MAX_GSO 64 /* UDP_MAX_SEGMENTS of older kernels */
#define HEADER "<190>Dec  3 10:00:00 bench nginx: "

static char lines[VARIANTS][512];
static size_t lens[VARIANTS];

static void make_lines(void)
{
	static const int codes[] = {200, 200, 200, 200, 200, 200, 304, 301, 404, 500, 502, 206};
	static const char *const methods[] = {"GET", "GET", "GET", "POST", "HEAD", "PUT"};
	for (int i = 0; i < VARIANTS; i++) {
		int n =
		    snprintf(lines[i], sizeof(lines[i]),
		             "10.0.%d.%d - - [03/Dec/2026:10:%02d:%02d +0000] \"%s /app/item/%d "
		             "HTTP/1.1\" %d %d \"https://example.com/\" \"Mozilla/5.0 (X11; "
		             "Linux x86_64) bench/%d\"",
		             i / 256, i % 256, (i / 60) % 60, i % 60, methods[i % 6], i * 7,
		             codes[i % 12], 100 + i * 13, i % 17);
		lens[i] = (size_t)n;
	}
	/* One length for all (the user agent padded before its closing quote):
	 * UDP_SEGMENT cuts a send into datagrams of one size. */
	size_t max = 0;
	for (int i = 0; i < VARIANTS; i++) {
		max = lens[i] > max ? lens[i] : max;
	}
	for (int i = 0; i < VARIANTS; i++) {
		size_t pad = max - lens[i];
		memmove(lines[i] + lens[i] - 1 + pad, lines[i] + lens[i] - 1, 2);
		memset(lines[i] + lens[i] - 1, 'x', pad);
		lens[i] = max;
	}
}

static unsigned long long arg_u(const char *s)
{
	unsigned long long v = 0;

	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9' || v > (~0ull - 9) / 10) {
			fprintf(stderr, "not a number: %s\n", s);
			exit(2);
		}
		v = v * 10 + (unsigned long long)(*p - '0');
	}
	return v;
}

/* Send count datagrams: sendmmsg of BATCH entries, each one datagram or,
 * with gso > 1, gso datagrams of one length cut by the kernel (UDP_SEGMENT:
 * the sender's stack is walked once per entry, the receiver still gets
 * one datagram per message). */
static int flood(unsigned port, unsigned long long count, unsigned long long rate, unsigned gso)
{
	static char all[2 * VARIANTS * 600]; /* the messages twice: any window fits */
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	static struct mmsghdr mm[BATCH];
	static struct iovec iov[BATCH];
	static char ctrl[BATCH][CMSG_SPACE(sizeof(uint16_t))];
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	unsigned long long sent = 0;
	size_t mlen = strlen(HEADER) + lens[0];
	uint16_t seg = (uint16_t)mlen;
	double t0;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		perror("socket");
		return 1;
	}
	for (int i = 0; i < 2 * VARIANTS; i++) {
		memcpy(all + (size_t)i * mlen, HEADER, strlen(HEADER));
		memcpy(all + (size_t)i * mlen + strlen(HEADER), lines[i % VARIANTS], lens[0]);
	}
	gso = gso ? gso : 1;
	t0 = benchkit_mono_s();
	while (sent < count) {
		unsigned n = 0;
		unsigned long long queued = sent;
		while (n < BATCH && queued < count) {
			unsigned long long k = count - queued < gso ? count - queued : gso;
			size_t first = (size_t)(queued % VARIANTS);
			iov[n] = (struct iovec){all + first * mlen, (size_t)k * mlen};
			memset(&mm[n], 0, sizeof(mm[n]));
			mm[n].msg_hdr.msg_iov = &iov[n];
			mm[n].msg_hdr.msg_iovlen = 1;
			if (gso > 1) {
				struct cmsghdr *c = (struct cmsghdr *)ctrl[n];
				c->cmsg_level = SOL_UDP;
				c->cmsg_type = UDP_SEGMENT;
				c->cmsg_len = CMSG_LEN(sizeof(seg));
				memcpy(CMSG_DATA(c), &seg, sizeof(seg));
				mm[n].msg_hdr.msg_control = ctrl[n];
				mm[n].msg_hdr.msg_controllen = sizeof(ctrl[n]);
			}
			queued += k;
			n++;
		}
		int r = sendmmsg(fd, mm, n, 0);
		if (r < 0) {
			if (errno == ENOBUFS || errno == EAGAIN || errno == ECONNREFUSED) {
				continue;
			}
			perror("sendmmsg");
			return 1;
		}
		for (int i = 0; i < r; i++) {
			sent += iov[i].iov_len / mlen;
		}
		if (rate) {
			double ahead = (double)sent / (double)rate - (benchkit_mono_s() - t0);
			if (ahead > 0.0005) {
				struct timespec ts = {0, (long)(ahead * 1e9)};
				nanosleep(&ts, NULL);
			}
		}
	}
	fprintf(stderr, "sent %llu seconds %.6f\n", sent, benchkit_mono_s() - t0);
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	unsigned long long count = 0, rate = 0, write_n = 0, gso = 1;
	unsigned port = 0;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--port") == 0) {
			port = (unsigned)arg_u(argv[i + 1]);
		} else if (strcmp(argv[i], "--count") == 0) {
			count = arg_u(argv[i + 1]);
		} else if (strcmp(argv[i], "--rate") == 0) {
			rate = arg_u(argv[i + 1]);
		} else if (strcmp(argv[i], "--gso") == 0) {
			gso = arg_u(argv[i + 1]);
		} else if (strcmp(argv[i], "--write") == 0) {
			write_n = arg_u(argv[i + 1]);
		} else {
			fprintf(stderr,
			        "usage: syslog_flood --port P --count N [--rate R] | --write N\n");
			return 2;
		}
	}
	make_lines();
	if (write_n) {
		for (unsigned long long i = 0; i < write_n; i++) {
			fwrite(lines[i % VARIANTS], 1, lens[i % VARIANTS], stdout);
			fputc('\n', stdout);
		}
		return 0;
	}
	if (!port || !count) {
		fprintf(stderr, "usage: syslog_flood --port P --count N [--rate R] | --write N\n");
		return 2;
	}
	if (gso > MAX_GSO) {
		fprintf(stderr, "--gso: at most %d\n", MAX_GSO);
		return 2;
	}
	return flood(port, count, rate, (unsigned)gso);
}
