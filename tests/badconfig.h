/*
 * badconfig.h - the error a bad config file in tests/data/config expects
 * (test_config.c, test_webconfig.c): its first line is "# expect: TEXT",
 * and the loader's message must start with "PATH:TEXT" (file, line and
 * key, then the reason).
 */
#ifndef TESTS_BADCONFIG_H
#define TESTS_BADCONFIG_H

#include <stdio.h>
#include <string.h>

/* "PATH:TEXT" for the file at path, in want (size bytes). */
static inline void badconfig_expected(const char *path, char *want, size_t size)
{
	char line[512];
	FILE *f = fopen(path, "r");

	assert_non_null(f);
	if (!fgets(line, sizeof(line), f)) {
		line[0] = '\0';
	}
	(void)fclose(f);
	assert_true(strncmp(line, "# expect: ", 10) == 0);
	line[strcspn(line, "\n")] = '\0';
	(void)snprintf(want, size, "%s:%s", path, line + 10);
}

#endif
