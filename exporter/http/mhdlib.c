/*
 * mhdlib.c - dlopen libmicrohttpd and GnuTLS on first use (see mhdlib.h).
 *
 * A row per function (MHDLIB_FUNCTIONS): the library it comes from, its
 * name, and where its pointer goes in struct mhdlib.  Both libraries are opened by soname with
 * RTLD_NOW (a library without one of the functions fails here, once, with
 * a message, not at the first request) and RTLD_LOCAL (nothing of theirs
 * leaks into the global namespace), and never closed: GnuTLS registers
 * destructors, and a server runs until exit anyway.  The loaded table and
 * the outcome are process-wide and written once under pthread_once, the
 * only state here; the libraries are process-wide too.  systemd loads its
 * optional libraries the same way (dlopen_many_sym_or_warn).
 *
 * Rejected: -Wl,-z,lazy or --as-needed (glibc maps every DT_NEEDED library
 * and runs its constructors at exec whatever the binding mode: relocation
 * was not the cost, the mapping and the constructors were); a second,
 * HTTP-free binary for --once (two programs to install and document).
 */
#include "exporter/http/mhdlib.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "build_config.h"

enum lib { LIB_MHD, LIB_TLS };

struct sym {
	enum lib lib;
	const char *name;
	size_t off; /* of the pointer in struct mhdlib */
};

#define SYM(lib, field, fn) {LIB_##lib, #fn, offsetof(struct mhdlib, field)},

static const struct sym syms[] = {MHDLIB_FUNCTIONS(SYM)};

/* The process-wide outcome of mhdlib_load (written once, see above). */
static pthread_once_t once = PTHREAD_ONCE_INIT;
static struct mhdlib loaded;
static int load_result;
static char load_error[512];

static int open_lib(const char *soname, const char *what, void **ret_handle, char *err,
                    size_t err_size)
{
	void *h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);

	if (!h) {
		const char *why = dlerror();
		(void)snprintf(err, err_size, "cannot load %s (%s, needed to serve HTTP): %s",
		               soname, what, why ? why : "unknown error");
		return -ENOENT;
	}
	*ret_handle = h;
	return 0;
}

int mhdlib_load_from(const char *mhd_soname, const char *tls_soname, struct mhdlib *ret_lib,
                     char *err, size_t err_size)
{
	void *h[2] = {NULL, NULL};
	const char *sonames[2] = {mhd_soname, tls_soname};
	struct mhdlib lib;
	int r;

	r = open_lib(mhd_soname, "libmicrohttpd; Debian: libmicrohttpd12", &h[LIB_MHD], err,
	             err_size);
	if (r < 0) {
		return r;
	}
	r = open_lib(tls_soname, "GnuTLS; Debian: libgnutls30", &h[LIB_TLS], err, err_size);
	if (r < 0) {
		return r;
	}
	memset(&lib, 0, sizeof(lib));
	for (size_t i = 0; i < sizeof(syms) / sizeof(syms[0]); i++) {
		void *p = dlsym(h[syms[i].lib], syms[i].name);
		if (!p) {
			(void)snprintf(err, err_size, "%s has no %s (too old a version?)",
			               sonames[syms[i].lib], syms[i].name);
			return -ELIBBAD;
		}
		/* POSIX guarantees a data pointer from dlsym converts to the
		 * function's pointer; memcpy says so without a pedantic cast. */
		memcpy((char *)&lib + syms[i].off, &p, sizeof(p));
	}
	*ret_lib = lib;
	return 0;
}

static void load_once(void)
{
	load_result = mhdlib_load_from(ACCESSLOG_MHD_SONAME, ACCESSLOG_GNUTLS_SONAME, &loaded,
	                               load_error, sizeof(load_error));
}

int mhdlib_load(const struct mhdlib **ret_lib, char *err, size_t err_size)
{
	(void)pthread_once(&once, load_once);
	if (load_result < 0) {
		(void)snprintf(err, err_size, "%s", load_error);
		return load_result;
	}
	*ret_lib = &loaded;
	return 0;
}
