/* A uprobe target for the live tests: calls work(1) .. work(N), N from the command
 * line, each from the same call site, then prints work's run-time address (PIE, so the
 * tests cannot know it beforehand) for them to compare with the probe's arg0. */
#include <stdio.h>
#include <stdlib.h>

volatile long sink;

/* noinline and used through `sink`: the call must stay a real call to a real symbol. */
__attribute__((noinline)) long work(long x) {
    sink += x;
    return x * 2 - 100; /* negative for small x: return values test sign handling */
}

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 0;
    long total = 0;
    for (long i = 1; i <= n; i++)
        total += work(i);
    printf("work=%lu total=%ld\n", (unsigned long)&work, total);
    return 0;
}
