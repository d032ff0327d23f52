// fuzz-replay: runs every fuzz target over its committed corpus (corpus/<target>/*) as ordinary
// test cases, one TAP line per file. The corpus directory is compiled in
// (PERCH_FUZZ_CORPUS_DIR) so the working directory does not matter; an argument overrides it.
// The targets come from meson.build: each target's LLVMFuzzerTestOneInput is renamed
// perch_fuzz_<target> and listed in fuzz_targets.h (PERCH_FUZZ_TARGETS).
#include "fuzz_targets.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#define PERCH_FUZZ_TARGET(name) extern "C" int perch_fuzz_##name(const uint8_t *data, size_t size);
PERCH_FUZZ_TARGETS
#undef PERCH_FUZZ_TARGET

namespace {

namespace fs = std::filesystem;

struct Target {
    const char *name;
    int (*run)(const uint8_t *data, size_t size);
};

#define PERCH_FUZZ_TARGET(name) Target{#name, &perch_fuzz_##name},
const Target targets[] = {PERCH_FUZZ_TARGETS};
#undef PERCH_FUZZ_TARGET

std::vector<fs::path> corpus_files(const fs::path &dir) {
    std::vector<fs::path> files;
    std::error_code ec;
    for (const auto &entry : fs::directory_iterator(dir, ec))
        if (entry.is_regular_file()) files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    return files;
}

std::string read_file(const fs::path &path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

} // namespace

int main(int argc, char **argv) {
    const fs::path corpus = argc > 1 ? fs::path(argv[1]) : fs::path(PERCH_FUZZ_CORPUS_DIR);
    int n = 0, failed = 0;
    for (const Target &t : targets) {
        std::vector<fs::path> files = corpus_files(corpus / t.name);
        if (files.empty()) {
            ++failed;
            std::printf("not ok %d - %s: no seeds in %s\n", ++n, t.name, (corpus / t.name).c_str());
            continue;
        }
        for (const fs::path &file : files) {
            const std::string bytes = read_file(file);
            std::string problem;
            try {
                t.run(reinterpret_cast<const uint8_t *>(bytes.data()), bytes.size());
            } catch (const std::exception &e) {
                problem = e.what();
            }
            ++n;
            if (problem.empty()) {
                std::printf("ok %d - %s/%s\n", n, t.name, file.filename().c_str());
            } else {
                ++failed;
                std::printf("not ok %d - %s/%s: %s\n", n, t.name, file.filename().c_str(),
                            problem.c_str());
            }
        }
    }
    std::printf("1..%d\n", n);
    return failed == 0 ? 0 : 1;
}
