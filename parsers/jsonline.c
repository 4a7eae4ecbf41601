/* jsonline.c - being written */
#include "parsers/jsonline.h"

#include <errno.h>

#include "parsers/logformat.h"

int jsonline_create(const char *keymap, struct jsonline **ret, struct logparse_error *err)
{
	(void)keymap;
	(void)ret;
	logformat_set_error(err, 0, "JSON lines are not supported yet");
	return -EINVAL;
}

void jsonline_destroy(struct jsonline *j)
{
	(void)j;
}

int jsonline_parse(struct jsonline *j, const char *line, size_t len, struct log_record *ret)
{
	(void)j;
	(void)line;
	(void)len;
	(void)ret;
	return -EINVAL;
}
