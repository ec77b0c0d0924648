/* common.c -- build facts the Python layer reports (fastnn.info()) and the
 * parallel-path accounting of fnn_common.h. */
#include <pthread.h>
#include <string.h>
#include "fnn_common.h"

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
