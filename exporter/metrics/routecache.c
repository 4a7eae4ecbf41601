/*
 * routecache.c - raw field values -> series cells (see routecache.h).
 *
 * Layout, chosen for cache misses (a line with a field label of 10,000
 * values used to take five or more dependent misses: the raw-value cache,
 * its key bytes, the tuple index, the tuple, then one index probe, key and
 * value per family):
 *   - an index of 64-bit slots (probe.h, shared with series.c): the high
 *     half of each slot is the top of the hash, the low half the route
 *     number + 1, so a probe touches a route only when the hash matches;
 *   - the routes in one array, two 64-byte lines each (hash, key place,
 *     tag, the struct route and keys up to 68 bytes), so the compare and
 *     the cells come with one miss; the array is one mapping of address
 *     space for max_routes, written in order (pages come as routes do;
 *     past 2 MiB, huge pages where the kernel has them);
 *   - longer keys in an arena beside them;
 *   - keys of at most 64 bytes (nearly all) hashed and compared as their
 *     64 bytes zero-padded (keyload.h): four SSE2 multiply steps, one
 *     64-byte compare against the route's inline key (zero past its end),
 *     no branch on the key's length (0.94x the steady-state CPU of loops
 *     over the bytes at 10,000 values, 1.02x with one: keyload.h);
 *     longer keys by a loop of words.
 * Prefetching (routecache_prefetch) lets a batch of lines overlap these
 * misses (metrics_observe_batch).  The index grows by doubling up to
 * max_routes; a full cache is cleared, not evicted entry by entry (the
 * slow path refills it, and a working set larger than the cap is the case
 * the cap is there for).
 *
 * Rejected: keeping the raw-value cache and adding per-tuple pointers (still
 * two lookups a line); routes keyed by the raw values alone with a small
 * per-route list of (method, slot) (a second search a line, and an
 * unbounded list); comparing hashes only (counts must be exact); chunks of
 * 1,024 routes from malloc (one 4 KiB page fault per 32 routes, 7 us each
 * on a virtual machine: a fifth of creating a route); routes of one to four
 * 64-byte lines (a 32-byte head holding 32-bit series ids instead of cell
 * pointers, the key inline up to 224 bytes, the line count in the index
 * slot): 5.8 instead of 7.7 MB for 10,000 paths and one line a route for
 * half of the bench's paths, but no faster (steady state 0.166-0.175 s
 * against 0.154-0.162 s per 1M lines in the same runs; the id to cell
 * address costs two dependent loads a family) - the second line of a
 * route comes with the first; a hash and compare with no branch on the key
 * length for keys of 8 to 64 bytes (eight words clamped to the key's end,
 * two lanes): 1.2 fewer mispredicted branches a line in cachegrind's model
 * but 49 more instructions (2,115 against 2,066 a line at 10,000 values),
 * CPU time the same (0.169 against 0.173 s per 1M lines, steady state,
 * same run) - masked loads that may read past the key (keyload.h) did
 * what the clamped words did not; NH (64 x 64 -> 128-bit multiplies) for
 * the short keys' hash: as many instructions as the SSE2 steps (1,817
 * against 1,816 a line with one value), and one more type that is not
 * ISO C.
 */
#include "exporter/metrics/routecache.h"

#include "exporter/metrics/keyload.h"
#include "exporter/metrics/probe.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define MIN_SLOTS 64u
#define MAX_KEY (64u * 1024u)
#define ARENA_MIN (16u * 1024u)
/* The first this many bytes of routes are ordinary pages (a source with a
 * few values keeps a few KiB), the rest may be 2 MiB ones. */
#define SMALL_PAGES (2u * 1024u * 1024u)
#define INLINE_KEY 68u

/* Two cache lines: the key compare and the cells come with the route for
 * keys up to INLINE_KEY bytes (most paths); longer keys sit in the arena. */
struct entry {
	uint64_t hash;
	uint32_t key_len;
	uint32_t tag;
	struct route r;
	uint32_t key_off; /* in the arena, when key_len > INLINE_KEY */
	char key[INLINE_KEY];
};
_Static_assert(sizeof(struct entry) == 128, "a route is two cache lines");
/* keyload_equal reads KEYLOAD_MAX bytes at an inline key */
_Static_assert(INLINE_KEY >= KEYLOAD_MAX &&
                   offsetof(struct entry, key) + KEYLOAD_MAX <= sizeof(struct entry),
               "a short key is inline and 64 bytes can be read at it");

struct routecache {
	struct probe_index ix; /* hash -> entry */
	struct entry *entries; /* [max]: reserved address space, touched as filled */
	size_t map_len;
	size_t n, max;
	char *arena;
	size_t arena_len, arena_cap, arena_max;
	uint64_t generation;
};

static inline struct entry *entry_at(const struct routecache *rc, size_t i)
{
	return &rc->entries[i];
}

static inline const char *entry_key(const struct routecache *rc, const struct entry *e)
{
	return e->key_len <= INLINE_KEY ? e->key : rc->arena + e->key_off;
}

struct routecache *routecache_create(size_t max_routes)
{
	struct routecache *rc;

	if (max_routes < 16 || max_routes > UINT32_MAX / 4) {
		return NULL;
	}
	rc = calloc(1, sizeof(*rc));
	if (!rc) {
		return NULL;
	}
	rc->max = max_routes;
	/* Long keys: 128 bytes a route on average, at least a mebibyte. */
	rc->arena_max = max_routes * 128 > (1u << 20) ? max_routes * 128 : (1u << 20);
	/* One mapping for every route the cache may hold: pages come when
	 * first written, a route never moves, and past the first 2 MiB the
	 * kernel may back them with huge pages (a cache of 60,000 routes
	 * otherwise takes 1,900 page faults to fill, about 7 us each on a
	 * virtual machine, and as many TLB entries to walk). */
	rc->map_len = max_routes * sizeof(struct entry);
	rc->entries = mmap(NULL, rc->map_len, PROT_READ | PROT_WRITE,
	                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (rc->entries == MAP_FAILED) {
		rc->entries = NULL;
	}
#ifdef MADV_HUGEPAGE
	if (rc->entries && rc->map_len > SMALL_PAGES) {
		/* only a hint: without it the pages are 4 KiB ones */
		(void)madvise((char *)rc->entries + SMALL_PAGES, rc->map_len - SMALL_PAGES,
		              MADV_HUGEPAGE);
	}
#endif
	rc->arena = malloc(ARENA_MIN);
	rc->arena_cap = ARENA_MIN;
	if (probe_init(&rc->ix, MIN_SLOTS) < 0 || !rc->entries || !rc->arena) {
		routecache_destroy(rc);
		return NULL;
	}
	return rc;
}

void routecache_destroy(struct routecache *rc)
{
	if (!rc) {
		return;
	}
	if (rc->entries) {
		(void)munmap(rc->entries, rc->map_len);
	}
	probe_finish(&rc->ix);
	free(rc->arena);
	free(rc);
}

static inline uint64_t fmix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	return h ^ (h >> 33);
}

/* A short key's eight words into 64 bits.  With SSE2, XXH3's accumulate
 * step (each word xor a secret, its two halves multiplied, the word itself
 * added with its lanes swapped): four 16-byte steps, then the two lanes
 * folded and finalized for the top bits the index uses; otherwise NH (the
 * UMAC hash's inner function) on the words.  The key's length and tag are
 * in the seed, so a key and the same key with zero bytes added hash apart. */
static const uint64_t secret[8] __attribute__((aligned(16))) = {
    0x243f6a8885a308d3ull, 0x13198a2e03707344ull, 0xa4093822299f31d0ull, 0x082efa98ec4e6c89ull,
    0x452821e638d01377ull, 0xbe5466cf34e90c6cull, 0xc0ac29b7c97c50ddull, 0x3f84d5b5b5470917ull,
};

#if defined(__SSE2__) && defined(__GNUC__)
static inline uint64_t hash_short(const struct keyload *k, uint64_t seed)
{
	__m128i acc = _mm_set_epi64x((long long)seed, (long long)~seed);

	for (unsigned i = 0; i < 4; i++) {
		__m128i d = k->v[i];
		__m128i t =
		    _mm_xor_si128(d, _mm_load_si128((const __m128i *)(const void *)&secret[2 * i]));
		__m128i p = _mm_mul_epu32(t, _mm_shuffle_epi32(t, _MM_SHUFFLE(2, 3, 0, 1)));
		acc = _mm_add_epi64(
		    acc, _mm_add_epi64(p, _mm_shuffle_epi32(d, _MM_SHUFFLE(1, 0, 3, 2))));
	}
	uint64_t lo = (uint64_t)_mm_cvtsi128_si64(acc);
	uint64_t hi = (uint64_t)_mm_cvtsi128_si64(_mm_unpackhi_epi64(acc, acc));
	return fmix(lo ^ (hi * 0x9e3779b97f4a7c15ull) ^ seed);
}
#else
__extension__ typedef unsigned __int128 u128;

static inline uint64_t hash_short(const struct keyload *k, uint64_t seed)
{
	u128 acc = 0;

	for (unsigned i = 0; i < 8; i += 2) {
		acc += (u128)(k->w[i] + secret[i]) * (k->w[i + 1] + secret[i + 1]);
	}
	return fmix((uint64_t)acc ^ (uint64_t)(acc >> 64) ^ seed);
}
#endif

uint64_t routecache_hash(const char *key, size_t len, uint32_t tag)
{
	const unsigned char *s = (const unsigned char *)key;
	uint64_t seed = 0x9ae16a3b2f90404full ^ ((uint64_t)tag << 32 | (uint64_t)len);
	uint64_t h = seed, w = 0;
	size_t n = len;

	if (len <= KEYLOAD_MAX) {
		struct keyload k;
		keyload(&k, key, len);
		return hash_short(&k, seed);
	}
	/* Longer keys: eight bytes per multiply, and the last eight as the
	 * word that ends the key (overlapping bytes already mixed; the length
	 * is in the seed). */
	while (n > 8) {
		memcpy(&w, s, 8);
		h = (h ^ w) * 0x9e3779b97f4a7c15ull;
		h ^= h >> 29;
		s += 8;
		n -= 8;
	}
	memcpy(&w, key + len - 8, 8);
	return fmix(h ^ w);
}

/* a[0..len) == b[0..len) without a call for the usual key lengths: whole
 * words, then the word that ends them. */
static inline bool same_bytes(const char *a, const char *b, size_t len)
{
	uint64_t x, y, d = 0;

	if (len < 8 || len > 256) {
		return memcmp(a, b, len) == 0;
	}
	for (size_t i = 0; i + 8 <= len; i += 8) {
		memcpy(&x, a + i, 8);
		memcpy(&y, b + i, 8);
		d |= x ^ y;
	}
	memcpy(&x, a + len - 8, 8);
	memcpy(&y, b + len - 8, 8);
	return (d | (x ^ y)) == 0;
}

struct route *routecache_find(struct routecache *rc, uint64_t h, const char *key, size_t len,
                              uint32_t tag)
{
	size_t pos = probe_home(&rc->ix, h);

	if (len <= KEYLOAD_MAX) {
		/* the stored key is inline and zero past its end: one 64-byte
		 * compare whatever the length */
		struct keyload k;
		keyload(&k, key, len);
		for (uint32_t id; probe_next(&rc->ix, h, &pos, &id);) {
			struct entry *e = entry_at(rc, id);
			if (e->hash == h && e->tag == tag && e->key_len == len &&
			    keyload_equal(&k, e->key)) {
				return &e->r;
			}
		}
		return NULL;
	}

	for (uint32_t id; probe_next(&rc->ix, h, &pos, &id);) {
		struct entry *e = entry_at(rc, id);
		if (e->hash == h && e->tag == tag && e->key_len == len &&
		    same_bytes(entry_key(rc, e), key, len)) {
			return &e->r;
		}
	}
	return NULL;
}

void routecache_prefetch(const struct routecache *rc, uint64_t h, int step)
{
	const uint64_t *slot = &rc->ix.slots[probe_home(&rc->ix, h)];
	const struct entry *e;

	if (step == 1) {
		__builtin_prefetch(slot);
		return;
	}
	/* The first slot is the route's in most cases (load <= 1/2); each
	 * step only reads what the step before loaded. */
	if (!*slot || ((*slot ^ h) & PROBE_TAG_MASK)) {
		return;
	}
	e = entry_at(rc, (*slot & 0xffffffffu) - 1);
	if (step == 2) {
		__builtin_prefetch(e);
		__builtin_prefetch((const char *)e + 64);
		return;
	}
	if (e->key_len > INLINE_KEY) {
		__builtin_prefetch(rc->arena + e->key_off);
	}
	for (unsigned f = 0; f < ROUTECACHE_CELLS; f++) {
		if (e->r.resolved & (1u << f)) {
			__builtin_prefetch(e->r.v[f], 1);
		}
	}
}

uint64_t routecache_generation(const struct routecache *rc)
{
	return rc->generation;
}

void routecache_clear(struct routecache *rc)
{
	rc->generation++;
	probe_clear(&rc->ix);
	rc->n = 0;
	rc->arena_len = 0;
}

size_t routecache_count(const struct routecache *rc)
{
	return rc->n;
}

/* Room for one more route and len more key bytes: grow, or clear when the
 * caps are reached.  0 or -1 (out of memory). */
static int make_room(struct routecache *rc, size_t len)
{
	bool in_arena = len > INLINE_KEY;

	if (rc->n >= rc->max || (in_arena && len > rc->arena_max - rc->arena_len)) {
		routecache_clear(rc);
	}
	if (probe_reserve(&rc->ix) < 0) {
		return -1;
	}
	if (in_arena && len > rc->arena_cap - rc->arena_len) {
		size_t cap = rc->arena_cap;
		while (cap - rc->arena_len < len) {
			cap *= 2;
		}
		char *a = realloc(rc->arena, cap);
		if (!a) {
			return -1;
		}
		rc->arena = a;
		rc->arena_cap = cap;
	}
	return 0;
}

struct route *routecache_add(struct routecache *rc, uint64_t h, const char *key, size_t len,
                             uint32_t tag)
{
	struct entry *e;

	if (len > MAX_KEY || len > rc->arena_max || make_room(rc, len) < 0) {
		return NULL;
	}
	rc->generation++; /* make_room may have cleared the routes */
	e = entry_at(rc, rc->n);
	*e = (struct entry){.hash = h, .key_len = (uint32_t)len, .tag = tag};
	if (len <= INLINE_KEY) {
		if (len) {
			memcpy(e->key, key, len);
		}
	} else {
		e->key_off = (uint32_t)rc->arena_len;
		memcpy(rc->arena + rc->arena_len, key, len);
		rc->arena_len += len;
	}
	probe_put_raw(&rc->ix, h, (uint32_t)rc->n);
	rc->n++;
	return &e->r;
}
