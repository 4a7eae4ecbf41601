/*
 * dlopen_deps.c - not installed: a program linked against the libraries the
 * daemon dlopens (exporter/http/mhdlib.c), so that dpkg-shlibdeps, which
 * only reads DT_NEEDED and undefined symbols, still puts them in the
 * package's Depends, with the minimum versions of the functions the daemon
 * uses (debian/rules passes it with -e).  Never run.
 */
#include "exporter/http/mhdlib.h"

#define KEEP(lib, field, fn) (void (*)(void)) fn,

/* every function of the table, referenced (so --as-needed keeps both) */
static void (*const volatile keep[])(void) = {MHDLIB_FUNCTIONS(KEEP)};

int main(void)
{
	return keep[0] ? 0 : 1;
}
