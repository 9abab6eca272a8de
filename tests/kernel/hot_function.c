/* A CPU load with one named hot function, for the ustack() tests: calls
 * kllvm_hot_function until MS milliseconds after start (frame pointers kept, so the
 * kernel can walk the user stack), then prints its pid and exits. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

__attribute__((noinline)) long kllvm_hot_function(long n) {
    volatile long sum = 0;
    for (long i = 0; i < n; i++)
        sum += i;
    return sum;
}

int main(int argc, char **argv) {
    double deadline = now() + (argc > 1 ? atoi(argv[1]) : 100) / 1000.0;
    long total = 0;
    while (now() < deadline)
        total += kllvm_hot_function(1000000);
    printf("pid=%d %ld\n", getpid(), total & 1);
    return 0;
}
