#!/usr/bin/env python3
"""The realistic mix's URLs: N of them, each with a size fixed by a seeded generator (by count,
80 % 1-16 KiB in 1 KiB steps, 15 % 16-256 KiB in 4 KiB steps, 5 % 1-8 MiB in 256 KiB steps),
written one per line in popularity rank order as /mix/<rank>/<kib>. Creates one file per
distinct size in <sizes dir> for the origin (few enough to stay in its page cache, so that the
origin, which shares the servers' core, costs every proxy the same), and prints the working
set's bytes.

    mix_urls.py <urls file> <sizes dir> [count] [seed]
"""
import os
import random
import sys


def main():
    urls, sizes_dir = sys.argv[1], sys.argv[2]
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 100_000
    rng = random.Random(int(sys.argv[4]) if len(sys.argv) > 4 else 20261203)
    os.makedirs(sizes_dir, exist_ok=True)
    total = 0
    kibs = set()
    with open(urls, "w") as out:
        for rank in range(count):
            r = rng.random()
            if r < 0.80:
                kib = rng.randint(1, 16)
            elif r < 0.95:
                kib = 16 + 4 * rng.randint(1, 60)
            else:
                kib = 1024 + 256 * rng.randint(0, 28)
            kibs.add(kib)
            total += kib * 1024
            out.write(f"/mix/{rank}/{kib}\n")
    for kib in kibs:
        with open(os.path.join(sizes_dir, str(kib)), "wb") as f:
            f.write(os.urandom(kib * 1024))
    print(total)


if __name__ == "__main__":
    main()
