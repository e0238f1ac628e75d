/*
 * `--version` of loom and loom-opt: loom's version (the CMake project
 * version), the git revision and LLVM version found when the build was
 * configured (LOOM_GIT_REVISION, LOOM_LLVM_VERSION), and the OpenBLAS that
 * compiled models will load, asked at run time (openblas_get_config).
 */
#include <dlfcn.h>
#include <stdio.h>

#include "loom_cli.h"
#include "loom_version.h" /* generated in the build folder */

/* OpenBLAS's own description of itself, or why there is none. */
static void print_openblas(void)
{
    void *h = dlopen("libopenblas.so.0", RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        printf("OpenBLAS: not found (%s)\n", dlerror());
        return;
    }
    char *(*config)(void);
    *(void **)&config = dlsym(h, "openblas_get_config");
    printf("OpenBLAS: %s\n", config ? config() : "found, without openblas_get_config");
    dlclose(h);
}

void cli_print_version(const char *tool)
{
    printf("%s %s (git %s)\n", tool, LOOM_VERSION, LOOM_GIT_REVISION);
    printf("LLVM: %s\n", LOOM_LLVM_VERSION);
    print_openblas();
}
