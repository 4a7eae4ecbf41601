/*
 * fieldlabel.h - struct config_field_label initializers for tests.
 *
 * FIELD_LABEL: the value as is; FIELD_LABEL_RULE: one rewrite rule (the
 * "match"/"replacement" of the config file); FIELD_LABEL_RULES: a
 * struct config_rule array given by name, tried in order, and a default
 * (NULL: "other").  Usable in static initializers (compound literals have
 * static storage at file scope and constant addresses).
 */
#ifndef TESTS_FIELDLABEL_H
#define TESTS_FIELDLABEL_H

#include "config/config.h"

#define FIELD_LABEL(n, f)                                                                          \
	{                                                                                          \
		.name = (char *)(n), .field = CONFIG_FIELD_##f                                     \
	}
#define FIELD_LABEL_RULE(n, f, m, r)                                                               \
	{                                                                                          \
		.name = (char *)(n), .field = CONFIG_FIELD_##f,                                    \
		.rules = (struct config_rule[]){{(char *)(m), (char *)(r)}}, .n_rules = 1          \
	}
#define FIELD_LABEL_RULES(n, f, arr, def)                                                          \
	{                                                                                          \
		.name = (char *)(n), .field = CONFIG_FIELD_##f,                                    \
		.rules = (struct config_rule *)(arr), .n_rules = sizeof(arr) / sizeof((arr)[0]),   \
		.default_value = (char *)(def)                                                     \
	}

#endif
