// The public header from C++: loads a model and prints its inputs, for the
// check that include/loom.h compiles as C++ and links from it.
#include <cstdio>

#include <loom.h>

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    loom_diag dg{};
    loom_model *m = nullptr;
    loom_compiled *c = nullptr;
    loom_compile_options o = loom_compile_options_default();
    if (loom_model_load(argv[1], nullptr, &m, &dg) != LOOM_STATUS_OK ||
        loom_compile(m, &o, &c, &dg) != LOOM_STATUS_OK) {
        std::fprintf(stderr, "host++: %s\n", dg.message);
        loom_model_free(m);
        return 1;
    }
    for (int i = 0; i < loom_num_inputs(c); i++) {
        loom_tensor_info ti;
        if (loom_input_info(c, i, &ti, &dg) == LOOM_STATUS_OK)
            std::printf("input %s: rank %d, %zu bytes\n", ti.name, ti.rank, ti.bytes);
    }
    loom_compiled_free(c);
    loom_model_free(m);
    return 0;
}
