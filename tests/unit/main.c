/* Runs every suite of the unit tests of common/; exits non-zero when any check fails. */
#include "suites.h"

#include <stdlib.h>

int main(void)
{
    SRunner *sr = srunner_create(version_suite());
    srunner_add_suite(sr, name_suite());
    srunner_add_suite(sr, sha256_suite());
    srunner_add_suite(sr, script_suite());
    srunner_add_suite(sr, source_suite());
    srunner_add_suite(sr, state_suite());
    srunner_add_suite(sr, run_suite());
    srunner_add_suite(sr, lifecycle_suite());
    srunner_add_suite(sr, error_suite());
    srunner_add_suite(sr, unique_suite());
    srunner_add_suite(sr, columns_suite());
    srunner_add_suite(sr, vec_suite());
    srunner_add_suite(sr, catalog_suite());
    srunner_add_suite(sr, drift_suite());
    srunner_add_suite(sr, fleet_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
