/* Hello world for pywamr: prints a greeting and its arguments.
 *   pywamr run examples/hello.wasm one two */
#include <stdio.h>

int main(int argc, char **argv) {
    printf("Hello from WebAssembly!\n");
    printf("argc = %d\n", argc);
    for (int i = 1; i < argc; i++) printf("argv[%d] = %s\n", i, argv[i]);
    return 0;
}
