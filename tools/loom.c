/* loom command-line driver (placeholder until the CLI lands). */
#include <stdio.h>

int main(void)
{
    fprintf(stderr, "loom: not built yet\n");
    return 1;
}
