// perch_config_*: loading and sharing a configuration.
#include "capi/handles.hpp"

#include "config/config.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

using namespace perch;
using capi::guarded;
using capi::valid;

namespace {

perch_status load(perch_config *c, std::string_view json, std::string_view base_dir) {
    if (c->deployment) {
        c->last_error = "configuration already loaded";
        return PERCH_E_STATE;
    }
    auto cfg = config::parse_config(json, base_dir);
    if (!cfg) {
        c->last_error = cfg.error().context;
        return PERCH_E_CONFIG;
    }
    auto dep = edge::Deployment::create(std::move(cfg.value()));
    if (!dep) {
        c->last_error = dep.error().context;
        return capi::to_status(dep.error().code);
    }
    c->deployment = std::move(dep.value());
    c->last_error.clear();
    return PERCH_OK;
}

} // namespace

extern "C" {

PERCH_API perch_status perch_config_create(perch_config **out) {
    if (!out) return PERCH_E_INVALID_ARGUMENT;
    return guarded([&] {
        *out = new perch_config;
        return PERCH_OK;
    });
}

PERCH_API perch_status perch_config_load_json(perch_config *c, const char *json, size_t len,
                                              const char *base_dir) {
    if (!valid(c)) return PERCH_E_INVALID_HANDLE;
    if (!json && len) return PERCH_E_INVALID_ARGUMENT;
    return guarded([&] {
        std::string base = base_dir ? base_dir : std::filesystem::current_path().string();
        return load(c, std::string_view(json ? json : "", len), base);
    });
}

PERCH_API perch_status perch_config_load_file(perch_config *c, const char *path) {
    if (!valid(c)) return PERCH_E_INVALID_HANDLE;
    if (!path) return PERCH_E_INVALID_ARGUMENT;
    return guarded([&] {
        errno = 0;
        std::ifstream in(path, std::ios::binary);
        if (!in) {
            c->last_error = std::string(path) + ": cannot read the file";
            if (errno) c->last_error += std::string(": ") + std::strerror(errno);
            return PERCH_E_IO;
        }
        std::ostringstream text;
        text << in.rdbuf();
        std::filesystem::path p = std::filesystem::absolute(path);
        return load(c, text.str(), p.parent_path().string());
    });
}

PERCH_API const char *perch_config_last_error(const perch_config *c) {
    if (!valid(c)) return "invalid perch_config handle";
    return c->last_error.c_str();
}

PERCH_API void perch_config_ref(perch_config *c) {
    capi::ref_handle(c);
}

PERCH_API void perch_config_unref(perch_config *c) {
    capi::unref_handle(c);
}

PERCH_API uint32_t perch_config_workers(const perch_config *c) {
    if (!valid(c) || !c->deployment) return 0;
    uint32_t w = c->deployment->config().perch.workers;
    if (w == 0) w = std::thread::hardware_concurrency();
    return w ? w : 1;
}

PERCH_API uint32_t perch_config_shutdown_timeout_ms(const perch_config *c) {
    if (!valid(c) || !c->deployment) return 0;
    return c->deployment->config().perch.shutdown_timeout_ms;
}

} // extern "C"

extern "C" PERCH_API const char *perch_config_describe(const perch_config *c) {
    if (!valid(c) || !c->deployment) return "";
    return c->deployment->describe().c_str();
}

extern "C" PERCH_API const char *perch_config_listen_url(const perch_config *c, uint32_t index) {
    if (!valid(c) || !c->deployment) return nullptr;
    const auto &listen = c->deployment->config().perch.listen;
    return index < listen.size() ? listen[index].text.c_str() : nullptr;
}
