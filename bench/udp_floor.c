/*
 * udp_floor.c - the floor under bench/run-syslog: the least a receiver on
 * this kernel can do per datagram.  It binds 127.0.0.1:PORT and does only
 * what the exporter's syslog input must do before parsing: wait in poll,
 * optionally pause --gather-us so a burst queues up (as the exporter does),
 * then recvmmsg batches of 64 into fixed buffers until the queue is empty;
 * no parsing, no counting per message besides the total.  It stops when
 * COUNT datagrams were received or dropped (SO_RXQ_OVFL), or after 2 s with
 * nothing.
 *
 *   udp_floor --port P --count N [--gather-us G]
 *
 * Prints on stdout "received R dropped D calls C user U sys S" (CPU
 * seconds of this process over the run, from getrusage).  Loopback only.
 *
 * Rejected: a blocking recvmmsg with a timeout (the timeout is checked only
 * after each datagram, so it is not a bound) and busy polling (it burns the
 * core, which is what the per-datagram CPU figure is about).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench/benchkit.h"

#define BATCH 64
#define BUFSZ 2048

static unsigned long long arg_u(const char *s)
{
	size_t v = benchkit_count(s);

	if (!*s || s[strspn(s, "0123456789")] != '\0') {
		fprintf(stderr, "not a number: %s\n", s);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	static char bufs[BATCH][BUFSZ];
	static char ctrl[BATCH][CMSG_SPACE(sizeof(uint32_t))];
	struct mmsghdr mm[BATCH];
	struct iovec iov[BATCH];
	unsigned long long count = 0, gather_us = 0, got = 0, calls = 0;
	uint32_t drops = 0;
	unsigned port = 0;
	int one = 1, rcvbuf = 8 << 20;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--port") == 0) {
			port = (unsigned)arg_u(argv[i + 1]);
		} else if (strcmp(argv[i], "--count") == 0) {
			count = arg_u(argv[i + 1]);
		} else if (strcmp(argv[i], "--gather-us") == 0) {
			gather_us = arg_u(argv[i + 1]);
		}
	}
	if (!port || !count || gather_us > 100000) {
		fprintf(stderr,
		        "usage: udp_floor --port P --count N [--gather-us G (<= 100000)]\n");
		return 2;
	}
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		perror("bind");
		return 1;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	(void)setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof(one));
	printf("ready\n");
	fflush(stdout);
	struct timespec pause = {0, (long)gather_us * 1000};
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	while (got + drops < count) {
		if (poll(&pfd, 1, 2000) <= 0) {
			break;
		}
		if (gather_us) {
			(void)nanosleep(&pause, NULL);
		}
		for (;;) {
			for (int i = 0; i < BATCH; i++) {
				iov[i] = (struct iovec){bufs[i], BUFSZ};
				mm[i].msg_hdr = (struct msghdr){.msg_iov = &iov[i],
				                                .msg_iovlen = 1,
				                                .msg_control = ctrl[i],
				                                .msg_controllen = sizeof(ctrl[i])};
			}
			int n = recvmmsg(fd, mm, BATCH, MSG_DONTWAIT, NULL);
			calls++;
			if (n <= 0) {
				break;
			}
			got += (unsigned)n;
			struct cmsghdr *c = CMSG_FIRSTHDR(&mm[n - 1].msg_hdr);
			if (c && c->cmsg_type == SO_RXQ_OVFL) {
				memcpy(&drops, CMSG_DATA(c), sizeof(drops));
			}
			if (n < BATCH) {
				break;
			}
		}
	}
	struct rusage ru;
	(void)getrusage(RUSAGE_SELF, &ru);
	printf("received %llu dropped %u calls %llu user %.6f sys %.6f\n", got, drops, calls,
	       (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6,
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6);
	close(fd);
	return 0;
}
