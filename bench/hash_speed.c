/*
 * Hash throughput of the core's SHA-256 (mig_sha256.c): large buffers and script-sized ones,
 * with whichever implementation the CPU allows (MIGRATE_SHA256=portable forces the portable
 * code). Built and run by bench/hash.sh; prints figures, never pass/fail.
 */
#include "mig_sha256.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Seconds on a clock that never goes back. */
static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Hash total bytes in pieces of size bytes (each a whole digest); best MB/s of rounds. */
static double throughput(const unsigned char *data, size_t size, size_t total, int rounds)
{
    double best = 0;
    char out[65];
    for (int r = 0; r < rounds; r++) {
        double t0 = now();
        for (size_t done = 0; done < total; done += size)
            mig_sha256_hex(data, size, out);
        double mbs = (double)total / (now() - t0) / 1e6;
        if (mbs > best)
            best = mbs;
    }
    return best;
}

int main(int argc, char **argv)
{
    size_t total = (size_t)(argc > 1 ? atol(argv[1]) : 256) << 20;
    unsigned char *data = malloc(1 << 20);
    if (!data)
        return 1;
    for (size_t i = 0; i < 1 << 20; i++)
        data[i] = (unsigned char)(i * 131 + 7);
    static const size_t sizes[] = {1 << 20, 4096, 400};
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++)
        printf("%-9s pieces of %7zu bytes: %8.1f MB/s\n", mig_sha256_implementation(), sizes[i],
               throughput(data, sizes[i], total, 5));
    free(data);
    return 0;
}
