/* Migration versions: the grammar, validation and ordering. */
#ifndef MIG_VERSION_H
#define MIG_VERSION_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Length of the version at the start of s (after an optional v/V, which the length includes):
 * runs of digits joined by '.', '_' or '-', where a run counts only when a separator or the end
 * of s follows it. 0 when s starts with no version.
 */
size_t mig_version_prefix(const char *s, size_t len, size_t *digits_start);

/* True when the whole of s is a version (used for targets given by the DBA). */
bool mig_version_valid(const char *s);

/*
 * Order two versions segment by segment as integers of any length; separators, leading zeros
 * and a leading v do not matter, and a missing segment counts as 0. Returns <0, 0 or >0.
 */
int mig_version_compare(const char *a, const char *b);

#endif
