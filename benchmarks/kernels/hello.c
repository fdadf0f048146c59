/* Hello world: the start-up benchmark's module. */
#include <stdio.h>

int main(void) {
    puts("hello, world");
    return 0;
}
