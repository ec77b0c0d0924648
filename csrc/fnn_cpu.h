/* fnn_cpu.h -- what the CPU reports about its data caches (common.c), for
 * choosing cache blocks at run time (the GEMM's, gemm_kernels.c).
 */
#ifndef FNN_CPU_H
#define FNN_CPU_H
#include <stdint.h>

/* One data (or unified) cache level: bytes (0: not reported), ways
 * (associativity; 0: unknown, 1 would be direct-mapped, a fully
 * associative cache is given as its number of lines), line bytes, and how
 * many logical CPUs share one instance (0: unknown). */
typedef struct {
    int64_t size;
    int ways, line, shared_by;
} fnn_cache_level;

/* The data-cache hierarchy: l[0] L1d, l[1] L2, l[2] L3; source says where
 * the figures came from (FNN_CACHE_SRC_*); amd: 1 on an AMD (or Hygon)
 * core (fnn_cpu_amd), whose caches the GEMM's block model uses differently
 * (gemm_kernels.c: a B micro-panel may fill its L1d). */
typedef struct {
    fnn_cache_level l[3];
    int source;
    int amd;
} fnn_cache_info;

enum {
    FNN_CACHE_SRC_DEFAULT = 0,   /* nothing reported: assumed figures */
    FNN_CACHE_SRC_CPUID = 1,     /* cpuid leaf 4 (Intel) / 0x8000001D (AMD) */
    FNN_CACHE_SRC_SYSCONF = 2    /* sysconf(_SC_LEVEL1_DCACHE_SIZE, ...) */
};

/* Fills *out from cpuid (deterministic cache parameters), else from
 * sysconf, else with FNN_CACHE_DEFAULT_* (a level the first two leave out
 * also gets its default); the first call's answer is kept (every later
 * call returns the same).  Returns FNN_OK. */
int fnn_cpu_caches(fnn_cache_info *out);

/* 1 on an AMD (or Hygon) CPU, by cpuid's vendor string; 0 elsewhere or
 * without cpuid.  (For what the caches' figures do not tell: the GEMM's
 * A prefetch stream, gemm_kernels.c.) */
int fnn_cpu_amd(void);

/* The figures assumed when the CPU reports nothing: a 32 KiB 8-way L1d,
 * a 256 KiB 4-way L2 and a 2 MiB 16-way L3 per core: the smallest of
 * the x86-64 cores in use, so that blocks chosen from them fit anywhere. */
#define FNN_CACHE_DEFAULT_L1 (32 * 1024)
#define FNN_CACHE_DEFAULT_L1_WAYS 8
#define FNN_CACHE_DEFAULT_L2 (256 * 1024)
#define FNN_CACHE_DEFAULT_L2_WAYS 4
#define FNN_CACHE_DEFAULT_L3 (2 * 1024 * 1024)
#define FNN_CACHE_DEFAULT_L3_WAYS 16

#endif
