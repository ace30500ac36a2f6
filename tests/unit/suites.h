/* The suites of the unit tests of common/, one per test file; main.c runs them all. */
#ifndef UNIT_SUITES_H
#define UNIT_SUITES_H

#include <check.h>

Suite *version_suite(void);
Suite *name_suite(void);
Suite *sha256_suite(void);
Suite *script_suite(void);
Suite *source_suite(void);
Suite *state_suite(void);
Suite *run_suite(void);
Suite *lifecycle_suite(void);
Suite *error_suite(void);
Suite *unique_suite(void);
Suite *columns_suite(void);
Suite *vec_suite(void);
Suite *catalog_suite(void);
Suite *drift_suite(void);
Suite *fleet_suite(void);

#endif
