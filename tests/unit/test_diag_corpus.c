/*
 * The malformed-input corpus (tests/diag): every NAME.json, NAME.onnx,
 * NAME.keras and NAME.h5 (not the NAME.weights.h5 a Keras .json reads)
 * must fail to load (fe_load_model) with a non-zero status and exactly the
 * diagnostic text in NAME.err. The test runs from LOOM_SOURCE_DIR and loads
 * "tests/diag/NAME.json", so the paths in the messages are the relative
 * ones a user would type.
 *
 * After a deliberate change of wording, regenerate the golden files with
 *   LOOM_UPDATE_GOLDEN=1 build/tests/unit_diag_corpus
 * and review the diff. The .safetensors inputs come from
 * tests/diag/gen_safetensors.py.
 */
#include <dirent.h>
#include <stdlib.h>
#include <unistd.h>

#include "fe.h"
#include "leak_check.h"
#include "testlib.h"

#define MAX_CASES 256

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Lists the tests/diag model files (sorted) as "tests/diag/NAME.json" or
 * ".onnx" strings. */
static int list_cases(char **names)
{
    cr_assert_eq(chdir(LOOM_SOURCE_DIR), 0, "cannot chdir to %s", LOOM_SOURCE_DIR);
    DIR *dir = opendir("tests/diag");
    cr_assert(dir, "cannot open tests/diag");
    int n = 0;
    struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
        size_t len = strlen(e->d_name);
        const char *ext = strrchr(e->d_name, '.');
        bool weights = len > 11 && strcmp(e->d_name + len - 11, ".weights.h5") == 0;
        if (ext && !weights && (!strcmp(ext, ".json") || !strcmp(ext, ".onnx") ||
                                !strcmp(ext, ".keras") || !strcmp(ext, ".h5"))) {
            cr_assert_lt(n, MAX_CASES);
            names[n] = malloc(len + 16);
            snprintf(names[n], len + 16, "tests/diag/%s", e->d_name);
            n++;
        }
    }
    closedir(dir);
    qsort(names, (size_t)n, sizeof *names, cmp_names);
    return n;
}

/* Reads a whole file (NULL if missing). */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    size_t got = fread(s, 1, (size_t)n, f);
    s[got] = '\0';
    fclose(f);
    return s;
}

/* NAME.EXT -> NAME.err */
static void err_path(const char *model, char *out, size_t size)
{
    snprintf(out, size, "%.*s.err", (int)(strrchr(model, '.') - model), model);
}

Test(diag_corpus, every_case_gives_its_exact_diagnostic)
{
    char *names[MAX_CASES];
    int n = list_cases(names);
    cr_assert_geq(n, 25, "the corpus has only %d cases", n);
    bool update = getenv("LOOM_UPDATE_GOLDEN") != NULL;
    int failures = 0;
    for (int i = 0; i < n; i++) {
        ir_diag d;
        ir_diag_init(&d);
        ir_graph *g = NULL;
        loom_status st = fe_load_model(names[i], NULL, &g, &d);
        const char *got = d.text ? d.text : "";
        char ep[512];
        err_path(names[i], ep, sizeof ep);
        if (update) {
            FILE *f = fopen(ep, "wb");
            cr_assert(f, "cannot write %s", ep);
            fputs(got, f);
            fclose(f);
        }
        char *want = slurp(ep);
        if (st == LOOM_STATUS_OK || g) {
            cr_log_error("%s: loaded without error", names[i]);
            failures++;
        } else if (!want) {
            cr_log_error("%s: missing golden file %s; got:\n%s", names[i], ep, got);
            failures++;
        } else if (strcmp(want, got) != 0) {
            cr_log_error("%s: diagnostic differs\n--- expected (%s)\n%s--- got\n%s", names[i], ep,
                         want, got);
            failures++;
        } else if (d.n_errors < 1) {
            cr_log_error("%s: no error counted", names[i]);
            failures++;
        }
        free(want);
        ir_graph_free(g);
        ir_diag_free(&d);
        free(names[i]);
    }
    cr_assert_eq(failures, 0, "%d of %d corpus cases failed (see the log above)", failures, n);
    assert_no_leaks();
}

/* Every corpus case, with allocation k failing for every k the load makes
 * (beyond the first 512, every k / 128-th: the control-flow cases unroll
 * thousands of nodes before their error, and a sweep of every k would be
 * quadratic): never a crash (and, under ASan, never a leak), always an
 * error status, and out of memory at least once (a failure after the
 * case's own error is found may leave that error's status). */
Test(diag_corpus, out_of_memory_at_every_allocation)
{
    char *names[MAX_CASES];
    int n = list_cases(names);
    for (int i = 0; i < n; i++) {
        long nomem = 0;
        for (long k = 0;; k += k < 512 ? 1 : k / 128) {
            ir_diag d;
            ir_diag_init(&d);
            ir_graph *g = NULL;
            long before = ir_alloc_count();
            ir_alloc_fail_after(k);
            loom_status st = fe_load_model(names[i], NULL, &g, &d);
            ir_alloc_fail_after(-1);
            bool injected = ir_alloc_count() - before > k;
            cr_assert_neq(st, LOOM_STATUS_OK, "%s: loaded with allocation %ld failing", names[i], k);
            nomem += st == LOOM_STATUS_NOMEM;
            cr_assert_null(g);
            ir_diag_free(&d);
            if (!injected)
                break;
        }
        cr_assert_gt(nomem, 0, "%s: no allocation failure was reported as out of memory",
                     names[i]);
        free(names[i]);
    }
    assert_no_leaks();
}
