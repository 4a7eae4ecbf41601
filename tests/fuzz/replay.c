/*
 * replay.c - run a libFuzzer target over committed corpus files.
 *
 * Without -Dfuzzing=true each fuzz target links this main() instead of
 * libFuzzer's: every argument is a file or a directory of files, each file
 * is fed once to LLVMFuzzerTestOneInput, and the run passes when nothing
 * crashes (a target aborts on any inconsistency it detects).  Meson runs it
 * over tests/fuzz/corpus/<target>/ in the 'fuzz' suite.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define REPLAY_MAX_INPUT (1024 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
	FILE *fp = fopen(path, "rb");
	if (fp == NULL) {
		fprintf(stderr, "replay: cannot open %s\n", path);
		return -1;
	}
	uint8_t *buf = malloc(REPLAY_MAX_INPUT);
	size_t n = buf != NULL ? fread(buf, 1, REPLAY_MAX_INPUT, fp) : 0;
	fclose(fp);
	if (buf == NULL) {
		return -1;
	}
	/* a private copy of exactly n bytes so ASan sees reads past the end */
	uint8_t *exact = malloc(n > 0 ? n : 1);
	if (exact == NULL) {
		free(buf);
		return -1;
	}
	memcpy(exact, buf, n);
	free(buf);
	(void)LLVMFuzzerTestOneInput(exact, n);
	free(exact);
	printf("ok %s\n", path);
	return 0;
}

int main(int argc, char **argv)
{
	unsigned files = 0, failed = 0;
	for (int i = 1; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "replay: no such path %s\n", argv[i]);
			return 1;
		}
		if (!S_ISDIR(st.st_mode)) {
			failed += run_file(argv[i]) < 0;
			files++;
			continue;
		}
		DIR *d = opendir(argv[i]);
		if (d == NULL) {
			return 1;
		}
		struct dirent *e;
		while ((e = readdir(d)) != NULL) {
			if (e->d_name[0] == '.') {
				continue;
			}
			char path[4096];
			int r = snprintf(path, sizeof(path), "%s/%s", argv[i], e->d_name);
			if (r < 0 || (size_t)r >= sizeof(path)) {
				failed++;
				continue;
			}
			failed += run_file(path) < 0;
			files++;
		}
		closedir(d);
	}
	printf("replayed %u files, %u unreadable\n", files, failed);
	return files == 0 || failed > 0 ? 1 : 0;
}
