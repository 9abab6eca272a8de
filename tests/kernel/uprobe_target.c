/* A uprobe target for the live tests: calls work(1) .. work(N), N from the command
 * line, each from the same call site, then prints work's run-time address (PIE, so the
 * tests cannot know it beforehand) for them to compare with the probe's arg0. With a
 * second argument NAME, also calls visit(NAME, &{-5, 70000, NAME}) once, for the
 * memory fetch args. */
#include <stdio.h>
#include <stdlib.h>

volatile long sink;

/* noinline and used through `sink`: the call must stay a real call to a real symbol. */
__attribute__((noinline)) long work(long x) {
    sink += x;
    return x * 2 - 100; /* negative for small x: return values test sign handling */
}

struct pair {
    long a;
    int b;
    const char *label;
};

__attribute__((noinline)) long visit(const char *name, const struct pair *p) {
    sink += p->a + p->b + p->label[1];
    return name[0];
}

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 0;
    long total = 0;
    for (long i = 1; i <= n; i++)
        total += work(i);
    if (argc > 2) {
        struct pair p = {-5, 70000, argv[2]};
        total += visit(argv[2], &p);
    }
    printf("work=%lu total=%ld\n", (unsigned long)&work, total);
    return 0;
}
