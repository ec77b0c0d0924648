/* common.c -- build facts the Python layer reports (fastnn.info()), the
 * parallel-path accounting of fnn_common.h, and the CPU's cache sizes
 * (fnn_cpu.h). */
#include <pthread.h>
#include <string.h>
#include "fnn_common.h"
#include "fnn_cpu.h"
#include <unistd.h>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#define FNN_HAVE_CPUID 1
#endif

int fnn_openmp_enabled(void) {
#ifdef _OPENMP
    return 1;
#else
    return 0;
#endif
}

int fnn_num_procs(void) {
#ifdef _OPENMP
    return omp_get_num_procs();
#else
    return 1;
#endif
}

/* ------------------------------------------------ parallel-path accounting */
#define FNN_MAX_SITES 256
static const char *fnn_sites[FNN_MAX_SITES];
static int64_t fnn_site_hits[FNN_MAX_SITES];
static int fnn_nsites = 0;
static pthread_mutex_t fnn_sites_mu = PTHREAD_MUTEX_INITIALIZER;

void fnn_note_parallel(const char *site) {
#ifdef _OPENMP
    pthread_mutex_lock(&fnn_sites_mu);
    int i = 0;
    while (i < fnn_nsites && fnn_sites[i] != site && strcmp(fnn_sites[i], site) != 0) i++;
    if (i == fnn_nsites && fnn_nsites < FNN_MAX_SITES) fnn_sites[fnn_nsites++] = site;
    if (i < fnn_nsites) fnn_site_hits[i]++;
    pthread_mutex_unlock(&fnn_sites_mu);
#else
    (void)site;
#endif
}

int fnn_parallel_sites(const char **sites, int64_t *counts, int max) {
    pthread_mutex_lock(&fnn_sites_mu);
    int n = fnn_nsites;
    for (int i = 0; i < n && i < max; i++) {
        sites[i] = fnn_sites[i];
        counts[i] = fnn_site_hits[i];
    }
    pthread_mutex_unlock(&fnn_sites_mu);
    return n;
}

void fnn_parallel_reset(void) {
    pthread_mutex_lock(&fnn_sites_mu);
    for (int i = 0; i < fnn_nsites; i++) fnn_site_hits[i] = 0;
    pthread_mutex_unlock(&fnn_sites_mu);
}

/* ------------------------------------------------------------ caches */

#ifdef FNN_HAVE_CPUID
/* Walks the deterministic cache parameters leaf (4 on Intel, 0x8000001D on
 * AMD/Hygon with topology extensions): each subleaf describes one cache,
 *   EAX[4:0] type (0 none left, 1 data, 2 instruction, 3 unified),
 *   EAX[7:5] level, EAX[25:14] logical CPUs sharing it - 1,
 *   EBX[11:0] line - 1, EBX[21:12] partitions - 1, EBX[31:22] ways - 1,
 *   ECX sets - 1;  size = ways * partitions * line * sets.
 * Returns how many levels it filled. */
static int caches_from_leaf(unsigned leaf, fnn_cache_info *ci) {
    int found = 0;
    for (unsigned sub = 0; sub < 16; sub++) {
        unsigned a, b, c, d;
        __cpuid_count(leaf, sub, a, b, c, d);
        const unsigned type = a & 31, level = (a >> 5) & 7;
        if (type == 0) break;
        if (type == 2 || level < 1 || level > 3) continue;   /* instructions */
        fnn_cache_level *l = &ci->l[level - 1];
        l->ways = (int)((b >> 22) & 1023) + 1;
        l->line = (int)(b & 4095) + 1;
        l->size = (int64_t)l->ways * (((b >> 12) & 1023) + 1) * l->line * ((int64_t)c + 1);
        l->shared_by = (int)((a >> 14) & 4095) + 1;
        found++;
    }
    return found;
}

/* cpuid(0)'s EBX, the vendor string's first four bytes: "Auth"
 * (AuthenticAMD) or "Hygo" (HygonGenuine) */
static int vendor_amd(unsigned ebx) { return ebx == 0x68747541u || ebx == 0x6f677948u; }

static int caches_cpuid(fnn_cache_info *ci) {
    unsigned a, b, c, d;
    if (!__get_cpuid(0, &a, &b, &c, &d)) return 0;
    const unsigned max_leaf = a;
    /* AMD and Hygon describe their caches in leaf 0x8000001D; the others
     * (Intel, Zhaoxin, ...) in leaf 4 */
    if (vendor_amd(b)) {
        if (__get_cpuid(0x80000000u, &a, &b, &c, &d) && a >= 0x8000001Du &&
            __get_cpuid(0x80000001u, &a, &b, &c, &d) && (c >> 22 & 1))
            return caches_from_leaf(0x8000001Du, ci);
        return 0;
    }
    return max_leaf >= 4 ? caches_from_leaf(4, ci) : 0;
}
#endif

static int caches_sysconf(fnn_cache_info *ci) {
    int found = 0;
#if defined(_SC_LEVEL1_DCACHE_SIZE) && defined(_SC_LEVEL3_CACHE_SIZE)
    const int names[3][3] = {
        {_SC_LEVEL1_DCACHE_SIZE, _SC_LEVEL1_DCACHE_ASSOC, _SC_LEVEL1_DCACHE_LINESIZE},
        {_SC_LEVEL2_CACHE_SIZE, _SC_LEVEL2_CACHE_ASSOC, _SC_LEVEL2_CACHE_LINESIZE},
        {_SC_LEVEL3_CACHE_SIZE, _SC_LEVEL3_CACHE_ASSOC, _SC_LEVEL3_CACHE_LINESIZE}};
    for (int i = 0; i < 3; i++) {
        const long s = sysconf(names[i][0]);
        if (s <= 0) continue;
        const long w = sysconf(names[i][1]), ln = sysconf(names[i][2]);
        ci->l[i].size = s;
        ci->l[i].ways = w > 0 ? (int)w : 0;
        ci->l[i].line = ln > 0 ? (int)ln : 64;
        found++;
    }
#else
    (void)ci;
#endif
    return found;
}

static void caches_detect(fnn_cache_info *ci) {
    *ci = (fnn_cache_info){.source = FNN_CACHE_SRC_DEFAULT};
#ifdef FNN_HAVE_CPUID
    if (caches_cpuid(ci) > 0 && ci->l[0].size > 0) ci->source = FNN_CACHE_SRC_CPUID;
#endif
    if (ci->source == FNN_CACHE_SRC_DEFAULT) {
        *ci = (fnn_cache_info){.source = FNN_CACHE_SRC_DEFAULT};
        if (caches_sysconf(ci) > 0 && ci->l[0].size > 0) ci->source = FNN_CACHE_SRC_SYSCONF;
    }
    const int64_t dsize[3] = {FNN_CACHE_DEFAULT_L1, FNN_CACHE_DEFAULT_L2, FNN_CACHE_DEFAULT_L3};
    const int dways[3] = {FNN_CACHE_DEFAULT_L1_WAYS, FNN_CACHE_DEFAULT_L2_WAYS,
                          FNN_CACHE_DEFAULT_L3_WAYS};
    for (int i = 0; i < 3; i++) {
        fnn_cache_level *l = &ci->l[i];
        if (l->size <= 0) *l = (fnn_cache_level){.size = dsize[i], .ways = dways[i]};
        if (l->line <= 0) l->line = 64;
    }
    ci->amd = fnn_cpu_amd();
}

int fnn_cpu_amd(void) {
#ifdef FNN_HAVE_CPUID
    unsigned a, b, c, d;
    return __get_cpuid(0, &a, &b, &c, &d) && vendor_amd(b);
#else
    return 0;
#endif
}

/* The answer of the first call, kept: 0 not yet, 1 being filled, 2 ready. */
static fnn_cache_info g_caches;
static int g_caches_state = 0;

int fnn_cpu_caches(fnn_cache_info *out) {
    int st = __atomic_load_n(&g_caches_state, __ATOMIC_ACQUIRE);
    if (st != 2) {
        int expect = 0;
        if (__atomic_compare_exchange_n(&g_caches_state, &expect, 1, 0, __ATOMIC_ACQ_REL,
                                        __ATOMIC_ACQUIRE)) {
            caches_detect(&g_caches);
            __atomic_store_n(&g_caches_state, 2, __ATOMIC_RELEASE);
        } else {
            while (__atomic_load_n(&g_caches_state, __ATOMIC_ACQUIRE) != 2) {
            }
        }
    }
    *out = g_caches;
    return FNN_OK;
}
